"""Reading plain manifest files for the `schema` command: documents with their line numbers.

Each document is composed once (the node tree carries lines, for mapping a field path to its
line) and constructed from that node, with yamlio's loader (PyYAML's C parser). Empty and
comment-only documents are dropped, as kubeconform does. `stream.split` cuts a stream into
documents first, so each is parsed on its own (and a repeated one only once).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmops_gate.validators.schema.embedded import PathPart
from llmops_gate.yamlio import KubeLoader
from llmops_gate.yamlio import reading as yaml_reading


@dataclass
class Document:
    node: yaml.Node
    data: Any
    # Lines before the text the node was parsed from (its marks count from there).
    offset: int = 0
    # Its duplicate keys (path, line in the text parsed), once looked for.
    dupes: list[tuple[tuple[PathPart, ...], int]] | None = field(default=None, compare=False)
    # True when `data` is already what plain() would make of it.
    is_plain: bool = field(default=False, compare=False)

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1 + self.offset


class Loader(KubeLoader):
    """yamlio's loader for plain manifests (kubeconform, kubectl and ArgoCD read them with
    sigs.k8s.io/yaml: so do we), remembering how it resolved each plain scalar: its resolver
    is a Python call per scalar from libyaml's composer, and the keys and many values of a
    stream of manifests repeat. Resolution is a function of (value, implicit) when no path
    resolvers are set, so whatever resolver yamlio's loader has, the tags are its own."""

    _tags: dict[tuple[str, Any], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tags = type(self)._tags
        tag = tags.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(tags) > 65536:
                tags.clear()
            tags[key] = tag
        return tag


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_BUILDING = object()


class _Slow(Exception):
    """A node the quick construction leaves to the loader's own constructor (keys that are not
    strings, tags other than map/seq, recursive aliases)."""


class _Build:
    """Data from a node tree as the loader's constructor makes it, in one recursive pass
    (PyYAML's constructor goes through generators for every mapping and sequence). Scalars
    other than strings are built by the loader's own constructors. Also notes whether the
    document can have duplicate keys and whether the data is already plain()."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.memo: dict[int, Any] = {}
        self.maybe_dupes = False
        self.plain = True
        self.ctors = loader.yaml_constructors

    def __call__(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return node.value
            ctor = self.ctors.get(node.tag)
            if ctor is None:
                raise _Slow
            value = ctor(self.loader, node)
            if isinstance(value, datetime.date):
                self.plain = False
            return value
        key = id(node)
        known = self.memo.get(key)
        if known is not None:
            if known is _BUILDING:
                raise _Slow
            return known
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise _Slow
            self.memo[key] = _BUILDING
            items = [self(n) for n in node.value]
            self.memo[key] = items
            return items
        if not isinstance(node, yaml.MappingNode) or node.tag != _MAP:
            raise _Slow
        self.memo[key] = _BUILDING
        out: dict[Any, Any] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise _Slow
            if k.tag != _STR:
                # A key of another type (`<<` merges, `y:`, `1:`) is named by the loader's
                # own mapping constructor (yamlio.reading names it as sigs.k8s.io/yaml does).
                raise _Slow
            out[k.value] = self(v)
        if len(out) < len(node.value):
            self.maybe_dupes = True
        self.memo[key] = out
        return out


def construct(loader: Any, node: yaml.Node) -> tuple[Any, bool | None, bool]:
    """(data, may have duplicate keys (None: not known), data already plain)."""
    build = _Build(loader)
    try:
        return build(node), build.maybe_dupes, build.plain
    except (_Slow, RecursionError):
        return loader.construct_document(node), None, False


def parse(text: str) -> list[Document]:
    """The documents of `text`; raises yaml.YAMLError (marks count from its start)."""
    loader = Loader(text)
    out: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data, maybe_dupes, is_plain = construct(loader, node)
            if data is None:
                continue
            out.append(Document(node=node, data=data, dupes=None if maybe_dupes in (True, None)
                                else [], is_plain=is_plain))
    finally:
        loader.dispose()
    return out


def kustomize_defaults(file: str, data: Any) -> Any:
    """A kustomization file's document as Kustomize reads it: `kind` defaults to
    Kustomization and `apiVersion` to the one of its kind."""
    from llmops_gate.repo.discover import KUSTOMIZATION_NAMES

    if Path(file).name not in KUSTOMIZATION_NAMES or not isinstance(data, dict):
        return data
    if data.get("kind") and data.get("apiVersion"):
        return data
    kind = data.get("kind") or "Kustomization"
    version = ("kustomize.config.k8s.io/v1alpha1" if kind == "Component"
               else "kustomize.config.k8s.io/v1beta1")
    return {"apiVersion": version, **data, "kind": kind}


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
