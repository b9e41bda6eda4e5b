"""`promote`, `diff`, `history` and `rollback` on upstream's own repo, which has no
`.llmops-gate.yaml`: the environments are the ones `validate` finds from the overlay folder
names, in the order dev -> staging -> production; names and namespaces come from the overlays.

The repo is `llmops-via-argocd` of the seed corpus as it was at 01-8d23501; the dev change is
upstream's own dev overlay of 16-1b31edb (same base), which adds vLLM arguments by position.
Real Git (a bare remote, clones) and real Kustomize throughout.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from llmops_gate.config import promotion_order
from tests.conftest import copy_tree, git, init_git_repo, need_shared, run_cli
from tests.gitops.helpers import OVERLAYS, head, obj, render, runtime_container, status

EXTRA_ARGS = ["--gpu-memory-utilization", "0.75", "--enable-auto-tool-choice",
              "--tool-call-parser", "hermes"]


@pytest.fixture(scope="module")
def seed_remote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare remote holding upstream's repo (no config) with dev at upstream's 16-1b31edb."""
    seed = need_shared("corpus", "seed-repo")
    base = tmp_path_factory.mktemp("seed")
    work = copy_tree(seed / "llmops-via-argocd", base / "work")
    assert not list(work.glob(".llmops-gate.y*ml"))
    init_git_repo(work, "upstream 8d23501: rename folder and refactor")
    dev_k = work / OVERLAYS / "dev" / "kustomization.yaml"
    shutil.copyfile(seed / "revisions" / "16-1b31edb" / OVERLAYS / "dev" / "kustomization.yaml",
                    dev_k)
    dev_k.chmod(0o644)
    git(work, "commit", "-q", "-am", "upstream 1b31edb: dev - roll back to final working configs")
    bare = base / "remote.git"
    git(base, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def _clone(bare: Path, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", str(bare), str(dest))
    git(dest, "config", "user.name", "Clone")
    git(dest, "config", "user.email", "clone@example.com")
    git(dest, "config", "commit.gpgsign", "false")
    return dest


def _renders(repo: Path) -> dict[str, list[dict[str, Any]]]:
    return {env: render(repo, f"{OVERLAYS}/{env}") for env in ("dev", "staging", "production")}


def test_promote_push_diff_history_rollback_without_config(seed_remote: Path,
                                                           tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"  # this test pushes: the other tests keep the module's
    git(tmp_path, "clone", "-q", "--bare", str(seed_remote), str(remote))
    repo = _clone(remote, tmp_path / "repo")
    before = _renders(repo)
    old_args = runtime_container(before["production"])["args"]
    assert runtime_container(before["dev"])["args"] == old_args + EXTRA_ARGS

    # The command from the issue, as a new user types it on upstream's repo, plus --push.
    result = run_cli("promote", "--repo", repo, "--from", "dev", "--to", "staging", "--to",
                     "production", "--push")
    assert result.code == 0, result.stdout + result.stderr
    assert "promoted dev@" in result.stdout and "-> staging, production" in result.stdout
    assert git(remote, "rev-parse", "main").strip() == head(repo)
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(files) == [f"{OVERLAYS}/{env}/{name}" for env in ("production", "staging")
                             for name in ("kustomization.yaml", "promoted.yaml")]
    assert status(repo) == ""
    after = _renders(repo)
    prefixes = {"staging": "staging-", "production": "prod-"}
    namespaces = {"staging": "llmops-staging", "production": "llmops-prod"}
    for env in ("staging", "production"):
        assert runtime_container(after[env])["args"] == old_args + EXTRA_ARGS
        # each keeps the prefix and namespace its overlay renders, and its own size
        for kind in ("InferenceService", "ServingRuntime", "Secret"):
            meta = obj(after[env], kind)["metadata"]
            assert meta["name"].startswith(prefixes[env]), (env, kind, meta["name"])
            assert meta["namespace"] == namespaces[env]
        isvc, isvc_before = obj(after[env], "InferenceService"), obj(before[env],
                                                                     "InferenceService")
        assert isvc["spec"]["predictor"]["maxReplicas"] == \
            isvc_before["spec"]["predictor"]["maxReplicas"]
    assert after["dev"] == before["dev"]

    diff = run_cli("diff", "--repo", repo, "--to", "production")
    assert diff.code == 0, diff.stderr
    assert "(none: promote would change nothing)" in diff.stdout

    history = run_cli("history", "--repo", repo, "--format", "json")
    assert history.code == 0, history.stderr
    [promotion] = history.json()
    assert (promotion["from"], promotion["to"], promotion["commit"]) == (
        "dev", ["staging", "production"], head(repo))

    undo = run_cli("rollback", "--repo", repo, "--env", "production")
    assert undo.code == 0, undo.stdout + undo.stderr
    assert f"rolled back production to before {promotion['promotionId']}" in undo.stdout
    rolled = _renders(repo)
    assert rolled["production"] == before["production"]
    assert rolled["staging"] == after["staging"]
    diff = run_cli("diff", "--repo", repo, "--from", "dev", "--to", "production")
    assert diff.code == 0, diff.stderr
    assert "* ServingRuntime/qwen25-05b-instruct container.kserve-container.args:" in diff.stdout


def test_default_chain_is_dev_staging_production(seed_remote: Path, tmp_path: Path) -> None:
    """Folder names sort dev, production, staging; the chain does not."""
    repo = _clone(seed_remote, tmp_path / "repo")
    envs = run_cli("envs", repo)
    assert [line.split()[0] for line in envs.stdout.splitlines()[1:]] == \
        ["dev", "staging", "production"]
    result = run_cli("promote", "--repo", repo, "--dry-run")
    assert result.code == 0, result.stdout + result.stderr
    targets = [line[len("+++ b/"):] for line in result.stdout.splitlines()
               if line.startswith("+++ b/")]
    assert targets == [f"{OVERLAYS}/staging/kustomization.yaml",
                       f"{OVERLAYS}/staging/promoted.yaml",
                       f"{OVERLAYS}/production/kustomization.yaml",
                       f"{OVERLAYS}/production/promoted.yaml"]
    assert status(repo) == ""


def _add_overlay(repo: Path, env: str) -> None:
    shutil.copytree(repo / OVERLAYS / "staging", repo / OVERLAYS / env)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"add {env}")


def test_qa_sits_between_dev_and_staging(seed_remote: Path, tmp_path: Path) -> None:
    repo = _clone(seed_remote, tmp_path / "repo")
    _add_overlay(repo, "qa")
    result = run_cli("promote", "--repo", repo, "--no-validate")
    assert result.code == 0, result.stdout + result.stderr
    assert "-> qa, staging, production" in result.stdout


def test_qa_and_test_together_need_from_and_to(seed_remote: Path, tmp_path: Path) -> None:
    repo = _clone(seed_remote, tmp_path / "repo")
    _add_overlay(repo, "qa")
    _add_overlay(repo, "test")
    start = head(repo)
    for args in ([], ["--to", "staging"], ["--from", "dev"]):
        result = run_cli("promote", "--repo", repo, *args)
        assert result.code == 2, result.stdout + result.stderr
        assert result.stderr.strip().splitlines() == [
            "llmops-gate: error: the environments found from overlay folder names (dev, qa, "
            "test, staging, production) have no clear promotion order (qa and test share a "
            "place); name them with --from ENV --to ENV, or list them in promotion order under "
            "`environments:` in .llmops-gate.yaml"]
    diff = run_cli("diff", "--repo", repo, "--to", "qa")
    assert diff.code == 2 and "no clear promotion order" in diff.stderr
    assert head(repo) == start and status(repo) == ""
    result = run_cli("promote", "--repo", repo, "--from", "dev", "--to", "test", "--no-validate")
    assert result.code == 0, result.stdout + result.stderr
    assert "-> test:" in result.stdout
    assert run_cli("diff", "--repo", repo, "--from", "dev", "--to", "qa").code == 0


def test_promotion_order() -> None:
    assert promotion_order(["production", "dev", "staging"]) == (
        ["dev", "staging", "production"], [])
    assert promotion_order(["test", "production", "dev"]) == (["dev", "test", "production"], [])
    assert promotion_order(["qa", "test", "dev", "qa"]) == (["dev", "qa", "test"], ["qa", "test"])


CHAT_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: chat-template
data:
  template.jinja: "{{ messages }}"
"""


def test_object_only_in_source_is_named(seed_remote: Path, tmp_path: Path) -> None:
    """A ConfigMap dev has and staging/production do not: promote says so (dry run, real run
    and commit body) instead of passing over it."""
    repo = _clone(seed_remote, tmp_path / "repo")
    dev = repo / OVERLAYS / "dev"
    (dev / "chat-template.yaml").write_text(CHAT_TEMPLATE)
    k = dev / "kustomization.yaml"
    k.write_text(k.read_text().replace("  - ../../base\n",
                                       "  - ../../base\n  - chat-template.yaml\n"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "dev: a chat template")
    notes = [f"ConfigMap/chat-template is in dev but not in {env}: not promoted (a promotion "
             f"only changes objects both render; add it to {env}'s overlay to carry it)"
             for env in ("staging", "production")]
    dry = run_cli("promote", "--repo", repo, "--dry-run")
    assert dry.code == 0, dry.stdout + dry.stderr
    assert [f"warning: {n}" for n in notes] == [
        line for line in dry.stderr.splitlines() if line.startswith("warning: ")]
    real = run_cli("promote", "--repo", repo, "--no-validate")
    assert real.code == 0, real.stdout + real.stderr
    assert [f"warning: {n}" for n in notes] == [
        line for line in real.stderr.splitlines() if line.startswith("warning: ")]
    body = git(repo, "log", "-1", "--format=%B")
    assert "\n\n" + "\n".join(notes) + "\n\nPromoted-From: dev\n" in body
    assert "chat-template" not in git(repo, "show", "--name-only", "--format=", "HEAD")


def _generator(env: str) -> str:
    return f"configMapGenerator:\n  - name: vllm-extra\n    literals: [ENV={env}]\n"


def test_names_come_from_the_renders(seed_remote: Path, tmp_path: Path) -> None:
    """staging's prefix is set by an intermediate kustomization, not by its overlay, and each
    environment generates a ConfigMap whose hash suffix differs: objects still match across
    environments by the names they are written with."""
    repo = _clone(seed_remote, tmp_path / "repo")
    layer = repo / "deploy_model/layers/staging"
    layer.mkdir(parents=True)
    (layer / "kustomization.yaml").write_text("namePrefix: staging-\nresources:\n"
                                              "  - ../../base\n")
    for env in ("dev", "staging"):
        k = repo / OVERLAYS / env / "kustomization.yaml"
        text = k.read_text() + _generator(env)
        if env == "staging":
            text = text.replace("namePrefix: staging-\n", "").replace(
                "  - ../../base\n", "  - ../../layers/staging\n")
        k.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "staging: names from a layer; a generated ConfigMap each")
    before = _renders(repo)
    assert obj(before["staging"], "ServingRuntime")["metadata"]["name"] == \
        "staging-qwen25-05b-instruct"
    assert obj(before["staging"], "ConfigMap")["metadata"]["name"] != \
        obj(before["dev"], "ConfigMap")["metadata"]["name"].replace("dev-", "")

    result = run_cli("promote", "--repo", repo, "--to", "staging", "--no-validate")
    assert result.code == 0, result.stdout + result.stderr
    assert "warning:" not in result.stderr
    assert "staging ServingRuntime/qwen25-05b-instruct container.kserve-container.args:" in \
        result.stdout
    after = render(repo, f"{OVERLAYS}/staging")
    assert runtime_container(after)["args"] == runtime_container(before["dev"])["args"]
    assert obj(after, "ConfigMap") == obj(before["staging"], "ConfigMap")
