"""The shared value types: Severity, ResourceRef, Finding, RuleDoc, Unit, Resource, Report."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, order=True)
class ResourceRef:
    """Identifies a Kubernetes object in a report: `{apiVersion, kind, name, namespace}`."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> ResourceRef:
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), Mapping) else {}
        assert isinstance(meta, Mapping)
        name = meta.get("name") or meta.get("generateName") or ""
        ns = meta.get("namespace")
        return cls(
            api_version=str(doc.get("apiVersion") or ""),
            kind=str(doc.get("kind") or ""),
            name=str(name),
            namespace=str(ns) if ns is not None else None,
        )

    def to_json(self) -> dict[str, str | None]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
        }

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Finding:
    """One thing a validator found. Every report format is a pure function of these.

    `file` is relative to the repository root (POSIX separators); `line` and `column` are
    1-based. `overlay` is the unit (overlay folder or manifest file) the finding belongs to.
    """

    validator: str
    rule: str
    severity: Severity
    message: str
    overlay: str | None = None
    environment: str | None = None
    file: str | None = None
    line: int | None = None
    resource: ResourceRef | None = None
    column: int | None = None
    path: str | None = None
    container: str | None = None
    hint: str | None = None
    waived: bool = False
    waiver_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "validator": self.validator,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "overlay": self.overlay,
            "environment": self.environment,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "resource": self.resource.to_json() if self.resource else None,
            "path": self.path,
            "container": self.container,
            "hint": self.hint,
            "waived": self.waived,
        }
        if self.waived:
            out["waiverReason"] = self.waiver_reason
        return out

    def sort_key(self) -> tuple[str, str, int, int, str, str]:
        return (
            self.overlay or "",
            self.file or "",
            self.line or 0,
            self.column or 0,
            self.rule,
            self.message,
        )


@dataclass(frozen=True)
class RuleOption:
    """A setting of a rule, with its default (policy rules take them from the config)."""

    name: str
    default: Any
    description: str


@dataclass(frozen=True)
class RuleDoc:
    """What one rule of one validator is, in the one vocabulary every validator declares its
    rules in: the `rules` command lists these, report formats (SARIF) read them from
    `Report.rules`, so neither needs to know how a validator is written.

    `summary` is one line saying what the rule checks; `why` what goes wrong without it; `fix`
    how to make the finding go away. `source` says who declared it: "built-in", "config" (a
    custom rule), "plugin <dist>".
    """

    id: str
    severity: Severity
    summary: str
    why: str = ""
    fix: str = ""
    options: tuple[RuleOption, ...] = ()
    links: tuple[str, ...] = ()
    source: str = "built-in"
    validator: str = ""

    @property
    def help(self) -> str:
        """Why and how to fix it, in one paragraph (what SARIF calls the rule's help)."""
        return " ".join(t for t in (self.why, self.fix) if t) or self.summary

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "validator": self.validator,
            "severity": self.severity.value,
            "description": self.summary,
            "why": self.why,
            "fix": self.fix,
            "options": [{"name": o.name, "default": o.default, "description": o.description}
                        for o in self.options],
            "links": list(self.links),
            "source": self.source,
        }


UnitKind = Literal["overlay", "manifest"]


@dataclass(frozen=True)
class Unit:
    """What the report groups by: an overlay folder (built by Kustomize) or a plain manifest file.

    `path` is relative to the repository root, POSIX style ("." for the root itself).
    """

    path: str
    kind: UnitKind
    environment: str | None = None


@dataclass
class Resource:
    """One rendered Kubernetes object with where it came from.

    `doc` is the object as Kustomize rendered it, with Kustomize's origin and transformer
    annotations already removed. `source_file` is the repo-relative file it was written in (from
    the origin annotation, or the manifest file itself); `source_line` the line where its
    document starts there. `transformed_by` lists the repo-relative kustomization files whose
    transformers (patches, prefixes, images, ...) touched it.
    """

    doc: dict[str, Any]
    unit: Unit
    source_file: str | None = None
    source_line: int | None = None
    transformed_by: tuple[str, ...] = ()
    index: int = 0

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef.of(self.doc)

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind") or "")

    @property
    def api_version(self) -> str:
        return str(self.doc.get("apiVersion") or "")

    @property
    def name(self) -> str:
        return self.ref.name


@dataclass
class UnitResult:
    """A unit after rendering: its resources, or the reason it could not be rendered."""

    unit: Unit
    resources: list[Resource] = field(default_factory=list)
    error: str | None = None
    error_line: int | None = None
    seconds: float = 0.0
    # The repo-relative file a failed build is about, when Kustomize's message names one.
    error_file: str | None = None
    error_column: int | None = None

    # Why Kustomize was not run on it (remote bases, paths outside the repo, ...): findings the
    # `build` validator reports instead of a build error.
    refused: list[Finding] = field(default_factory=list)
    timed_out: bool = False
    # Stopped at its memory ceiling (`limits.kustomize_memory`).
    out_of_memory: bool = False


def count(findings: Iterable[Finding], severity: Severity) -> int:
    """How many of `findings` have `severity` (the tallies of reports and reviews)."""
    return sum(1 for f in findings if f.severity is severity)


class Tallied:
    """The errors and warnings among `tallied`: the findings that count (a report's not
    waived; a review's all)."""

    @property
    def tallied(self) -> Sequence[Finding]:
        raise NotImplementedError

    @property
    def errors(self) -> int:
        return count(self.tallied, Severity.ERROR)

    @property
    def warnings(self) -> int:
        return count(self.tallied, Severity.WARNING)


@dataclass
class Report(Tallied):
    """The outcome of one run; what every report format renders."""

    repo: str
    units: Sequence[Unit]
    resources: int
    findings: Sequence[Finding]
    validators: Sequence[str] = ()
    skipped_units: int = 0
    # unit path -> the objects it rendered, in order (JUnit and SARIF list them).
    unit_resources: Mapping[str, Sequence[ResourceRef]] = field(default_factory=dict)
    # unit path -> seconds its build (or read) took.
    unit_seconds: Mapping[str, float] = field(default_factory=dict)
    # (validator, rule id) -> its documentation, for the rules among `findings` (the engine
    # fills it from the validators' declarations; SARIF's rule table reads it).
    rules: Mapping[tuple[str, str], RuleDoc] = field(default_factory=dict)

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.waived]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.findings if f.waived]

    @property
    def tallied(self) -> Sequence[Finding]:
        return self.active

    @property
    def passed(self) -> bool:
        return self.errors == 0

    def findings_for(self, unit: Unit) -> list[Finding]:
        return [f for f in self.findings if f.overlay == unit.path]
