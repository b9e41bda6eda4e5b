"""`llmops-gate init`: a new GitOps repo that validates at once, written all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from llmops_gate.commands import LAZY_COMMANDS
from tests.conftest import findings, git, init_git_repo, run_cli, summary

EXPECTED_FILES = {
    ".llmops-gate.yaml", ".pre-commit-config.yaml", ".tekton/pull-request.yaml", ".yamllint",
    "README.md",
    "argocd-apps/dev-application.yaml", "argocd-apps/staging-application.yaml",
    "argocd-apps/production-application.yaml",
    "deploy_model/base/kustomization.yaml", "deploy_model/base/kustomizeconfig.yaml",
    "deploy_model/base/inferenceservice.yaml", "deploy_model/base/servingruntime.yaml",
    "deploy_model/base/model-connection.yaml",
    *(f"deploy_model/overlays/{env}/{name}.yaml" for env in ("dev", "staging", "production")
      for name in ("kustomization", "size")),
}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file outside .git with its bytes and modification time."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(folder).parts}


def load(path: Path) -> Any:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("init") / "my-gitops"
    result = run_cli("init", folder)
    assert result.code == 0, result.stderr
    assert "wrote 19 files" in result.stdout
    return folder


def test_init_writes_the_whole_repo_and_it_validates_clean(scaffold: Path) -> None:
    assert set(snapshot(scaffold)) == EXPECTED_FILES
    result = run_cli("validate", scaffold, "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    s = summary(result)
    assert (s["overlays"], s["errors"], s["passed"]) == (3, 0, True)
    assert s["manifests"] == 4  # three Applications and the PipelineRun
    assert [f for f in findings(result) if f["validator"] == "lint"] == []


def test_scaffold_sync_policy_environments_and_hooks(scaffold: Path) -> None:
    apps = {env: load(scaffold / f"argocd-apps/{env}-application.yaml")
            for env in ("dev", "staging", "production")}
    sync = {env: app["spec"]["syncPolicy"] for env, app in apps.items()}
    assert sync["dev"]["automated"] == {"prune": True, "selfHeal": True}
    assert "automated" not in sync["staging"] and "automated" not in sync["production"]
    assert {app["spec"]["destination"]["namespace"] for app in apps.values()} == {
        "llmops-dev", "llmops-staging", "llmops-production"}
    config = load(scaffold / ".llmops-gate.yaml")
    assert [e["name"] for e in config["environments"]] == ["dev", "staging", "production"]
    hooks = load(scaffold / ".pre-commit-config.yaml")["repos"][0]["hooks"]
    assert [h["id"] for h in hooks] == ["llmops-gate-lint", "llmops-gate-validate"]
    prod = load(scaffold / "deploy_model/overlays/production/size.yaml")
    assert prod["spec"]["predictor"]["minReplicas"] == 2
    run = load(scaffold / ".tekton/pull-request.yaml")
    assert run["kind"] == "PipelineRun"
    assert run["spec"]["pipelineRef"] == {"name": "llmops-gate-pr-validation"}
    assert [w["name"] for w in run["spec"]["workspaces"]] == ["source", "git-auth"]
    assert run["metadata"]["annotations"]["pipelinesascode.tekton.dev/on-event"] == (
        "[pull_request]")


def test_init_again_is_refused_and_changes_nothing(scaffold: Path) -> None:
    before = snapshot(scaffold)
    result = run_cli("init", scaffold, "--model-name", "other-model")
    assert result.code == 2
    assert "would overwrite" in result.stderr and "--force" in result.stderr
    assert snapshot(scaffold) == before


def test_one_existing_file_blocks_every_write(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("my notes\n")
    result = run_cli("init", tmp_path)
    assert result.code == 2 and "README.md" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]
    assert (tmp_path / "README.md").read_text() == "my notes\n"


def test_force_overwrites_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    assert run_cli("init", tmp_path).code == 0
    size = tmp_path / "deploy_model/overlays/dev/size.yaml"
    original = size.read_text()
    size.write_text("edited: true\n")
    result = run_cli("init", tmp_path, "--force")
    assert result.code == 0, result.stderr
    assert "wrote 1 file " in result.stdout
    assert size.read_text() == original
    assert set(snapshot(tmp_path)) == EXPECTED_FILES


def test_bad_option_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new"
    result = run_cli("init", target, "--model-name", "Bad_Name")
    assert result.code == 2 and "model name 'Bad_Name'" in result.stderr
    result = run_cli("init", target, "--namespace", "qa=models-qa")
    assert result.code == 2 and "unknown environment 'qa'" in result.stderr
    assert not target.exists()


def test_values_that_look_like_yaml_cannot_change_the_structure(tmp_path: Path) -> None:
    uri = "s3://bucket/it's/\"model\":v1#frag"
    image = "quay.io/org/vllm:\"v1\"#x"
    repo_url = "git@github.com:org/gitops.git"
    result = run_cli("init", tmp_path, "--storage-uri", uri, "--runtime-image", image,
                     "--repo-url", repo_url, "--revision", "release/1.0")
    assert result.code == 0, result.stderr
    isvc = load(tmp_path / "deploy_model/base/inferenceservice.yaml")
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == uri
    runtime = load(tmp_path / "deploy_model/base/servingruntime.yaml")
    assert runtime["spec"]["containers"][0]["image"] == image
    app = load(tmp_path / "argocd-apps/staging-application.yaml")
    assert app["spec"]["source"]["repoURL"] == repo_url
    assert app["spec"]["source"]["targetRevision"] == "release/1.0"
    secret = load(tmp_path / "deploy_model/base/model-connection.yaml")
    assert set(secret["stringData"]) >= {"AWS_ACCESS_KEY_ID", "AWS_S3_BUCKET"}


def test_own_environments_and_namespaces(tmp_path: Path) -> None:
    result = run_cli("init", tmp_path, "--env", "qa,prod", "--namespace", "prod=models-prod",
                     "--project", "granite", "--model-name", "granite-8b")
    assert result.code == 0, result.stderr
    envs = run_cli("envs", tmp_path, "--format", "json").json()
    assert [(e["name"], e["namespace"], e["application"]) for e in envs] == [
        ("qa", "granite-qa", "granite-qa"), ("prod", "models-prod", "granite-prod")]
    result = run_cli("validate", tmp_path, "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    assert summary(result)["overlays"] == 2


def test_promotion_works_on_the_scaffold(tmp_path: Path) -> None:
    if "promote" not in LAZY_COMMANDS:
        pytest.skip("`llmops-gate promote` is not part of this build yet (another branch)")
    repo = tmp_path / "gitops"
    assert run_cli("init", repo).code == 0
    init_git_repo(repo)
    dev = repo / "deploy_model/overlays/dev"
    new_uri = "oci://quay.io/redhat-ai-services/modelcar-catalog:qwen2.5-1.5b-instruct"
    (dev / "model.yaml").write_text(
        "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n"
        f"  name: qwen25-05b-instruct\nspec:\n  predictor:\n    model:\n"
        f"      storageUri: {new_uri}\n")
    kustomization = dev / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "  - path: model.yaml\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "dev: try the 1.5b model")
    assert run_cli("validate", repo).code == 0
    before = snapshot(repo)
    result = run_cli("promote", "--dry-run", cwd=repo)
    assert result.code == 0, result.stdout + result.stderr
    assert new_uri in result.stdout
    assert "staging" in result.stdout and "production" in result.stdout
    assert snapshot(repo) == before
