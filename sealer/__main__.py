from sealer.cli import main

raise SystemExit(main())
