"""The options several commands share, declared once so they read and behave the same
everywhere: the Kustomize binary, the config file, parallel builds, the output file, and the
schema flags of `validate` and `schema` (the config section they mirror is
`llmops_gate.config.schema_section`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from llmops_gate.config.schema_section import ENGINES

F = TypeVar("F", bound=Callable[..., Any])


def stacked(decorators: Sequence[Callable[[Any], Any]]) -> Callable[[F], F]:
    """One decorator applying `decorators` so that `--help` lists them in this order."""

    def apply(func: F) -> F:
        for deco in reversed(decorators):
            func = deco(func)
        return func

    return apply


kustomize_option = click.option("--kustomize", "kustomize_path", metavar="PATH",
                                help="A kustomize (or kubectl) binary to use.")
jobs_option = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                           help="Parallel Kustomize builds (default: the CPUs this process "
                                "may use: its affinity and cgroup CPU quota).")


def config_option(what: str = "Config file") -> Callable[[F], F]:
    return click.option("--config", "config_path",
                        type=click.Path(path_type=Path, dir_okay=False),
                        help=f"{what} (default: REPO/.llmops-gate.yaml).")


def output_option(what: str) -> Callable[[F], F]:
    return click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
                        help=f"Write {what} to this file instead of stdout.")


def schema_options(skip: str = "--skip-kind", reject: str = "--reject-kind") -> Callable[[F], F]:
    """Add the schema flags; the command passes them on as a `SchemaFlags`
    (llmops_gate.validators.schema.settings), whose fields are these options' names."""
    decorators = [
        click.option("--strict/--no-strict", "strict", default=None,
                     help="Unknown fields are errors (default: on)."),
        click.option("--kubernetes-version", metavar="X.Y[.Z]",
                     help="Kubernetes version of the built-in schemas (default: newest "
                          "shipped)."),
        click.option("--schema-location", "schema_locations", multiple=True, metavar="LOC",
                     help="Schema folder, JSON file or kubeconform-style template "
                          "({{ .ResourceKind }}, {{ .Group }}, ...); 'default' is the bundled "
                          "set (repeatable; first match wins)."),
        click.option("--ignore-missing-schemas", "ignore_missing_schemas", is_flag=True,
                     flag_value=True, default=None,
                     help="A resource with no schema is a warning, not an error."),
        click.option(skip, "skip_kinds", multiple=True, metavar="KIND[,KIND]",
                     help="Do not validate these kinds (Kind or apiVersion/Kind)."),
        click.option(reject, "reject_kinds", multiple=True, metavar="KIND[,KIND]",
                     help="Refuse these kinds (Kind or apiVersion/Kind)."),
        click.option("--schema-engine", type=click.Choice(ENGINES), default=None,
                     help="auto: kubeconform when found, else embedded (default auto)."),
        click.option("--kubeconform", metavar="PATH", help="A kubeconform binary to use."),
    ]
    return stacked(decorators)
