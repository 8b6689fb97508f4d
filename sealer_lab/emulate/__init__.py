"""Emulated Kubernetes programs for the lab (kubeadm, kubelet, systemd, control-plane stand-ins).

These modules run on lab hosts from the offline package built by :mod:`sealer_lab.package`, as a
self-contained zip application executed by the host's ``python3``. They import nothing outside
``sealer_lab.emulate`` (not the product ``sealer``: an import-linter contract keeps it so), and
only ``cryptography`` and the standard library from outside (``ruamel.yaml`` is bundled in the
package). See
docs/lab-emulation.md for the fidelity and the known gaps.
"""
