"""The emulated kubeadm (``kubeadm`` in the lab's offline package)."""
