"""The `lint` validator: yamllint over the repo's YAML sources.

Uses the repo's own `.yamllint`, `.yamllint.yaml` or `.yamllint.yml` (or the config's
`lint.config`) when present, else `BUILTIN_CONFIG`, which suits Kubernetes YAML: Kustomize's
unindented lists are accepted, `document-start` is off, and cosmetic rules are warnings. YAML
syntax errors and duplicate keys stay errors: the first breaks the build, the second makes the
cluster silently keep the last value.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig, YamlLintConfigError

from llmops_gate import yamlio
from llmops_gate.config import Config
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, RuleDoc, Severity, Unit
from llmops_gate.validators import lint_worker
from llmops_gate.validators.base import Spec
from llmops_gate.validators.context import Context
from llmops_gate.validators.sources import files_to_lint, refusal, refusal_docs
from llmops_gate.yamlio import caching

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


YAMLLINT_DOCS = "https://yamllint.readthedocs.io/en/stable/rules.html"

RULES: dict[str, RuleDoc] = {d.id: d for d in (
    RuleDoc("yaml-syntax", Severity.ERROR, "Every YAML file parses.",
            "A file that is not valid YAML breaks every overlay that uses it.",
            "Fix the syntax at the line named: usually indentation, a tab, or an unclosed "
            "bracket or quote.", validator="lint"),
    RuleDoc("yaml-unreadable", Severity.ERROR, "Every YAML file can be read.",
            fix="Check the file's permissions.", validator="lint"),
    RuleDoc("yaml-encoding", Severity.ERROR, "Every YAML file is UTF-8 text.",
            fix="Save the file as UTF-8; Kustomize and kubectl read only UTF-8.",
            validator="lint"),
)}


def rule_doc(rule_id: str) -> RuleDoc | None:
    """Documentation of `yaml-<yamllint rule>` ids: yamllint's own rule pages."""
    if rule_id in RULES:
        return RULES[rule_id]
    if not rule_id.startswith("yaml-"):
        return None
    name = rule_id.removeprefix("yaml-")
    anchor = "module-yamllint.rules." + name.replace("-", "_")
    return RuleDoc(
        rule_id, Severity.WARNING, f"yamllint rule '{name}'.",
        fix=f"Fix what yamllint's '{name}' rule reports, or configure the rule in the repo's "
            f".yamllint (see {YAMLLINT_DOCS}#{anchor}).",
        links=(f"{YAMLLINT_DOCS}#{anchor}",), validator="lint")


def rules(config: Config | None = None) -> list[RuleDoc]:
    """Every id lint can emit: its own, each yamllint rule (as `yaml-<rule>`, at the level
    the built-in config gives it), and what `yamlio` refuses when `parse` does not run."""
    levels = YamlLintConfig(content=BUILTIN_CONFIG).rules
    out = dict(RULES)
    for name in sorted(YamlLintConfig(content="extends: default").rules):
        doc = rule_doc(f"yaml-{name}")
        assert doc is not None
        level = levels.get(name)
        error = isinstance(level, dict) and level.get("level", "error") == "error"
        out.setdefault(doc.id, replace(doc, severity=Severity.ERROR if error
                                       else Severity.WARNING))
    for rule, doc in refusal_docs("lint").items():
        out.setdefault(rule, doc)
    return list(out.values())


def load_lint_config(ctx: Context) -> tuple[YamlLintConfig, str | None]:
    """The yamllint config in force and, when it is the repo's, its repo-relative path."""
    explicit = ctx.config.section("lint").get("config")
    candidates = [str(explicit)] if explicit else list(REPO_CONFIGS)
    for name in candidates:
        path = ctx.repo / name
        if path.is_file():
            text = _check_lint_config(ctx, name)
            try:
                # yamllint is handed the snapshot's text, not the file: read once per run.
                return YamlLintConfig(content=text), name
            except (YamlLintConfigError, OSError, UnicodeDecodeError) as exc:
                raise GateError(f"{path}: invalid yamllint config: {exc}") from exc
        if explicit:
            raise GateError(f"{path}: yamllint config named by lint.config does not exist")
    return YamlLintConfig(content=BUILTIN_CONFIG), None


