"""Shared helpers for the review tests: Git histories of the example and of upstream's seed
repo, and running `review` on them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsonschema

from llmops_gate.review.report import schema
from tests.conftest import CliResult, copy_tree, git, init_git_repo, need_shared, run_cli
from tests.gitops.helpers import SEED_CONFIG

OVERLAYS = "deploy_model/overlays"


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def seed_history(dest: Path, *states: str) -> Path:
    """A Git repo whose commits are upstream's states `states` (folders of
    ../shared/corpus/seed-repo/revisions), one commit each, in order."""
    revisions = need_shared("corpus", "seed-repo", "revisions")
    repo = copy_tree(revisions / states[0], dest)
    (repo / ".llmops-gate.yaml").write_text(SEED_CONFIG)
    init_git_repo(repo, f"upstream {states[0]}")
    for state in states[1:]:
        shutil.rmtree(repo / "deploy_model")
        copy_tree(revisions / state / "deploy_model", repo / "deploy_model")
        commit_all(repo, f"upstream {state}")
    return repo


def review_json(repo: Path, *args: str) -> dict[str, Any]:
    result = run_cli("review", repo, *args, "--format", "json")
    assert result.code == 0, result.stderr
    data: dict[str, Any] = __import__("json").loads(result.stdout)
    jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)
    return data


def review_cli(repo: Path, *args: str | Path) -> CliResult:
    return run_cli("review", repo, *args)


def changed(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """path -> unit, for the units the review found changed."""
    return {u["path"]: u for u in data["units"] if u["status"] != "unchanged"}


def facts(unit: dict[str, Any]) -> list[str]:
    return [f["text"] for f in unit["release"]]


def diff_lines(unit: dict[str, Any], sign: str) -> list[str]:
    """The added (`+`) or removed (`-`) lines of a unit's resource diffs, headers left out."""
    out = []
    for res in unit["resources"]:
        for line in res["diff"].splitlines():
            if line.startswith(sign) and not line.startswith(sign * 3):
                out.append(line)
    return out
