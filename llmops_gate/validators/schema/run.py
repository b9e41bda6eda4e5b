"""Turning documents into schema findings: the part the validator and the `schema` command share.

An `Item` is one document with where it was written; `check_items` expands `List`s, applies
`--skip`/`--reject`, finds each document's schema, validates it (embedded engine or kubeconform)
and maps every problem's field path back to a source file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from llmops_gate.model import Finding, ResourceRef, Severity, Unit
from llmops_gate.validators.schema.embedded import PathPart, Problem, Validators, dotted
from llmops_gate.validators.schema.manifests import plain
from llmops_gate.validators.schema.settings import SchemaSettings, kind_matches
from llmops_gate.validators.schema.store import (
    GVK,
    Found,
    Location,
    SchemaUnusable,
    parse_locations,
    resolve_kubernetes_version,
)
from llmops_gate.yamlio import caching
from llmops_gate.yamlio import reading as yaml_reading

VALIDATOR = "schema"
# Where a field path is written: (file, line, column, exact). `exact` is False when the field
# could not be placed (only its document).
Locate = Callable[[Sequence[PathPart]], tuple[str | None, int | None, int | None, bool]]
# The YAML node a field path's value is written in (for what a reader made of it), if any.
Scalar = Callable[[Sequence[PathPart]], yaml.Node | None]

RULES: dict[str, tuple[str, str]] = {
    "unknown-field": ("a field the schema does not know: the cluster drops it silently, so a "
                      "typo such as `resoures:` is never applied",
                      "fix the field name, or pass --no-strict to allow unknown fields"),
    "wrong-type": ("a value of the wrong type: the API server rejects the object",
                   "write the value with the type the schema expects"),
    "invalid-value": ("a value the schema does not allow", "use one of the allowed values"),
    "required-field": ("a field the schema requires is missing", "add the field"),
    "schema-violation": ("the object breaks a rule of its schema", "see the message"),
    "missing-schema": ("no schema for this apiVersion and kind in the schema locations",
                       "add a location with --schema-location (see `llmops-gate schemas "
                       "import`), or pass --ignore-missing-schemas"),
    "missing-kind": ("a document without `kind` or `apiVersion` is not a Kubernetes object",
                     "add `apiVersion:` and `kind:`"),
    "rejected-kind": ("this kind is refused by --reject-kind / schema.reject_kinds",
                      "remove the resource, or change the reject list"),
    "duplicate-key": ("a key written twice in one mapping: the last value silently wins",
                      "remove one of the two keys"),
    "rewritten-value": ("an unquoted value Kustomize rewrites on the way (a date becomes an "
                        "RFC 3339 timestamp): the cluster never gets the text written",
                        "quote the value in the source"),
    "schema-unusable": ("the schema found for this kind cannot be read or compiled",
                        "fix or replace the schema file"),
    "kubeconform": ("kubeconform could not validate the resource", "see the message"),
}


_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers", "steps",
                    "sidecars")


def _container(doc: Any, path: Sequence[PathPart]) -> str | None:
    """The name of the container (or Tekton step) a field path goes through, if any."""
    node, name = doc, None
    for i, part in enumerate(path):
        if isinstance(node, dict):
            node = node.get(part) if isinstance(part, str) else None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if (i > 0 and path[i - 1] in _CONTAINER_LISTS and isinstance(node, dict)
                    and isinstance(node.get("name"), str)):
                name = node["name"]
        else:
            break
    return name


def value_at(doc: Any, path: Sequence[PathPart]) -> Any:
    for part in path:
        if isinstance(doc, dict) and isinstance(part, str):
            doc = doc.get(part)
        elif isinstance(doc, list) and isinstance(part, int) and 0 <= part < len(doc):
            doc = doc[part]
        else:
            return None
    return doc


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # both NaN
    return bool(a == b)


@dataclass
class Item:
    """One document to validate, with where it came from."""

    doc: Any
    unit: Unit
    file: str | None = None
    line: int | None = None
    locate: Locate | None = None
    prefix: tuple[PathPart, ...] = ()
    patched_by: tuple[str, ...] = ()
    name_hint: str | None = None
    scalar: Scalar | None = None

    @property
    def rules(self) -> yaml_reading.Rules:
        """Whose reading made this document: Kustomize's for a rendered overlay, else the one
        kubectl and ArgoCD apply to a plain manifest."""
        return yaml_reading.KUSTOMIZE if self.unit.kind == "overlay" else \
            yaml_reading.KUBERNETES


@dataclass
class Stats:
    resources: int = 0
    valid: int = 0
    invalid: int = 0
    errors: int = 0
    skipped: int = 0


@dataclass
class Checker:
    """Schema validation for one run: locations resolved, schemas compiled once."""

    settings: SchemaSettings
    locations: list[Location] = field(default_factory=list)
    k8s_version: str = ""
    validators: Validators = field(default_factory=Validators)
    stats: Stats = field(default_factory=Stats)
    _found: dict[tuple[GVK, bool], Found | SchemaUnusable | None] = field(default_factory=dict)
    # plain() of documents already seen, by identity: repeated documents of a stream share
    # their parsed data (see manifests.read_documents). The document is kept with its result
    # so its id cannot be reused while the run lasts.
    _plain: dict[int, tuple[Any, Any]] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: SchemaSettings) -> Checker:
        return cls(settings=settings, locations=parse_locations(settings.locations),
                   k8s_version=resolve_kubernetes_version(settings.kubernetes_version))

    def find(self, gvk: GVK) -> Found | None:
        key = (gvk, self.settings.strict)
        if not gvk.safe:
            return None
        if key not in self._found:
            result: Found | SchemaUnusable | None = None
            for loc in self.locations:
                try:
                    result = loc.find(gvk, self.k8s_version, self.settings.strict)
                except SchemaUnusable as exc:
                    result = exc
                if result is not None:
                    break
            self._found[key] = result
        cached = self._found[key]
        if isinstance(cached, SchemaUnusable):
            raise cached
        return cached

    # --- findings -------------------------------------------------------------------------

    def finding(self, item: Item, rule: str, message: str, path: Sequence[PathPart] = (),
                 severity: Severity = Severity.ERROR, hint: str | None = None,
                 doc: Any = None) -> Finding:
        full = (*item.prefix, *path)
        file, line, column = item.file, item.line, None
        if item.locate is not None and path:
            where, at, col, exact = item.locate(full)
            if exact and at is not None:
                file, line, column = where, at, col
            elif item.patched_by and hint is None:
                hint = ("this field is not written in " + (item.file or "the source") +
                        "; it comes from a patch or transformer in " +
                        ", ".join(item.patched_by))
        ref = ResourceRef.of(doc) if isinstance(doc, dict) and doc.get("kind") else None
        shown = dotted(list(path)) if path else None
        container = _container(doc, path)
        return Finding(validator=VALIDATOR, rule=rule, severity=severity,
                       message=f"{shown}: {message}" if shown else message,
                       overlay=item.unit.path, environment=item.unit.environment,
                       file=file, line=line, column=column, resource=ref, path=shown,
                       container=container,
                       hint=hint if hint is not None else RULES.get(rule, ("", None))[1])

    def expand(self, item: Item) -> Iterator[tuple[Item, Any, tuple[PathPart, ...]]]:
        """(item, document, path prefix) for the document and, for a List, each item."""
        doc = item.doc
        if (isinstance(doc, dict) and doc.get("kind") == "List"
                and isinstance(doc.get("items"), list)):
            for i, sub in enumerate(doc["items"]):
                yield from self.expand(Item(doc=sub, unit=item.unit, file=item.file,
                                            line=item.line, locate=item.locate,
                                            prefix=(*item.prefix, "items", i),
                                            patched_by=item.patched_by))
            return
        yield item, doc, item.prefix

    def precheck(self, item: Item, doc: Any) -> Finding | bool | None:
        """A finding that settles the document, True to skip it, None to validate it."""
        if not isinstance(doc, dict):
            return self.finding(item, "missing-kind",
                                 f"a {type(doc).__name__} document is not a Kubernetes object "
                                 "(missing 'kind' key)")
        for key in ("kind", "apiVersion"):
            if not isinstance(doc.get(key), str) or not doc.get(key):
                return self.finding(item, "missing-kind", f"missing '{key}' key", doc=doc)
        api_version, kind = str(doc["apiVersion"]), str(doc["kind"])
        if kind_matches(self.settings.skip, api_version, kind):
            return True
        if kind_matches(self.settings.reject, api_version, kind):
            return self.finding(item, "rejected-kind", f"prohibited resource kind {kind}",
                                 doc=doc)
        return None

    def check(self, items: Iterable[Item]) -> Iterator[Finding]:
        for top in items:
            for item, doc, _prefix in self.expand(top):
                yield from self._check_one(item, doc)

    def _check_one(self, item: Item, doc: Any) -> Iterator[Finding]:
        self.stats.resources += 1
        pre = self.precheck(item, doc)
        if pre is True:
            self.stats.skipped += 1
            return
        if isinstance(pre, Finding):
            self.stats.errors += 1
            yield pre
            return
        if caching.enabled():
            cached = self._plain.get(id(doc))
            if cached is None:
                cached = self._plain[id(doc)] = (doc, plain(doc))
            doc = cached[1]
        else:
            doc = plain(doc)
        gvk = GVK.of(str(doc["apiVersion"]), str(doc["kind"]))
        try:
            found = self.find(gvk)
        except SchemaUnusable as exc:
            self.stats.errors += 1
            yield self.finding(item, "schema-unusable", str(exc), doc=doc)
            return
        if found is None:
            self.stats.skipped += 1
            yield self.missing(item, doc, gvk)
            return
        try:
            problems = self.validators.validate(found, doc)
        except SchemaUnusable as exc:
            self.stats.errors += 1
            yield self.finding(item, "schema-unusable", str(exc), doc=doc)
            return
        if problems:
            self.stats.invalid += 1
        else:
            self.stats.valid += 1
        for p in problems:
            yield self.problem(item, doc, p)

    def missing(self, item: Item, doc: Any, gvk: GVK) -> Finding:
        where = ", ".join(loc.label for loc in self.locations)
        severity = Severity.WARNING if self.settings.ignore_missing else Severity.ERROR
        return self.finding(
            item, "missing-schema",
            f"could not find schema for {gvk.kind} ({gvk.api_version}) in: {where}",
            severity=severity, doc=doc)

    def problem(self, item: Item, doc: Any, p: Problem) -> Finding:
        note = self.reading(item, doc, p)
        if note is not None:
            return self.finding(item, p.rule, note, p.path, doc=doc,
                                hint=f"expected {' or '.join(p.expected)}; quoted, the value "
                                "stays the text written")
        return self.finding(item, p.rule, p.message, p.path, hint=p.hint, doc=doc)

    def reading(self, item: Item, doc: Any, p: Problem) -> str | None:
        """`Kubernetes reads the unquoted N as the boolean false; quote it: "N"` when a string
        is wanted and the value is what the reader made of an unquoted scalar."""
        if p.rule != "wrong-type" or "string" not in p.expected or item.scalar is None:
            return None
        node = item.scalar((*item.prefix, *p.path))
        if not isinstance(node, yaml.ScalarNode) or not yaml_reading.is_plain(node):
            return None
        value = yaml_reading.read(str(node.value), item.rules)
        if not _same(value, value_at(doc, p.path)):
            return None  # set elsewhere (a patch, a transformer): not this scalar's reading
        return yaml_reading.reading_note(str(node.value), item.rules)
