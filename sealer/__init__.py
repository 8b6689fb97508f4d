"""sealer: install and keep in shape a highly-available Kubernetes cluster over SSH."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sealer")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+src"

__all__ = ["__version__"]
