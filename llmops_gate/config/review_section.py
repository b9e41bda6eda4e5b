"""The `review:` section of `.llmops-gate.yaml`: its JSON Schema and defaults (read by
`llmops_gate.review.settings`)."""

from __future__ import annotations

from typing import Any

GITHUB_LIMIT = 65536
GITLAB_LIMIT = 1_000_000

# Written by tools, not by whoever changes the repo: a change in them is not a change to review.
DEFAULT_LABELS = ("app.kubernetes.io/managed-by", "helm.sh/chart")
DEFAULT_ANNOTATIONS = (
    "config.kubernetes.io/origin",
    "alpha.config.kubernetes.io/transformations",
    "internal.config.kubernetes.io/*",
    "config.k8s.io/id",
    "kubectl.kubernetes.io/last-applied-configuration",
    "argocd.argoproj.io/tracking-id",
)

_STRINGS = {"type": "array", "items": {"type": "string"}}

REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "What `llmops-gate review` leaves out of rendered diffs, and how long its "
                   "pull-request comment may be.",
    "properties": {
        "hash_suffixes": {"type": "boolean",
                          "description": "Compare generated ConfigMaps and Secrets without "
                                         "Kustomize's name hash suffix (default true)."},
        "labels": {**_STRINGS,
                   "description": "Label keys (glob patterns) left out of diffs (default: "
                                  "app.kubernetes.io/managed-by, helm.sh/chart)."},
        "annotations": {**_STRINGS,
                        "description": "Annotation keys (glob patterns) left out of diffs "
                                       "(default: Kustomize's origin and transformer "
                                       "annotations, last-applied-configuration, ArgoCD's "
                                       "tracking id)."},
        "argocd_ignore_differences": {
            "type": "boolean",
            "description": "Leave out the `jsonPointers` that the `ignoreDifferences` of the "
                           "Application deploying an overlay names (default true)."},
        "ignore_fields": {
            "type": "array",
            "description": "More fields left out of diffs: a JSON pointer, for resources of "
                           "a kind (and name glob) or for every resource.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["pointer"],
                "properties": {
                    "pointer": {"type": "string", "pattern": "^/",
                                "description": "JSON pointer (`/spec/template/metadata`)."},
                    "kind": {"type": "string", "description": "Only this kind."},
                    "name": {"type": "string", "description": "Only names matching this glob."},
                },
            },
        },
        "max_chars": {
            "type": "object",
            "additionalProperties": False,
            "description": "Longest comment body per forge (GitHub's limit is 65536, "
                           "GitLab's 1000000 characters).",
            "properties": {
                "github": {"type": "integer", "minimum": 2000, "maximum": GITHUB_LIMIT},
                "gitlab": {"type": "integer", "minimum": 2000, "maximum": GITLAB_LIMIT},
            },
        },
    },
}
