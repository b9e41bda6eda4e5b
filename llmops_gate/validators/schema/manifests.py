"""Reading plain manifest files for the `schema` command: documents with their line numbers.

Each document is composed once (the node tree carries lines, for mapping a field path to its
line) and constructed from that node, with PyYAML's C parser. Empty and comment-only
documents are dropped, as kubeconform does.

Streams repeat documents (every overlay of a base renders the same objects; a CI job often
concatenates many renders), so the text is cut at its `---` markers and each distinct
document text is parsed once; a repeat shares the parsed nodes and data and only moves its
line numbers (`Document.offset`). Parsed data is never changed by the checks.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from llmops_gate.validators.schema.embedded import PathPart
from llmops_gate.yamlio import KubeLoader, caching
from llmops_gate.yamlio import reading as yaml_reading


@dataclass(frozen=True)
class Document:
    node: yaml.Node
    data: Any
    # Lines before the text the node was parsed from (its marks count from there).
    offset: int = 0

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1 + self.offset


# A document marker: `---` at the start of a line, alone or followed by a space. The YAML
# spec forbids it inside content at column 0, so cutting there is exact.
_MARKER = re.compile(r"^---(?=[ \t\r]|$)", re.M)
_DIRECTIVE = re.compile(r"^%", re.M)


def _parse(text: str) -> list[Document]:
    # kubeconform, kubectl and ArgoCD read a manifest with sigs.k8s.io/yaml: so do we.
    loader = KubeLoader(text)
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


def _chunks(text: str) -> list[tuple[int, str]] | None:
    """(line offset, text) of each document of the stream; None where cutting is not safe
    (directives such as `%YAML` apply to the document after them)."""
    if _DIRECTIVE.search(text):
        return None
    starts = [m.start() for m in _MARKER.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    out: list[tuple[int, str]] = []
    line = 0
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        chunk = text[begin:end]
        out.append((line, chunk))
        line += chunk.count("\n")
    return out


def read_documents(text: str) -> list[Document]:
    """Raises yaml.YAMLError on a syntax error (its marks count from the start of `text`)."""
    chunks = _chunks(text) if caching.enabled() else None
    if chunks is None or len(chunks) < 2:
        return _parse(text)
    parsed: dict[str, list[Document]] = {}
    out: list[Document] = []
    for offset, chunk in chunks:
        docs = parsed.get(chunk)
        if docs is None:
            try:
                docs = parsed[chunk] = _parse(chunk)
            except yaml.YAMLError:
                # Report it as the whole stream would, with the stream's line numbers.
                return _parse(text)
        out.extend(Document(node=d.node, data=d.data, offset=offset) for d in docs)
    return out


def key_name(node: yaml.ScalarNode) -> str:
    """A key as the constructed data names it: an unquoted `y:` is the key "true"."""
    if not yaml_reading.is_plain(node):
        return str(node.value)
    value = yaml_reading.read(str(node.value))
    return value if isinstance(value, str) else str(yaml_reading.go_key(value))


def _child(node: yaml.Node, part: PathPart) -> tuple[yaml.Node | None, yaml.Node | None]:
    if isinstance(node, yaml.MappingNode):
        found: tuple[yaml.Node | None, yaml.Node | None] = (None, None)
        want = str(part)
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and (k.value == want or key_name(k) == want):
                found = (k, v)  # the last one wins, as in the constructed data
        return found
    if (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
            and 0 <= part < len(node.value)):
        item = node.value[part]
        return item, item
    return None, None


def field_position(node: yaml.Node, path: Sequence[PathPart],
                   offset: int = 0) -> tuple[int, int, bool]:
    """(line, column, exact) of `path` in the document `node`, 1-based; the deepest parent
    written there, and exact=False, when the whole path is not (a patch set the field).
    `offset` is the document's `Document.offset`."""
    line, col = int(node.start_mark.line) + 1 + offset, int(node.start_mark.column) + 1
    for part in path:
        key, value = _child(node, part)
        if value is None:
            return line, col, False
        mark = (key or value).start_mark
        line, col = int(mark.line) + 1 + offset, int(mark.column) + 1
        node = value
    return line, col, True


def field_node(node: yaml.Node, path: Sequence[PathPart]) -> yaml.Node | None:
    """The value node written at `path` in the document `node`, if all of it is written."""
    for part in path:
        _, value = _child(node, part)
        if value is None:
            return None
        node = value
    return node


def duplicate_keys(node: yaml.Node, path: tuple[PathPart, ...] = (), offset: int = 0
                   ) -> Iterator[tuple[tuple[PathPart, ...], int]]:
    """(path of the repeated key, its line) for every key written twice in one mapping;
    `offset` is the document's `Document.offset`."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            name = str(k.value) if isinstance(k, yaml.ScalarNode) else ""
            if isinstance(k, yaml.ScalarNode):
                if name in seen and name != "<<":
                    yield (*path, name), int(k.start_mark.line) + 1 + offset
                seen.add(name)
            yield from duplicate_keys(v, (*path, name), offset)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yield from duplicate_keys(v, (*path, i), offset)


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
