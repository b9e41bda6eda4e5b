"""--push against a real bare remote: two clones promoting at once, a diverged branch, an
unreachable remote, and a kill during the push."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli_env, git, run_cli
from tests.gitops.helpers import OVERLAYS, change_dev, example_git, head, status


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare remote whose main has the dev change, not yet promoted."""
    base = tmp_path_factory.mktemp("remote")
    work = example_git(base / "seed")
    change_dev(work)
    bare = base / "remote.git"
    git(base, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def _clone(bare: Path, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", str(bare), str(dest))
    git(dest, "config", "user.name", "Clone")
    git(dest, "config", "user.email", "clone@example.com")
    return dest


def _promotions(bare: Path) -> list[str]:
    log = git(bare, "log", "--format=%H %s", "main")
    return [line for line in log.splitlines() if " promote: " in line]


def _copy_remote(bare: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(bare), str(dest))
    return dest


def test_two_clones_promote_at_once_one_push_wins(remote: Path, tmp_path: Path) -> None:
    bare = _copy_remote(remote, tmp_path)
    a, b = _clone(bare, tmp_path / "a"), _clone(bare, tmp_path / "b")
    gate = tmp_path / "gate"
    # b commits its promotion, then waits just before pushing while a promotes and pushes.
    slow = subprocess.Popen(
        [sys.executable, "-m", "llmops_gate", "promote", "--repo", str(b), "--push",
         "--no-validate"], cwd=ROOT, env=cli_env({"LLMOPS_GATE_WAIT_AT": f"push:{gate}"}),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        waiting = Path(str(gate) + ".waiting")
        deadline = time.monotonic() + 120
        while not waiting.exists() and time.monotonic() < deadline and slow.poll() is None:
            time.sleep(0.05)
        assert waiting.exists(), slow.communicate()
        fast = run_cli("promote", "--repo", a, "--push", "--no-validate")
        assert fast.code == 0, fast.stderr
    finally:
        gate.touch()
        out, err = slow.communicate(timeout=180)
    assert slow.returncode == 0, err
    assert "push rejected" in err and "re-planning" in err
    assert "already up to date" in out
    promotions = _promotions(bare)
    assert len(promotions) == 1, promotions
    assert head(a) == head(b) == git(bare, "rev-parse", "main").strip()
    assert status(b) == ""
    assert git(bare, "fsck", "--no-progress").strip() == ""


def test_rerun_after_kill_during_push_pushes(remote: Path, tmp_path: Path) -> None:
    bare = _copy_remote(remote, tmp_path)
    a = _clone(bare, tmp_path / "a")
    before = git(bare, "rev-parse", "main").strip()
    killed = run_cli("promote", "--repo", a, "--push", "--no-validate",
                     env=cli_env({"LLMOPS_GATE_STOP_AT": "push"}))
    assert killed.code == -signal.SIGKILL
    assert git(bare, "rev-parse", "main").strip() == before  # not pushed yet
    assert "Promotion-Id" in git(a, "log", "-1", "--format=%B")  # fully promoted locally
    rerun = run_cli("promote", "--repo", a, "--push", "--no-validate")
    assert rerun.code == 0, rerun.stderr
    assert "already up to date" in rerun.stdout
    assert git(bare, "rev-parse", "main").strip() == head(a)
    assert len(_promotions(bare)) == 1


def test_diverged_branch_is_refused(remote: Path, tmp_path: Path) -> None:
    bare = _copy_remote(remote, tmp_path)
    a, b = _clone(bare, tmp_path / "a"), _clone(bare, tmp_path / "b")
    (a / "README.md").write_text("a\n")
    git(a, "commit", "-q", "-am", "a")
    git(a, "push", "-q", "origin", "main")
    (b / "README.md").write_text("b\n")
    git(b, "commit", "-q", "-am", "b")
    before = head(b)
    result = run_cli("promote", "--repo", b, "--push", "--no-validate")
    assert result.code == 2
    assert "diverged" in result.stderr
    assert head(b) == before and status(b) == ""


def test_unreachable_remote_changes_nothing(remote: Path, tmp_path: Path) -> None:
    bare = _copy_remote(remote, tmp_path)
    a = _clone(bare, tmp_path / "a")
    git(a, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    before = head(a)
    result = run_cli("promote", "--repo", a, "--push", "--no-validate")
    assert result.code == 2
    assert "cannot reach remote 'origin'" in result.stderr
    assert head(a) == before and status(a) == ""
    assert not (a / OVERLAYS / "staging" / "promoted.yaml").exists()
