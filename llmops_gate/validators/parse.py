"""The `parse` validator: can every YAML source be read safely, and does it mean one thing?

The repository under validation is untrusted input. This validator reads each YAML source the
way every other part of the tool does (`llmops_gate.yamlio`) and reports what it refuses, so a
hostile or broken file is a finding with its file and line, never a hang or a traceback:

- `yaml-too-large`: over `limits.max_file_bytes`;
- `binary-file`, `yaml-encoding`: NUL bytes, or not UTF-8 text;
- `yaml-too-deep`, `yaml-aliases`: nesting over `limits.max_depth`; aliases over
  `limits.max_aliases` or expanding past `limits.max_alias_expansion` ("billion laughs");
- `path-outside-repo`: a symlink that leads out of the repository (never read);
- `yaml-key-duplicates`: a mapping key written twice; PyYAML, Kustomize and the cluster
  silently keep the last value, so the first one is a lie;
- `yaml-syntax`: tabs and other syntax errors, with line and column (only when `lint` does
  not run, since yamllint reports the same error).

It is a validator of its own, not part of `lint`, because a repo's `.yamllint` or `--skip lint`
must not be able to switch these checks off: they guard the tool, not the style.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import yaml

from llmops_gate import yamlio
from llmops_gate.model import Finding, Severity
from llmops_gate.validators.context import Context
from llmops_gate.validators.lint import files_to_lint

HINTS = {
    "yaml-too-large": "split the file, or raise limits.max_file_bytes in .llmops-gate.yaml",
    "binary-file": "binary data does not belong in a .yaml file; remove it or rename the file",
    "yaml-encoding": "save the file as UTF-8 text without control characters",
    "yaml-too-deep": "flatten the document, or raise limits.max_depth in .llmops-gate.yaml",
    "yaml-aliases": "write the values out instead of nesting anchors and aliases",
    "path-outside-repo": "replace the symlink by the file itself",
    "yaml-unreadable": "make the file a readable regular file",
    "yaml-key-duplicates": "remove one of the two keys; only the last one takes effect",
    "yaml-syntax": "fix the YAML syntax; the file cannot be parsed",
}


def refusal(exc: yaml.YAMLError, file: str, validator: str = "parse") -> Finding:
    """The finding for a file that `yamlio` refused or could not parse."""
    rule = yamlio.error_rule(exc)
    line, column = yamlio.yaml_error_position(exc)
    message = yamlio.yaml_error_summary(exc)
    if rule == "yaml-syntax":
        message = f"YAML syntax error: {message}"
    return Finding(validator=validator, rule=rule, severity=Severity.ERROR, message=message,
                   file=file, line=line, column=column, hint=HINTS.get(rule))


def _tab_hint(text: str, line: int | None, column: int | None) -> str | None:
    if not line or not column:
        return None
    lines = text.splitlines()
    if line <= len(lines) and "\t" in lines[line - 1][: column + 1]:
        return "YAML forbids tabs for indentation; indent with spaces"
    return None


def check_file(ctx: Context, file: str) -> Iterator[Finding]:
    try:
        text = yamlio.read_text(ctx.repo / file, root=ctx.repo)
        dupes = yamlio.inspect(text, name=file)
    except OSError as exc:
        yield Finding(validator="parse", rule="yaml-unreadable", severity=Severity.ERROR,
                      message=f"cannot read file: {exc.strerror or exc}", file=file,
                      hint=HINTS["yaml-unreadable"])
        return
    except yamlio.UnsafeYAML as exc:
        yield refusal(exc, file)
        return
    except yaml.YAMLError as exc:
        if "lint" not in ctx.settings.get("validators", ()):
            finding = refusal(exc, file)
            tab = _tab_hint(text, finding.line, finding.column)
            if tab:
                finding = replace(finding, hint=tab)
            yield finding
        return
    for d in dupes:
        yield Finding(validator="parse", rule="yaml-key-duplicates", severity=Severity.ERROR,
                      message=f"duplicate key '{d.key}' (first written on line {d.first_line}); "
                              "the cluster silently keeps only the last value",
                      file=file, line=d.line, column=d.column,
                      hint=HINTS["yaml-key-duplicates"])


def check(ctx: Context) -> Iterator[Finding]:
    manifests = {r.unit.path: r.unit for r in ctx.results if r.unit.kind == "manifest"}
    for file in files_to_lint(ctx):
        unit = manifests.get(file)
        for finding in check_file(ctx, file):
            if unit is not None:
                finding = replace(finding, overlay=unit.path, environment=unit.environment)
            yield finding
