"""Promotions as the commit trailers of a branch record them (`history`, `rollback`, `status`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmops_gate.gitops.git import Repo, parse_trailers


@dataclass(frozen=True)
class Promotion:
    sha: str
    when: int
    author: str
    subject: str
    source: str
    targets: tuple[str, ...]
    source_commit: str
    promotion_id: str
    rollback_of: str | None

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.sha, "time": self.when, "author": self.author,
                "subject": self.subject, "from": self.source, "to": list(self.targets),
                "sourceCommit": self.source_commit, "promotionId": self.promotion_id,
                "rollbackOf": self.rollback_of}


def promotions(repo: Repo, env: str | None = None) -> list[Promotion]:
    out = []
    for sha, author, when, message in repo.log_messages():
        t = parse_trailers(message)
        pid = t.get("Promotion-Id")
        if not pid:
            continue
        targets = tuple(x.strip() for x in (t.get("Promoted-To") or "").split(",") if x.strip())
        if env and env not in targets:
            continue
        out.append(Promotion(sha=sha, when=when, author=author,
                             subject=message.strip().splitlines()[0], source=t.get(
                                 "Promoted-From") or "", targets=targets,
                             source_commit=t.get("Source-Commit") or "", promotion_id=pid,
                             rollback_of=t.get("Rollback-Of")))
    return out
