"""The JSON report: a public interface, documented in the README and by `report-schema.json`.

Change it only additively.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from llmops_gate import __version__
from llmops_gate.model import Report, Severity


def summary(report: Report) -> dict[str, Any]:
    """The run's tally: the JSON report's `summary` and the SARIF run's `properties`."""
    return {
        "overlays": sum(1 for u in report.units if u.kind == "overlay"),
        "manifests": sum(1 for u in report.units if u.kind == "manifest"),
        "resources": report.resources,
        "errors": report.errors,
        "warnings": report.warnings,
        "waived": len(report.waived),
        "skipped": report.skipped_units,
        "passed": report.passed,
    }


def as_dict(report: Report) -> dict[str, Any]:
    overlays = []
    for unit in report.units:
        found = [f for f in report.findings if f.overlay == unit.path and not f.waived]
        errors = sum(1 for f in found if f.severity is Severity.ERROR)
        overlays.append({
            "path": unit.path,
            "kind": unit.kind,
            "environment": unit.environment,
            "errors": errors,
            "warnings": sum(1 for f in found if f.severity is Severity.WARNING),
            "passed": errors == 0,
        })
    return {
        "tool": "llmops-gate",
        "version": __version__,
        "summary": summary(report),
        "validators": list(report.validators),
        "overlays": overlays,
        "findings": [f.to_json() for f in report.findings],
    }


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of this report (`report-schema.json`, shipped with the package)."""
    text = resources.files("llmops_gate.report").joinpath("report-schema.json").read_text(
        encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, sort_keys=False) + "\n"
