"""The text report: findings grouped by overlay, `file:line:col: severity rule message`.

The `file:line:column:` prefix is what editors, Tekton Pipelines-as-Code and most CI log
scanners recognise as an error location.
"""

from __future__ import annotations

from collections.abc import Iterable

from llmops_gate.model import Finding, Report, Severity, count

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if colour else text


def location(f: Finding) -> str:
    if not f.file:
        return f.overlay or "-"
    loc = f.file
    if f.line:
        loc += f":{f.line}"
        if f.column:
            loc += f":{f.column}"
    return loc


def finding_line(f: Finding, colour: bool = False) -> str:
    sev = _paint(f.severity.value, _COLOURS[f.severity], colour)
    where = f" [{f.resource}]" if f.resource else ""
    named = f"container {f.container}"
    if f.container and not (f.message == named or f.message.startswith((named + " ",
                                                                          named + ":"))):
        where += f" {named}"
    text = f"{location(f)}: {sev} {f.rule}{where}: {f.message}"
    if f.waived:
        text += f" (waived: {f.waiver_reason or 'no reason'})"
    return text


def _group(findings: Iterable[Finding], colour: bool) -> list[str]:
    out = []
    for f in findings:
        out.append(finding_line(f, colour))
        if f.hint and not f.waived:
            out.append("    hint: " + f.hint)
    return out


def summary_line(report: Report) -> str:
    overlays = sum(1 for u in report.units if u.kind == "overlay")
    manifests = sum(1 for u in report.units if u.kind == "manifest")
    verdict = "passed" if report.passed else "FAILED"
    parts = [f"{overlays} overlay{'s' if overlays != 1 else ''}",
             f"{manifests} manifest file{'s' if manifests != 1 else ''}",
             f"{report.resources} resource{'s' if report.resources != 1 else ''}"]
    tally = (f"{report.errors} error{'s' if report.errors != 1 else ''}, "
             f"{report.warnings} warning{'s' if report.warnings != 1 else ''}, "
             f"{len(report.waived)} waived")
    skipped = f", {report.skipped_units} skipped (unchanged)" if report.skipped_units else ""
    return f"Summary: {', '.join(parts)}{skipped}: {tally}: {verdict}"


def render(report: Report, colour: bool = False) -> str:
    lines: list[str] = []
    for unit in report.units:
        found = [f for f in report.findings if f.overlay == unit.path]
        active = [f for f in found if not f.waived]
        errors, warnings = count(active, Severity.ERROR), count(active, Severity.WARNING)
        env = f" ({unit.environment})" if unit.environment else ""
        status = "ok" if errors == 0 else "FAILED"
        if unit.kind == "manifest" and not found:
            continue
        lines.append(f"{unit.kind} {unit.path}{env}: {status}"
                     f" ({errors} error{'s' if errors != 1 else ''},"
                     f" {warnings} warning{'s' if warnings != 1 else ''})")
        lines.extend(_group(found, colour))
    paths = {u.path for u in report.units}
    loose = [f for f in report.findings if f.overlay is None or f.overlay not in paths]
    if loose:
        lines.append("sources:")
        lines.extend(_group(loose, colour))
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
