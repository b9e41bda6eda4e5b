"""`llmops-gate rules`: every policy rule with its severity, what it checks, why and how to fix.

Lists the built-in rules, the engine's waiver rules, installed plugins and, when the repo has a
config, its custom rules.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from llmops_gate.config import load_config
from llmops_gate.errors import GateError
from llmops_gate.validators.policy.base import Rule
from llmops_gate.validators.policy.registry import META, all_rules


def render_text(rules: list[Rule]) -> str:
    width = max(len(r.id) for r in rules)
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
def rules(repo: Path, fmt: str, config_path: Path | None, explain: str | None) -> None:
    """List the policy rules: id, severity, what each checks, why, and how to fix it."""
    config = load_config(repo, config_path)
    found, problems = all_rules(config)
    listed = [*found.values(), *META.values()]
    if explain is not None:
        listed = [r for r in listed if r.id == explain]
        if not listed:
            raise GateError(f"unknown policy rule '{explain}' (see `llmops-gate rules`)")
    for problem in problems:
        click.echo(f"llmops-gate: warning: {problem}", err=True)
    if fmt == "json":
        click.echo(json.dumps({"rules": [r.to_json() for r in listed]}, indent=2))
    else:
        click.echo(render_text(listed), nl=False)
        if explain is not None and listed[0].doc:
            click.echo("\n" + listed[0].doc)
