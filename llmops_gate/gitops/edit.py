"""Round-trip edits of kustomization files (ruamel.yaml): comments, key order, quoting and the
file's own list indentation survive; only the `images:` entries and the one `patches:` entry
the tool owns change. The tool-owned patch file itself is written whole."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

PATCH_HEADER = (
    "# Written by `llmops-gate promote`: the values promoted into this environment.\n"
    "# Owned by the tool; the next promotion rewrites it. Change values in the source\n"
    "# environment and promote, or pin a field in .llmops-gate.yaml.\n"
)


@dataclass(frozen=True)
class ImageEntry:
    """One `images:` entry: `name` is the image as it enters this overlay's transformer."""

    name: str
    new_name: str | None = None
    new_tag: str | None = None
    digest: str | None = None


_SEQ_RE = re.compile(r"^( *)[A-Za-z_][\w.-]*:\s*(#.*)?\n( *)- ", re.M)


def detect_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation the file already uses, for ruamel.yaml."""
    mapping = 2
    m = re.search(r"^[A-Za-z_][\w.-]*:\s*\n( +)[A-Za-z_]", text, re.M)
    if m:
        mapping = len(m.group(1))
    offset = 2
    m2 = _SEQ_RE.search(text)
    if m2:
        offset = max(0, len(m2.group(3)) - len(m2.group(1)))
    return mapping, offset + 2, offset


def _yaml(text: str) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    mapping, sequence, offset = detect_indent(text)
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


def edit_kustomization(text: str, images: Sequence[ImageEntry],
                       patch_file: str | None) -> str:
    """`text` with the image entries set (added or updated in place) and `patch_file`
    registered at the end of `patches:` (once)."""
    y = _yaml(text)
    data = y.load(text)
    if not isinstance(data, CommentedMap):
        raise ValueError("kustomization is not a mapping")
    if images:
        entries = data.get("images")
        if not isinstance(entries, CommentedSeq):
            entries = CommentedSeq()
            data["images"] = entries
        for image in images:
            _set_image(entries, image)
    if patch_file is not None:
        patches = data.get("patches")
        if not isinstance(patches, CommentedSeq):
            patches = CommentedSeq()
            data["patches"] = patches
        if not any(isinstance(p, Mapping) and p.get("path") == patch_file for p in patches):
            entry = CommentedMap()
            entry["path"] = patch_file
            patches.append(entry)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def remove_patch(text: str, patch_file: str) -> str:
    """`text` without the `patches:` entry of `patch_file`."""
    y = _yaml(text)
    data = y.load(text)
    patches = data.get("patches") if isinstance(data, CommentedMap) else None
    if isinstance(patches, CommentedSeq):
        for i in reversed(range(len(patches))):
            if isinstance(patches[i], Mapping) and patches[i].get("path") == patch_file:
                del patches[i]
        if not patches:
            del data["patches"]
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def _set_image(entries: CommentedSeq, image: ImageEntry) -> None:
    for entry in entries:
        if isinstance(entry, CommentedMap) and entry.get("name") == image.name:
            break
    else:
        entry = CommentedMap()
        entry["name"] = image.name
        entries.append(entry)
    for key, value in (("newName", image.new_name), ("newTag", image.new_tag),
                       ("digest", image.digest)):
        if value is None:
            entry.pop(key, None)
        elif entry.get(key) != value:
            entry[key] = value


def image_entries(text: str) -> list[dict[str, Any]]:
    """The `images:` entries of a kustomization, as plain dicts."""
    from llmops_gate import yamlio

    data = yamlio.load(text)
    items = data.get("images") if isinstance(data, dict) else None
    return [dict(i) for i in items or [] if isinstance(i, dict)]


def render_patch_file(docs: Sequence[Mapping[str, Any]]) -> str:
    """The tool-owned patch file: a header comment and one strategic-merge document per
    promoted object, block style, two-space indents."""
    y = YAML(typ="rt")
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    parts = []
    for doc in docs:
        out = io.StringIO()
        y.dump(_commented(doc), out)
        parts.append(out.getvalue())
    return PATCH_HEADER + "---\n".join(parts)


def _commented(value: Any) -> Any:
    if isinstance(value, Mapping):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _commented(v)
        return m
    if isinstance(value, list):
        return CommentedSeq([_commented(v) for v in value])
    return value
