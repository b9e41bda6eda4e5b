"""GitHub Actions workflow commands: each finding becomes an annotation on its file and line.

`::error file=F,line=L,col=C,title=T::message` for errors, `::warning` for warnings, `::notice`
for notes. Waived findings are left out (the summary line counts them). Property values and
messages are escaped as the runner expects: `%`, CR and LF everywhere, and `:` and `,` in
property values too.
"""

from __future__ import annotations

from llmops_gate.model import Finding, Report, Severity
from llmops_gate.report.text import summary_line

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    props: list[tuple[str, str]] = []
    if f.file:
        props.append(("file", f.file))
        if f.line:
            props.append(("line", str(f.line)))
            if f.column:
                props.append(("col", str(f.column)))
    title = f"llmops-gate {f.rule}"
    if f.resource is not None:
        title += f" [{f.resource}]"
    props.append(("title", title))
    message = f.message
    if f.overlay and f.overlay != f.file:
        message += f" (in {f.overlay})"
    if f.hint:
        message += f"\nhint: {f.hint}"
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{COMMANDS[f.severity]} {rendered}::{escape_data(message)}"


def render(report: Report) -> str:
    lines = [annotation(f) for f in report.findings if not f.waived]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
