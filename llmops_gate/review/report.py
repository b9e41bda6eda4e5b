"""The review of a change: per unit what was added, removed and changed, the release
summary, and the head's validation result; and its JSON form (`review-schema.json`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops_gate import __version__
from llmops_gate.engine import Options
from llmops_gate.model import Finding, Severity, Tallied, count
from llmops_gate.review.diff import UnitDiff, diff_unit
from llmops_gate.review.render import Pair, render_pair
from llmops_gate.review.settings import ReviewSettings
from llmops_gate.yamlio import redact
from llmops_gate.yamlio.fsutil import packaged_json


@dataclass(frozen=True)
class Review(Tallied):
    base_rev: str
    base_commit: str
    head_rev: str | None
    head_commit: str | None
    units: tuple[UnitDiff, ...]
    findings: tuple[Finding, ...] = ()
    validated: bool = False
    all: bool = False
    reason: str | None = None
    settings: ReviewSettings = field(default_factory=ReviewSettings)

    @property
    def head_label(self) -> str:
        return self.head_commit[:7] if self.head_commit else "work tree"

    @property
    def changed_units(self) -> list[UnitDiff]:
        return [u for u in self.units if u.status != "unchanged"]

    @property
    def tallied(self) -> Sequence[Finding]:
        return self.findings

    def unit_errors(self, path: str) -> int:
        return count((f for f in self.findings if f.overlay == path), Severity.ERROR)


def build_review(pair: Pair, settings: ReviewSettings) -> Review:
    masker = redact.Redactor(pair.base.secrets | pair.head.secrets)
    units = []
    for path in pair.paths:
        base, head = pair.base.units.get(path), pair.head.units.get(path)
        apps = pair.head.applications if head is not None else pair.base.applications
        units.append(diff_unit(path, base, head, settings, apps, mask=masker.text,
                               why=pair.why.get(path, ())))
    findings = tuple(masker.finding(f) for f in pair.findings)
    rank = {n: i for i, n in enumerate(pair.head.config.environment_names)}
    units.sort(key=lambda u: (rank.get(u.environment or "", len(rank)), u.kind != "overlay",
                              u.path))
    return Review(base_rev=pair.base_rev, base_commit=pair.base_commit,
                  head_rev=pair.head_rev, head_commit=pair.head_commit, units=tuple(units),
                  findings=findings, validated=pair.validated, all=pair.all,
                  reason=pair.reason, settings=settings)


def review(repo: Path, base: str, head: str | None = None,
           opts: Options | None = None, validate: bool = True) -> Review:
    """Render both ends of the change and compare them."""
    pair = render_pair(repo, base, head, opts, validate)
    return build_review(pair, ReviewSettings.from_section(pair.head.config.section("review")))


def as_dict(review: Review) -> dict[str, Any]:
    return {
        "tool": "llmops-gate",
        "version": __version__,
        "kind": "review",
        "base": {"revision": review.base_rev, "commit": review.base_commit},
        "head": {"revision": review.head_rev, "commit": review.head_commit},
        "all": review.all,
        "reason": review.reason,
        "summary": {
            "units": len(review.units),
            "changed": len(review.changed_units),
            "added": sum(u.count("added") for u in review.units),
            "removed": sum(u.count("removed") for u in review.units),
            "modified": sum(u.count("changed") for u in review.units),
            "errors": review.errors,
            "warnings": review.warnings,
            "validated": review.validated,
        },
        "units": [{
            "path": u.path,
            "kind": u.kind,
            "environment": u.environment,
            "status": u.status,
            "error": u.error,
            "why": list(u.why),
            "added": u.count("added"),
            "removed": u.count("removed"),
            "changed": u.count("changed"),
            "unchanged": u.unchanged,
            "ignored": list(u.filtered),
            "errors": review.unit_errors(u.path),
            "release": [f.to_json() for f in u.facts],
            "resources": [c.to_json() for c in u.changes],
        } for u in review.units],
        "findings": [f.to_json() for f in review.findings],
    }


def schema() -> dict[str, Any]:
    """The JSON Schema of the review (`review-schema.json`, shipped with the package)."""
    return packaged_json("llmops_gate.review", "review-schema.json")


def render_json(review: Review) -> str:
    return json.dumps(as_dict(review), indent=2) + "\n"
