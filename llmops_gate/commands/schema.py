"""`llmops-gate schema FILE... | -` and `llmops-gate schemas import CRD.yaml... --out DIR`.

`schema` is the kubeconform-style use for any YAML: plain manifest files, folders of them, or a
stream on stdin, validated with the same engine, flags and report formats as `validate`.
`schemas import` converts CRDs into JSON schemas that `--schema-location DIR` then uses.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import yaml

from llmops_gate import yamlio
from llmops_gate.commands.options import schema_options
from llmops_gate.commands.output import FORMAT_NAMES
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Report, Severity, Unit
from llmops_gate.validators.schema.run import VALIDATOR, Checker, Item
from llmops_gate.validators.schema.settings import from_sources
from llmops_gate.validators.schema.stream import Streamer, prepare, split

STDIN = "stdin"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def _files(args: Sequence[str]) -> Iterator[str]:
    """Each argument, or the manifest files under a folder argument (sorted). A folder's
    files that are never Kubernetes objects are left out: llmops-gate's and other tools'
    config files, and the Kustomize transformer configurations a kustomization lists under
    `configurations:` (named on the command line, they are validated like any file)."""
    from llmops_gate.repo.discover import NOT_MANIFESTS

    for arg in args:
        path = Path(arg)
        if arg != "-" and path.is_dir():
            found: list[Path] = []
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found += [Path(root, name) for name in sorted(files)
                          if name.endswith(MANIFEST_SUFFIXES) and name not in NOT_MANIFESTS]
            configs = _transformer_configs(found)
            yield from (str(p) for p in found if p.resolve() not in configs)
        else:
            yield arg


def _transformer_configs(files: Sequence[Path]) -> set[Path]:
    """The files the kustomizations among `files` list under `configurations:`."""
    from llmops_gate.repo.discover import KUSTOMIZATION_NAMES

    out: set[Path] = set()
    for file in files:
        if file.name not in KUSTOMIZATION_NAMES:
            continue
        try:
            data = yamlio.load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # reported when the file itself is validated
        configs = data.get("configurations") if isinstance(data, dict) else None
        for ref in configs if isinstance(configs, list) else []:
            if isinstance(ref, str):
                out.add((file.parent / ref).resolve())
    return out


def check_stream(checker: Checker, streamer: Streamer, unit: Unit, lines: Iterable[str],
                 size: int | None = None, admission: bool = False) -> Iterator[Finding]:
    """The findings of one file or stream, read line by line."""
    from llmops_gate.validators.schema import kubeconform

    pieces = split(lines)
    binary = kubeconform.choose(checker.settings)
    if binary is None:
        yield from streamer.check(unit, pieces, size)
        return
    # kubeconform gets every resource at once (one file each): this holds the stream.
    items: list[Item] = []
    for offset, text in pieces:
        todo, settled = prepare(checker, unit, offset, text, admission)
        items += todo
        yield from settled
    yield from kubeconform.check(binary, checker, items)


def validate_files(args: Sequence[str], flags: dict[str, Any],
                   stdin_text: str | None = None,
                   ignore_patterns: Sequence[str] = (), admission: bool = True) -> Report:
    """The `schema` command as a library function: files (or stdin) -> Report. With
    `admission` (the default), the `admission` validator's rules run on every document too."""
    import io
    import re

    try:
        ignored = [re.compile(p) for p in ignore_patterns]
    except re.error as exc:
        raise GateError(f"--ignore-filename-pattern: invalid regular expression: {exc}") from exc
    settings = from_sources({}, {**flags, "check_duplicates": True})
    checker = Checker.create(settings)
    units: list[Unit] = []
    findings: list[Finding] = []
    sources = list(_files(args)) if args else ["-"]
    with Streamer(checker, admission=admission) as streamer:
        for arg in sources:
            if arg != "-" and any(p.search(arg) for p in ignored):
                continue
            unit = Unit(path=STDIN if arg == "-" else arg, kind="manifest")
            units.append(unit)
            try:
                if arg == "-":
                    lines = io.StringIO(stdin_text) if stdin_text is not None else sys.stdin
                    findings.extend(check_stream(checker, streamer, unit, lines,
                                                 admission=admission))
                    continue
                with open(arg, encoding="utf-8") as fh:
                    # A file's findings are kept apart until it is read to the end: a file
                    # that turns out not to be UTF-8 is unreadable, not half-checked.
                    found = list(check_stream(checker, streamer, unit, fh,
                                              os.fstat(fh.fileno()).st_size, admission))
                findings.extend(found)
            except (OSError, UnicodeDecodeError) as exc:
                reason = (f"cannot read file: {exc.strerror or exc}" if isinstance(exc, OSError)
                          else "file is not UTF-8 text")
                findings.append(Finding(validator=VALIDATOR, rule="unreadable-file",
                                        severity=Severity.ERROR, message=reason,
                                        overlay=unit.path, file=unit.path))
    findings.sort(key=Finding.sort_key)
    return Report(repo=str(Path.cwd()), units=units, resources=checker.stats.resources,
                  findings=findings,
                  validators=(VALIDATOR, "admission") if admission else (VALIDATOR,))


