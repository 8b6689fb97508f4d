"""``python3 -m sealer.lab.emulate.apiserver <kube-apiserver flags>``."""

import sys

from sealer.lab.emulate.apiserver.app import main

sys.exit(main())
