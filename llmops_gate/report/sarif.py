"""The SARIF 2.1.0 report, for code-scanning views (GitHub, GitLab, IDEs).

One run; `tool.driver.rules` describes every rule that has a finding (with help text); each
result points at its source file relative to the repo root (`uriBaseId: REPOROOT`) and, when
known, its line and column. Waived findings are kept as results with an external suppression
carrying the waiver's reason, which is how SARIF viewers show them apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from llmops_gate import __version__
from llmops_gate.model import Finding, Report, Severity
from llmops_gate.report import json_report
from llmops_gate.report.rules import rules_of

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
BASE_ID = "REPOROOT"
INFORMATION_URI = "https://github.com/example-org/llmops-gate"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(path: str) -> str:
    return quote(path.strip("/"), safe="/")


def _location(f: Finding) -> dict[str, Any] | None:
    path = f.file or f.overlay
    if not path:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(path), "uriBaseId": BASE_ID}}
    if f.file and f.line:
        region: dict[str, Any] = {"startLine": f.line}
        if f.column:
            region["startColumn"] = f.column
        physical["region"] = region
    location: dict[str, Any] = {"physicalLocation": physical}
    if f.resource is not None:
        location["logicalLocations"] = [{
            "name": f.resource.name,
            "fullyQualifiedName": "/".join(p for p in (f.resource.namespace, f.resource.kind,
                                                        f.resource.name) if p),
            "kind": "object",
        }]
    return location


def _message(f: Finding) -> str:
    text = f.message
    if f.resource is not None:
        text = f"{f.resource}: {text}"
    if f.hint:
        text += f" (hint: {f.hint})"
    return text


def _result(f: Finding, index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": LEVELS[f.severity],
        "message": {"text": _message(f)},
    }
    location = _location(f)
    if location is not None:
        result["locations"] = [location]
    props: dict[str, Any] = {k: v for k, v in (("validator", f.validator), ("overlay", f.overlay),
                               ("environment", f.environment), ("path", f.path),
                               ("container", f.container)) if v}
    if f.resource is not None:
        props["resource"] = f.resource.to_json()
    result["properties"] = props
    if f.waived:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f.waiver_reason or "waived"}]
    return result


def as_dict(report: Report) -> dict[str, Any]:
    rules = rules_of(report)
    index = {(validator, doc.id): i for i, (validator, doc) in enumerate(rules)}
    driver_rules = []
    for validator, doc in rules:
        rule: dict[str, Any] = {
            "id": doc.id,
            "name": "".join(w.capitalize() for w in doc.id.split("-")),
            "shortDescription": {"text": doc.summary},
            "fullDescription": {"text": f"{doc.summary} {doc.help}"},
            "help": {"text": doc.help},
            "properties": {"validator": validator, "tags": [validator]},
        }
        if doc.links:
            rule["helpUri"] = doc.links[0]
        severities = {f.severity for f in report.findings
                      if f.rule == doc.id and f.validator == validator}
        worst = max(severities, key=lambda s: s.rank) if severities else Severity.ERROR
        rule["defaultConfiguration"] = {"level": LEVELS[worst]}
        driver_rules.append(rule)
    root_uri = Path(report.repo).resolve().as_uri().rstrip("/") + "/"
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "llmops-gate",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": driver_rules,
            }},
            "originalUriBaseIds": {BASE_ID: {"uri": root_uri}},
            "columnKind": "unicodeCodePoints",
            # The run itself worked; whether the repo passed is in the results and properties.
            "invocations": [{"executionSuccessful": True}],
            "results": [_result(f, index[(f.validator, f.rule)]) for f in report.findings],
            "properties": json_report.summary(report),
        }],
    }


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"
