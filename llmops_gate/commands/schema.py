"""`llmops-gate schema FILE... | -` and `llmops-gate schemas import CRD.yaml... --out DIR`.

`schema` is the kubeconform-style use for any YAML: plain manifest files, folders of them, or a
stream on stdin, validated with the same engine, flags and report formats as `validate`.
`schemas import` converts CRDs into JSON schemas that `--schema-location DIR` then uses.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from llmops_gate.commands.options import output_option, schema_options
from llmops_gate.commands.output import FORMAT_NAMES
from llmops_gate.validators.schema.crds import import_crds
from llmops_gate.validators.schema.files import validate_files
from llmops_gate.validators.schema.settings import SchemaFlags


@click.command("schema")
@click.argument("files", nargs=-1)
@schema_options(skip="--skip", reject="--reject")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES),
              default="text", show_default=True, help="Report format.")
@output_option("the report")
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

    report = validate_files(files, SchemaFlags(**flags), ignore_patterns=ignore_patterns,
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
