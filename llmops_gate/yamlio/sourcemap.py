"""Mapping a rendered resource (and a field path in it) back to a line of a source file.

Kustomize's origin annotation names the file a resource came from; this module finds the
document for that resource in the file and the line of a field inside it. The node trees (they
carry line numbers) are the run's snapshot's (`yamlio.snapshot`): each file parsed once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from llmops_gate.yamlio.snapshot import Snapshot

PathPart = str | int


@dataclass(frozen=True)
class SourceDoc:
    kind: str
    name: str
    node: yaml.Node

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1


def _scalar(node: yaml.Node | None) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def field_path(parts: Sequence[PathPart]) -> str | None:
    """The one notation of a field path in findings (the JSON report's `path`): keys joined by
    dots, list indices in brackets, and a key that is not plain (letters, digits, `_`, `-`)
    as a JSON string in brackets: `spec.containers[0].resources.limits["nvidia.com/gpu"]`.
    None for the document itself."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _plain_key(part):
            out += f"[{json.dumps(part)}]"
        else:
            out += f".{part}" if out else part
    return out or None


def _plain_key(part: str) -> bool:
    return bool(part) and all(c.isalnum() or c in "_-" for c in part)


def _entry(node: yaml.Node, key: PathPart) -> tuple[yaml.Node, yaml.Node] | None:
    """The (key node, value node) pair of `key` in a mapping node."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                return k, v
    return None


def child(node: yaml.Node, key: PathPart) -> yaml.Node | None:
    """The value node under `key` of a mapping node (or index of a sequence node)."""
    if isinstance(node, yaml.SequenceNode):
        if isinstance(key, int) and 0 <= key < len(node.value):
            item: yaml.Node = node.value[key]
            return item
        return None
    entry = _entry(node, key)
    return entry[1] if entry else None


def key_node(node: yaml.Node, key: PathPart) -> yaml.Node | None:
    """The key node `key` of a mapping node (where the field is written)."""
    entry = _entry(node, key)
    return entry[0] if entry else None


class SourceMap:
    """The documents of one repo's source files, from its snapshot; safe to share between
    threads."""

    def __init__(self, repo: Path, snapshot: Snapshot | None = None) -> None:
        self.repo = repo
        self.snapshot = snapshot if snapshot is not None else Snapshot(repo)
        self._docs: dict[str, list[SourceDoc]] = {}
        self._lock = threading.Lock()

    def documents(self, file: str) -> list[SourceDoc]:
        with self._lock:
            cached = self._docs.get(file)
        if cached is not None:
            return cached
        docs: list[SourceDoc] = []
        try:
            for node in self.snapshot.parsed(file).nodes:
                meta = child(node, "metadata")
                docs.append(SourceDoc(kind=_scalar(child(node, "kind")),
                                      name=_scalar(child(meta, "name")) if meta else "",
                                      node=node))
        except (OSError, yaml.YAMLError):
            docs = []
        with self._lock:
            self._docs[file] = docs
        return docs

    def find_document(self, file: str, kind: str, name: str) -> SourceDoc | None:
        """The document of `kind` in `file` whose name is, or is contained in, `name` (the
        rendered name carries the overlay's prefix and suffix)."""
        docs = self.documents(file)
        same_kind = [d for d in docs if d.kind == kind] or docs
        exact = [d for d in same_kind if d.name == name]
        if exact:
            return exact[0]
        inner = sorted((d for d in same_kind if d.name and d.name in name),
                       key=lambda d: -len(d.name))
        if inner:
            return inner[0]
        return same_kind[0] if len(same_kind) == 1 else None

    def document_line(self, file: str, kind: str, name: str) -> int | None:
        doc = self.find_document(file, kind, name)
        return doc.line if doc else None

    def field_line(self, file: str, kind: str, name: str,
                   path: Sequence[PathPart]) -> tuple[int | None, bool]:
        """Line of the deepest part of `path` written in the source document.

        Returns (line, exact): `exact` is False when only a parent of the field (or the
        document itself) was found, as when a patch set the field.
        """
        doc = self.find_document(file, kind, name)
        if doc is None:
            return None, False
        node: yaml.Node = doc.node
        line = doc.line
        for depth, part in enumerate(path):
            key = key_node(node, part)
            value = child(node, part)
            if value is None:
                return line, False
            line = int((key or value).start_mark.line) + 1
            node = value
            if depth == len(path) - 1:
                return line, True
        return line, True
