"""The JSON Schema of the `policy` sections of `.llmops-gate.yaml` (top level and per environment).

Kept apart from the policy validator so `config.py` can use it without importing the validator.
The top-level `policy` applies to every environment; an environment's own `policy` overrides
it key by key (bounds field by field). Custom rules are declared only at the top level.
"""

from __future__ import annotations

from typing import Any

SEVERITY_NAMES = ("error", "warning", "info")

_QUANTITY: dict[str, Any] = {
    "type": ["string", "number"],
    "description": "A Kubernetes quantity (`500m`, `2`, `6Gi`).",
}

_BOUND: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"min": _QUANTITY, "max": _QUANTITY},
    "description": "Inclusive bounds; either may be left out.",
}

_CPU_MEMORY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"cpu": _BOUND, "memory": _BOUND},
}

_RULE_SETTING: dict[str, Any] = {
    "description": "`off` (YAML reads a bare off as false: both switch the rule off), a "
                   "severity, or `{severity: ..., <option>: ...}` with the rule's options (see "
                   "`llmops-gate rules`).",
    "oneOf": [
        {"enum": ["off", *SEVERITY_NAMES]},
        {"type": "boolean"},
        {
            "type": "object",
            "properties": {"severity": {"enum": ["off", False, *SEVERITY_NAMES]}},
        },
    ],
}

POLICY_PROPERTIES: dict[str, Any] = {
    "rules": {
        "type": "object",
        "description": "Per rule id: switch it off, change its severity, set its options.",
        "additionalProperties": _RULE_SETTING,
    },
    "requests": {**_CPU_MEMORY, "description": "Bounds for CPU and memory requests."},
    "limits": {**_CPU_MEMORY, "description": "Bounds for CPU and memory limits."},
    "replicas": {
        "type": "object",
        "additionalProperties": False,
        "description": "Bounds for replicas (Deployment `replicas`, InferenceService "
                       "`minReplicas`/`maxReplicas`). Production defaults to min 2.",
        "properties": {"min": {"type": "integer", "minimum": 0},
                       "max": {"type": "integer", "minimum": 0}},
    },
    "allowed-registries": {
        "type": "array", "items": {"type": "string"},
        "description": "Registries (or registry/path prefixes) images and `oci://` model URIs "
                       "may come from; empty or absent allows any.",
    },
    "require-digest": {"type": "boolean",
                       "description": "Container images must be pinned by `@sha256:` digest."},
    "require-model-digest": {"type": "boolean",
                             "description": "`oci://` model URIs must be pinned by digest."},
    "accelerators": {
        "type": "array", "items": {"type": "string"},
        "description": "Extended resources that mean an accelerator (default "
                       "`nvidia.com/gpu`, `amd.com/gpu`, `habana.ai/gaudi`).",
    },
    "allow-auto-sync": {"type": "boolean",
                        "description": "The environment's Application may sync automatically "
                                       "(default: only the first/dev environment)."},
    "require-pinned-revision": {"type": "boolean",
                                "description": "The Application's `targetRevision` must be a "
                                               "tag or a commit, not a branch."},
    "allow-cluster-scoped": {
        "type": "array", "items": {"type": "string"},
        "description": "Cluster-scoped kinds the environment's overlays may render.",
    },
    "waivers": {
        "type": "object",
        "additionalProperties": False,
        "description": "Which `llmops-gate.io/ignore` waivers are accepted.",
        "properties": {
            "allowed": {"type": "boolean", "description": "Accept waivers at all (default true)."},
            "refuse": {"type": "array", "items": {"type": "string"},
                       "description": "Rule ids whose waivers are refused (`*` for all)."},
        },
    },
}

_CUSTOM_RULE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "field", "assert"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
        "description": {"type": "string"},
        "why": {"type": "string"},
        "fix": {"type": "string"},
        "severity": {"enum": list(SEVERITY_NAMES)},
        "match": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "kinds": {"type": "array", "items": {"type": "string"}},
                "environments": {"type": "array", "items": {"type": "string"}},
                "names": {"type": "array", "items": {"type": "string"},
                          "description": "Glob patterns of rendered names."},
            },
        },
        "field": {"type": "string",
                  "description": "Dotted path; `[0]`/`[*]` index lists, `[\"a.b/c\"]` "
                                 "quotes keys."},
        "assert": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "exists": {"type": "boolean"},
                "equals": {},
                "in": {"type": "array"},
                "matches": {"type": "string"},
                "<=": {"type": ["string", "number"]},
                ">=": {"type": ["string", "number"]},
            },
        },
    },
}

POLICY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Policy settings for every environment (an environment's `policy` "
                   "overrides them).",
    "properties": {
        **POLICY_PROPERTIES,
        "custom-rules": {"type": "array", "items": _CUSTOM_RULE,
                         "description": "Rules declared without code."},
    },
}

ENV_POLICY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "This environment's policy; overrides the top-level `policy` key by key.",
    "properties": POLICY_PROPERTIES,
}
