"""Read YAML into plain Python data while remembering where every key and value stands.

Positions are 1-based ``(line, column)``; paths are tuples of mapping keys and list indices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import DocumentStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

__all__ = ["MAX_CHARACTERS", "MAX_VALUES", "Positions", "YamlSyntaxError", "load_with_positions"]

#: More values than this (aliases can multiply a small file) is refused rather than expanded.
MAX_VALUES = 100_000
#: More characters than this in the keys and strings, aliases expanded, is refused too: a long
#: string aliased a hundred thousand times stays under MAX_VALUES and fills gigabytes.
MAX_CHARACTERS = 1_000_000

PathT = tuple[str | int, ...]


class YamlSyntaxError(Exception):
    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


@dataclass
class Positions:
    """Where each path's key and value start in the file."""

    keys: dict[PathT, tuple[int, int]] = field(default_factory=dict)
    values: dict[PathT, tuple[int, int]] = field(default_factory=dict)
    #: Characters of the keys and strings read so far (aliases expanded).
    characters: int = 0

    def count(self, text: object, path: PathT) -> None:
        if isinstance(text, str):
            self.characters += len(text)
            if self.characters > MAX_CHARACTERS:
                raise _TooLarge(path, f"more than {MAX_CHARACTERS} characters")

    def of_value(self, path: PathT) -> tuple[int, int]:
        """The value's position, else its key's, else the nearest ancestor's."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in self.values and end == len(path):
                return self.values[prefix]
            if prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return (1, 1)

    def of_key(self, path: PathT) -> tuple[int, int]:
        if path in self.keys:
            return self.keys[path]
        return self.of_value(path)


class _TooLarge(Exception):
    def __init__(self, path: PathT, what: str = f"more than {MAX_VALUES} values") -> None:
        super().__init__()
        self.path = path
        self.what = what


def _plain(node: Any, path: PathT, pos: Positions) -> Any:
    if len(pos.values) > MAX_VALUES:
        raise _TooLarge(path)
    if isinstance(node, CommentedMap):
        result: dict[Any, Any] = {}
        for key in node:
            child: PathT = (*path, key)
            pos.count(key, child)
            kl, kc = node.lc.key(key)
            vl, vc = node.lc.value(key)
            pos.keys[child] = (kl + 1, kc + 1)
            value = node[key]
            if value is None or (isinstance(value, CommentedMap | CommentedSeq) and vl > kl):
                # an empty value or a block collection below its key: point at the key
                pos.values[child] = (kl + 1, kc + 1)
            else:
                pos.values[child] = (vl + 1, vc + 1)
            result[key] = _plain(node[key], child, pos)
        return result
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, item in enumerate(node):
            child = (*path, index)
            il, ic = node.lc.item(index)
            pos.values[child] = (il + 1, ic + 1)
            items.append(_plain(item, child, pos))
        return items
    if isinstance(node, str):
        pos.count(node, path)
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _load_all(text: str) -> tuple[list[Any], Any]:
    """The documents, and ``None`` or the constructor when they are nodes still to be read.

    ruamel's round-trip loader asserts on some valid arrangements of comments (a blank or
    comment line before a block scalar whose indicator carries a comment). Such a file is read
    again with the safe loader; :func:`_from_node` then keeps the positions of its nodes.
    """
    try:
        return list(_round_trip().load_all(text)), None
    except (YAMLError, RecursionError):
        raise
    except Exception:
        yaml = YAML(typ="safe", pure=True)
        return list(yaml.compose_all(text)), yaml.constructor


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _from_node(constructor: Any, node: Node | None, path: PathT, pos: Positions) -> Any:
    """Plain data from a composed node, recording positions as :func:`_plain` does."""
    if node is None:
        return None
    if len(pos.values) > MAX_VALUES:
        raise _TooLarge(path)
    if isinstance(node, MappingNode):
        constructor.flatten_mapping(node)  # merge keys (<<)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key: Any = constructor.construct_object(key_node, deep=True)
            if isinstance(key, list | dict | set | tuple):
                raise YamlSyntaxError(*_mark(key_node), "YAML syntax error: unsupported key")
            if key in result:
                message = f"YAML syntax error: duplicate key '{key}'"
                raise YamlSyntaxError(*_mark(key_node), message)
            child: PathT = (*path, key)
            pos.count(key, child)
            pos.keys[child] = _mark(key_node)
            below = isinstance(value_node, MappingNode | SequenceNode) and (
                value_node.start_mark.line > key_node.start_mark.line
            )
            empty = isinstance(value_node, ScalarNode) and str(value_node.tag).endswith(":null")
            pos.values[child] = pos.keys[child] if below or empty else _mark(value_node)
            result[key] = _from_node(constructor, value_node, child, pos)
        return result
    if isinstance(node, SequenceNode):
        items: list[Any] = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            pos.values[child] = _mark(item)
            items.append(_from_node(constructor, item, child, pos))
        return items
    value = constructor.construct_object(node, deep=True)
    pos.count(value, path)
    return value


def load_with_positions(text: str) -> tuple[Any, Positions]:
    try:
        documents, constructor = _load_all(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if "found duplicate key" in str(exc) or "duplicate key" in problem:
            problem = _duplicate_key_message(str(exc))
        raise YamlSyntaxError(line, column, f"YAML syntax error: {problem}") from None
    except RecursionError:
        raise YamlSyntaxError(1, 1, "YAML syntax error: nested too deeply") from None
    except ReaderError as exc:  # a character YAML does not allow, e.g. a control character
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        character = (
            f"character #x{exc.character:04x}" if isinstance(exc.character, int) else "character"
        )
        message = f"YAML syntax error: unacceptable {character}: {exc.reason}"
        raise YamlSyntaxError(line, column, message) from None
    except YAMLError as exc:
        summary = (str(exc).strip().splitlines() or ["invalid YAML"])[0]
        raise YamlSyntaxError(1, 1, f"YAML syntax error: {summary}") from None
    if len(documents) > 1:
        line, column = _second_document_start(text)
        raise YamlSyntaxError(line, column, "expected one YAML document, found several (---)")
    pos = Positions()
    root = documents[0] if documents else None
    try:
        if constructor is None:
            data = _plain(root, (), pos)
        else:
            data = _from_node(constructor, root, (), pos)
    except _TooLarge as exc:
        line, column = pos.of_value(exc.path)  # inside the aliased value that grew too large
        message = f"{exc.what} once aliases are expanded"
        raise YamlSyntaxError(line, column, message) from None
    except RecursionError:
        raise YamlSyntaxError(1, 1, "YAML syntax error: nested too deeply") from None
    top = next((path for path in pos.keys if len(path) == 1), None)
    pos.values[()] = pos.keys[top] if top is not None else (1, 1)
    return data, pos


def _second_document_start(text: str) -> tuple[int, int]:
    events = YAML(typ="safe", pure=True).parse(text)  # the safe parser ignores comments
    starts = [e.start_mark for e in events if isinstance(e, DocumentStartEvent)]
    if len(starts) < 2:  # pragma: no cover - load_all found several documents
        return (1, 1)
    return (starts[1].line + 1, starts[1].column + 1)


def _duplicate_key_message(text: str) -> str:
    # ruamel's message quotes both values, which may be secrets: name the key only.
    match = re.search(r'duplicate key "(.*?)" with value', text)
    return f"duplicate key '{match.group(1)}'" if match else "duplicate key"
