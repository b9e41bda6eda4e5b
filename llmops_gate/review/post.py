"""Keeping the tool's one review comment on a pull/merge request up to date.

Each comment the tool writes starts with a hidden marker naming its part
(`<!-- llmops-gate:review:1 -->`); a run finds its earlier comments by it and edits them in
place, so the thread never fills with stale reviews. A part whose text is already what the
run would write is left alone (no request at all); parts an earlier, longer review used and
this one does not are edited down to a line saying so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmops_gate.config import load_config
from llmops_gate.errors import GateError
from llmops_gate.gitops import forge
from llmops_gate.repo.git import git_text
from llmops_gate.review.markdown import MARKER, markers


@dataclass(frozen=True)
class Target:
    forge: forge.Forge
    number: int


def pr_from_env(environ: Mapping[str, str]) -> int | None:
    """The pull/merge request number CI systems put in the environment."""
    for name in ("LLMOPS_GATE_PR", "CI_MERGE_REQUEST_IID", "PULL_REQUEST_NUMBER"):
        value = environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    m = re.match(r"^refs/pull/(\d+)/", environ.get("GITHUB_REF", ""))
    return int(m.group(1)) if m else None


def _remote_url(repo: Path, remote: str) -> str | None:
    """The remote's URL, or None when there is none to tell the forge by (no such remote, no
    Git, not a repository)."""
    if remote.startswith("-"):
        return None
    try:
        return git_text(repo, "remote", "get-url", remote, needed_for="--post").strip() or None
    except GateError:
        return None


def resolve_target(repo: Path, remote: str, number: int | None, provider: str | None,
                   environ: Mapping[str, str] | None = None, repository: str | None = None,
                   api_url: str | None = None) -> Target:
    """Where --post writes: the forge (from `promotion.forge` in the config, else the remote's
    URL) and the request number. Resolved before any rendering, so a missing token fails
    fast."""
    env = os.environ if environ is None else environ
    config = load_config(repo)
    settings = dict(config.section("promotion").get("forge") or {})
    for key, value in (("provider", provider), ("repository", repository),
                       ("api_url", api_url)):
        if value:
            settings[key] = value
    target = forge.resolve(settings, _remote_url(repo, remote), env, what="--post")
    number = number or pr_from_env(env)
    if number is None:
        raise GateError("--post: which pull/merge request? Pass --pr NUMBER (or run where "
                        "GITHUB_REF, CI_MERGE_REQUEST_IID or PULL_REQUEST_NUMBER tells)")
    return Target(forge=target, number=number)


def _same(a: str, b: str) -> bool:
    return a.replace("\r\n", "\n").rstrip() == b.replace("\r\n", "\n").rstrip()


def unused_part(part: int, parts: int) -> str:
    return (f"{MARKER.format(part=part)}\n_llmops-gate review: this part is no longer used; "
            f"the review now has {parts} part(s)._\n")


def post(target: Target, parts: Sequence[str]) -> list[str]:
    """Create or update the review's comments; one line per comment saying what was done."""
    f, n = target.forge, target.number
    mine: dict[int, forge.Comment] = {}
    for comment in forge.list_comments(f, n):
        found = markers(comment.body)
        if found and comment.body.lstrip().startswith("<!-- llmops-gate:review:"):
            mine.setdefault(found[0], comment)
    lines: list[str] = []
    total = len(parts)
    wanted = {i: body for i, body in enumerate(parts, start=1)}
    for i in sorted(mine):
        if i > total:
            wanted[i] = unused_part(i, total)
    for i, body in sorted(wanted.items()):
        label = f" (part {i}/{total})" if total > 1 or i > total else ""
        old = mine.get(i)
        if old is None:
            new = forge.create_comment(f, n, body)
            lines.append(f"created review comment {new.id}{label}")
        elif _same(old.body, body):
            lines.append(f"review comment {old.id} already up to date{label}")
        else:
            forge.update_comment(f, n, old.id, body)
            lines.append(f"updated review comment {old.id}{label}")
    return lines
