"""A promotion killed with SIGKILL at each stage leaves the repository as it was or fully
promoted; a rerun completes it. One promotion per clone at a time."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmops_gate.gitops.journal import STAGES
from tests.conftest import ROOT, cli_env, git, run_cli
from tests.gitops.helpers import OVERLAYS, change_dev, clone_tree, example_git, head, status

JOURNAL = Path(".git/llmops-gate/journal.json")


@pytest.fixture(scope="module")
def dev_changed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    repo = example_git(tmp_path_factory.mktemp("template") / "repo")
    change_dev(repo)
    done = clone_tree(repo, tmp_path_factory.mktemp("reference") / "repo")
    assert run_cli("promote", "--repo", done, "--no-validate").code == 0
    promoted = {p: (done / p).read_text() for p in
                git(done, "show", "--name-only", "--format=", "HEAD").split()}
    return {"repo": repo, "promoted": promoted, "tree": git(done, "rev-parse", "HEAD^{tree}")}


@pytest.mark.parametrize("stage", [s for s in STAGES if s != "push"])
def test_kill_at_stage_then_rerun_completes(stage: str, dev_changed: dict[str, object],
                                            tmp_path: Path) -> None:
    template = dev_changed["repo"]
    assert isinstance(template, Path)
    repo = clone_tree(template, tmp_path / "repo")
    before = head(repo)
    killed = run_cli("promote", "--repo", repo, "--no-validate",
                     env=cli_env({"LLMOPS_GATE_STOP_AT": stage}))
    assert killed.code == -signal.SIGKILL, killed.stderr
    now = head(repo)
    if now == before:
        # As it was: nothing committed; files the dead run wrote are only in the journal's care.
        assert stage != "committed"
        changed = set(status(repo).split()) - {"M", "??", "A"}
        if changed:
            assert (repo / JOURNAL).exists(), "half-written files without a journal"
    else:
        # Fully promoted: the commit is whole, the same tree a clean run makes.
        assert git(repo, "rev-parse", "HEAD~1").strip() == before
        assert git(repo, "rev-parse", "HEAD^{tree}") == dev_changed["tree"]
    rerun = run_cli("promote", "--repo", repo, "--no-validate")
    assert rerun.code == 0, rerun.stdout + rerun.stderr
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    assert git(repo, "rev-parse", "HEAD^{tree}") == dev_changed["tree"]
    assert status(repo) == ""
    assert not (repo / JOURNAL).exists()
    assert not (repo / ".git/llmops-gate/lock").exists()
    if stage in ("write", "written"):
        assert "recovered from an interrupted promotion" in rerun.stderr


def test_second_promotion_in_same_clone_waits_its_turn(dev_changed: dict[str, object],
                                                      tmp_path: Path) -> None:
    template = dev_changed["repo"]
    assert isinstance(template, Path)
    repo = clone_tree(template, tmp_path / "repo")
    gate = tmp_path / "gate"
    first = subprocess.Popen(
        [sys.executable, "-m", "llmops_gate", "promote", "--repo", str(repo)], cwd=ROOT,
        env=cli_env({"LLMOPS_GATE_WAIT_AT": f"locked:{gate}"}),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        waiting = Path(str(gate) + ".waiting")
        deadline = time.monotonic() + 60
        while not waiting.exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert waiting.exists(), "the first promotion never reached its lock"
        second = run_cli("promote", "--repo", repo)
        assert second.code == 2
        assert "another llmops-gate promotion" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        gate.touch()
        _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "Promotion-Id" in git(repo, "log", "-1", "--format=%B")


def test_stale_lock_of_dead_process_is_taken_over(dev_changed: dict[str, object],
                                                 tmp_path: Path) -> None:
    template = dev_changed["repo"]
    assert isinstance(template, Path)
    repo = clone_tree(template, tmp_path / "repo")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = repo / ".git" / "llmops-gate" / "lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(str(dead.pid))
    result = run_cli("promote", "--repo", repo)
    assert result.code == 0, result.stderr
    assert not lock.exists()
    assert (repo / OVERLAYS / "staging" / "promoted.yaml").exists()


def test_rerun_refuses_to_restore_over_edits_made_after_the_crash(
        dev_changed: dict[str, object], tmp_path: Path) -> None:
    template = dev_changed["repo"]
    assert isinstance(template, Path)
    repo = clone_tree(template, tmp_path / "repo")
    killed = run_cli("promote", "--repo", repo, "--no-validate",
                     env=cli_env({"LLMOPS_GATE_STOP_AT": "written"}))
    assert killed.code == -signal.SIGKILL
    edited = repo / OVERLAYS / "staging" / "kustomization.yaml"
    edited.write_text(edited.read_text() + "# my own edit\n")
    rerun = run_cli("promote", "--repo", repo, "--no-validate")
    assert rerun.code == 2
    assert "edited since" in rerun.stderr
    assert "# my own edit" in edited.read_text()
    assert (repo / JOURNAL).exists()


def test_kill_on_a_new_branch_goes_back_to_the_start_branch(dev_changed: dict[str, object],
                                                            tmp_path: Path) -> None:
    template = dev_changed["repo"]
    assert isinstance(template, Path)
    repo = clone_tree(template, tmp_path / "repo")
    killed = run_cli("promote", "--repo", repo, "--no-validate", "--branch", "release",
                     env=cli_env({"LLMOPS_GATE_STOP_AT": "write"}))
    assert killed.code == -signal.SIGKILL
    assert git(repo, "branch", "--show-current").strip() == "release"
    rerun = run_cli("promote", "--repo", repo, "--no-validate")
    assert rerun.code == 0, rerun.stderr
    assert git(repo, "branch", "--show-current").strip() == "main"
    assert "release" not in git(repo, "branch", "--list", "release")
    assert git(repo, "rev-parse", "HEAD^{tree}") == dev_changed["tree"]
