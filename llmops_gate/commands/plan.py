"""`llmops-gate plan`: the units and validators a change affects, as JSON for a Tekton matrix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from llmops_gate import validators
from llmops_gate.commands.options import config_option, output_option
from llmops_gate.commands.output import emit, split_csv
from llmops_gate.repo.plan import plan_data


@click.command()
@click.argument("repo", default=".", type=click.Path(path_type=Path))
@click.option("--changed-since", metavar="REV", default=None,
              help="Select what the Git diff since REV (and uncommitted changes) can affect "
                   "(default: everything).")
@click.option("--env", "envs", multiple=True, metavar="NAME",
              help="Only this environment (repeatable).")
@click.option("--only", multiple=True, metavar="V[,V]", help="Validators to list.")
@click.option("--skip", multiple=True, metavar="V[,V]", help="Validators to leave out.")
@config_option()
@output_option("the JSON")
def plan(repo: Path, changed_since: str | None, envs: tuple[str, ...], only: tuple[str, ...],
         skip: tuple[str, ...], config_path: Path | None, output: Path | None) -> None:
    """List the overlays a Git change affects, as JSON (for a CI matrix)."""
    chosen = validators.select(split_csv(only), split_csv(skip))
    data = plan_data(repo, changed_since, split_csv(envs), chosen, config_path)
    emit(json.dumps(data, indent=2) + "\n", output)
    sys.exit(0)
