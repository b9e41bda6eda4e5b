"""`llmops-gate lint FILE...`: yamllint with the repo's config, as the pre-commit hook runs it."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from llmops_gate.errors import GateError
from llmops_gate.model import Severity, count
from llmops_gate.validators.lint_files import lint_files, repo_relative


@click.command("lint")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--repo", "repo", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The GitOps repo whose config applies.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def lint(files: tuple[str, ...], repo: Path, strict: bool) -> None:
    """yamllint FILES with the repo's lint config (what the pre-commit hook runs)."""
    from llmops_gate.report.text import finding_line

    root = repo.resolve()
    if not root.is_dir():
        raise GateError(f"{repo}: not a folder (or not readable)")
    # Findings name files as the command line did: pre-commit passes paths from the Git root,
    # which is not the GitOps folder when that is a folder of a bigger repository, and both
    # pre-commit's output and editors resolve what is printed from where it runs.
    shown = {repo_relative(root, f): os.path.normpath(f) for f in files}
    names = list(shown)
    found = list(lint_files(root, names))
    for f in found:
        click.echo(finding_line(replace(f, file=shown.get(f.file or "", f.file))))
    errors, warnings = count(found, Severity.ERROR), count(found, Severity.WARNING)
    click.echo(f"lint: {len(names)} file{'s' if len(names) != 1 else ''}: "
               f"{errors} error{'s' if errors != 1 else ''}, "
               f"{warnings} warning{'s' if warnings != 1 else ''}", err=True)
    sys.exit(1 if errors or (strict and warnings) else 0)
