"""The `review:` section of `.llmops-gate.yaml`: its schema (part of the config's) and defaults.

Nothing here imports the config module, so the config can include this schema.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class IgnoreField:
    pointer: str
    kind: str | None = None
    name: str | None = None

    def applies(self, kind: str, name: str) -> bool:
        if self.kind is not None and self.kind != kind:
            return False
        return self.name is None or fnmatch.fnmatchcase(name, self.name)


@dataclass(frozen=True)
class ReviewSettings:
    hash_suffixes: bool = True
    labels: tuple[str, ...] = DEFAULT_LABELS
    annotations: tuple[str, ...] = DEFAULT_ANNOTATIONS
    argocd_ignore_differences: bool = True
    ignore_fields: tuple[IgnoreField, ...] = ()
    github_limit: int = GITHUB_LIMIT
    gitlab_limit: int = GITLAB_LIMIT

    @classmethod
    def from_section(cls, s: Mapping[str, Any]) -> ReviewSettings:
        limits = s.get("max_chars") or {}
        return cls(
            hash_suffixes=bool(s.get("hash_suffixes", True)),
            labels=tuple(s.get("labels", DEFAULT_LABELS)),
            annotations=tuple(s.get("annotations", DEFAULT_ANNOTATIONS)),
            argocd_ignore_differences=bool(s.get("argocd_ignore_differences", True)),
            ignore_fields=tuple(IgnoreField(pointer=str(f["pointer"]), kind=f.get("kind"),
                                            name=f.get("name"))
                                for f in s.get("ignore_fields") or ()),
            github_limit=int(limits.get("github", GITHUB_LIMIT)),
            gitlab_limit=int(limits.get("gitlab", GITLAB_LIMIT)),
        )

    def limit(self, provider: str) -> int:
        return self.gitlab_limit if provider == "gitlab" else self.github_limit
