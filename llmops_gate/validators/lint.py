"""The `lint` validator: yamllint over the repo's YAML sources.

Uses the repo's own `.yamllint`, `.yamllint.yaml` or `.yamllint.yml` (or the config's
`lint.config`) when present, else `BUILTIN_CONFIG`, which suits Kubernetes YAML: Kustomize's
unindented lists are accepted, `document-start` is off, and cosmetic rules are warnings. YAML
syntax errors and duplicate keys stay errors: the first breaks the build, the second makes the
cluster silently keep the last value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from yamllint import linter
from yamllint.config import YamlLintConfig, YamlLintConfigError

from llmops_gate.context import Context
from llmops_gate.discover import closure
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Severity

REPO_CONFIGS = (".yamllint", ".yamllint.yaml", ".yamllint.yml")

BUILTIN_CONFIG = """\
extends: default
rules:
  document-start: disable
  indentation:
    spaces: consistent
    indent-sequences: whatever
    level: warning
  line-length:
    max: 160
    level: warning
  truthy:
    allowed-values: ['true', 'false']
    check-keys: false
    level: warning
  comments:
    min-spaces-from-content: 1
    level: warning
  comments-indentation: {level: warning}
  trailing-spaces: {level: warning}
  empty-lines: {level: warning}
  new-line-at-end-of-file: {level: warning}
  brackets: {level: warning}
  braces: {level: warning}
  commas: {level: warning}
  colons: {level: warning}
  hyphens: {level: warning}
  key-duplicates: enable
"""


def load_lint_config(ctx: Context) -> tuple[YamlLintConfig, str | None]:
    """The yamllint config in force and, when it is the repo's, its repo-relative path."""
    explicit = ctx.config.section("lint").get("config")
    candidates = [str(explicit)] if explicit else list(REPO_CONFIGS)
    for name in candidates:
        path = ctx.repo / name
        if path.is_file():
            try:
                return YamlLintConfig(file=str(path)), name
            except (YamlLintConfigError, OSError, UnicodeDecodeError) as exc:
                raise GateError(f"{path}: invalid yamllint config: {exc}") from exc
        if explicit:
            raise GateError(f"{path}: yamllint config named by lint.config does not exist")
    return YamlLintConfig(content=BUILTIN_CONFIG), None


def files_to_lint(ctx: Context) -> list[str]:
    units = [r.unit for r in ctx.results]
    if not ctx.settings.get("envs") and not ctx.settings.get("partial"):
        return list(ctx.scan.yaml_files)
    wanted: set[str] = set()
    for unit in units:
        if unit.kind == "overlay":
            wanted |= closure(ctx.scan, unit.path)
        else:
            wanted.add(unit.path)
    return [f for f in ctx.scan.yaml_files if f in wanted]


def lint_text(text: str, file: str, conf: YamlLintConfig) -> Iterator[Finding]:
    for problem in linter.run(text, conf, file):
        rule = problem.rule or "syntax"
        severity = Severity.ERROR if problem.level == "error" else Severity.WARNING
        desc = problem.desc
        if problem.rule is None:
            desc = desc.replace("syntax error: ", "YAML syntax error: ", 1)
        yield Finding(
            validator="lint",
            rule=f"yaml-{rule}",
            severity=severity,
            message=f"{desc} ({rule})" if problem.rule else desc,
            file=file,
            line=problem.line,
            column=problem.column,
            hint=None if problem.rule else "fix the YAML syntax; the file cannot be parsed",
        )


# Lint reads only source files, so the engine runs it while the overlays build; `ctx.results`
# is then the units without their resources, which is all `files_to_lint` looks at.
NEEDS_RENDERED = False


def _problems(text: str, file: str, conf: YamlLintConfig,
              seen: dict[tuple[str, tuple[str, ...]], list[Finding]] | None) -> list[Finding]:
    """yamllint's findings for one file. Overlays of many models repeat the same files, so
    results are kept per run by content and by the rules that apply to the file's path
    (rule-level `ignore` patterns are the only way the path changes what yamllint says)."""
    if seen is None:
        return list(lint_text(text, file, conf))
    key = (text, tuple(rule.ID for rule in conf.enabled_rules(file)))
    cached = seen.get(key)
    if cached is None:
        cached = seen[key] = list(lint_text(text, file, conf))
        return cached
    return [replace(f, file=file) for f in cached]


def check(ctx: Context) -> Iterator[Finding]:
    conf, _ = load_lint_config(ctx)
    seen: dict[tuple[str, tuple[str, ...]], list[Finding]] | None = (
        None if os.environ.get("LLMOPS_GATE_NO_CACHE") else {})
    manifests = {r.unit.path: r.unit for r in ctx.results if r.unit.kind == "manifest"}
    for file in files_to_lint(ctx):
        if conf.is_file_ignored(file):
            continue
        path: Path = ctx.repo / file
        try:
            raw = path.read_bytes()
        except OSError as exc:
            yield Finding(validator="lint", rule="yaml-unreadable", severity=Severity.ERROR,
                          message=f"cannot read file: {exc.strerror or exc}", file=file)
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            yield Finding(validator="lint", rule="yaml-encoding", severity=Severity.ERROR,
                          message="file is not UTF-8 text", file=file, line=line)
            continue
        unit = manifests.get(file)
        for finding in _problems(text, file, conf, seen):
            if unit is not None:
                finding = replace(finding, overlay=unit.path, environment=unit.environment)
            yield finding
