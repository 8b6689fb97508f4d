"""The Clusterfile a lab hands to sealer: its masters, nodes and the lab's SSH key."""

from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sealer_lab.state import LabState

__all__ = ["package_placeholder", "render_clusterfile"]


def package_placeholder(state: LabState, lab_dir: Path) -> Path:
    """Where the offline package for the lab's version is expected (built elsewhere)."""
    return lab_dir / f"kube{state.version.removeprefix('v')}.tar.gz"


def _flow(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def render_clusterfile(state: LabState, lab_dir: Path) -> str:
    """YAML text: ``spec.hosts`` carries only the per-host SSH settings that differ (the port)."""
    masters = [h.address for h in sorted(state.hosts, key=lambda h: h.index) if h.role == "master"]
    nodes = [h.address for h in sorted(state.hosts, key=lambda h: h.index) if h.role == "node"]
    spec = CommentedMap()
    spec["version"] = state.version
    spec["masters"] = _flow(masters)
    spec["nodes"] = _flow(nodes)
    spec["package"] = CommentedMap(source=str(package_placeholder(state, lab_dir)))
    spec["ssh"] = CommentedMap(
        user="root",
        privateKey=str(lab_dir / "id_ed25519"),
        knownHosts=str(lab_dir / "known_hosts"),
    )
    overrides = CommentedMap()
    for host in state.hosts:
        if host.ssh_port != 22:
            overrides[host.address] = CommentedMap(ssh=CommentedMap(port=host.ssh_port))
    if overrides:
        spec["hosts"] = overrides
    doc = CommentedMap()
    doc["apiVersion"] = "sealer.dev/v1alpha1"
    doc["kind"] = "Cluster"
    doc["metadata"] = CommentedMap(name=state.name)
    doc["spec"] = spec
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()
