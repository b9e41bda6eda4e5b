"""The `build` validator: every overlay must build with Kustomize.

The builds themselves run in the engine (every other validator needs their output); this
validator turns a failed build into a finding carrying Kustomize's message.
"""

from __future__ import annotations

from collections.abc import Iterator

from llmops_gate.model import Finding, Severity, UnitResult
from llmops_gate.report.rules import RuleDoc
from llmops_gate.validators.context import Context

RULES = {
    "kustomize-build": RuleDoc(
        "kustomize-build",
        "Every overlay builds with `kustomize build`.",
        "An overlay that does not build cannot be synced by ArgoCD: an auto-syncing "
        "environment stays on the old state and reports a sync error, the others fail at "
        "deploy time. Fix the file and line the finding names (a missing resource or patch "
        "file, malformed YAML, a patch that is not a valid strategic-merge or JSON 6902 "
        "patch) and check with `kubectl kustomize OVERLAY`.",
    ),
    "kustomize-memory": RuleDoc(
        "kustomize-memory",
        "Kustomize builds each overlay within its memory ceiling (limits.kustomize_memory).",
        "Every Kustomize process runs with a memory ceiling (default 2 GiB), so one pull "
        "request cannot exhaust the machine that validates it. An overlay whose build needs "
        "more is reported instead of built. Raise `limits.kustomize_memory` if the overlay is "
        "legitimately that large; otherwise find what multiplies its resources.",
    ),
    "kustomize-timeout": RuleDoc(
        "kustomize-timeout",
        "Kustomize builds each overlay within the timeout.",
        "A build that takes longer than `kustomize.timeout` (or `--timeout`) is stopped with "
        "every process it started. Raise the timeout if the build is slow but finite.",
    ),
    "build-input-unsafe": RuleDoc(
        "build-input-unsafe",
        "Every file an overlay's build reads passes the YAML safety limits first.",
        "Before Kustomize runs, every file its build would read (resources, components, "
        "patches, generator sources, configurations, CRDs, replacement sources) is screened "
        "with the `parse` limits: size, alias count and expansion, depth, binary data, "
        "encoding. Kustomize has no such limits (an alias bomb makes it grow without bound), "
        "so an overlay with a refused input is not built. Fix the file named.",
    ),
    "build-too-large": RuleDoc(
        "build-too-large",
        "An overlay's build reads at most limits.max_build_files files.",
        "Kustomize builds a base again every time it is included, so bases that include each "
        "other's siblings can make one build read a file thousands of times. The count is "
        "made before Kustomize runs; raise `limits.max_build_files` if the overlay is "
        "legitimately that large.",
    ),
    "parse-error": RuleDoc(
        "parse-error",
        "Every plain manifest file is valid YAML.",
        "A manifest that does not parse cannot be applied. Fix the YAML syntax at the line "
        "named (usually indentation or an unclosed bracket or quote).",
    ),
}


def check(ctx: Context) -> Iterator[Finding]:
    for result in ctx.results:
        yield from check_unit(ctx, result)


def check_unit(ctx: Context, result: UnitResult) -> Iterator[Finding]:
    """The findings for one rendered unit (the engine calls it as each build finishes)."""
    yield from result.refused
    if result.error is None or result.refused:
        return
    unit = result.unit
    if unit.kind == "manifest":
        # `parse` and yamllint report the same error with its line; say it once.
        if not {"lint", "parse"} & set(ctx.settings.get("validators", ())):
            yield Finding(validator="build", rule="parse-error", severity=Severity.ERROR,
                          message=result.error, overlay=unit.path,
                          environment=unit.environment, file=unit.path,
                          line=result.error_line)
        return
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
        return
    if result.out_of_memory:
        yield Finding(validator="build", rule="kustomize-memory", severity=Severity.ERROR,
                      message=f"overlay not built: {result.error}", overlay=unit.path,
                      environment=unit.environment, file=file,
                      hint="raise limits.kustomize_memory in .llmops-gate.yaml if the overlay "
                           "is legitimately this large; otherwise look for what multiplies "
                           "its resources (bases included many times, huge generators)")
        return
    yield Finding(
        validator="build",
        rule="kustomize-build",
        severity=Severity.ERROR,
        message=f"overlay does not build: {result.error}",
        overlay=unit.path,
        environment=unit.environment,
        file=result.error_file or file,
        line=result.error_line,
        column=result.error_column,
        hint=f"run `{ctx.settings.get('kustomize') or 'kubectl kustomize'} {unit.path}` "
             "to see Kustomize's full message",
    )
