"""The review as Markdown for a pull/merge-request comment (CommonMark plus the `<details>`
HTML blocks both GitHub and GitLab render).

The comment is built from pieces (`Sections`) so `budget` can leave out whole resource diffs,
and split the overlays over several comments, without ever cutting a code fence or a
`<details>` block in half. Nothing in it depends on the time or the machine it was made on,
so the same change gives the same text and a re-post leaves the comment alone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmops_gate.model import Finding, Severity
from llmops_gate.review.diff import ResourceChange, UnitDiff
from llmops_gate.review.report import Review

MARKER = "<!-- llmops-gate:review:{part} -->"
MARKER_RE = re.compile(r"<!-- llmops-gate:review:(\d+) -->")
_ESCAPE = re.compile(r"([\\`*_\[\]<>|#~!])")


def text(value: str) -> str:
    """Plain words inside Markdown: every character that could start markup is escaped."""
    return _ESCAPE.sub(r"\\\1", value.replace("&", "&amp;")).replace("\n", " ")


def code(value: str) -> str:
    """A code span that holds any text (a longer backtick run than the text has)."""
    value = value.replace("\n", " ")
    ticks = max((len(m) for m in re.findall(r"`+", value)), default=0) + 1
    fence = "`" * ticks
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def fenced(body: str, info: str = "diff") -> str:
    ticks = max(3, max((len(m) for m in re.findall(r"^ {0,3}(`{3,})", body, re.M)),
                       default=0) + 1)
    fence = "`" * ticks
    if not body.endswith("\n"):
        body += "\n"
    return f"{fence}{info}\n{body}{fence}\n"


@dataclass
class ResourceBlock:
    change: ResourceChange
    unit: UnitDiff
    omitted: bool = False

    def render(self) -> str:
        c = self.change
        where = f" from {code(f'{c.file}:{c.line}' if c.line else c.file)}" if c.file else ""
        head = f"**{c.status}** {code(c.title)}{where}\n\n"
        if self.omitted:
            lines = c.diff.count("\n")
            return head + f"_diff left out to fit the comment ({lines} lines); it is in the " \
                          "full report_\n\n"
        return head + fenced(c.diff) + "\n"


@dataclass
class UnitBlock:
    unit: UnitDiff
    errors: int
    resources: list[ResourceBlock] = field(default_factory=list)
    collapsed: bool = False  # everything but the summary line left out
    span: tuple[int, int, int] | None = None  # (first, last, of) when split over comments

    def summary_line(self) -> str:
        u = self.unit
        counts = ", ".join(f"{u.count(s)} {s}" for s in ("added", "changed", "removed")
                           if u.count(s)) or u.status
        if u.status in ("added", "removed"):
            counts = f"overlay {u.status}; {counts}" if u.kind == "overlay" else \
                f"manifest {u.status}; {counts}"
        env = f"{u.environment} · " if u.environment else ""
        span = f" (resources {self.span[0]}-{self.span[1]} of {self.span[2]})" \
            if self.span else ""
        return html.escape(f"{env}{u.path}: {counts}{span}", quote=False)

    def render(self) -> str:
        u = self.unit
        out = [f"<details>\n<summary>{self.summary_line()}</summary>\n\n"]
        if self.collapsed:
            out.append("_left out to fit the comment; it is in the full report_\n\n")
        elif u.status == "error":
            out.append(f"Could not render: {text(u.error or '')}\n\n")
        else:
            if u.filtered:
                out.append("Not compared (the Application's `ignoreDifferences`): "
                           + ", ".join(code(p) for p in u.filtered) + "\n\n")
            out.extend(r.render() for r in self.resources)
            if u.unchanged:
                out.append(f"{u.unchanged} resource(s) unchanged.\n\n")
        out.append("</details>\n")
        return "".join(out)


@dataclass
class Sections:
    review: Review
    units: list[UnitBlock]
    fact_limit: int | None = None
    finding_limit: int | None = None
    note: str = ""
    source_url: str | None = None

    @classmethod
    def of(cls, review: Review, source_url: str | None = None) -> Sections:
        blocks = []
        for u in review.changed_units:
            block = UnitBlock(unit=u, errors=review.unit_errors(u.path))
            block.resources = [ResourceBlock(change=c, unit=u) for c in u.changes]
            blocks.append(block)
        return cls(review=review, units=blocks, source_url=source_url)

    # --- pieces ----------------------------------------------------------------------------

    def title(self, part: int = 1, parts: int = 1) -> str:
        r = self.review
        of = f" (part {part}/{parts})" if parts > 1 else ""
        head = r.head_commit[:7] if r.head_commit else "work tree"
        return (f"{MARKER.format(part=part)}\n### llmops-gate review{of}: "
                f"{code(r.base_commit[:7])} → {code(head)}\n\n")

    def table(self) -> str:
        r = self.review
        if not r.changed_units:
            scope = "every unit" if r.all else f"{len(r.units)} unit(s) the change reaches"
            return f"No rendered change ({scope} compared).\n\n"
        rows = ["| Environment | Overlay | Added | Changed | Removed | Errors |",
                "|---|---|---:|---:|---:|---:|"]
        for u in r.changed_units:
            errors = r.unit_errors(u.path)
            status = f" ({u.status})" if u.status in ("added", "removed", "error") else ""
            rows.append(f"| {text(u.environment or '-')} | {code(u.path)}{status} | "
                        f"{u.count('added')} | {u.count('changed')} | {u.count('removed')} | "
                        f"{errors} |")
        extra = ""
        if r.all and r.reason:
            extra = f"\nEvery unit compared: {text(r.reason)}.\n"
        return "\n".join(rows) + "\n" + extra + "\n"

    def release(self) -> str:
        lines: list[str] = []
        for u in self.review.changed_units:
            if not u.facts:
                continue
            env = f"**{text(u.environment)}** " if u.environment else ""
            lines.append(f"- {env}{code(u.path)}")
            shown = u.facts if self.fact_limit is None else u.facts[: self.fact_limit]
            for f in shown:
                lines.append(f"  - {text(f.words)} ({code(f.resource)})")
            if len(shown) < len(u.facts):
                lines.append(f"  - _and {len(u.facts) - len(shown)} more: see the full "
                             "report_")
        if not lines:
            return ""
        return "**Release summary**\n\n" + "\n".join(lines) + "\n\n"

    def _where(self, f: Finding) -> str:
        where = f.file or f.overlay or ""
        label = f"{where}:{f.line}" if f.line and where else where
        if self.source_url and f.file:
            anchor = f"#L{f.line}" if f.line else ""
            return f"[{code(label)}]({self.source_url.rstrip('/')}/{f.file}{anchor})"
        return code(label) if label else ""

    def validation(self) -> str:
        r = self.review
        if not r.validated:
            return ""
        if not r.findings:
            return "**Validation of the head**: passed, no findings.\n\n"
        verdict = "failed" if r.errors else "passed"
        lines = [f"**Validation of the head**: {verdict}, {r.errors} error(s), "
                 f"{r.warnings} warning(s)\n"]
        shown = r.findings if self.finding_limit is None else r.findings[: self.finding_limit]
        for f in shown:
            mark = "❌" if f.severity is Severity.ERROR else "⚠️"
            env = f" [{text(f.environment)}]" if f.environment else ""
            lines.append(f"- {mark} {f.severity.value} {self._where(f)}{env} "
                         f"{code(f.rule)}: {text(f.message)}")
        if len(shown) < len(r.findings):
            lines.append(f"- _and {len(r.findings) - len(shown)} more: see the full report_")
        return "\n".join(lines) + "\n\n"

    def front(self, part: int = 1, parts: int = 1) -> str:
        return (self.title(part, parts) + self.table() + self.release() + self.validation()
                + self.note)

    def render(self) -> str:
        return self.front() + "".join(u.render() + "\n" for u in self.units)


def render_full(review: Review, source_url: str | None = None) -> str:
    """The whole review as Markdown, with no size limit (the file written beside a comment)."""
    return Sections.of(review, source_url).render()


def markers(body: str) -> Sequence[int]:
    return [int(m) for m in MARKER_RE.findall(body)]
