"""`llmops-gate schema FILE... | -` and `llmops-gate schemas import CRD.yaml... --out DIR`.

`schema` is the kubeconform-style use for any YAML: plain manifest files, folders of them, or a
stream on stdin, validated with the same engine, flags and report formats as `validate`.
`schemas import` converts CRDs into JSON schemas that `--schema-location DIR` then uses.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import yaml

from llmops_gate import yamlio
from llmops_gate.commands.options import schema_options
from llmops_gate.commands.output import FORMAT_NAMES
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Report, Severity, Unit
from llmops_gate.validators.schema.manifests import (
    Document,
    duplicate_keys,
    field_node,
    field_position,
    read_documents,
)
from llmops_gate.validators.schema.run import VALIDATOR, Checker, Item, Locate, Scalar
from llmops_gate.validators.schema.settings import from_sources

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


def kustomize_defaults(file: str, data: Any) -> Any:
    """A kustomization file's document as Kustomize reads it: `kind` defaults to
    Kustomization and `apiVersion` to the one of its kind."""
    from llmops_gate.repo.discover import KUSTOMIZATION_NAMES

    if Path(file).name not in KUSTOMIZATION_NAMES or not isinstance(data, dict):
        return data
    if data.get("kind") and data.get("apiVersion"):
        return data
    kind = data.get("kind") or "Kustomization"
    version = ("kustomize.config.k8s.io/v1alpha1" if kind == "Component"
               else "kustomize.config.k8s.io/v1beta1")
    return {"apiVersion": version, **data, "kind": kind}


def _locator(doc: Document, file: str) -> Locate:
    def locate(path: Sequence[int | str]) -> tuple[str | None, int | None, int | None, bool]:
        line, col, exact = field_position(doc.node, path, doc.offset)
        return (file, line, col, True) if exact else (file, doc.line, None, False)

    return locate


def _scalar(doc: Document) -> Scalar:
    def scalar(path: Sequence[int | str]) -> yaml.Node | None:
        return field_node(doc.node, path)

    return scalar


def check_text(checker: Checker, text: str, unit: Unit,
               admission: bool = False) -> Iterator[Finding]:
    """Schema findings of one file's text, and with `admission` the API server's and the
    webhooks' rules too (`llmops_gate.validators.admission`) on every document that parsed."""
    file = unit.path
    try:
        docs = read_documents(text)
    except yaml.YAMLError as exc:
        line, col = yamlio.yaml_error_position(exc)
        yield Finding(validator=VALIDATOR, rule="parse-error", severity=Severity.ERROR,
                      message=f"YAML syntax error: {yamlio.yaml_error_summary(exc)}",
                      overlay=file, file=file, line=line, column=col,
                      hint="fix the YAML syntax; the file cannot be parsed")
        return
    items: list[Item] = []
    # duplicate keys of each distinct parsed document (repeats share their node), in lines
    # relative to that document's text
    dupes_of: dict[int, list[tuple[tuple[int | str, ...], int]]] = {}
    for doc in docs:
        item = Item(doc=kustomize_defaults(file, doc.data), unit=unit, file=file, line=doc.line,
                    locate=_locator(doc, file), scalar=_scalar(doc))
        dupes: list[tuple[tuple[int | str, ...], int]] = []
        if checker.settings.check_duplicates and checker.settings.strict:
            relative = dupes_of.get(id(doc.node))
            if relative is None:
                relative = dupes_of[id(doc.node)] = list(duplicate_keys(doc.node))
            dupes = [(path, line + doc.offset) for path, line in relative]
        if dupes:
            # kubeconform -strict refuses such a document (an unmarshal error).
            for path, line in dupes:
                f = checker.finding(item, "duplicate-key", "key is written twice in one "
                                    "mapping (the last value silently wins)", path,
                                    doc=doc.data)
                yield replace(f, file=file, line=line, column=None)
            checker.stats.errors += 1
            continue
        items.append(item)
        if admission:
            yield from _admission(checker, doc, item, file)
    yield from _run(checker, items)


def _admission(checker: Checker, doc: Document, item: Item, file: str) -> Iterator[Finding]:
    from llmops_gate.validators.admission import document_findings, scope_for
    from llmops_gate.validators.schema.settings import kind_matches

    data = item.doc
    if isinstance(data, dict) and kind_matches(checker.settings.skip,
                                               str(data.get("apiVersion")),
                                               str(data.get("kind"))):
        return

    def locate(path: Sequence[int | str]) -> tuple[str | None, int | None, int | None]:
        # the field, or the deepest part of its path written in the document
        line, col, _exact = field_position(doc.node, path, doc.offset)
        return file, line, col

    yield from document_findings(data, item.unit, scope_for(checker.settings.kubernetes_version),
                                 locate)


def _run(checker: Checker, items: list[Item]) -> Iterator[Finding]:
    from llmops_gate.validators.schema import kubeconform

    binary = kubeconform.choose(checker.settings)
    if binary is not None:
        yield from kubeconform.check(binary, checker, items)
    else:
        yield from checker.check(items)


def validate_files(args: Sequence[str], flags: dict[str, Any],
                   stdin_text: str | None = None,
                   ignore_patterns: Sequence[str] = (), admission: bool = True) -> Report:
    """The `schema` command as a library function: files (or stdin) -> Report. With
    `admission` (the default), the `admission` validator's rules run on every document too."""
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
    for arg in sources:
        if arg != "-" and any(p.search(arg) for p in ignored):
            continue
        if arg == "-":
            unit = Unit(path=STDIN, kind="manifest")
            text = stdin_text if stdin_text is not None else sys.stdin.read()
        else:
            unit = Unit(path=arg, kind="manifest")
            try:
                text = Path(arg).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                units.append(unit)
                reason = (f"cannot read file: {exc.strerror or exc}" if isinstance(exc, OSError)
                          else "file is not UTF-8 text")
                findings.append(Finding(validator=VALIDATOR, rule="unreadable-file",
                                        severity=Severity.ERROR, message=reason,
                                        overlay=arg, file=arg))
                continue
        units.append(unit)
        findings.extend(check_text(checker, text, unit, admission=admission))
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
