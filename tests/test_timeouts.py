"""A hung or runaway Kustomize never hangs the run or outlives it.

Kustomize is replaced by real programs (shell scripts standing for a hung tool, not for
Kustomize's output) through `--kustomize`, which is how an operator names a binary.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from tests.conftest import findings, run_cli


def _script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


def _processes_with(marker: str) -> list[int]:
    """Live processes whose command line contains `marker` (a /proc scan, no psutil)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path("/proc", entry, "cmdline").read_bytes()
            state = Path("/proc", entry, "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def _gone(marker: str) -> list[int]:
    """The processes still alive with `marker`, after giving SIGKILL a moment to land."""
    left = _processes_with(marker)
    for _ in range(50):
        if not left:
            break
        time.sleep(0.05)
        left = _processes_with(marker)
    return left


def test_hung_kustomize_is_killed_with_its_children_at_the_timeout(
        example_repo: Path, tmp_path: Path) -> None:
    # A unique sleep length marks this test's processes; one child runs in the background and
    # the script itself then hangs, as a Kustomize stuck on a network fetch would.
    marker = f"3{uuid.uuid4().int % 10**6:06d}.5"
    fake = _script(tmp_path, "kustomize", f"sleep {marker} &\nexec sleep {marker}\n")
    result = run_cli("validate", example_repo, "--kustomize", fake, "--timeout", "1",
                     "--format", "json", "--only", "build", timeout=60)
    assert result.code == 1, result.stderr
    assert "Traceback" not in result.stderr
    timeouts = [f for f in findings(result) if f["rule"] == "kustomize-timeout"]
    assert sorted(f["overlay"] for f in timeouts) == [
        "deploy_model/overlays/dev", "deploy_model/overlays/production",
        "deploy_model/overlays/staging"]
    assert all("timed out after 1s" in f["message"] for f in timeouts)
    assert _gone(marker) == []


def test_a_build_that_leaves_a_background_process_does_not_leave_it_running(
        example_repo: Path, tmp_path: Path) -> None:
    marker = f"4{uuid.uuid4().int % 10**6:06d}.5"
    # Prints a valid (empty) stream and exits 0, but leaves a sleeper behind with its pipes
    # closed: the run must neither wait for it nor leave it running.
    fake = _script(tmp_path, "kustomize",
                   f"sleep {marker} >/dev/null 2>&1 </dev/null &\necho '---'\nexit 0\n")
    result = run_cli("validate", example_repo, "--kustomize", fake, "--timeout", "30",
                     "--format", "json", "--only", "build", timeout=60)
    assert result.code == 0, result.stdout + result.stderr
    assert _gone(marker) == []


def test_runaway_kustomize_output_is_cut_at_the_stream_limit(
        example_repo: Path, tmp_path: Path) -> None:
    (example_repo / ".llmops-gate.yaml").write_text(
        "limits:\n  max_stream_bytes: 100000\n", encoding="utf-8")
    marker = f"5{uuid.uuid4().int % 10**6:06d}"
    fake = _script(tmp_path, "kustomize", f"exec yes 'a: {marker}'\n")
    result = run_cli("validate", example_repo, "--kustomize", fake, "--timeout", "30",
                     "--format", "json", "--only", "build", timeout=60)
    assert result.code == 1, result.stderr
    build = [f for f in findings(result) if f["rule"] == "kustomize-build"]
    assert len(build) == 3
    assert all("over 100000 bytes (limits.max_stream_bytes)" in f["message"] for f in build)
    assert _gone(marker) == []
