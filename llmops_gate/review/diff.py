"""Matching rendered resources across the change, leaving out noise, hiding Secret values,
and the unified diff of each changed resource.

A resource is the same across the change when its API group, kind, namespace and name are
(with Kustomize's hash suffix taken off the names of generated ConfigMaps and Secrets, and off
every reference to them, so a changed generator shows as a changed object, not as one removed
and one added). Each resource is dumped as YAML with sorted keys, so the diff is stable.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from llmops_gate.model import ResourceRef
from llmops_gate.review.render import RenderedDoc, RenderedUnit
from llmops_gate.review.settings import ReviewSettings
from llmops_gate.review.summary import HIDDEN, Fact, release_facts

# Kustomize's name hash: ten characters of its alphabet (no vowels, no 0, 1, 3).
HASH_SUFFIX = re.compile(r"^(?P<name>.+)-(?P<hash>[bcdfghkmt2-9]{10})$")
GENERATED_KINDS = ("ConfigMap", "Secret")


@dataclass(frozen=True)
class ResourceChange:
    status: str  # added, removed, changed
    ref: ResourceRef
    diff: str
    file: str | None = None
    line: int | None = None

    @property
    def title(self) -> str:
        return f"{self.ref.kind}/{self.ref.name}"

    @property
    def size(self) -> int:
        return len(self.diff)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "resource": self.ref.to_json(), "file": self.file,
                "line": self.line, "diff": self.diff}


@dataclass(frozen=True)
class UnitDiff:
    path: str
    kind: str
    environment: str | None
    status: str  # added, removed, changed, unchanged, error
    changes: tuple[ResourceChange, ...] = ()
    facts: tuple[Fact, ...] = ()
    unchanged: int = 0
    error: str | None = None
    why: tuple[str, ...] = ()
    filtered: tuple[str, ...] = field(default_factory=tuple)

    def count(self, status: str) -> int:
        return sum(1 for c in self.changes if c.status == status)


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def _unhash(name: str) -> str:
    m = HASH_SUFFIX.match(name)
    return m.group("name") if m else name


def _replace_strings(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_replace_strings(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _replace_strings(v, names) for k, v in value.items()}
    return value


def _drop_keys(mapping: Any, patterns: Sequence[str]) -> None:
    if not isinstance(mapping, dict):
        return
    for key in [k for k in mapping if any(fnmatch.fnmatchcase(str(k), p) for p in patterns)]:
        del mapping[key]


def _pointer_parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def remove_pointer(doc: Any, pointer: str) -> bool:
    """Remove what a JSON pointer names; False when it names nothing."""
    parts = _pointer_parts(pointer)
    if not parts:
        return False
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    last = parts[-1]
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        del node[int(last)]
        return True
    return False


def _clean_empty(doc: dict[str, Any]) -> None:
    meta = doc.get("metadata")
    if isinstance(meta, dict):
        for key in ("labels", "annotations"):
            if key in meta and not meta[key]:
                del meta[key]


@dataclass(frozen=True)
class Ignore:
    """One `ignoreDifferences` entry of an Application, or a configured field."""

    pointers: tuple[str, ...]
    group: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None

    def applies(self, doc: Mapping[str, Any]) -> bool:
        ref = ResourceRef.of(doc)
        if self.kind is not None and self.kind != ref.kind:
            return False
        if self.group is not None and self.group != _group(ref.api_version):
            return False
        if self.name is not None and not fnmatch.fnmatchcase(ref.name, self.name):
            return False
        return self.namespace is None or self.namespace == ref.namespace


def application_ignores(applications: Iterable[Mapping[str, Any]],
                        path: str) -> list[Ignore]:
    """The `ignoreDifferences` (JSON pointers) of the Applications whose source is `path`."""
    out: list[Ignore] = []
    for app in applications:
        spec = app.get("spec")
        if app.get("kind") == "ApplicationSet" and isinstance(spec, Mapping):
            template = spec.get("template")
            spec = template.get("spec") if isinstance(template, Mapping) else None
        if not isinstance(spec, Mapping):
            continue
        sources = [spec.get("source"), *list(spec.get("sources") or [])]
        paths = {os.path.normpath(str(s["path"])).strip("/") for s in sources
                 if isinstance(s, Mapping) and isinstance(s.get("path"), str)}
        if path not in paths:
            continue
        for item in spec.get("ignoreDifferences") or []:
            if not isinstance(item, Mapping):
                continue
            pointers = tuple(str(p) for p in item.get("jsonPointers") or [])
            if pointers:
                out.append(Ignore(pointers=pointers, group=item.get("group"),
                                  kind=item.get("kind"), name=item.get("name"),
                                  namespace=item.get("namespace")))
    return out


class Normaliser:
    """Takes the noise out of one unit's rendered documents (both sides alike)."""

    def __init__(self, settings: ReviewSettings, ignores: Sequence[Ignore]) -> None:
        self.settings = settings
        self.applied: set[str] = set()  # the Application's pointers that named something
        self.from_app = {p for i in ignores for p in i.pointers}
        self.ignores = list(ignores) + [
            Ignore(pointers=(f.pointer,), kind=f.kind, name=f.name)
            for f in settings.ignore_fields]

    def docs(self, docs: Sequence[RenderedDoc]) -> list[RenderedDoc]:
        renames: dict[str, str] = {}
        if self.settings.hash_suffixes:
            for d in docs:
                ref = ResourceRef.of(d.doc)
                if ref.kind in GENERATED_KINDS and _unhash(ref.name) != ref.name:
                    renames[ref.name] = _unhash(ref.name)
        out = []
        for d in docs:
            doc = copy.deepcopy(d.doc)
            if renames:
                doc = _replace_strings(doc, renames)
            meta = doc.get("metadata")
            if isinstance(meta, dict):
                _drop_keys(meta.get("labels"), self.settings.labels)
                _drop_keys(meta.get("annotations"), self.settings.annotations)
            for ignore in self.ignores:
                if ignore.applies(doc):
                    for pointer in ignore.pointers:
                        if remove_pointer(doc, pointer) and pointer in self.from_app:
                            self.applied.add(pointer)
            _clean_empty(doc)
            out.append(RenderedDoc(doc=doc, file=d.file, line=d.line,
                                   name=ResourceRef.of(d.doc).name))
        return out


