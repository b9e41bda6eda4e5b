"""The schema flags shared by `validate` and `schema`, and the `schema` config section.

Cheap to import (click only), so it lives outside the validators package, whose import pulls
in the whole engine: `cli.py` and `config.py` import it at load time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

ENGINES = ("auto", "embedded", "kubeconform")

# The `schema` section of .llmops-gate.yaml (merged into config.CONFIG_SCHEMA).
CONFIG_SECTION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Schema validation settings.",
    "properties": {
        "strict": {"type": "boolean",
                   "description": "Unknown fields are errors (default true)."},
        "kubernetes_version": {"type": "string",
                               "description": "Kubernetes version of the built-in schemas "
                                              "(default: the newest shipped)."},
        "locations": {"type": "array", "items": {"type": "string"},
                      "description": "Schema locations, as --schema-location; relative "
                                     "paths start at the repo root (default: [default])."},
        "ignore_missing_schemas": {"type": "boolean",
                                   "description": "A resource with no schema is a warning, "
                                                  "not an error."},
        "skip_kinds": {"type": "array", "items": {"type": "string"},
                       "description": "Kinds (or apiVersion/Kind) not validated."},
        "reject_kinds": {"type": "array", "items": {"type": "string"},
                         "description": "Kinds (or apiVersion/Kind) refused outright."},
        "engine": {"enum": list(ENGINES),
                   "description": "auto (kubeconform when found), embedded or kubeconform."},
        "kubeconform": {"type": "string", "description": "A kubeconform binary."},
    },
}


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


SCHEMA_FLAG_NAMES = ("strict", "kubernetes_version", "schema_locations",
                     "ignore_missing_schemas", "skip_kinds", "reject_kinds", "schema_engine",
                     "kubeconform")
