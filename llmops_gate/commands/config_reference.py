"""`llmops-gate config-reference`: print, check or update the `.llmops-gate.yaml` reference."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmops_gate.config.reference import reference, replace_block
from llmops_gate.errors import GateError


@click.command("config-reference")
@click.option("--update", "update", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Rewrite the marked block of FILE (such as README.md).")
@click.option("--check", "check", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Exit 1 when the marked block of FILE is out of date.")
def config_reference(update: Path | None, check: Path | None) -> None:
    """Print the .llmops-gate.yaml reference generated from the config's JSON Schema."""
    body = reference()
    target = update or check
    if target is None:
        click.echo(body, nl=False)
        return
    try:
        document = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GateError(f"{target}: cannot read: {exc}") from exc
    fresh = replace_block(document, body, str(target))
    if check is not None:
        if fresh != document:
            click.echo(f"{target}: the config reference is out of date; run "
                       f"`llmops-gate config-reference --update {target}`", err=True)
            sys.exit(1)
        return
    if fresh != document:
        from llmops_gate.yamlio.fsutil import atomic_write

        atomic_write(target, fresh)
        click.echo(f"{target}: config reference updated", err=True)
