"""sealer: install and keep in shape a highly-available Kubernetes cluster over SSH."""

#: The one place the version is written: pyproject.toml reads it from here
#: (``[tool.setuptools.dynamic]``), so ``sealer --version`` needs no importlib.metadata.
__version__ = "0.1.0"

__all__ = ["__version__"]
