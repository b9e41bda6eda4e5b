"""The schema flags shared by `validate` and `schema` (the config section they mirror is
`llmops_gate.config.schema_section`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from llmops_gate.config.schema_section import ENGINES

F = TypeVar("F", bound=Callable[..., Any])

def schema_options(skip: str = "--skip-kind", reject: str = "--reject-kind") -> Callable[[F], F]:
    """Add the schema flags; their values reach the validator through `Options.settings`
    under the names `strict`, `kubernetes_version`, `schema_locations`,
    `ignore_missing_schemas`, `skip_kinds`, `reject_kinds`, `schema_engine`, `kubeconform`."""
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

    def apply(func: F) -> F:
        for deco in reversed(decorators):
            func = deco(func)
        return func

    return apply
