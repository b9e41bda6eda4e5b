"""`llmops-gate rules`: every rule with its severity, what it checks, why and how to fix.

Lists the policy rules (built-in, the engine's waiver rules, installed plugins and, when the
repo has a config, its custom rules), then the `admission` validator's rules with the source
each was learnt from; `--validator` picks one of the two.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from llmops_gate.config import load_config
from llmops_gate.errors import GateError
from llmops_gate.validators.policy.base import Rule
from llmops_gate.validators.policy.registry import META, all_rules

if TYPE_CHECKING:
    from llmops_gate.validators.admission.base import Rule as AdmissionRule

VALIDATORS = ("policy", "admission")


def render_admission(rules: list[AdmissionRule], width: int) -> str:
    out: list[str] = []
    pad = " " * (width + 11)
    for r in rules:
        out.append(f"{r.id:<{width}}  {r.severity.value:<7}  {r.summary}  [admission]")
        out.append(f"{pad}why: {r.why}")
        out.append(f"{pad}fix: {r.fix}")
        out.append(f"{pad}source: {r.source}")
    return "\n".join(out) + "\n"


def render_text(rules: list[Rule], width: int | None = None) -> str:
    width = width or max(len(r.id) for r in rules)
    out: list[str] = []
    for r in rules:
        source = "" if r.source == "built-in" else f"  [{r.source}]"
        out.append(f"{r.id:<{width}}  {r.severity.value:<7}  {r.description}{source}")
        pad = " " * (width + 11)
        if r.why:
            out.append(f"{pad}why: {r.why}")
        if r.fix:
            out.append(f"{pad}fix: {r.fix}")
        for o in r.options:
            out.append(f"{pad}option {o.name} (default {json.dumps(o.default)}): "
                       f"{o.description}")
        if r.equivalents:
            out.append(f"{pad}see also: " + "; ".join(f"{tool} {check}" for tool, check
                                                         in r.equivalents.items()))
    return "\n".join(out) + "\n"


@click.command("rules")
@click.argument("repo", default=".", type=click.Path(path_type=Path, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file whose custom rules to include (default: REPO/.llmops-gate.yaml).")
@click.option("--explain", metavar="RULE", help="Show one rule with its documentation and "
                                                "passing/failing examples.")
@click.option("--validator", "validator", type=click.Choice(VALIDATORS), default=None,
              help="Only this validator's rules (default: policy, then admission).")
def rules(repo: Path, fmt: str, config_path: Path | None, explain: str | None,
          validator: str | None) -> None:
    """List the rules: id, severity, what each checks, why, how to fix it (and, for the
    admission rules, the documentation or code each was learnt from)."""
    from llmops_gate.validators.admission.registry import DOCS
    from llmops_gate.validators.admission.registry import RULES as ADMISSION

    config = load_config(repo, config_path)
    found, problems = all_rules(config)
    listed = [*found.values(), *META.values()] if validator in (None, "policy") else []
    admission = list(ADMISSION.values()) if validator in (None, "admission") else []
    if explain is not None:
        listed = [r for r in listed if r.id == explain]
        admission = [r for r in admission if r.id == explain]
        if not listed and not admission:
            raise GateError(f"unknown rule '{explain}' (see `llmops-gate rules`)")
    for problem in problems:
        click.echo(f"llmops-gate: warning: {problem}", err=True)
    if fmt == "json":
        entries: list[dict[str, Any]] = [{**r.to_json(), "validator": "policy"} for r in listed]
        entries += [{**r.to_json(), "validator": "admission", "doc": DOCS[r.id]}
                    for r in admission]
        click.echo(json.dumps({"rules": entries}, indent=2))
        return
    width = max([len(r.id) for r in listed] + [len(r.id) for r in admission])
    if listed:
        click.echo(render_text(listed, width), nl=False)
        if explain is not None and listed[0].doc:
            click.echo("\n" + listed[0].doc)
    if admission:
        click.echo(render_admission(admission, width), nl=False)
        if explain is not None:
            click.echo("\n" + DOCS[admission[0].id])
