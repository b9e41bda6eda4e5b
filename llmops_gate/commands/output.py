"""What every command shares: exit codes, report formats, writing a report, the progress line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from llmops_gate.errors import GateError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNEXPECTED = 0, 1, 2, 3

FORMAT_NAMES = ("text", "json", "junit", "sarif", "github")


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
    from llmops_gate.yamlio.fsutil import atomic_write

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
