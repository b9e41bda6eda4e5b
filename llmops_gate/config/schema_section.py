"""The `schema` section of `.llmops-gate.yaml` and the schema engines: plain data, imported by
the config loader, the schema validator and the command line alike."""

from __future__ import annotations

from typing import Any

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

SCHEMA_FLAG_NAMES = ("strict", "kubernetes_version", "schema_locations",
                     "ignore_missing_schemas", "skip_kinds", "reject_kinds", "schema_engine",
                     "kubeconform")
