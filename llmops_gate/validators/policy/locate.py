"""From (resource, field path) to the source file and line a person should edit.

The value a rendered field holds was written by the last patch that set it, else by the
resource's own document. So the patches of the kustomizations that transformed the resource are
searched first (outermost kustomization and last patch first): strategic-merge patches (files or
inline) by the field, JSON6902 patches by an op whose `path` is the field or one of its parents.
Otherwise the field (or its deepest written parent) in the source document, else the document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

import yaml

from llmops_gate.kinds import split_image
from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Path, PathPart
from llmops_gate.yamlio import SafeLoader
from llmops_gate.yamlio.sourcemap import SourceMap

Location = tuple[str | None, int | None]


def _child(node: yaml.Node | None, key: PathPart) -> tuple[yaml.Node | None, yaml.Node | None]:
    """(key node, value node) of `key` in a mapping or sequence node."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                return k, v
    elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and \
            0 <= key < len(node.value):
        return None, node.value[key]
    return None, None


def _walk(node: yaml.Node | None, path: Sequence[PathPart]) -> tuple[int | None, bool]:
    """0-based line of the deepest node of `path` under `node`, and whether all of it exists."""
    line: int | None = None
    for part in path:
        k, v = _child(node, part)
        if v is None:
            return line, False
        line = int((k or v).start_mark.line)
        node = v
    return line, True


def _compose(text: str) -> list[yaml.Node]:
    try:
        return [n for n in yaml.compose_all(text, Loader=SafeLoader) if n is not None]
    except yaml.YAMLError:
        return []


