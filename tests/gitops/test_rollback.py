"""History and rollback: a rollback restores an environment's values from before a promotion,
through the same verify step, and the result validates; promote then rollback returns the
rendered state (property-based over random dev changes)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import git, run_cli
from tests.gitops.helpers import (
    NEW_ARG,
    NEW_STORAGE,
    OVERLAYS,
    change_dev,
    clone_tree,
    example_git,
    head,
    model,
    render,
    runtime_container,
    status,
)


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_git(tmp_path_factory.mktemp("template") / "repo")


def test_rollback_restores_values_and_validates(base_repo: Path, tmp_path: Path) -> None:
    repo = clone_tree(base_repo, tmp_path / "repo")
    change_dev(repo)
    staging_before = render(repo, f"{OVERLAYS}/staging")
    assert run_cli("promote", "--repo", repo).code == 0
    pid = git(repo, "log", "-1", "--format=%(trailers:key=Promotion-Id,valueonly)").strip()
    assert NEW_ARG in runtime_container(render(repo, f"{OVERLAYS}/staging"))["args"]

    result = run_cli("rollback", "--repo", repo, "--env", "staging")
    assert result.code == 0, result.stdout + result.stderr
    assert f"rolled back staging to before {pid}" in result.stdout
    staging = render(repo, f"{OVERLAYS}/staging")
    assert staging == staging_before
    assert model(render(repo, f"{OVERLAYS}/production"))["storageUri"] == NEW_STORAGE
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert all(f.startswith(f"{OVERLAYS}/staging/") for f in files)
    assert git(repo, "log", "-1", "--format=%(trailers:key=Rollback-Of,valueonly)").strip() == pid
    assert status(repo) == ""
    validated = run_cli("validate", repo, "--env", "staging")
    assert validated.code == 0, validated.stdout

    hist = run_cli("history", "--repo", repo, "--env", "staging", "--format", "json").json()
    assert [h["rollbackOf"] for h in hist] == [pid, None]
    assert run_cli("rollback", "--repo", repo, "--env", "staging", "--to", "nope").code == 2
    again = run_cli("rollback", "--repo", repo, "--env", "staging", "--to", pid)
    assert again.code == 0, again.stderr
    assert f"already up to date: staging already runs what it ran before {pid}" in again.stdout


def test_history_without_promotions(base_repo: Path) -> None:
    result = run_cli("history", "--repo", base_repo)
    assert result.code == 0
    assert "no promotions found" in result.stdout


ARG = st.from_regex(r"--[a-z]{1,8}(=[a-z0-9.]{1,6})?", fullmatch=True)


@settings(max_examples=2, deadline=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=st.lists(ARG, min_size=1, max_size=4, unique=True),
       tag=st.from_regex(r"v[0-9]{1,2}\.[0-9]{1,2}", fullmatch=True),
       model_tag=st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True))
def test_promote_then_rollback_returns_rendered_state(base_repo: Path, args: list[str],
                                                      tag: str, model_tag: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = clone_tree(base_repo, Path(tmp) / "repo")
        dev = repo / OVERLAYS / "dev"
        ops = "".join(f"      - op: add\n        path: /spec/containers/0/args/-\n"
                      f"        value: \"{a}\"\n" for a in args)
        (dev / "kustomization.yaml").write_text(
            (dev / "kustomization.yaml").read_text()
            + "  - path: model.yaml\n  - target:\n      kind: ServingRuntime\n    patch: |-\n"
            + ops + f"images:\n  - name: registry.redhat.io/rhaii/vllm-cuda-rhel9\n"
            f"    newTag: \"{tag}\"\n")
        (dev / "model.yaml").write_text(
            "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n"
            "  name: qwen25-05b-instruct\nspec:\n  predictor:\n    model:\n"
            f"      storageUri: oci://quay.io/models/m:{model_tag}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "dev change")
        before = render(repo, f"{OVERLAYS}/staging")
        promoted = run_cli("promote", "--repo", repo, "--to", "staging", "--no-validate")
        assert promoted.code == 0, promoted.stderr
        assert runtime_container(render(repo, f"{OVERLAYS}/staging"))["args"][-len(args):] \
            == args
        back = run_cli("rollback", "--repo", repo, "--env", "staging", "--no-validate")
        assert back.code == 0, back.stderr
        assert render(repo, f"{OVERLAYS}/staging") == before
        assert status(repo) == "" and head(repo)