def _check_lint_config(ctx: Context, name: str) -> str:
    """The repo's yamllint config is untrusted too: read it within the limits, and let it
    `extends:` only yamllint's built-in configs or files inside the repository. Its text."""
    repo, path = ctx.repo, ctx.repo / name
    try:
        text = ctx.scan.snapshot.text(name)
        docs = ctx.scan.snapshot.documents(name)
    except (OSError, yaml.YAMLError) as exc:
        raise GateError(f"{path}: invalid yamllint config: {exc}") from exc
    data = docs[0] if docs else None
    extends = data.get("extends") if isinstance(data, dict) else None
    if isinstance(extends, str) and extends not in ("default", "relaxed"):
        candidates = [path.parent / extends, Path(extends)]
        if not all(yamlio.inside(c, repo) for c in candidates):
            raise GateError(f"{path}: yamllint config extends '{extends}', which is outside the "
                            "repository; only files inside it or yamllint's built-in configs "
                            "are read")
    return text


def lint_list(conf: YamlLintConfig, text: str, file: str) -> list[Finding]:
    """`lint_text` as a list, config first: what the lint child is sent, as a partial."""
    return list(lint_text(text, file, conf))


def lint_text(text: str, file: str, conf: YamlLintConfig) -> Iterator[Finding]:
    try:
        problems = list(linter.run(text, conf, file))
    except yaml.YAMLError as exc:  # what yamllint's own syntax check does not catch
        line, column = yamlio.yaml_error_position(exc)
        yield Finding(validator="lint", rule="yaml-syntax", severity=Severity.ERROR,
                      message=f"YAML syntax error: {yamlio.yaml_error_summary(exc)}",
                      file=file, line=line, column=column,
                      hint="fix the YAML syntax; the file cannot be parsed")
        return
    for problem in problems:
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
            hint=None if problem.rule else (
                "YAML forbids tabs for indentation; indent with spaces" if "'\\t'" in desc
                else "fix the YAML syntax; the file cannot be parsed"),
        )


def _in_unit(finding: Finding, unit: Unit | None) -> Finding:
    if unit is None:
        return finding
    return replace(finding, overlay=unit.path, environment=unit.environment)


def _key(text: str, file: str, conf: YamlLintConfig) -> tuple[str, tuple[str, ...]]:
    """Overlays of many models repeat the same files, so results are kept per run by content
    and by the rules that apply to the file's path (rule-level `ignore` patterns are the only
    way the path changes what yamllint says)."""
    return (text, tuple(rule.ID for rule in conf.enabled_rules(file)))


def check(ctx: Context) -> Iterator[Finding]:
    conf, _ = load_lint_config(ctx)
    cache = caching.enabled()
    manifests = {r.unit.path: r.unit for r in ctx.results if r.unit.kind == "manifest"}
    # Each file, in order: its findings when it cannot be linted, else the index of the text
    # to lint (one per distinct key when caching) and whether that text was seen before.
    plan: list[tuple[str, list[Finding] | None, int, bool]] = []
    todo: list[tuple[str, str]] = []
    index: dict[tuple[str, tuple[str, ...]], int] = {}
    for file in files_to_lint(ctx):
        if conf.is_file_ignored(file):
            continue
        unit = manifests.get(file)
        try:
            # Read and parsed once per run, with `parse` and the rest (`yamlio.snapshot`).
            text = ctx.scan.snapshot.text(file)
            ctx.scan.snapshot.parsed(file)
        except OSError as exc:
            plan.append((file, [Finding(
                validator="lint", rule="yaml-unreadable", severity=Severity.ERROR,
                message=f"cannot read file: {exc.strerror or exc}", file=file)], -1, False))
            continue
        except yamlio.UnsafeYAML as exc:
            # Never hand a refused file to yamllint (a 50 MB file takes minutes there); the
            # `parse` validator reports it too, and stands when it runs.
            plan.append((file, [_in_unit(refusal(exc, file, "lint"), unit)], -1, False))
            continue
        except yaml.YAMLError:
            pass  # a syntax error: yamllint reports it with line and column
        key = _key(text, file, conf) if cache else None
        if key is not None and key in index:
            plan.append((file, None, index[key], True))
            continue
        if key is not None:
            index[key] = len(todo)
        plan.append((file, None, len(todo), False))
        todo.append((text, file))
    # yamllint itself: in a child process beside the builds when there is enough of it.
    linted = lint_worker.map_texts(functools.partial(lint_list, conf), todo)
    for file, ready, i, repeat in plan:
        if ready is not None:
            yield from ready
            continue
        unit = manifests.get(file)
        for finding in linted[i]:
            if repeat:
                finding = replace(finding, file=file)
            if unit is not None:
                finding = replace(finding, overlay=unit.path, environment=unit.environment)
            yield finding


# Lint reads only source files, so the engine runs it while the overlays build; `ctx.results`
# is then the units without their resources, which is all `files_to_lint` looks at. What it
# shares with `parse` (refused files, duplicate keys) the engine keeps once
# (validators.SUPERSEDED).
SPEC = Spec("lint", check, rules, needs_rendered=False, open_rule=rule_doc)
