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
from llmops_gate.config import Config
from llmops_gate.model import Finding, RuleDoc, Severity
from llmops_gate.validators.base import Spec
from llmops_gate.validators.context import Context
from llmops_gate.validators.sources import files_to_lint, refusal, refusal_docs

RULES: dict[str, RuleDoc] = {
    **refusal_docs("parse"),
    "yaml-key-duplicates": RuleDoc(
        "yaml-key-duplicates", Severity.ERROR, "No mapping writes a key twice.",
        "PyYAML, Kustomize and the cluster silently keep the last value, so the first one is "
        "a lie a reviewer reads.",
        "remove one of the two keys; only the last one takes effect", validator="parse"),
}


def rules(config: Config | None = None) -> list[RuleDoc]:
    return list(RULES.values())


def _tab_hint(text: str, line: int | None, column: int | None) -> str | None:
    if not line or not column:
        return None
    lines = text.splitlines()
    if line <= len(lines) and "\t" in lines[line - 1][: column + 1]:
        return "YAML forbids tabs for indentation; indent with spaces"
    return None


def check_file(ctx: Context, file: str) -> Iterator[Finding]:
    try:
        text = ctx.scan.snapshot.text(file)
        dupes = ctx.scan.snapshot.parsed(file).duplicates
    except OSError as exc:
        yield Finding(validator="parse", rule="yaml-unreadable", severity=Severity.ERROR,
                      message=f"cannot read file: {exc.strerror or exc}", file=file,
                      hint=RULES["yaml-unreadable"].fix)
        return
    except yamlio.UnsafeYAML as exc:
        yield refusal(exc, file)
        return
    except yaml.YAMLError as exc:
        # yamllint reports the same error; the engine keeps lint's when it runs.
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
                      hint=RULES["yaml-key-duplicates"].fix)


def check(ctx: Context) -> Iterator[Finding]:
    manifests = {r.unit.path: r.unit for r in ctx.results if r.unit.kind == "manifest"}
    for file in files_to_lint(ctx):
        unit = manifests.get(file)
        for finding in check_file(ctx, file):
            if unit is not None:
                finding = replace(finding, overlay=unit.path, environment=unit.environment)
            yield finding


SPEC = Spec("parse", check, rules)
