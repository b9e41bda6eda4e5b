"""What `lint` and `parse` share: which source files a run reads, and how a refused file reads.

Both validators read the same YAML sources and report what `yamlio` refuses (a hostile or
broken file) the same way; keeping that here lets neither import the other.
"""

from __future__ import annotations

from dataclasses import replace

import yaml

from llmops_gate import yamlio
from llmops_gate.model import Finding, RuleDoc, Severity
from llmops_gate.repo.discover import closure
from llmops_gate.validators.context import Context


def _refusal(rule: str, summary: str, why: str, fix: str) -> RuleDoc:
    return RuleDoc(rule, Severity.ERROR, summary, why, fix)


# What `yamlio` refuses to read (`UnsafeYAML.rule`), and a file that does not parse.
REFUSALS: dict[str, RuleDoc] = {d.id: d for d in (
    _refusal("yaml-too-large", "Every YAML source is within limits.max_file_bytes.",
             "A huge file makes every tool that reads it slow or run out of memory.",
             "split the file, or raise limits.max_file_bytes in .llmops-gate.yaml"),
    _refusal("binary-file", "Every .yaml file is text.",
             "A file with NUL bytes is not YAML; Kustomize and kubectl cannot read it.",
             "binary data does not belong in a .yaml file; remove it or rename the file"),
    _refusal("yaml-encoding", "Every YAML source is UTF-8 text.",
             "Kustomize and kubectl read only UTF-8; other encodings and control characters "
             "break the build or change what it means.",
             "save the file as UTF-8 text without control characters"),
    _refusal("yaml-too-deep", "No YAML source nests deeper than limits.max_depth.",
             "Deep nesting exhausts the parsers' stacks; no Kubernetes object needs it.",
             "flatten the document, or raise limits.max_depth in .llmops-gate.yaml"),
    _refusal("yaml-aliases", "YAML anchors and aliases stay within limits.max_aliases and "
             "limits.max_alias_expansion.",
             "Aliases that expand without bound (\"billion laughs\") exhaust the memory of "
             "every tool that reads the file.",
             "write the values out instead of nesting anchors and aliases"),
    _refusal("path-outside-repo", "No source file is a symlink leading out of the repository.",
             "A file outside the repository is not reviewed with it, and is never read.",
             "replace the symlink by the file itself"),
    _refusal("yaml-unreadable", "Every YAML source can be read.",
             "A file that cannot be read cannot be checked or built.",
             "make the file a readable regular file"),
    _refusal("yaml-syntax", "Every YAML source parses.",
             "A file that is not valid YAML breaks every overlay that uses it.",
             "fix the YAML syntax; the file cannot be parsed"),
)}


def refusal(exc: yaml.YAMLError, file: str, validator: str = "parse") -> Finding:
    """The finding for a file that `yamlio` refused or could not parse."""
    rule = yamlio.error_rule(exc)
    line, column = yamlio.yaml_error_position(exc)
    message = yamlio.yaml_error_summary(exc)
    if rule == "yaml-syntax":
        message = f"YAML syntax error: {message}"
    doc = REFUSALS.get(rule)
    return Finding(validator=validator, rule=rule, severity=Severity.ERROR, message=message,
                   file=file, line=line, column=column, hint=doc.fix if doc else None)


def refusal_docs(validator: str) -> dict[str, RuleDoc]:
    return {rule: replace(doc, validator=validator) for rule, doc in REFUSALS.items()}


def files_to_lint(ctx: Context) -> list[str]:
    """The YAML sources of the run: all of them, or those the selected units use."""
    units = [r.unit for r in ctx.results]
    if not ctx.settings.envs and not ctx.settings.partial:
        return list(ctx.scan.yaml_files)
    wanted: set[str] = set()
    for unit in units:
        if unit.kind == "overlay":
            wanted |= closure(ctx.scan, unit.path)
        else:
            wanted.add(unit.path)
    return [f for f in ctx.scan.yaml_files if f in wanted]
