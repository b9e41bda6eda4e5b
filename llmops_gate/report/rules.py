"""The documentation of the rules in a report, for the formats that describe rules (SARIF's
`tool.driver.rules`).

The engine attaches the docs of the rules that produced findings (`Report.rules`, declared by
each validator in the shared `RuleDoc` vocabulary), so no report format needs to know the
validators. A rule nobody describes gets a generic text built from its findings, so a report
never lacks help text.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmops_gate.model import Finding, Report, RuleDoc, Severity


def describe(report: Report, validator: str, rule: str,
             findings: Sequence[Finding] = ()) -> RuleDoc:
    """The documentation of `rule` of `validator`, never None."""
    doc = report.rules.get((validator, rule))
    if doc is not None:
        return doc
    hint = next((f.hint for f in findings if f.hint), None)
    return RuleDoc(rule, Severity.ERROR, f"{validator} check '{rule}'",
                   fix=hint or f"See `llmops-gate rules` for '{rule}'.", validator=validator)


def rules_of(report: Report) -> list[tuple[str, RuleDoc]]:
    """(validator, doc) for every distinct rule among the report's findings, first seen first."""
    seen: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        seen.setdefault((f.validator, f.rule), []).append(f)
    return [(validator, describe(report, validator, rule, group))
            for (validator, rule), group in seen.items()]
