"""YAML output that kubeadm, kubectl and the kubelet read back exactly as meant.

Kubernetes decodes YAML with go-yaml's YAML 1.1 rules, where ``yes``, ``on``, ``off``, ``y``
and ``0x1F`` are not strings. Every string that a YAML 1.1 or 1.2 reader could take for
something else is single-quoted; mapping keys keep the order they were built in.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter

__all__ = ["dump_yaml", "needs_quotes"]

_SPECIAL = re.compile(
    r"""^(
        y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
        |~|null|Null|NULL|=|<<
        |[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?
        |[-+]?0b[01_]+|[-+]?0o?[0-7_]+|[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
        |[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)
    )$""",
    re.VERBOSE,
)


def needs_quotes(text: str) -> bool:
    """True when a plain scalar ``text`` would not read back as a string in YAML 1.1."""
    return not text or bool(_SPECIAL.match(text))


class _Representer(SafeRepresenter):
    def represent_str(self, data: str) -> ScalarNode:
        style = "'" if needs_quotes(data) else None
        node: ScalarNode = self.represent_scalar("tag:yaml.org,2002:str", data, style=style)
        return node


_Representer.add_representer(str, _Representer.represent_str)


def dump_yaml(documents: Iterable[Any], *, explicit_start: bool) -> str:
    """One or more documents as block-style YAML text."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Representer = _Representer
    yaml.default_flow_style = False
    yaml.width = 1 << 20  # never fold long values (base64 certificates)
    yaml.explicit_start = explicit_start
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    out = io.StringIO()
    yaml.dump_all(list(documents), out)
    return out.getvalue()
