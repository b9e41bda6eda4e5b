"""The review for a terminal: the release summary, the head's findings, then each unit's
resource diffs (coloured on a TTY)."""

from __future__ import annotations

from llmops_gate.model import Severity
from llmops_gate.review.report import Review

RED, GREEN, CYAN, BOLD, DIM, RESET = ("\033[31m", "\033[32m", "\033[36m", "\033[1m",
                                      "\033[2m", "\033[0m")


def render(review: Review, colour: bool = False) -> str:
    def c(code: str, value: str) -> str:
        return f"{code}{value}{RESET}" if colour else value

    head = review.head_commit[:7] if review.head_commit else "work tree"
    out = [c(BOLD, f"llmops-gate review: {review.base_commit[:7]} -> {head}")]
    if review.all and review.reason:
        out.append(f"every unit compared: {review.reason}")
    changed = review.changed_units
    if not changed:
        out.append(f"no rendered change ({len(review.units)} unit(s) compared)")
    for u in changed:
        errors = review.unit_errors(u.path)
        counts = (f"{u.count('added')} added, {u.count('changed')} changed, "
                  f"{u.count('removed')} removed, {errors} error(s)")
        env = f"{u.environment}  " if u.environment else ""
        status = f" [{u.status}]" if u.status in ("added", "removed", "error") else ""
        out.append(f"  {env}{u.path}{status}: {counts}")
    facts = [(u, f) for u in changed for f in u.facts]
    if facts:
        out += ["", c(BOLD, "release summary")]
        for u, f in facts:
            out.append(f"  {u.environment or u.path}: {f.words} ({f.resource})")
    if review.validated:
        out += ["", c(BOLD, f"validation of the head: {review.errors} error(s), "
                            f"{review.warnings} warning(s)")]
        for finding in review.findings:
            where = finding.file or finding.overlay or ""
            line = f":{finding.line}" if finding.line else ""
            sev = c(RED if finding.severity is Severity.ERROR else CYAN, finding.severity.value)
            out.append(f"  {sev} {where}{line} {finding.rule}: {finding.message}")
    for u in changed:
        out += ["", c(BOLD, f"== {u.environment or '-'} {u.path} ({u.status})")]
        if u.error:
            out.append(f"  could not render: {u.error}")
        for ch in u.changes:
            where = f" ({ch.file}:{ch.line})" if ch.file and ch.line else ""
            out.append(c(BOLD, f"-- {ch.status} {ch.title}{where}"))
            for line in ch.diff.splitlines():
                if line.startswith(("+++", "---")):
                    out.append(c(DIM, line))
                elif line.startswith("+"):
                    out.append(c(GREEN, line))
                elif line.startswith("-"):
                    out.append(c(RED, line))
                elif line.startswith("@@"):
                    out.append(c(CYAN, line))
                else:
                    out.append(line)
    return "\n".join(out) + "\n"
