"""``python3 -m sealer_lab.emulate.apiserver <kube-apiserver flags>``."""

import sys

from sealer_lab.emulate.apiserver.app import main

sys.exit(main())
