"""The `build` validator: every overlay must build with Kustomize.

The builds themselves run in the engine (every other validator needs their output); this
validator turns a failed build into a finding carrying Kustomize's message.
"""

from __future__ import annotations

from collections.abc import Iterator

from llmops_gate.context import Context
from llmops_gate.model import Finding, Severity, UnitResult


def check(ctx: Context) -> Iterator[Finding]:
    for result in ctx.results:
        yield from check_unit(ctx, result)


def check_unit(ctx: Context, result: UnitResult) -> Iterator[Finding]:
    """The findings for one rendered unit (the engine calls it as each build finishes)."""
    if result.error is None:
        return
    unit = result.unit
    if unit.kind == "manifest":
        # yamllint reports the same syntax error with its line; say it once.
        if "lint" not in ctx.settings.get("validators", ()):
            yield Finding(validator="build", rule="parse-error", severity=Severity.ERROR,
                          message=result.error, overlay=unit.path,
                          environment=unit.environment, file=unit.path,
                          line=result.error_line)
        return
    file = f"{unit.path}/kustomization.yaml"
    k = ctx.scan.kustomizations.get(unit.path)
    if k is not None:
        file = k.file
    yield Finding(
        validator="build",
        rule="kustomize-build",
        severity=Severity.ERROR,
        message=f"overlay does not build: {result.error}",
        overlay=unit.path,
        environment=unit.environment,
        file=file,
        line=None,
        hint="run `kubectl kustomize " + unit.path + "` to see the full error",
    )
