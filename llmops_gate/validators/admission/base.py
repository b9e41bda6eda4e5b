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

from llmops_gate.kinds import Path
from llmops_gate.model import RuleDoc, Severity


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

    @property
    def meta(self) -> RuleDoc:
        """This rule in the vocabulary every validator's rules share; `source` stays where the
        rule is written."""
        return RuleDoc(id=self.id, severity=self.severity, summary=self.summary, why=self.why,
                       fix=self.fix, source=self.source, validator="admission")

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


def templated(value: str) -> bool:
    """A value with a `{{ ... }}` placeholder is filled in by a tool before it reaches the
    cluster (Pipelines-as-Code, ArgoCD ApplicationSet, a Helm chart): what the API server
    sees is not written here, so it is not judged."""
    return "{{" in value and "}}" in value


def each(problems: Iterable[str], rule: str, path: Path, what: str) -> Iterable[Violation]:
    """A Violation per problem of one value, its message led by what the value is."""
    for problem in problems:
        yield Violation(rule, f"{what}: {problem}", path)