def pointer(path: Sequence[PathPart]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _unpointer(ptr: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr.strip("/").split("/")]


def _scalar(node: yaml.Node | None) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _get(doc: Any, path: Sequence[PathPart]) -> Any:
    for part in path:
        if isinstance(part, int) and isinstance(doc, list) and 0 <= part < len(doc):
            doc = doc[part]
        elif isinstance(doc, Mapping):
            doc = doc.get(part)
        else:
            return None
    return doc


def _image_entry(entries: Any, image: Any) -> int | None:
    """Index of the last `images:` entry that would turn some image into `image`: its new (or
    same) name is the image's name and the tag or digest it sets is the image's."""
    if not isinstance(entries, list) or not isinstance(image, str):
        return None
    name, tag, digest = split_image(image)
    for i in reversed(range(len(entries))):
        e = entries[i]
        if not isinstance(e, Mapping) or str(e.get("newName") or e.get("name") or "") != name:
            continue
        sets = [k for k in ("newName", "newTag", "digest") if e.get(k) is not None]
        if not sets:
            continue
        if e.get("newTag") is not None and str(e["newTag"]) != tag:
            continue
        if e.get("digest") is not None and str(e["digest"]) != digest:
            continue
        return i
    return None


def _targets(target: Any, res: Resource) -> bool:
    if not isinstance(target, Mapping):
        return True
    kind, name = target.get("kind"), target.get("name")
    if kind and kind != res.kind:
        return False
    return not (name and str(name) not in res.name)


def _in_patch_docs(nodes: list[yaml.Node], res: Resource, path: Path) -> int | None:
    """0-based line inside a patch text (SMP documents or a JSON6902 op list)."""
    for node in nodes:
        if isinstance(node, yaml.SequenceNode):  # JSON6902 ops; the last op that sets it wins
            want = [str(p) for p in path]
            best: int | None = None
            for op in node.value:
                k, v = _child(op, "path")
                if k is None or v is None:
                    continue
                parts = _unpointer(_scalar(v))
                n = min(len(parts), len(want))
                if parts and want[:n] == parts[:n] and _scalar(_child(op, "op")[1]) != "remove":
                    best = int(k.start_mark.line)
            if best is not None:
                return best
        elif isinstance(node, yaml.MappingNode) and len(path) > 1 and \
                tuple(path[:2]) != ("metadata", "name"):
            # A strategic-merge patch names its target by kind and name: those select, not set.
            kind = _scalar(_child(node, "kind")[1])
            name = _scalar(_child(_child(node, "metadata")[1], "name")[1])
            if kind and kind != res.kind:
                continue
            if name and name not in res.name:
                continue
            line, exact = _walk(node, path)
            if exact and line is not None:
                return line
    return None


class Locator:
    """Finds source lines; one per run (SourceMap caches composed files)."""

    def __init__(self, sources: SourceMap, kustomizations: Mapping[str, Mapping[str, Any]]):
        self.sources = sources
        self.kustomizations = kustomizations  # kustomization file -> data
        self._patch_text: dict[str, list[yaml.Node]] = {}

    def _file_nodes(self, file: str) -> list[yaml.Node]:
        return [d.node for d in self.sources.documents(file)]

    def _kustomization_node(self, kfile: str) -> yaml.Node | None:
        docs = self._file_nodes(kfile)
        return docs[0] if docs else None

    def from_patches(self, res: Resource, path: Path) -> Location | None:
        for kfile in reversed(res.transformed_by):
            data = self.kustomizations.get(kfile)
            if not isinstance(data, Mapping):
                continue
            folder = str(PurePosixPath(kfile).parent)
            knode = self._kustomization_node(kfile)
            # Kustomize runs a kustomization's `images:` after its patches, so an entry that
            # produced the rendered image is what set it.
            if path and path[-1] == "image":
                i = _image_entry(data.get("images"), _get(res.doc, path))
                if i is not None:
                    line, _ = _walk(knode, ["images", i])
                    return kfile, line + 1 if line is not None else None
            # Last applied first: Kustomize applies strategic-merge patches, then `patches`,
            # then JSON 6902 patches.
            for key in ("patchesJson6902", "patches", "patchesStrategicMerge"):
                items = data.get(key)
                if not isinstance(items, list):
                    continue
                for i in reversed(range(len(items))):
                    hit = self._one_patch(res, path, kfile, folder, knode, key, i, items[i])
                    if hit is not None:
                        return hit
        return None

    def _one_patch(self, res: Resource, path: Path, kfile: str, folder: str,
                   knode: yaml.Node | None, key: str, i: int, item: Any) -> Location | None:
        target = item.get("target") if isinstance(item, Mapping) else None
        if not _targets(target, res):
            return None
        file: str | None = None
        inline: str | None = None
        if isinstance(item, str):
            if "\n" in item:
                inline = item
            else:
                file = (PurePosixPath(folder) / item).as_posix()
        elif isinstance(item, Mapping):
            if isinstance(item.get("path"), str):
                file = (PurePosixPath(folder) / item["path"]).as_posix()
            elif isinstance(item.get("patch"), str):
                inline = item["patch"]
        if file is not None:
            import os

            file = os.path.normpath(file).replace(os.sep, "/")
            line = _in_patch_docs(self._file_nodes(file), res, path)
            return (file, line + 1) if line is not None else None
        if inline is not None and knode is not None:
            nodes = _compose(inline)
            line = _in_patch_docs(nodes, res, path)
            if line is None:
                return None
            value_path: list[PathPart] = [key, i]
            if isinstance(item, Mapping):
                value_path.append("patch")
            start, exact = _walk(knode, value_path)
            if start is None or not exact:
                return kfile, None
            # A block scalar's text starts on the line after its key.
            return kfile, start + 2 + line
        return None

    def in_file(self, file: str, path: Path, text_line: int | None = None) -> int | None:
        """1-based line of `path` in `file` (a kustomization); with `text_line`, that line of
        the block scalar found there."""
        node = self._kustomization_node(file)
        line, exact = _walk(node, path) if path else (None, False)
        if line is None:
            return None
        if text_line is not None and exact:
            return line + 2 + text_line
        return line + 1

    def read_text(self, file: str) -> str | None:
        """A source file's text, from the run's snapshot (bounded, read once)."""
        try:
            return self.sources.snapshot.text(file)
        except (OSError, yaml.YAMLError):
            return None

    def read_data(self, file: str) -> Any:
        """A source file's first document as data, from the run's snapshot; None when it
        cannot be read or parsed (the `parse` validator reports that)."""
        try:
            docs = self.sources.snapshot.documents(file)
        except (OSError, yaml.YAMLError):
            return None
        return docs[0] if docs else None

    def from_generator(self, res: Resource, path: Path) -> Location | None:
        """A Secret or ConfigMap a kustomization generates: the literal, the line of an `envs`
        file, the `files` entry's file, else the generator entry itself."""
        kfile = res.source_file or ""
        data = self.kustomizations.get(kfile)
        key = {"Secret": "secretGenerator", "ConfigMap": "configMapGenerator"}.get(res.kind)
        items = data.get(key) if isinstance(data, Mapping) and key else None
        if not isinstance(items, list):
            return None
        named = [(i, g) for i, g in enumerate(items)
                 if isinstance(g, Mapping) and g.get("name") and str(g["name"]) in res.name]
        if not named:
            return None
        i, gen = max(named, key=lambda p: len(str(p[1]["name"])))
        knode = self._kustomization_node(kfile)
        folder = PurePosixPath(kfile).parent
        entry = str(path[1]) if len(path) > 1 and path[0] in ("data", "stringData",
                                                              "binaryData") else None
        if entry is not None:
            for j, literal in enumerate(gen.get("literals") or []):
                if str(literal).split("=", 1)[0].strip() == entry:
                    line, _ = _walk(knode, [key or "", i, "literals", j])
                    return kfile, line + 1 if line is not None else None
            for env_file in gen.get("envs") or ([gen["env"]] if gen.get("env") else []):
                rel = (folder / str(env_file)).as_posix()
                text = self.read_text(rel) or ""
                for n, content in enumerate(text.splitlines(), start=1):
                    if content.split("=", 1)[0].strip() == entry:
                        return rel, n
            for item in gen.get("files") or []:
                name, _, src = str(item).rpartition("=")
                if (name or PurePosixPath(src).name) == entry:
                    return (folder / src).as_posix(), 1
        line, _ = _walk(knode, [key or "", i, "name"])
        return kfile, line + 1 if line is not None else None

    def locate(self, res: Resource, path: Path) -> Location:
        if res.source_file in self.kustomizations and res.kind in ("Secret", "ConfigMap"):
            found = self.from_generator(res, path)
            if found is not None:
                return found
        if path:
            hit = self.from_patches(res, path)
            if hit is not None:
                return hit
        if res.source_file is None:
            return None, None
        if path:
            line, _ = self.sources.field_line(res.source_file, res.kind, res.name, list(path))
            if line is not None:
                return res.source_file, line
        return res.source_file, res.source_line
