"""`llmops-gate rules`: every rule id any validator can emit, with its severity, what it checks,
why and how to fix it.

Lists each validator's rules (build, lint, parse, schema, admission, policy, tekton, and the
promotion's verify), the policy engine's waiver rules, installed plugins and, when the repo has
a config, its custom rules; the admission rules with the source each was learnt from.
`--validator` keeps one validator's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from llmops_gate import validators
from llmops_gate.commands.options import config_option
from llmops_gate.config import Config, load_config
from llmops_gate.errors import GateError
from llmops_gate.model import RuleDoc
from llmops_gate.validators.policy.base import Rule
from llmops_gate.validators.policy.registry import META, all_rules

if TYPE_CHECKING:
    from llmops_gate.validators.admission.base import Rule as AdmissionRule

# Rules no validator of `validate` emits: the promotion's check of its own edits.
OTHER = ("promote",)

def _entries(config: Config, validator: str | None
             ) -> tuple[list[RuleDoc | Rule | AdmissionRule], list[str]]:
    """The rules to list, in validator order; policy rules as `Rule`s (they carry more)."""
    names = [*validators.names(), *OTHER]
    if validator is not None and validator not in names:
        raise GateError(f"unknown validator '{validator}' (known: {', '.join(names)})")
    listed: list[RuleDoc | Rule | AdmissionRule] = []
    problems: list[str] = []
    for name in names if validator is None else [validator]:
        if name == "policy":
            found, problems = all_rules(config)
            listed.extend([*found.values(), *META.values()])
        elif name == "admission":
            from llmops_gate.validators.admission.registry import RULES as ADMISSION

            listed.extend(ADMISSION.values())
        elif name == "promote":
            from llmops_gate.gitops.verify import RULES

            listed.extend(RULES.values())
        else:
            listed.extend(validators.rules(name, config))
    return listed, problems


def _meta(r: RuleDoc | Rule | AdmissionRule) -> RuleDoc:
    return r if isinstance(r, RuleDoc) else r.meta


def _validator(r: RuleDoc | Rule | AdmissionRule) -> str:
    return _meta(r).validator


def to_json(r: RuleDoc | Rule | AdmissionRule) -> dict[str, Any]:
    """One rule for `--format json`: the policy fields it always had, plus `validator` and
    `links` (the other validators' rules fill the policy-only fields with empty values; the
    admission rules keep their `summary`, `source` and family documentation)."""
    if isinstance(r, Rule):
        return {**r.to_json(), "validator": "policy", "links": []}
    if not isinstance(r, RuleDoc):
        from llmops_gate.validators.admission.registry import DOCS

        return {**r.to_json(), "validator": "admission", "options": [], "links": [],
                "kinds": None, "equivalents": {}, "doc": DOCS[r.id]}
    return {**r.to_json(), "kinds": None, "equivalents": {}, "doc": ""}


def _doc(r: RuleDoc | Rule | AdmissionRule) -> str:
    """The family documentation `--explain` adds (policy and admission rules have one)."""
    if isinstance(r, Rule):
        return r.doc
    if isinstance(r, RuleDoc):
        return ""
    from llmops_gate.validators.admission.registry import DOCS

    return DOCS[r.id]


def render_text(rules: list[RuleDoc | Rule | AdmissionRule]) -> str:
    width = max(len(r.id) for r in rules)
    groups = len({_validator(r) for r in rules}) > 1
    out: list[str] = []
    current: str | None = None
    for r in rules:
        if groups and _validator(r) != current:
            current = _validator(r)
            out.extend([""] if out else [])
            out.append(f"{current}:")
        meta = _meta(r)
        admission = meta.validator == "admission"
        source = ("  [admission]" if admission else
                  "" if meta.source == "built-in" else f"  [{meta.source}]")
        out.append(f"{r.id:<{width}}  {meta.severity.value:<7}  {meta.summary}{source}")
        pad = " " * (width + 11)
        if meta.why:
            out.append(f"{pad}why: {meta.why}")
        if meta.fix:
            out.append(f"{pad}fix: {meta.fix}")
        for o in meta.options:
            out.append(f"{pad}option {o.name} (default {json.dumps(o.default)}): "
                       f"{o.description}")
        if admission:
            out.append(f"{pad}source: {meta.source}")
        for link in meta.links:
            out.append(f"{pad}see: {link}")
        if isinstance(r, Rule) and r.equivalents:
            out.append(f"{pad}see also: " + "; ".join(f"{tool} {check}" for tool, check
                                                         in r.equivalents.items()))
    return "\n".join(out) + "\n"


@click.command("rules")
@click.argument("repo", default=".", type=click.Path(path_type=Path, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@config_option("Config file whose custom rules to include")
@click.option("--validator", metavar="NAME",
              help="List only this validator's rules (build, lint, parse, schema, admission, "
                   "policy, tekton, promote).")
@click.option("--explain", metavar="RULE", help="Show one rule with its documentation and "
                                                "passing/failing examples.")
def rules(repo: Path, fmt: str, config_path: Path | None, validator: str | None,
          explain: str | None) -> None:
    """List every rule id a validator can emit: severity, what it checks, why, how to fix it."""
    config = load_config(repo, config_path)
    listed, problems = _entries(config, validator)
    if explain is not None:
        listed = [r for r in listed if r.id == explain]
        if not listed:
            what = f"{validator} rule" if validator else "rule"
            raise GateError(f"unknown {what} '{explain}' (see `llmops-gate rules`)")
    for problem in problems:
        click.echo(f"llmops-gate: warning: {problem}", err=True)
    if fmt == "json":
        click.echo(json.dumps({"rules": [to_json(r) for r in listed]}, indent=2))
    else:
        click.echo(render_text(listed), nl=False)
        docs = [_doc(r) for r in listed if _doc(r)]
        if explain is not None and docs:
            click.echo("\n" + docs[0])
