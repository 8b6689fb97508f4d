"""The Clusterfile: models, loading with positions, validation and its JSON Schema."""

from sealer.spec.load import LoadedClusterfile, load_clusterfile, validate_text
from sealer.spec.model import Cluster, ClusterSpec
from sealer.spec.schema import clusterfile_schema

__all__ = [
    "Cluster",
    "ClusterSpec",
    "LoadedClusterfile",
    "clusterfile_schema",
    "load_clusterfile",
    "validate_text",
]
