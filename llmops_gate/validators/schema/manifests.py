"""Reading plain manifest files for the `schema` command: documents with their line numbers.

Each document is composed once (the node tree carries lines, for mapping a field path to its
line) and constructed from that node, with PyYAML's C parser. Empty and comment-only
documents are dropped, as kubeconform does.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from llmops_gate.validators.schema.embedded import PathPart
from llmops_gate.yamlio import SafeLoader


@dataclass(frozen=True)
class Document:
    node: yaml.Node
    data: Any

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1


def read_documents(text: str) -> list[Document]:
    """Raises yaml.YAMLError on a syntax error."""
    loader = SafeLoader(text)
    out: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is None:
                continue
            out.append(Document(node=node, data=data))
    finally:
        loader.dispose()
    return out


def _child(node: yaml.Node, part: PathPart) -> tuple[yaml.Node | None, yaml.Node | None]:
    if isinstance(node, yaml.MappingNode):
        found: tuple[yaml.Node | None, yaml.Node | None] = (None, None)
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                found = (k, v)  # the last one wins, as in the constructed data
        return found
    if (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
            and 0 <= part < len(node.value)):
        item = node.value[part]
        return item, item
    return None, None


def field_position(node: yaml.Node, path: Sequence[PathPart]) -> tuple[int, int, bool]:
    """(line, column, exact) of `path` in the document `node`, 1-based; the deepest parent
    written there, and exact=False, when the whole path is not (a patch set the field)."""
    line, col = int(node.start_mark.line) + 1, int(node.start_mark.column) + 1
    for part in path:
        key, value = _child(node, part)
        if value is None:
            return line, col, False
        mark = (key or value).start_mark
        line, col = int(mark.line) + 1, int(mark.column) + 1
        node = value
    return line, col, True


def duplicate_keys(node: yaml.Node, path: tuple[PathPart, ...] = ()
                   ) -> Iterator[tuple[tuple[PathPart, ...], int]]:
    """(path of the repeated key, its line) for every key written twice in one mapping."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            name = str(k.value) if isinstance(k, yaml.ScalarNode) else ""
            if isinstance(k, yaml.ScalarNode):
                if name in seen and name != "<<":
                    yield (*path, name), int(k.start_mark.line) + 1
                seen.add(name)
            yield from duplicate_keys(v, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yield from duplicate_keys(v, (*path, i))


def plain(value: Any) -> Any:
    """The JSON data model Kubernetes sees: string keys, timestamps as strings."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not any(
                isinstance(v, (dict, list, datetime.date)) for v in value.values()):
            return value
        return {k if isinstance(k, str) else _key(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _key(k: Any) -> str:
    if isinstance(k, bool):
        return "true" if k else "false"
    return "null" if k is None else str(k)
