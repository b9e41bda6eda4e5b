"""The `review:` section of `.llmops-gate.yaml` as settings (its schema is in
`llmops_gate.config.review_section`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmops_gate.config.review_section import (
    DEFAULT_ANNOTATIONS,
    DEFAULT_LABELS,
    GITHUB_LIMIT,
    GITLAB_LIMIT,
)


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
