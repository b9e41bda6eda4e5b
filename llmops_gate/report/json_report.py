"""The JSON report: a public interface, documented in the README and by `report-schema.json`.

Change it only additively.
"""

from __future__ import annotations

import json
from typing import Any

from llmops_gate import __version__
from llmops_gate.model import Report, Severity, count
from llmops_gate.yamlio.fsutil import packaged_json


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
        errors = count(found, Severity.ERROR)
        overlays.append({
            "path": unit.path,
            "kind": unit.kind,
            "environment": unit.environment,
            "errors": errors,
            "warnings": count(found, Severity.WARNING),
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


def schema() -> dict[str, Any]:
    """The JSON Schema of this report (`report-schema.json`, shipped with the package)."""
    return packaged_json("llmops_gate.report", "report-schema.json")


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, sort_keys=False) + "\n"
