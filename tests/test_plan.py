"""`llmops-gate plan --changed-since` and `validate --changed-since` through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate import validators
from tests.conftest import (
    EXAMPLE,
    EXAMPLE_MANIFESTS,
    copy_tree,
    findings,
    git,
    init_git_repo,
    run_cli,
    summary,
)

DEV = "deploy_model/overlays/dev"
STAGING = "deploy_model/overlays/staging"
PROD = "deploy_model/overlays/production"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_git_repo(copy_tree(EXAMPLE, tmp_path / "repo"))


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_plan_json_shape_for_an_overlay_change(repo: Path) -> None:
    append(repo / STAGING / "size.yaml", "# touched\n")
    git(repo, "commit", "-qam", "staging")
    result = run_cli("plan", "--changed-since", "HEAD~1", repo)
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["base"] == "HEAD~1"
    assert data["mergeBase"] == git(repo, "rev-parse", "HEAD~1").strip()
    assert data["all"] is False
    assert data["overlays"] == [{"path": STAGING, "environment": "staging"}]
    assert data["manifests"] == []
    assert data["removed"] == []
    assert data["skipped"] == 2 + EXAMPLE_MANIFESTS
    assert data["validators"] == validators.names()
    assert data["overlayPaths"] == [STAGING]


def test_plan_base_change_selects_all_three(repo: Path) -> None:
    append(repo / "deploy_model/base/inferenceservice.yaml", "# touched\n")
    data = run_cli("plan", "--changed-since", "HEAD", repo).json()
    assert [o["path"] for o in data["overlays"]] == [DEV, STAGING, PROD]
    assert data["all"] is False


def test_plan_apps_change_selects_the_apps_manifests(repo: Path) -> None:
    append(repo / "argocd-apps/dev-application.yaml", "# touched\n")
    data = run_cli("plan", "--changed-since", "HEAD", repo).json()
    assert data["overlays"] == []
    assert data["manifests"] == [{"path": "argocd-apps/dev-application.yaml",
                                  "environment": "dev"}]


def test_plan_config_change_selects_everything_and_lists_removed(repo: Path) -> None:
    git(repo, "rm", "-rq", "argocd-apps/production-application.yaml")
    append(repo / ".llmops-gate.yaml", "# reviewed\n")
    data = run_cli("plan", "--changed-since", "HEAD", repo).json()
    assert data["all"] is True
    assert data["reason"] == ".llmops-gate.yaml changed"
    assert len(data["overlays"]) == 3
    assert data["removed"] == [{"path": "argocd-apps/production-application.yaml",
                                "environment": "production", "kind": "manifest"}]


def test_plan_without_changed_since_selects_everything() -> None:
    data = run_cli("plan", EXAMPLE).json()
    assert data["all"] is True and data["base"] is None
    assert len(data["overlays"]) == 3 and len(data["manifests"]) == EXAMPLE_MANIFESTS


def test_plan_bad_revision_exits_2(repo: Path) -> None:
    result = run_cli("plan", "--changed-since", "nope", repo)
    assert result.code == 2
    assert "unknown revision 'nope'" in result.stderr


def test_validate_changed_since_reports_skipped_units(repo: Path) -> None:
    append(repo / PROD / "size.yaml", "# touched\n")
    result = run_cli("validate", "--changed-since", "HEAD", "--format", "json", repo)
    assert result.code == 0, result.stdout + result.stderr
    s = summary(result)
    assert (s["overlays"], s["manifests"], s["skipped"]) == (1, 0, 2 + EXAMPLE_MANIFESTS)
    assert [o["path"] for o in result.json()["overlays"]] == [PROD]
    text = run_cli("validate", "--changed-since", "HEAD", repo)
    assert f"{2 + EXAMPLE_MANIFESTS} skipped (unchanged)" in text.stdout


def test_validate_changed_since_finds_the_defect_in_the_changed_overlay(repo: Path) -> None:
    # A lint error in an unchanged base file stays out of a run about one overlay...
    append(repo / "deploy_model/base/kustomization.yaml", "configurations: []\n")
    git(repo, "commit", "-qam", "duplicate key in base")
    (repo / DEV / "size.yaml").write_text("apiVersion: v1\nkind: [\n", encoding="utf-8")
    result = run_cli("validate", "--changed-since", "HEAD", "--format", "json", repo)
    assert result.code == 1
    assert summary(result)["skipped"] == 2 + EXAMPLE_MANIFESTS
    files = {(f["validator"], f["file"]) for f in findings(result)}
    # the build error points at the broken patch file itself
    assert ("build", f"{DEV}/size.yaml") in files
    assert ("lint", f"{DEV}/size.yaml") in files
    # ...except where the changed overlay reads it: the base is in its closure (duplicate
    # keys are the `parse` validator's).
    assert ("parse", "deploy_model/base/kustomization.yaml") in files
    assert all(f["overlay"] in (DEV, None) for f in findings(result))


def test_validate_nothing_changed_passes_with_everything_skipped(repo: Path) -> None:
    result = run_cli("validate", "--changed-since", "HEAD", "--format", "json", repo)
    assert result.code == 0, result.stderr
    s = summary(result)
    assert (s["overlays"], s["manifests"], s["skipped"]) == (0, 0, 3 + EXAMPLE_MANIFESTS)
