"""Upstream's real history: dev's state at 16-1b31edb (five vLLM arguments added by list
position) replayed onto staging as of 09-6ffa1c9 gives a staging render whose promoted
fields equal dev's, while staging keeps its size and names."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import copy_tree, git, init_git_repo, need_shared, run_cli
from tests.gitops.helpers import OVERLAYS, SEED_CONFIG, model, obj, render, runtime_container


def test_replaying_upstream_dev_state_onto_staging(tmp_path: Path) -> None:
    revisions = need_shared("corpus", "seed-repo", "revisions")
    old, new = revisions / "09-6ffa1c9", revisions / "16-1b31edb"
    repo = copy_tree(old, tmp_path / "seed")
    (repo / ".llmops-gate.yaml").write_text(SEED_CONFIG)
    init_git_repo(repo, "upstream 09-6ffa1c9")
    dev_k = repo / OVERLAYS / "dev" / "kustomization.yaml"
    shutil.copyfile(new / OVERLAYS / "dev" / "kustomization.yaml", dev_k)
    dev_k.chmod(0o644)
    git(repo, "commit", "-q", "-am", "upstream 16-1b31edb: dev - roll back to final configs")
    staging_before = render(repo, f"{OVERLAYS}/staging")
    dev = render(repo, f"{OVERLAYS}/dev")
    assert runtime_container(dev)["args"] != runtime_container(staging_before)["args"]

    # --no-validate: upstream's files predate this project's policy rules; the replay is about
    # the promoted values.
    result = run_cli("promote", "--repo", repo, "--to", "staging", "--no-validate")
    assert result.code == 0, result.stdout + result.stderr

    staging = render(repo, f"{OVERLAYS}/staging")
    for field in ("args", "env", "image"):
        assert runtime_container(staging).get(field) == runtime_container(dev).get(field), field
    for field in ("storageUri", "modelFormat"):
        assert model(staging)[field] == model(dev)[field]
    assert "--enable-auto-tool-choice" in runtime_container(staging)["args"]
    isvc, isvc_before = obj(staging, "InferenceService"), obj(staging_before, "InferenceService")
    assert isvc["spec"]["predictor"]["maxReplicas"] == 2
    assert model(staging)["resources"] == model(staging_before)["resources"]
    assert model(staging)["runtime"] == "staging-qwen25-05b-instruct"
    assert isvc["metadata"]["annotations"] == isvc_before["metadata"]["annotations"]
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert files == [f"{OVERLAYS}/staging/kustomization.yaml", f"{OVERLAYS}/staging/promoted.yaml"]
    # staging's own hand-written patches and comments are still there
    text = (repo / OVERLAYS / "staging" / "kustomization.yaml").read_text()
    assert "# Patch ServingRuntime to change max-model-len for staging testing" in text