def _key(doc: Mapping[str, Any]) -> tuple[str, str, str, str]:
    ref = ResourceRef.of(doc)
    return (_group(ref.api_version), ref.kind, ref.namespace or "", ref.name)


def _index(docs: Sequence[RenderedDoc]) -> dict[tuple[str, ...], RenderedDoc]:
    out: dict[tuple[str, ...], RenderedDoc] = {}
    for d in docs:
        key: tuple[str, ...] = _key(d.doc)
        n = 1
        while key in out:  # the same object twice: keep both, in order
            n += 1
            key = (*_key(d.doc), str(n))
        out[key] = d
    return out


def hide_secret_values(old: dict[str, Any] | None,
                       new: dict[str, Any] | None) -> tuple[Any, Any]:
    """Copies of a Secret pair with every value replaced by words: the same on both sides
    when it did not change, `changed (value hidden)` on the new side when it did."""
    def values(doc: dict[str, Any] | None) -> dict[tuple[str, str], Any]:
        out = {}
        for part in ("data", "stringData"):
            section = doc.get(part) if doc else None
            if isinstance(section, dict):
                out.update({(part, str(k)): v for k, v in section.items()})
        return out

    a, b = values(old), values(new)
    old2, new2 = copy.deepcopy(old), copy.deepcopy(new)
    for doc, mine, other, is_new in ((old2, a, b, False), (new2, b, a, True)):
        if doc is None:
            continue
        for (part, key) in mine:
            if (part, key) in other and other[(part, key)] == mine[(part, key)]:
                doc[part][key] = HIDDEN
            elif (part, key) in other:
                doc[part][key] = f"changed {HIDDEN}" if is_new else HIDDEN
            else:
                doc[part][key] = HIDDEN
        # Annotations and labels of a Secret are not secret; everything under data is.
    return old2, new2


def dump(doc: Any) -> str:
    return str(yaml.safe_dump(doc, sort_keys=True, width=4096, allow_unicode=True))


def _unified(old: Any, new: Any, label: str) -> str:
    a = dump(old).splitlines(keepends=True) if old is not None else []
    b = dump(new).splitlines(keepends=True) if new is not None else []
    lines = difflib.unified_diff(a, b, fromfile=f"a/{label}" if old is not None else "/dev/null",
                                 tofile=f"b/{label}" if new is not None else "/dev/null", n=3)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def diff_unit(path: str, base: RenderedUnit | None, head: RenderedUnit | None,
              settings: ReviewSettings, applications: Sequence[Mapping[str, Any]],
              mask: Any = None, why: Sequence[str] = ()) -> UnitDiff:
    """The difference of one unit across the change."""
    unit = (head or base)
    assert unit is not None
    env, kind = unit.unit.environment, unit.unit.kind
    error = (head.error if head is not None else None) or (base.error if base else None)
    if error is not None:
        side = "head" if head is not None and head.error else "base"
        return UnitDiff(path=path, kind=kind, environment=env, status="error",
                        error=f"{side}: {mask(error) if mask else error}", why=tuple(why))
    ignores = application_ignores(applications, path) \
        if settings.argocd_ignore_differences and kind == "overlay" else []
    normal = Normaliser(settings, ignores)
    old = _index(normal.docs(base.docs)) if base is not None else {}
    new = _index(normal.docs(head.docs)) if head is not None else {}
    changes: list[ResourceChange] = []
    facts: list[Fact] = []
    unchanged = 0
    for key in [*new, *(k for k in old if k not in new)]:
        a, b = old.get(key), new.get(key)
        da = a.doc if a else None
        db = b.doc if b else None
        if da == db:
            unchanged += 1
            continue
        where = b if b is not None else a
        assert where is not None
        ref = ResourceRef.of(where.doc)
        if where.name:  # the name as rendered (with its hash suffix), not the compared one
            ref = ResourceRef(ref.api_version, ref.kind, where.name, ref.namespace)
        facts.extend(release_facts(str(ref), da, db))
        if ref.kind == "Secret":
            da, db = hide_secret_values(da, db)
        text = _unified(da, db, f"{env or path}/{ref.kind}/{ref.name}")
        if mask is not None:
            text = mask(text)
        status = "added" if a is None else "removed" if b is None else "changed"
        changes.append(ResourceChange(status=status, ref=ref, diff=text, file=where.file,
                                      line=where.line))
    if head is None:
        status = "removed"
    elif base is None:
        status = "added"
    else:
        status = "changed" if changes else "unchanged"
    if mask is not None:
        facts = [Fact(f.resource, f.field, mask(f.old) if f.old else f.old,
                      mask(f.new) if f.new else f.new, mask(f.words)) for f in facts]
    return UnitDiff(path=path, kind=kind, environment=env, status=status,
                    changes=tuple(changes), facts=tuple(facts), unchanged=unchanged,
                    why=tuple(why),
                    filtered=tuple(sorted(normal.applied)))
