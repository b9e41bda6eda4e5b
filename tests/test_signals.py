"""SIGKILL, SIGTERM and SIGINT stop `validate` and `promote` at once, and leave nothing behind.

Mid-build, Kustomize is a test program named `kustomize` that sleeps: it stands for a hung
Kustomize (a build stuck on a huge input or a network fetch), not for Kustomize's behaviour,
and is named with --kustomize as an operator would. The stages of a promotion after its renders
use real Kustomize and the journal's test stop points (LLMOPS_GATE_WAIT_AT).

Within 2 s of the signal no process of the run may remain (found by a marker in their
environment); SIGTERM and SIGINT exit with 143 and 130 and one line on stderr, and leave the
test-owned TMPDIR empty; a promotion leaves the repository as it was.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bounded import with_marker
from tests.conftest import ROOT, cli_env, git
from tests.gitops.helpers import change_dev, clone_tree, example_git, head, status

GRACE = 2.0  # the bound, from the signal to the last process of the run gone
CODES = {signal.SIGKILL: -signal.SIGKILL, signal.SIGTERM: 143, signal.SIGINT: 130}
SIGNALS = [signal.SIGKILL, signal.SIGTERM, signal.SIGINT]


@dataclass
class Stopped:
    code: int | None  # None: still running GRACE seconds after the signal
    stderr: str
    left: list[int]  # processes of the run alive GRACE seconds after the signal


def hung_kustomize(folder: Path) -> Path:
    """A stand-in for a hung Kustomize: it says it started, then sleeps (exec keeps it the
    direct child of llmops-gate, as a real kubectl is)."""
    started = folder / "started"
    started.mkdir(parents=True)
    path = folder / "bin" / "kustomize"
    path.parent.mkdir()
    path.write_text(f'#!/bin/sh\ntouch "{started}/$$"\nexec sleep 600\n', encoding="utf-8")
    path.chmod(0o755)
    return path


def stop(args: list[str], sig: signal.Signals, ready: Callable[[], bool], tmpdir: Path,
         env: dict[str, str] | None = None) -> Stopped:
    """Run `llmops-gate ARGS` until `ready()`, send it `sig`, and see what is left GRACE
    seconds later. Whatever is left is killed before returning."""
    marker = f"llmops-gate-signal-{uuid.uuid4().hex}"
    tmpdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmops_gate", *args], cwd=ROOT,
        env=cli_env({**(env or {}), "TMPDIR": str(tmpdir), "LLMOPS_GATE_TEST_MARKER": marker}),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert proc.poll() is None, f"the run ended before it was ready: {proc.stderr}"
            assert time.monotonic() < deadline, "the run never got ready"
            time.sleep(0.02)
        sent = time.monotonic()
        os.kill(proc.pid, sig)  # to the tool only, as `timeout` or a CI runner does
        code: int | None
        try:
            code = proc.wait(timeout=GRACE)
        except subprocess.TimeoutExpired:
            code = None
        left = with_marker(marker)
        while left and time.monotonic() < sent + GRACE:
            time.sleep(0.02)
            left = with_marker(marker)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in with_marker(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
    assert proc.stderr is not None
    return Stopped(code=code, stderr=proc.stderr.read(), left=left)


def _check(stopped: Stopped, sig: signal.Signals, tmpdir: Path) -> None:
    assert stopped.left == [], "processes of the run outlived the signal"
    assert stopped.code == CODES[sig], stopped.stderr
    if sig != signal.SIGKILL:  # SIGKILL cannot be handled: nothing can be removed
        assert stopped.stderr.strip().splitlines() == [
            f"llmops-gate: stopped by {sig.name}: running builds killed, temporary files "
            "removed"], stopped.stderr
        assert list(tmpdir.iterdir()) == [], "temporary folders left behind"


@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
def test_validate_stops_mid_build(sig: signal.Signals, example_repo: Path,
                                  tmp_path: Path) -> None:
    fake = hung_kustomize(tmp_path / "fake")
    started = tmp_path / "fake" / "started"
    tmpdir = tmp_path / "tmp"
    # Two builds at once, a third waiting: after the signal none may start.
    stopped = stop(["validate", str(example_repo), "--kustomize", str(fake), "--jobs", "2"],
                   sig, lambda: len(list(started.iterdir())) >= 2, tmpdir)
    _check(stopped, sig, tmpdir)
    assert len(list(started.iterdir())) == 2, "a build started after the signal"


@pytest.fixture(scope="module")
def dev_changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = example_git(tmp_path_factory.mktemp("template") / "repo")
    change_dev(repo)
    return repo


def _as_it_was(repo: Path, before: str) -> None:
    assert head(repo) == before
    assert status(repo) == ""
    assert not (repo / ".git/llmops-gate/journal.json").exists()
    assert not (repo / ".git/llmops-gate/lock").exists()


@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
def test_promote_stops_mid_build(sig: signal.Signals, dev_changed: Path,
                                 tmp_path: Path) -> None:
    repo = clone_tree(dev_changed, tmp_path / "repo")
    before = head(repo)
    fake = hung_kustomize(tmp_path / "fake")
    started = tmp_path / "fake" / "started"
    tmpdir = tmp_path / "tmp"
    stopped = stop(["promote", "--repo", str(repo), "--kustomize", str(fake), "--no-validate"],
                   sig, lambda: any(started.iterdir()), tmpdir)
    _check(stopped, sig, tmpdir)
    assert head(repo) == before and status(repo) == ""
    if sig != signal.SIGKILL:
        _as_it_was(repo, before)


@pytest.mark.parametrize("stage", ["journal", "write", "written"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_promote_stopped_while_writing_leaves_the_repo_as_it_was(
        sig: signal.Signals, stage: str, dev_changed: Path, tmp_path: Path) -> None:
    repo = clone_tree(dev_changed, tmp_path / "repo")
    before = head(repo)
    gate = tmp_path / "gate"
    tmpdir = tmp_path / "tmp"
    stopped = stop(["promote", "--repo", str(repo), "--no-validate"], sig,
                   lambda: Path(str(gate) + ".waiting").exists(), tmpdir,
                   env={"LLMOPS_GATE_WAIT_AT": f"{stage}:{gate}"})
    _check(stopped, sig, tmpdir)
    _as_it_was(repo, before)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_promote_stopped_after_its_commit_is_fully_promoted(
        sig: signal.Signals, dev_changed: Path, tmp_path: Path) -> None:
    repo = clone_tree(dev_changed, tmp_path / "repo")
    before = head(repo)
    gate = tmp_path / "gate"
    tmpdir = tmp_path / "tmp"
    stopped = stop(["promote", "--repo", str(repo), "--no-validate"], sig,
                   lambda: Path(str(gate) + ".waiting").exists(), tmpdir,
                   env={"LLMOPS_GATE_WAIT_AT": f"committed:{gate}"})
    _check(stopped, sig, tmpdir)
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    assert status(repo) == ""
    assert not (repo / ".git/llmops-gate/journal.json").exists()
    assert not (repo / ".git/llmops-gate/lock").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_the_commit_waits_for_it(sig: signal.Signals, dev_changed: Path,
                                                 tmp_path: Path) -> None:
    # A pre-commit hook (run with --run-hooks) says the commit has begun, then takes a moment:
    # the signal arrives while `git commit` runs, which must finish rather than be cut in two.
    repo = clone_tree(dev_changed, tmp_path / "repo")
    before = head(repo)
    begun = tmp_path / "commit-begun"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f'#!/bin/sh\ntouch "{begun}"\nsleep 0.5\nexit 0\n', encoding="utf-8")
    hook.chmod(0o755)
    tmpdir = tmp_path / "tmp"
    stopped = stop(["promote", "--repo", str(repo), "--no-validate", "--run-hooks"], sig,
                   begun.exists, tmpdir)
    _check(stopped, sig, tmpdir)
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    assert status(repo) == ""
    assert not (repo / ".git/llmops-gate/journal.json").exists()
