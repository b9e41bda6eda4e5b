"""The `build` validator: every overlay must build with Kustomize.

The builds themselves run in the engine (every other validator needs their output); this
validator turns a failed build into a finding carrying Kustomize's message.
"""

from __future__ import annotations

from collections.abc import Iterator

from llmops_gate.context import Context
from llmops_gate.model import Finding, Severity


def check(ctx: Context) -> Iterator[Finding]:
    for result in ctx.results:
        yield from result.refused
        if result.error is None or result.refused:
            continue
        unit = result.unit
        if unit.kind == "manifest":
            # `parse` and yamllint report the same error with its line; say it once.
            if not {"lint", "parse"} & set(ctx.settings.get("validators", ())):
                yield Finding(validator="build", rule="parse-error", severity=Severity.ERROR,
                              message=result.error, overlay=unit.path,
                              environment=unit.environment, file=unit.path,
                              line=result.error_line)
            continue
        file = f"{unit.path}/kustomization.yaml"
        k = ctx.scan.kustomizations.get(unit.path)
        if k is not None:
            file = k.file
        if result.timed_out:
            yield Finding(validator="build", rule="kustomize-timeout", severity=Severity.ERROR,
                          message=f"overlay not built: {result.error}", overlay=unit.path,
                          environment=unit.environment, file=file,
                          hint="raise --timeout (or kustomize.timeout in .llmops-gate.yaml) if "
                               "the build is slow but finite")
            continue
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
