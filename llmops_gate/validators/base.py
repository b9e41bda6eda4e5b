"""What the engine needs of a validator, as a type instead of attributes looked up on modules.

Every validator has a `name`, its `rules`, and `check(ctx)`: all findings from a finished
Context (the one entry point every other caller uses). It may overlap the builds:
- `needs_rendered = False`: it reads only sources; the engine runs `check(ctx)` in a side
  thread from the start, `ctx.results` then holding every unit without resources;
- `check_unit(ctx, result)`: findings for one rendered unit, called as soon as the unit is
  ready (`ctx.results` holds the units finished so far); then `finish(ctx)` once all are in
  (for cross-unit checks). Together they must give what `check(ctx)` gives.

It may also `prepare(ctx)`: work that does not depend on what the builds render (imports,
schemas to load), called while the overlays build, with `ctx.results` holding every unit
without resources. It is only a head start: it must not change any finding, and whatever it
does not do, `check` still does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from llmops_gate.config import Config
from llmops_gate.model import Finding, RuleDoc, UnitResult
from llmops_gate.validators.context import Context

Check = Callable[[Context], Iterable[Finding]]
CheckUnit = Callable[[Context, UnitResult], Iterable[Finding]]


class Validator(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def needs_rendered(self) -> bool: ...

    @property
    def streams(self) -> bool:
        """Whether `check_unit` and `finish` do the work (else `check` once at the end)."""
        ...

    def check(self, ctx: Context) -> Iterable[Finding]: ...

    def check_unit(self, ctx: Context, result: UnitResult) -> Iterable[Finding]: ...

    def finish(self, ctx: Context) -> Iterable[Finding]: ...

    def prepare(self, ctx: Context) -> None: ...

    def rules(self, config: Config | None = None) -> list[RuleDoc]: ...

    def rule_doc(self, rule: str) -> RuleDoc | None:
        """The doc of an id outside `rules` (an open family), or None."""
        ...


def _none(config: Config | None = None) -> list[RuleDoc]:
    return []


@dataclass(frozen=True)
class Spec:
    """A validator declared as data: its functions, named explicitly by its module."""

    name: str
    run: Check
    list_rules: Callable[[Config | None], list[RuleDoc]] = _none
    needs_rendered: bool = True
    unit: CheckUnit | None = None
    done: Check | None = None
    open_rule: Callable[[str], RuleDoc | None] | None = None
    warm: Callable[[Context], None] | None = None

    @property
    def streams(self) -> bool:
        return self.unit is not None

    def check(self, ctx: Context) -> Iterable[Finding]:
        return self.run(ctx)

    def check_unit(self, ctx: Context, result: UnitResult) -> Iterable[Finding]:
        return self.unit(ctx, result) if self.unit is not None else ()

    def finish(self, ctx: Context) -> Iterable[Finding]:
        return self.done(ctx) if self.done is not None else ()

    def prepare(self, ctx: Context) -> None:
        if self.warm is not None:
            self.warm(ctx)

    def rules(self, config: Config | None = None) -> list[RuleDoc]:
        return self.list_rules(config)

    def rule_doc(self, rule: str) -> RuleDoc | None:
        return self.open_rule(rule) if self.open_rule is not None else None
