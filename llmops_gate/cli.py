"""The `llmops-gate` command line: a thin click layer over the library.

Commands parse options, call library functions that return data, pick the report format and
the exit code: 0 clean (warnings allowed), 1 error findings, 2 usage/config/environment,
3 unexpected. Subcommands other than `validate` live in their own modules and are imported
only when run, so `--version` and `--help` stay fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from llmops_gate import __version__
from llmops_gate.errors import GateError
from llmops_gate.schema_options import schema_options

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNEXPECTED = 0, 1, 2, 3

# name -> "module:attribute" of a click command, imported on first use.
LAZY_COMMANDS: dict[str, str] = {
    "rules": "llmops_gate.validators.policy.command:rules",
    "schema": "llmops_gate.validators.schema.commands:schema_command",
    "schemas": "llmops_gate.validators.schema.commands:schemas_group",
    "lint": "llmops_gate.lint_files:lint",
    "init": "llmops_gate.scaffold:init",
    "envs": "llmops_gate.envs:envs",
    "argocd-apps": "llmops_gate.envs:argocd_apps",
    "config-reference": "llmops_gate.config_reference:config_reference",
    "promote": "llmops_gate.gitops.commands:promote",
    "diff": "llmops_gate.gitops.commands:diff_command",
    "history": "llmops_gate.gitops.commands:history",
    "rollback": "llmops_gate.gitops.commands:rollback",
    "plan": "llmops_gate.plan:plan",
    "review": "llmops_gate.commands.review:review",
    "status": "llmops_gate.commands.status:status",
}

FORMAT_NAMES = ("text", "json", "junit", "sarif", "github")


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[cmd_name].split(":")
            cmd: click.Command = getattr(importlib.import_module(module), attr)
            return cmd
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="llmops-gate")
def cli() -> None:
    """Guard and promote LLM model deployments kept in a GitOps repository."""


def split_csv(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def parse_report_files(values: Sequence[str]) -> list[tuple[str, Path]]:
    """`FORMAT=FILE` pairs of `--report-file`."""
    out: list[tuple[str, Path]] = []
    for value in values:
        fmt, sep, file = value.partition("=")
        if not sep or not file or fmt not in FORMAT_NAMES:
            raise click.BadParameter(f"'{value}' is not FORMAT=FILE with FORMAT one of "
                                     f"{', '.join(FORMAT_NAMES)}", param_hint="--report-file")
        out.append((fmt, Path(file)))
    return out


def emit(text: str, output: Path | None) -> None:
    """Print a report, or write it atomically to `output`."""
    if output is None:
        click.echo(text, nl=False)
        return
    from llmops_gate.fsutil import atomic_write

    try:
        atomic_write(output, text)
    except OSError as exc:
        raise GateError(f"{output}: cannot write report: {exc.strerror or exc}") from exc


def render_report(report: Any, fmt: str, colour: bool) -> str:
    from llmops_gate import report as reports

    if fmt == "text":
        from llmops_gate.report import text

        return text.render(report, colour=colour)
    return reports.renderer(fmt)(report)


class Progress:
    """A progress line on stderr while overlays build, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def __call__(self, done: int, total: int, path: str) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\033[Kbuilding overlays {done}/{total}: {path}")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


@cli.command()
@click.argument("repo", default=".", type=click.Path(path_type=Path))
@click.option("--env", "envs", multiple=True, metavar="NAME",
              help="Validate only this environment (repeatable).")
@click.option("--only", multiple=True, metavar="V[,V]",
              help="Run only these validators (build, lint, parse, schema, policy, tekton).")
@click.option("--skip", multiple=True, metavar="V[,V]", help="Do not run these validators.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default="text",
              show_default=True, help="Report format.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of stdout.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Parallel Kustomize builds (default: number of CPUs).")
@click.option("--kustomize", "kustomize_path", metavar="PATH",
              help="A kustomize (or kubectl) binary to use.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds one Kustomize build may take (default 120).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (default: REPO/.llmops-gate.yaml).")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress line (shown on stderr only when it is a terminal).")
@click.option("--report-file", "report_files", multiple=True, metavar="FORMAT=FILE",
              callback=lambda _ctx, _param, value: parse_report_files(value),
              help="Also write the report in FORMAT to FILE (repeatable), e.g. "
                   "`--report-file json=report.json` next to a text report on stdout.")
@click.option("--allow-remote", is_flag=True,
              help="Let Kustomize fetch remote bases and resources (refused by default: the "
                   "repository under validation is untrusted).")
@click.option("--changed-since", metavar="REV", default=None,
              help="Validate only what the Git diff since REV (and uncommitted changes) can "
                   "affect; the summary counts the units skipped.")
@schema_options(skip="--skip-kind", reject="--reject-kind")
def validate(repo: Path, envs: tuple[str, ...], only: tuple[str, ...], skip: tuple[str, ...],
             fmt: str, output: Path | None, jobs: int | None, kustomize_path: str | None,
             timeout: float | None, config_path: Path | None, quiet: bool,
             report_files: list[tuple[str, Path]], changed_since: str | None = None,
             allow_remote: bool = False, **schema: Any) -> None:
    """Build, lint and check every overlay and manifest of a GitOps repo."""
    from llmops_gate.engine import Options, validate_repo

    if output is not None and not output.parent.is_dir():
        raise GateError(f"{output}: cannot write report: folder {output.parent} does not exist")
    progress = Progress(enabled=not quiet and sys.stderr.isatty())
    options = Options(envs=split_csv(envs), only=split_csv(only), skip=split_csv(skip),
                      jobs=jobs, kustomize=kustomize_path, timeout=timeout,
                      config_path=config_path, progress=progress, allow_remote=allow_remote,
                      changed_since=changed_since, settings=schema)
    try:
        report = validate_repo(repo, options)
    finally:
        progress.clear()
    colour = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    emit(render_report(report, fmt, colour), output)
    for extra_fmt, extra_path in report_files:
        emit(render_report(report, extra_fmt, False), extra_path)
    sys.exit(EXIT_OK if report.passed else EXIT_FINDINGS)


def _masked(message: str) -> str:
    """An error message with secrets masked (see llmops_gate.redact)."""
    from llmops_gate.redact import redact

    return redact(message)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: maps expected failures to exit 2 and anything else to exit 3."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="llmops-gate",
                 standalone_mode=False)
    except GateError as exc:
        click.echo(f"llmops-gate: error: {_masked(str(exc))}", err=True)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("llmops-gate: aborted", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("llmops-gate: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except Exception as exc:  # the one place that catches everything
        if os.environ.get("LLMOPS_GATE_DEBUG"):
            raise
        click.echo(f"llmops-gate: unexpected error: {type(exc).__name__}: {_masked(str(exc))} "
                   f"(llmops-gate {__version__}; set LLMOPS_GATE_DEBUG=1 for a traceback)",
                   err=True)
        sys.exit(EXIT_UNEXPECTED)
    sys.exit(EXIT_OK)
