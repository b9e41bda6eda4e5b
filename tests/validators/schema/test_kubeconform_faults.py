"""kubeconform that breaks its contract fails the run, in every report format (fail closed).

These are fault-injection tests: each stands in for a crashing or hanging kubeconform with a
small shell script (a stand-in program, not kubeconform), since the real binary cannot be made
to crash on demand. Everything else about kubeconform is tested with the real binary
(test_kubeconform_parity.py, test_options.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from llmops_gate.commands.output import FORMAT_NAMES
from tests.conftest import cli_env, run_cli
from tests.manifests import deployment

# A Deployment with a schema defect: a passing run would hide it.
DEFECT = deployment(replicas="two")

# Stand-in programs (not kubeconform): each breaks kubeconform's contract in one way seen for
# real (issue 17). They write their pid first, so the test can check nothing is left running.
FAULTS = {
    "killed": 'kill -KILL $$',
    "stderr-only-exit-2": 'echo "panic: runtime error: index out of range" >&2; exit 2',
    "exit-1-no-output": 'exit 1',
    "not-json": 'echo "resources: none"; exit 0',
    "hangs": 'exec sleep 60',
}
REASONS = {
    "killed": "was killed by SIGKILL",
    "stderr-only-exit-2": "exited 2: panic: runtime error",
    "exit-1-no-output": "exited 1 with no output",
    "not-json": "exited 0 with output that is not JSON",
    "hangs": "timed out after 2s",
}


def stand_in(folder: Path, fault: str) -> Path:
    script = folder / f"kubeconform-{fault}"
    script.write_text(f'#!/bin/sh\necho $$ > "{folder}/pid"\n{FAULTS[fault]}\n',
                      encoding="utf-8")
    script.chmod(0o755)
    return script


def gone(pid_file: Path) -> bool:
    pid = int(pid_file.read_text(encoding="utf-8"))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "deployment.yaml"
    path.write_text(DEFECT, encoding="utf-8")
    return path


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_broken_kubeconform_fails_the_schema_command(fault: str, fmt: str, manifest: Path,
                                                     tmp_path: Path) -> None:
    binary = stand_in(tmp_path, fault)
    result = run_cli("schema", manifest, "--schema-engine", "kubeconform", "--kubeconform",
                     binary, "--format", fmt, cwd=tmp_path,
                     env=cli_env({"LLMOPS_GATE_KUBECONFORM_TIMEOUT": "2"}), timeout=60)
    assert result.code == 1, (result.stdout, result.stderr)
    assert f"kubeconform {REASONS[fault]}" in result.stdout, result.stdout
    assert "Traceback" not in result.stderr
    assert gone(tmp_path / "pid")


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_broken_kubeconform_fails_validate(fault: str, tmp_path: Path) -> None:
    overlay = tmp_path / "repo" / "app" / "overlays" / "dev"
    overlay.mkdir(parents=True)
    (overlay / "deployment.yaml").write_text(DEFECT, encoding="utf-8")
    (overlay / "kustomization.yaml").write_text("resources:\n  - deployment.yaml\n",
                                                encoding="utf-8")
    binary = stand_in(tmp_path, fault)
    result = run_cli("validate", tmp_path / "repo", "--only", "schema", "--schema-engine",
                     "kubeconform", "--kubeconform", binary, "--format", "json",
                     env=cli_env({"LLMOPS_GATE_KUBECONFORM_TIMEOUT": "2"}), timeout=60)
    assert result.code == 1, (result.stdout, result.stderr)
    found = [(f["rule"], f["overlay"], f["severity"]) for f in result.json()["findings"]]
    assert found == [("kubeconform", "app/overlays/dev", "error")]
    assert REASONS[fault] in result.json()["findings"][0]["message"]
    assert gone(tmp_path / "pid")
