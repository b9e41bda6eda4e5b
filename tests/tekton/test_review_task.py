"""The `llmops-gate-review` Task, executed by the harness with the real CLI and Git, posting to
a comment-keeping HTTP server on 127.0.0.1 with the token from PaC's Secret key."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import EXAMPLE, copy_tree, git, init_git_repo
from tests.gitops.test_forge import TOKEN
from tests.review.helpers import commit_all
from tests.review.test_review_post import Comments, forge_server  # noqa: F401 (the fixture)
from tests.tekton.conftest import TEKTON
from tests.tekton.harness import load_task, run_task

REVIEW = load_task(TEKTON / "tasks/llmops-gate-review.yaml")


def _repo(tmp_path: Path) -> tuple[Path, str]:
    repo = init_git_repo(copy_tree(EXAMPLE, tmp_path / "repo"))
    base = git(repo, "rev-parse", "HEAD").strip()
    size = repo / "deploy_model/overlays/staging/size.yaml"
    size.write_text(size.read_text().replace("maxReplicas: 2", "maxReplicas: 3"))
    commit_all(repo, "staging: one more replica")
    return repo, base


def test_review_task_writes_the_review_and_its_results(tmp_path: Path, image_path: str) -> None:
    repo, base = _repo(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    run = run_task(REVIEW, {"base": base}, {"source": repo, "reports": reports},
                   work=tmp_path / "work", path=image_path, name="review-1")
    assert run.succeeded, run.log
    assert run.results["changed"] == "1"
    # staging's policy allows at most 2 replicas: the head's validation says so, with file:line.
    assert run.results["errors"] == "1"
    assert run.results["comment"] == "not posted"
    assert "replicas (maxReplicas): 2 -\\> 3" in run.log
    assert "**Validation of the head**: failed, 1 error(s), 0 warning(s)" in run.log
    assert "`deploy_model/overlays/staging/size.yaml:" in run.log
    data = json.loads((reports / "review-1-review.json").read_text())
    assert [u["path"] for u in data["units"] if u["status"] == "changed"] == [
        "deploy_model/overlays/staging"]
    assert (reports / "review-1-review.md").read_text().startswith(
        "<!-- llmops-gate:review:1 -->")


def test_review_task_posts_once_and_then_keeps_the_comment(
        tmp_path: Path, image_path: str, forge_server: str) -> None:  # noqa: F811
    repo, base = _repo(tmp_path)
    params = {"base": base, "post": "true", "pr-number": "12", "provider": "github",
              "repository": "acme/gitops", "api-url": forge_server,
              "token-secret": "pac-gitauth-acme-gitops-x1y2", "token-key": "git-provider-token"}
    secrets = {"pac-gitauth-acme-gitops-x1y2": {"git-provider-token": TOKEN}}
    first = run_task(REVIEW, params, {"source": repo}, work=tmp_path / "w1", path=image_path,
                     secrets=secrets)
    assert first.succeeded, first.log
    assert first.results["comment"].startswith("created review comment ")
    assert TOKEN not in first.log
    [comment] = Comments.store.values()
    assert comment["number"] == 12
    second = run_task(REVIEW, params, {"source": repo}, work=tmp_path / "w2", path=image_path,
                      secrets=secrets)
    assert second.succeeded, second.log
    assert second.results["comment"] == f"review comment {comment['id']} already up to date"
    assert len(Comments.store) == 1


def test_the_pipeline_and_the_pac_run_post_the_review() -> None:
    pipeline = yaml.safe_load((TEKTON / "pipelines/pr-validation.yaml").read_text())
    tasks = {t["name"]: t for t in pipeline["spec"]["tasks"]}
    review = tasks["review"]
    assert review["taskRef"] == {"name": "llmops-gate-review"}
    assert review["runAfter"] == ["fetch-source"]
    params = {p["name"]: p["value"] for p in review["params"]}
    assert params["base"] == "origin/$(params.target-branch)"
    assert params["post"] == "$(params.post-review)"
    run = yaml.safe_load((TEKTON / "pipelines-as-code/pr-validation.yaml").read_text())
    given = {p["name"]: p["value"] for p in run["spec"]["params"]}
    assert given["post-review"] == "true"
    assert given["pr-number"] == "{{ pull_request_number }}"
    assert given["review-token-secret"] == "{{ git_auth_secret }}"
    assert given["review-token-key"] == "git-provider-token"
