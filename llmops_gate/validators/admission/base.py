"""What an admission rule is: data (id, severity, summary, why, fix, source) and a pure check.

A family module declares `RULES` (frozen `Rule`s) and `check(doc, scope)`, which yields
`Violation`s for one object: the rule, a message and the field path it is about. Checks never
read files, print or decide where a field is written: the validator maps each path to the source
file and line (see `llmops_gate.validators.admission`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from llmops_gate.model import Severity

PathPart = str | int
Path = tuple[PathPart, ...]


@dataclass(frozen=True)
class Rule:
    """One rule the API server or an admission webhook applies. `source` names where the rule
    is written (documentation or code, and the version it applies from)."""

    id: str
    severity: Severity
    summary: str
    why: str
    fix: str
    source: str

    @property
    def description(self) -> str:  # what report formats (SARIF) read
        return self.summary

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity.value, "summary": self.summary,
                "description": self.summary, "why": self.why, "fix": self.fix,
                "source": self.source}


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    path: Path = ()


@dataclass(frozen=True)
class Scope:
    """What a check may know besides the object: the Kubernetes version the run targets."""

    kubernetes_version: tuple[int, int] = (1, 37)


Check = Callable[[Mapping[str, Any], Scope], Iterable[Violation]]


def get(doc: Any, *path: PathPart) -> Any:
    """The value at `path` in nested mappings and lists, or None."""
    node = doc
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                return None
            node = node[part]
        else:
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        if node is None:
            return None
    return node


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """(index, item) of the mappings in a list (other items are the schema's business)."""
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, Mapping)]


def group_of(doc: Mapping[str, Any]) -> str:
    api = str(doc.get("apiVersion") or "")
    return api.rpartition("/")[0] if "/" in api else ""


def templated(value: str) -> bool:
    """A value with a `{{ ... }}` placeholder is filled in by a tool before it reaches the
    cluster (Pipelines-as-Code, ArgoCD ApplicationSet, a Helm chart): what the API server
    sees is not written here, so it is not judged."""
    return "{{" in value and "}}" in value


def each(problems: Iterable[str], rule: str, path: Path, what: str) -> Iterable[Violation]:
    """A Violation per problem of one value, its message led by what the value is."""
    for problem in problems:
        yield Violation(rule, f"{what}: {problem}", path)
