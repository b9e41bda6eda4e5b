"""`llmops-gate promote` on the example repo: dev's runtime image, model and a vLLM argument
reach staging and production in one commit; sizes, comments and names stay."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, run_cli
from tests.gitops.helpers import (
    NEW_ARG,
    NEW_IMAGE_DIGEST,
    NEW_STORAGE,
    OVERLAYS,
    change_dev,
    clone_tree,
    example_git,
    head,
    model,
    obj,
    render,
    runtime_container,
    snapshot,
    status,
)

IMAGE_REPO = "registry.redhat.io/rhaii/vllm-cuda-rhel9"


@pytest.fixture(scope="module")
def dev_changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as a Git repo whose dev overlay has a new model, image and vLLM argument."""
    repo = example_git(tmp_path_factory.mktemp("template") / "repo")
    change_dev(repo)
    return repo


@pytest.fixture(scope="module")
def promoted(dev_changed: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = clone_tree(dev_changed, tmp_path_factory.mktemp("promoted") / "repo")
    before = {env: render(repo, f"{OVERLAYS}/{env}") for env in ("staging", "production")}
    texts = {env: (repo / OVERLAYS / env / "kustomization.yaml").read_text()
             for env in ("staging", "production")}
    old_head = head(repo)
    result = run_cli("promote", "--repo", repo)
    return {"repo": repo, "result": result, "before": before, "old_head": old_head,
            "texts": texts}


def test_promote_makes_one_commit_touching_only_target_overlays(promoted: dict[str, Any]) -> None:
    repo, result = promoted["repo"], promoted["result"]
    assert result.code == 0, result.stdout + result.stderr
    assert "promoted dev@" in result.stdout
    assert git(repo, "rev-parse", "HEAD~1").strip() == promoted["old_head"]
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert files, "the commit changed nothing"
    assert all(f.startswith((f"{OVERLAYS}/staging/", f"{OVERLAYS}/production/")) for f in files)
    assert status(repo) == ""


def test_rendered_targets_carry_dev_values_and_keep_their_size(promoted: dict[str, Any]) -> None:
    repo = promoted["repo"]
    dev = render(repo, f"{OVERLAYS}/dev")
    for env in ("staging", "production"):
        after = render(repo, f"{OVERLAYS}/{env}")
        before = promoted["before"][env]
        assert runtime_container(after)["image"] == f"{IMAGE_REPO}@{NEW_IMAGE_DIGEST}"
        assert runtime_container(after)["image"] == runtime_container(dev)["image"]
        assert runtime_container(after)["args"] == runtime_container(dev)["args"]
        assert NEW_ARG in runtime_container(after)["args"]
        assert model(after)["storageUri"] == NEW_STORAGE
        # each environment keeps its own size, names, namespace and display name
        isvc_a, isvc_b = obj(after, "InferenceService"), obj(before, "InferenceService")
        for field in ("minReplicas", "maxReplicas"):
            assert isvc_a["spec"]["predictor"][field] == isvc_b["spec"]["predictor"][field]
        assert model(after)["resources"] == model(before)["resources"]
        assert isvc_a["metadata"]["name"] == isvc_b["metadata"]["name"]
        assert isvc_a["metadata"]["namespace"] == isvc_b["metadata"]["namespace"]
        assert isvc_a["metadata"]["annotations"] == isvc_b["metadata"]["annotations"]
        assert model(after)["runtime"] == model(before)["runtime"]
    prod = obj(render(repo, f"{OVERLAYS}/production"), "InferenceService")
    assert (prod["spec"]["predictor"]["minReplicas"], prod["spec"]["predictor"]["maxReplicas"]) \
        == (2, 3)


def test_comments_and_order_in_edited_files_survive(promoted: dict[str, Any]) -> None:
    repo = promoted["repo"]
    for env, old in promoted["texts"].items():
        new = (repo / OVERLAYS / env / "kustomization.yaml").read_text()
        assert new.startswith(old), f"{env}: the user's part of the file changed"
        assert "# This environment's own size and display name" in new
        assert "  - path: promoted.yaml" in new
        assert f"digest: {NEW_IMAGE_DIGEST}" in new
        patch = (repo / OVERLAYS / env / "promoted.yaml").read_text()
        assert patch.startswith("# Written by `llmops-gate promote`")


def test_commit_subject_body_and_trailers_parse(promoted: dict[str, Any]) -> None:
    repo = promoted["repo"]
    message = git(repo, "log", "-1", "--format=%B")
    subject = message.splitlines()[0]
    assert subject == f"promote: dev@{promoted['old_head'][:7]} -> staging, production"
    assert (f"staging ServingRuntime/qwen25-05b-instruct container.kserve-container.image: "
            f"{IMAGE_REPO}@sha256:") in message
    parsed = subprocess.run(["git", "-C", str(repo), "interpret-trailers", "--parse"],
                            input=message, capture_output=True, text=True, check=True).stdout
    trailers = dict(line.split(": ", 1) for line in parsed.splitlines())
    assert trailers["Promoted-From"] == "dev"
    assert trailers["Promoted-To"] == "staging, production"
    assert trailers["Source-Commit"] == promoted["old_head"]
    assert len(trailers["Promotion-Id"]) == 12
    hist = run_cli("history", "--repo", repo, "--format", "json")
    assert hist.code == 0
    assert [h["promotionId"] for h in hist.json()] == [trailers["Promotion-Id"]]
    assert hist.json()[0]["to"] == ["staging", "production"]


def test_second_promote_changes_nothing(promoted: dict[str, Any], tmp_path: Path) -> None:
    repo = clone_tree(promoted["repo"], tmp_path / "repo")
    before = head(repo)
    result = run_cli("promote", "--repo", repo)
    assert result.code == 0, result.stderr
    assert "already up to date" in result.stdout
    assert head(repo) == before
    assert status(repo) == ""


def test_dry_run_prints_diffs_and_writes_nothing(dev_changed: Path, tmp_path: Path) -> None:
    repo = clone_tree(dev_changed, tmp_path / "repo")
    files = snapshot(repo)
    before = head(repo)
    result = run_cli("promote", "--repo", repo, "--dry-run")
    assert result.code == 0, result.stderr
    assert f"+++ b/{OVERLAYS}/staging/promoted.yaml" in result.stdout
    assert "+++ production (rendered, promoted)" in result.stdout
    assert f"+    - {NEW_ARG}" in result.stdout
    assert head(repo) == before
    assert snapshot(repo) == files
    assert not (repo / ".git" / "llmops-gate" / "journal.json").exists()


def test_to_one_target_and_new_branch_with_author(dev_changed: Path, tmp_path: Path) -> None:
    repo = clone_tree(dev_changed, tmp_path / "repo")
    before = head(repo)
    result = run_cli("promote", "--repo", repo, "--to", "staging", "--branch",
                     "--author", "Release Bot <bot@example.com>", "--no-validate")
    assert result.code == 0, result.stderr
    branch = git(repo, "branch", "--show-current").strip()
    assert branch == f"promote/dev-to-staging-{before[:7]}"
    assert git(repo, "log", "-1", "--format=%an <%ae>").strip() == "Release Bot <bot@example.com>"
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert all(f.startswith(f"{OVERLAYS}/staging/") for f in files)
    assert git(repo, "rev-parse", "main").strip() == before


def test_diff_marks_promoted_fields(dev_changed: Path) -> None:
    result = run_cli("diff", "--repo", dev_changed, "--from", "dev", "--to", "staging")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("promoted fields where staging differs from dev "
                                    "(staging's value -> dev's), marked *:")
    assert ("* InferenceService/qwen25-05b-instruct model.storageUri: "
            "oci://quay.io/redhat-ai-services/modelcar-catalog:qwen2.5-0.5b-instruct -> "
            f"{NEW_STORAGE}") in result.stdout
    assert "* ServingRuntime/qwen25-05b-instruct container.kserve-container.args" in result.stdout
    assert "-    maxReplicas: 2" in result.stdout  # the kept size shows, unmarked


def test_pinned_field_stays(dev_changed: Path, tmp_path: Path) -> None:
    repo = clone_tree(dev_changed, tmp_path / "repo")
    cfg = repo / ".llmops-gate.yaml"
    cfg.write_text(cfg.read_text() + "promotion:\n  pins:\n    production:\n"
                   "      - 'container.*.args'\n")
    git(repo, "commit", "-q", "-am", "pin production args")
    before = runtime_container(render(repo, f"{OVERLAYS}/production"))["args"]
    result = run_cli("promote", "--repo", repo, "--no-validate")
    assert result.code == 0, result.stderr
    prod = runtime_container(render(repo, f"{OVERLAYS}/production"))
    assert prod["args"] == before
    assert prod["image"] == f"{IMAGE_REPO}@{NEW_IMAGE_DIGEST}"
    assert NEW_ARG in runtime_container(render(repo, f"{OVERLAYS}/staging"))["args"]


def test_require_previous_refuses_skipping_staging(dev_changed: Path, tmp_path: Path) -> None:
    repo = clone_tree(dev_changed, tmp_path / "repo")
    cfg = repo / ".llmops-gate.yaml"
    cfg.write_text(cfg.read_text() + "promotion:\n  require_previous: true\n")
    git(repo, "commit", "-q", "-am", "require previous")
    before = head(repo)
    result = run_cli("promote", "--repo", repo)
    assert result.code == 1
    assert "require_previous" in result.stderr
    assert "production InferenceService/qwen25-05b-instruct model.storageUri" in result.stderr
    assert head(repo) == before and status(repo) == ""
    assert run_cli("promote", "--repo", repo, "--to", "staging", "--no-validate").code == 0
    result = run_cli("promote", "--repo", repo, "--from", "staging", "--to", "production",
                     "--no-validate")
    assert result.code == 0, result.stderr
    assert NEW_ARG in runtime_container(render(repo, f"{OVERLAYS}/production"))["args"]


def test_env_promotes_except_kept_names_and_workload_images(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    base = repo / "deploy_model" / "base"
    (base / "proxy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: proxy\nspec:\n"
        "  replicas: 1\n  selector:\n    matchLabels: {app: proxy}\n  template:\n"
        "    metadata:\n      labels: {app: proxy}\n    spec:\n      containers:\n"
        "        - name: proxy\n          image: quay.io/acme/proxy:1.0\n")
    k = base / "kustomization.yaml"
    k.write_text(k.read_text().replace("  - model-connection.yaml\n",
                                       "  - model-connection.yaml\n  - proxy.yaml\n"))
    env_op = ("  - target:\n      kind: ServingRuntime\n    patch: |-\n      - op: add\n"
              "        path: /spec/containers/0/env/-\n        value: {{name: {n}, value: {v}}}\n")
    staging = repo / OVERLAYS / "staging" / "kustomization.yaml"
    staging.write_text(staging.read_text() + env_op.format(n="LOG_LEVEL", v="debug"))
    cfg = repo / ".llmops-gate.yaml"
    cfg.write_text(cfg.read_text() + "promotion:\n  keep_env: [LOG_LEVEL]\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "proxy, staging log level")
    dev = repo / OVERLAYS / "dev" / "kustomization.yaml"
    dev.write_text(dev.read_text() + env_op.format(n="VLLM_USE_V1", v="'1'")
                   + "images:\n  - name: quay.io/acme/proxy\n    newTag: '1.1'\n")
    git(repo, "commit", "-q", "-am", "dev: proxy 1.1, VLLM_USE_V1")
    result = run_cli("promote", "--repo", repo, "--to", "staging", "--no-validate")
    assert result.code == 0, result.stdout + result.stderr
    rendered = render(repo, f"{OVERLAYS}/staging")
    assert runtime_container(rendered)["env"] == [
        {"name": "HF_HOME", "value": "/tmp/hf_home"}, {"name": "VLLM_USE_V1", "value": "1"},
        {"name": "LOG_LEVEL", "value": "debug"}]
    proxy = obj(rendered, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert proxy["image"] == "quay.io/acme/proxy:1.1"
    assert obj(rendered, "Deployment")["metadata"]["name"] == "staging-proxy"
    patch = (repo / OVERLAYS / "staging" / "promoted.yaml").read_text()
    assert "kind: Deployment" not in patch  # workload images go through `images:` only


def test_base_edits_to_runtime_container_reach_a_promoted_target(promoted: dict[str, Any],
                                                                 tmp_path: Path) -> None:
    repo = clone_tree(promoted["repo"], tmp_path / "repo")
    sr = repo / "deploy_model" / "base" / "servingruntime.yaml"
    sr.write_text(sr.read_text().replace("containerPort: 8080", "containerPort: 8081"))
    dev = repo / OVERLAYS / "dev" / "kustomization.yaml"
    dev.write_text(dev.read_text().replace(NEW_ARG, "--gpu-memory-utilization=0.8"))
    git(repo, "commit", "-q", "-am", "base: port 8081; dev: 0.8")
    staging_before = render(repo, f"{OVERLAYS}/staging")
    assert runtime_container(staging_before)["ports"][0]["containerPort"] == 8080  # masked
    result = run_cli("promote", "--repo", repo, "--to", "staging", "--no-validate")
    assert result.code == 0, result.stdout + result.stderr
    staging = runtime_container(render(repo, f"{OVERLAYS}/staging"))
    assert staging["ports"][0]["containerPort"] == 8081
    assert "--gpu-memory-utilization=0.8" in staging["args"]
    assert staging["image"] == f"{IMAGE_REPO}@{NEW_IMAGE_DIGEST}"
