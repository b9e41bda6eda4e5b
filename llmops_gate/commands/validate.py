"""`llmops-gate validate`: build, lint and check every overlay and manifest of a GitOps repo."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from llmops_gate.commands.options import (
    config_option,
    jobs_option,
    kustomize_option,
    output_option,
    schema_options,
)
from llmops_gate.commands.output import (
    EXIT_FINDINGS,
    EXIT_OK,
    FORMAT_NAMES,
    Progress,
    emit,
    parse_report_files,
    render_report,
    split_csv,
)
from llmops_gate.errors import GateError
from llmops_gate.validators.schema.settings import SchemaFlags


@click.command("validate")
@click.argument("repo", default=".", type=click.Path(path_type=Path))
@click.option("--env", "envs", multiple=True, metavar="NAME",
              help="Validate only this environment (repeatable).")
@click.option("--only", multiple=True, metavar="V[,V]",
              help="Run only these validators (build, lint, parse, schema, admission, policy, "
                   "tekton).")
@click.option("--skip", multiple=True, metavar="V[,V]", help="Do not run these validators.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default="text",
              show_default=True, help="Report format.")
@output_option("the report")
@jobs_option
@kustomize_option
@click.option("--allow-remote", is_flag=True,
              help="Let Kustomize fetch remote bases and resources (refused by default: the "
                   "repository under validation is untrusted).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds one Kustomize build may take (default 120).")
@click.option("--no-batch", is_flag=True,
              help="Build every overlay in its own Kustomize process (default: several "
                   "overlays per process; same as LLMOPS_GATE_NO_BATCH=1).")
@config_option()
@click.option("--quiet", "-q", is_flag=True,
              help="No progress line (shown on stderr only when it is a terminal).")
@click.option("--report-file", "report_files", multiple=True, metavar="FORMAT=FILE",
              callback=lambda _ctx, _param, value: parse_report_files(value),
              help="Also write the report in FORMAT to FILE (repeatable), e.g. "
                   "`--report-file json=report.json` next to a text report on stdout.")
@click.option("--changed-since", metavar="REV", default=None,
              help="Validate only what the Git diff since REV (and uncommitted changes) can "
                   "affect; the summary counts the units skipped.")
@schema_options(skip="--skip-kind", reject="--reject-kind")
def validate(repo: Path, envs: tuple[str, ...], only: tuple[str, ...], skip: tuple[str, ...],
             fmt: str, output: Path | None, jobs: int | None, kustomize_path: str | None,
             timeout: float | None, config_path: Path | None, quiet: bool,
             report_files: list[tuple[str, Path]], changed_since: str | None = None,
             allow_remote: bool = False, no_batch: bool = False, **schema: Any) -> None:
    """Build, lint and check every overlay and manifest of a GitOps repo."""
    from llmops_gate.engine import Options, validate_repo

    if output is not None and not output.parent.is_dir():
        raise GateError(f"{output}: cannot write report: folder {output.parent} does not exist")
    progress = Progress(enabled=not quiet and sys.stderr.isatty())
    options = Options(envs=split_csv(envs), only=split_csv(only), skip=split_csv(skip),
                      jobs=jobs, kustomize=kustomize_path, timeout=timeout,
                      config_path=config_path, progress=progress, allow_remote=allow_remote,
                      changed_since=changed_since, schema=SchemaFlags(**schema),
                      batch=False if no_batch else None)
    try:
        report = validate_repo(repo, options)
    finally:
        progress.clear()
    colour = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    emit(render_report(report, fmt, colour), output)
    for extra_fmt, extra_path in report_files:
        emit(render_report(report, extra_fmt, False), extra_path)
    sys.exit(EXIT_OK if report.passed else EXIT_FINDINGS)
