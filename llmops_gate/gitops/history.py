"""Promotions as the commit trailers of a branch record them (`history`, `rollback`,
`status`), and the rollback of one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops_gate.errors import GateError
from llmops_gate.gitops.git import Repo, parse_trailers
from llmops_gate.gitops.plan import Plan, Request, source_values
from llmops_gate.gitops.snapshot import Tree
from llmops_gate.gitops.values import Key, Rules
from llmops_gate.repo.git import GitFailed
from llmops_gate.yamlio import fsutil


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


def read_promotions(repo: Path, env: str | None = None) -> list[Promotion]:
    r = Repo(repo)
    try:
        return promotions(r, env)
    finally:
        r.close()


def rollback_request(repo: Path, env: str, promotion_id: str | None, *, author: str | None,
                     run_hooks: bool, dry_run: bool, validate: bool,
                     kustomize: str | None) -> tuple[Request, Promotion]:
    """The promotion run that restores `env`'s promoted values to what they were before
    `promotion_id` (default: its last promotion), and that promotion."""
    found = read_promotions(repo, env)
    if promotion_id:
        found = [p for p in found if p.promotion_id == promotion_id]
        if not found:
            raise GateError(f"no promotion '{promotion_id}' into '{env}' in this branch's "
                            "history (see `llmops-gate history`)")
    if not found:
        raise GateError(f"no promotion into '{env}' in this branch's history")
    target = found[0]
    r = Repo(repo)
    try:
        parent = r.run("rev-parse", "--verify", "-q", f"{target.sha}^").strip()
    except GitFailed:
        raise GateError(f"promotion {target.promotion_id} has no parent commit to return "
                        "to") from None
    finally:
        r.close()

    def values_from(tree: Tree, rules: Rules) -> tuple[str, dict[Key, dict[str, Any]]]:
        if env not in tree.chain.names:
            raise GateError(f"unknown environment '{env}' (known: {tree.chain.describe()})")
        r2 = Repo(repo)
        try:
            with fsutil.temp_dir("llmops-gate-rollback-") as tmp:
                old_root = Path(tmp) / "tree"
                old_root.mkdir()
                r2.export(parent, old_root)
                old = Tree.open(old_root, kustomize, origin=Path(repo).resolve())
                return env, source_values(old.render(env, "environment (before)"), rules)
        finally:
            r2.close()

    def message(plan: Plan, pid: str) -> str:
        lines = [f"rollback: {env} to before {target.promotion_id}", ""]
        lines += [c.line() for c in plan.changes]
        lines += ["", *plan.notes()] if plan.notes() else []
        lines += ["", f"Promoted-From: {env}", f"Promoted-To: {env}",
                  f"Source-Commit: {parent}", f"Promotion-Id: {pid}",
                  f"Rollback-Of: {target.promotion_id}"]
        return "\n".join(lines) + "\n"

    request = Request(repo=repo, targets=[env], dry_run=dry_run, author=author,
                      run_hooks=run_hooks, kustomize=kustomize, values_from=values_from,
                      message=message, validate=validate)
    return request, target
