"""The `llmops-gate` command line: a thin click layer over the library.

Every command lives in its own module here and is imported only when run, so `--version` and
`--help` stay fast. A command parses options, calls library functions that return data, picks
the report format and the exit code: 0 clean (warnings allowed), 1 error findings,
2 usage/config/environment, 3 unexpected. Nothing outside this package imports it or click.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import click

from llmops_gate import __version__
from llmops_gate.commands.output import EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE
from llmops_gate.errors import GateError

# name -> "module:attribute" of a click command, imported on first use.
LAZY_COMMANDS: dict[str, str] = {
    "validate": "llmops_gate.commands.validate:validate",
    "rules": "llmops_gate.commands.rules:rules",
    "schema": "llmops_gate.commands.schema:schema_command",
    "schemas": "llmops_gate.commands.schema:schemas_group",
    "lint": "llmops_gate.commands.lint:lint",
    "init": "llmops_gate.commands.init:init",
    "envs": "llmops_gate.commands.envs:envs",
    "argocd-apps": "llmops_gate.commands.envs:argocd_apps",
    "config-reference": "llmops_gate.commands.config_reference:config_reference",
    "promote": "llmops_gate.commands.promote:promote",
    "diff": "llmops_gate.commands.promote:diff_command",
    "history": "llmops_gate.commands.promote:history",
    "rollback": "llmops_gate.commands.promote:rollback",
    "plan": "llmops_gate.commands.plan:plan",
    "review": "llmops_gate.commands.review:review",
    "status": "llmops_gate.commands.status:status",
}


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


def _masked(message: str) -> str:
    """An error message with secrets masked (see llmops_gate.yamlio.redact)."""
    from llmops_gate.yamlio.redact import redact

    return redact(message)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: maps expected failures to exit 2 and anything else to exit 3; SIGINT and
    SIGTERM stop the run at once (exit 130 and 143, see llmops_gate.interrupt)."""
    from llmops_gate import interrupt

    restore = interrupt.install()
    try:
        _main(argv)
    finally:
        restore()


def _main(argv: Sequence[str] | None) -> None:
    from llmops_gate import interrupt

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
    except interrupt.Interrupted as exc:
        from llmops_gate.yamlio.fsutil import remove_temp_dirs

        remove_temp_dirs()
        interrupt.report(exc)
        sys.exit(exc.code)
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
