"""`llmops-gate status`: what runs where, environment by environment."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmops_gate.commands.options import kustomize_option, output_option


@click.command()
@click.argument("repo", default=".", type=click.Path(path_type=Path, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True, help="Output format.")
@output_option("it")
@kustomize_option
def status(repo: Path, fmt: str, output: Path | None, kustomize_path: str | None) -> None:
    """Each environment's model, runtime image, vLLM arguments, GPUs, replicas, last
    promotion and sync policy; where it differs from the one before it."""
    from llmops_gate.commands.output import emit
    from llmops_gate.review import status as st

    result = st.status(repo, kustomize_path)
    render = {"json": st.render_json, "markdown": st.render_markdown}.get(fmt, st.render_text)
    emit(render(result), output)
    sys.exit(0)
