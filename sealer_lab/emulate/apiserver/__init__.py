"""An emulated kube-apiserver for the sealer lab (no Kubernetes binaries exist there).

Run it as ``python3 -m sealer_lab.emulate.apiserver <real kube-apiserver flags>``; it serves
the Kubernetes REST API over HTTPS, storing objects in the real etcd named by --etcd-servers.
See docs/lab-emulation-apiserver.md for what it emulates and what it leaves out.
"""

from sealer_lab.emulate.apiserver.app import main

__all__ = ["main"]
