"""Fitting the review comment into a forge's size limit.

GitHub refuses a comment over 65,536 characters and GitLab one over 1,000,000; a cut comment
breaks its Markdown. So the comment is built to fit: whole resource diffs are left out first,
the largest first, and a note says which; then long fact and finding lists are shortened; then
whole overlays are collapsed to their summary line; the summary table always stays. With
`split`, the overlays are spread over `part N/M` comments instead, each within the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llmops_gate.review.markdown import ResourceBlock, Sections, UnitBlock, code, text
from llmops_gate.review.report import Review

NAMES_SHOWN = 12
FACTS_KEPT = 8
FINDINGS_KEPT = 25


@dataclass(frozen=True)
class Fitted:
    parts: tuple[str, ...]
    omitted: tuple[str, ...]  # "env overlay Kind/name" of each diff left out
    collapsed: tuple[str, ...]  # overlays left out whole
    full: str

    @property
    def trimmed(self) -> bool:
        return bool(self.omitted or self.collapsed)


def _note(sections: Sections, limit: int, full_name: str | None) -> str:
    omitted = [r for u in sections.units for r in u.resources if r.omitted]
    collapsed = [u for u in sections.units if u.collapsed]
    if not omitted and not collapsed and sections.fact_limit is None \
            and sections.finding_limit is None:
        return ""
    where = f" in {code(full_name)}" if full_name else " in the full report"
    lines = [f"> [!NOTE]\n> Shortened to fit the {limit:,}-character comment limit; "
             f"everything is{where}."]
    if omitted:
        names = [f"{r.unit.environment or r.unit.path} {r.change.title}" for r in omitted]
        shown = ", ".join(text(n) for n in names[:NAMES_SHOWN])
        more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
        lines.append(f"> Left out: {len(omitted)} resource diff(s): {shown}{more}.")
    if collapsed:
        shown = ", ".join(code(u.unit.path) for u in collapsed[:NAMES_SHOWN])
        more = f" and {len(collapsed) - NAMES_SHOWN} more" if len(collapsed) > NAMES_SHOWN \
            else ""
        lines.append(f"> Left out: the details of {len(collapsed)} overlay(s): {shown}{more}.")
    return "\n".join(lines) + "\n\n"


def _largest(blocks: list[ResourceBlock]) -> ResourceBlock | None:
    left = [b for b in blocks if not b.omitted]
    return max(left, key=lambda b: b.change.size) if left else None


def _shrink(sections: Sections, limit: int, full_name: str | None,
            body: Callable[[], str] | None = None) -> str:
    """Leave things out of `sections` until its rendering fits `limit`."""
    render = body or sections.render

    def attempt() -> str:
        sections.note = _note(sections, limit, full_name)
        return render()

    out = attempt()
    blocks = [r for u in sections.units for r in u.resources]
    while len(out) > limit:
        biggest = _largest(blocks)
        if biggest is None:
            break
        biggest.omitted = True
        out = attempt()
    if len(out) > limit:
        sections.fact_limit, sections.finding_limit = FACTS_KEPT, FINDINGS_KEPT
        out = attempt()
    for unit in sorted(sections.units, key=lambda u: -len(u.render())):
        if len(out) <= limit:
            break
        unit.collapsed = True
        out = attempt()
    if len(out) > limit:
        sections.fact_limit, sections.finding_limit = 0, 0
        out = attempt()
    if len(out) > limit:
        # Only an absurd number of overlays gets here: the table itself is too long.
        cut = out[: limit - 200]
        cut = cut[: cut.rfind("\n")]
        out = cut + "\n\n_The rest of this comment did not fit; see the full report._\n"
    return out


def fit(review: Review, limit: int, split: bool = False, full_name: str | None = None,
        source_url: str | None = None) -> Fitted:
    """The comment (or its parts), each at most `limit` characters."""
    full = Sections.of(review, source_url).render()
    sections = Sections.of(review, source_url)
    if not split:
        body = _shrink(sections, limit, full_name)
        return _fitted([body], sections, full)
    parts = _split(sections, limit, full_name)
    return _fitted(parts, sections, full)


def _fitted(parts: list[str], sections: Sections, full: str) -> Fitted:
    omitted = tuple(f"{r.unit.environment or r.unit.path} {r.unit.path} {r.change.title}"
                    for u in sections.units for r in u.resources if r.omitted)
    collapsed = tuple(u.unit.path for u in sections.units if u.collapsed)
    return Fitted(parts=tuple(parts), omitted=omitted, collapsed=collapsed, full=full)


def _pieces(units: list[UnitBlock], room: int) -> list[UnitBlock]:
    """The overlays' blocks, an overlay too long for one comment cut into runs of whole
    resource diffs (a single diff longer than a comment is left out)."""
    out: list[UnitBlock] = []
    for u in units:
        if len(u.render()) <= room:
            out.append(u)
            continue
        total = len(u.resources)
        empty = len(UnitBlock(unit=u.unit, errors=u.errors, span=(total, total, total))
                    .render())
        chunk: list[ResourceBlock] = []
        size = empty
        first = 1
        for n, r in enumerate(u.resources, start=1):
            if empty + len(r.render()) > room:
                r.omitted = True
            if chunk and size + len(r.render()) > room:
                out.append(UnitBlock(unit=u.unit, errors=u.errors, resources=chunk,
                                     span=(first, n - 1, total)))
                chunk, size, first = [], empty, n
            chunk.append(r)
            size += len(r.render())
        out.append(UnitBlock(unit=u.unit, errors=u.errors, resources=chunk,
                             span=(first, total, total)))
    return out


def _split(sections: Sections, limit: int, full_name: str | None) -> list[str]:
    """Part 1: title, table, release summary, validation; then the overlays' details packed
    into as few further parts as fit."""
    margin = 300  # the part's title line
    pieces = _pieces(list(sections.units), limit - margin)
    groups: list[list[UnitBlock]] = []
    size = 0
    for piece in pieces:
        block = len(piece.render()) + 1
        if groups and size + block + margin <= limit:
            groups[-1].append(piece)
            size += block
        else:
            groups.append([piece])
            size = block
    total = 1 + len(groups)
    units = sections.units
    sections.units = []
    front = _shrink(sections, limit, full_name, body=lambda: sections.front(1, total))
    sections.units = units
    parts = [front]
    for n, group in enumerate(groups, start=2):
        parts.append(sections.title(n, total) + "".join(p.render() + "\n" for p in group))
    return parts


def request_body(review: Review, lead: str, limit: int) -> str:
    """A pull/merge request description: `lead` (the promotion's commit body), then the
    review's summary and rendered diffs within what is left of `limit`."""
    room = limit - len(lead) - 2
    if room < 2000:
        return lead[:limit]
    body = fit(review, room).parts[0]
    # The marker is for the tool's own comments; a description is not one.
    body = body.split("\n", 1)[1] if body.startswith("<!-- llmops-gate:review:") else body
    return f"{lead}\n\n{body}" if lead else body
