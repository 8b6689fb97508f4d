"""The lab's own tests (sealer_lab): its hosts, the emulated Kubernetes and kube-apiserver."""