@click.command("schema")
@click.argument("files", nargs=-1)
@schema_options(skip="--skip", reject="--reject")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES),
              default="text", show_default=True, help="Report format.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of stdout.")
@click.option("--ignore-filename-pattern", "ignore_patterns", multiple=True, metavar="REGEX",
              help="Leave out files whose path matches (repeatable).")
@click.option("--admission/--no-admission", "admission", default=True, show_default=True,
              help="Also apply the API server's and the admission webhooks' rules "
                   "(`llmops-gate rules --validator admission`); --no-admission gives "
                   "kubeconform's schema-only verdict.")
def schema_command(files: tuple[str, ...], fmt: str, output: Path | None,
                   ignore_patterns: tuple[str, ...], admission: bool, **flags: Any) -> None:
    """Validate plain manifest files, folders or stdin (`-`) against their schemas.

    Multi-document files, `List` kinds and JSON files are read; empty documents are ignored;
    a document without `kind` or `apiVersion` is an error (a kustomization file gets
    Kustomize's defaults). Strict by default. The API server's own rules (names, labels,
    quantities, ports, ...) and the KServe, ArgoCD and Tekton webhooks' rules are applied too
    unless --no-admission.
    """
    from llmops_gate.commands.output import EXIT_FINDINGS, EXIT_OK, emit, render_report

    report = validate_files(files, flags, ignore_patterns=ignore_patterns,
                            admission=admission)
    colour = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    emit(render_report(report, fmt, colour), output)
    sys.exit(EXIT_OK if report.passed else EXIT_FINDINGS)


@click.group("schemas")
def schemas_group() -> None:
    """Manage schemas: convert CRDs for --schema-location."""


@schemas_group.command("import")
@click.argument("crds", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write <group>/<kind>_<version>.json into.")
@click.option("--keep-descriptions", is_flag=True,
              help="Keep field descriptions (larger files).")
def import_command(crds: tuple[Path, ...], out: Path, keep_descriptions: bool) -> None:
    """Convert CustomResourceDefinitions (YAML or JSON) into JSON schemas.

    Every served version becomes `DIR/<group>/<kind>_<version>.json`, the layout
    `--schema-location DIR` (and kubeconform's CRDs-catalog template) reads.
    """
    written = import_crds(crds, out, keep_descriptions)
    for path in written:
        click.echo(str(path))


def import_crds(crds: Sequence[Path], out: Path, keep_descriptions: bool = False) -> list[Path]:
    from llmops_gate.validators.schema.convert import ConvertError, convert_crd, link_embedded
    from llmops_gate.yamlio.fsutil import atomic_write

    converted = []
    for path in crds:
        try:
            docs = list(yamlio.load_all(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise GateError(f"{path}: cannot read CRD: {exc}") from exc
        found = 0
        for doc in docs:
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            try:
                converted += convert_crd(doc, keep_descriptions)
            except ConvertError as exc:
                raise GateError(f"{path}: {exc}") from exc
            found += 1
        if not found:
            raise GateError(f"{path}: no CustomResourceDefinition in this file")
    written: list[Path] = []
    for c in link_embedded(converted):
        target = out / c.filename
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, dump(c.schema))
        except OSError as exc:
            raise GateError(f"{target}: cannot write schema: {exc.strerror or exc}") from exc
        written.append(target)
    return written


def dump(schema: dict[str, Any]) -> str:
    """The stable text of a converted schema (so regenerating the bundle is a no-op)."""
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False) + "\n"
