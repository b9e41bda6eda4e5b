"""Pushing a promotion: sync with the remote first, then push; on a rejected push (others
promoted meanwhile) re-plan on the new remote tip, a bounded number of times."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmops_gate.errors import GateError
from llmops_gate.gitops import forge, journal
from llmops_gate.gitops.git import Repo
from llmops_gate.gitops.plan import Request
from llmops_gate.gitops.run import Outcome, run
from llmops_gate.gitops.snapshot import Say, Tree
from llmops_gate.gitops.values import Rules
from llmops_gate.repo.git import GitFailed

# What Git prints when a push lost a race (as opposed to failing for another reason).
REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "failed to push some refs",
            "stale info", "[remote rejected]")


@dataclass
class PushOptions:
    remote: str
    retries: int


def retries(repo: Path) -> int:
    """How many rejected pushes to re-plan after (`promotion.push_retries`)."""
    from llmops_gate.config import load_config

    return Rules.from_config(load_config(repo)).retries


def fetch(repo: Repo, remote: str, branch: str) -> str | None:
    """Fetch `remote`; the remote tip of `branch`, or None when it has no such branch."""
    try:
        repo.run("fetch", "-q", remote)
    except GitFailed as exc:
        raise GateError(f"cannot reach remote '{remote}': {exc}; nothing was changed") from None
    try:
        return repo.run("rev-parse", "--verify", "-q",
                        f"refs/remotes/{remote}/{branch}").strip() or None
    except GitFailed:
        return None


def sync_before(repo_path: Path, remote: str) -> None:
    """Before promoting with --push: refuse a diverged branch, fast-forward a behind one."""
    repo = Repo(repo_path)
    try:
        branch = repo.branch()
        if branch is None:
            raise GateError("HEAD is detached: check out the branch to promote on first")
        tip = fetch(repo, remote, branch)
        head = repo.head_sha()
        if tip is None or tip == head or repo.is_ancestor(tip, head):
            return
        if repo.is_ancestor(head, tip):
            try:
                repo.run("merge", "-q", "--ff-only", tip)
            except GitFailed as exc:
                raise GateError(f"'{branch}' is behind {remote}/{branch} and cannot be "
                                f"fast-forwarded: {exc}") from None
            return
        raise GateError(f"'{branch}' has diverged from {remote}/{branch}: pull (or rebase) and "
                        "resolve first; nothing was changed")
    finally:
        repo.close()


def push_loop(request: Request, push: PushOptions, run_hooks: bool, say: Say) -> Outcome:
    """Promote and push; on a rejected push, re-plan on the new remote tip (bounded)."""
    sync_before(request.repo, push.remote)
    attempt = 0
    while True:
        outcome = run(request, say)
        if outcome.status == "dry-run":
            return outcome
        repo = Repo(request.repo)
        try:
            branch = repo.branch()
            assert branch is not None
            request.branch = None if request.branch is None else branch
            tip = fetch(repo, push.remote, branch)
            head = repo.head_sha()
            if tip == head or (tip is not None and repo.is_ancestor(head, tip)):
                return outcome
            journal.checkpoint("push")
            try:
                repo.run("push", "--porcelain", push.remote, f"HEAD:refs/heads/{branch}",
                         hooks=run_hooks)
                return outcome
            except GitFailed as exc:
                text = str(exc)
                if not any(marker in text for marker in REJECTED):
                    raise GateError(f"committed locally as {head[:7]} on '{branch}', but the "
                                    f"push to {push.remote} failed: {text}. Rerun with --push "
                                    "to push it") from None
                if attempt >= push.retries:
                    raise GateError(
                        f"the push to {push.remote}/{branch} was rejected {attempt + 1} times "
                        f"(others promoted meanwhile). Local '{branch}' has the promotion "
                        f"commit {head[:7]}; run `git pull --rebase` and push, or rerun "
                        "`llmops-gate promote --push`") from None
            attempt += 1
            tip = fetch(repo, push.remote, branch)
            say(f"push rejected: {push.remote}/{branch} moved; re-planning on "
                f"{(tip or '')[:7]} (attempt {attempt + 1} of {push.retries + 1})")
            if outcome.status == "promoted" and tip is not None:
                # Drop our commit (only target overlay files) and start from the new tip.
                repo.run("reset", "-q", "--keep", tip)
            elif tip is not None:
                repo.run("merge", "-q", "--ff-only", tip)
        finally:
            repo.close()


def forge_target(request: Request, remote: str) -> forge.Forge:
    """Where --open-pr opens its request; resolved before anything is committed or pushed,
    so a missing token or forge setting changes nothing."""
    repo = Repo(request.repo)
    try:
        try:
            url = repo.run("remote", "get-url", remote).strip()
        except GitFailed:
            url = None
        tree_rules = Rules.from_config(Tree.open(repo.root, request.kustomize).config)
    finally:
        repo.close()
    return forge.resolve(tree_rules.forge, url)


def open_request(target: forge.Forge, outcome: Outcome, body: str) -> str | None:
    """Open the pull/merge request of a promotion (titled with the commit's subject); its
    link, or None if nothing was promoted."""
    if outcome.status != "promoted" or outcome.plan is None:
        return None
    subject = outcome.text.partition("\n")[0]
    return forge.open_request(target, head=str(outcome.branch), base=str(outcome.base_branch),
                              title=subject, body=body)
