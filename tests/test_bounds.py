"""Every child is bounded, every render goes through one door, builds share the CPUs fairly.

- A memory-hungry build (real Kustomize on a large but legal overlay) stops at the ceiling
  `limits.kustomize_memory` and is a `kustomize-memory` finding, not a hang or a swapping host.
- `validate`, `promote` (also `--dry-run`), `diff` and `rollback` refuse a `kustomize.path`
  that leads into the repository, absolute or relative, with exit 2 and the same message, and
  run nothing from there (`plan` and `history` run no Kustomize at all).
- `--jobs` defaults to the CPUs the process may use: its affinity mask and cgroup CPU quota.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmops_gate.repo.cpus import available_cpus
from tests.conftest import (
    EXAMPLE,
    ROOT,
    cli_env,
    copy_tree,
    findings,
    git,
    init_git_repo,
    run_cli,
)
from tests.gitops.helpers import change_dev

DEV = "deploy_model/overlays/dev"
MiB = 1024 * 1024


def test_a_memory_hungry_build_stops_at_the_ceiling_and_is_a_finding(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    # 600 ConfigMaps of 200 keys: a 1.6 MB overlay, legal, that takes Kustomize over 128 MiB
    # (the example's overlays take about 80 MB, and still build).
    docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: table-{i}\ndata:\n"
            + "".join(f"  key{j}: value{j}\n" for j in range(200)) for i in range(600)]
    (repo / DEV / "tables.yaml").write_text("---\n".join(docs), encoding="utf-8")
    k = repo / DEV / "kustomization.yaml"
    k.write_text(k.read_text().replace("  - ../../base\n", "  - ../../base\n  - tables.yaml\n"))
    with (repo / ".llmops-gate.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"limits:\n  kustomize_memory: {128 * MiB}\n")
    result = run_cli("validate", repo, "--format", "json", "--only", "build", timeout=120)
    assert result.code == 1, result.stdout + result.stderr
    got = [(f["rule"], f["file"], f["overlay"], f["message"]) for f in findings(result)]
    assert got == [("kustomize-memory", f"{DEV}/kustomization.yaml", DEV,
                    "overlay not built: Kustomize ran out of its 128 MiB memory limit "
                    f"(limits.kustomize_memory) on {DEV}")], got


def test_a_ceiling_too_small_to_start_kustomize_is_a_memory_finding(tmp_path: Path) -> None:
    # At 16 MiB the Go runtime of kubectl fails before it reads anything, with another
    # message ("out of memory allocating heap arena map"): still the ceiling, not a build error.
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    with (repo / ".llmops-gate.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"limits:\n  kustomize_memory: {16 * MiB}\n")
    result = run_cli("validate", repo, "--format", "json", "--only", "build", timeout=120)
    assert result.code == 1, result.stdout + result.stderr
    assert sorted((f["rule"], f["overlay"]) for f in findings(result)) == [
        ("kustomize-memory", f"deploy_model/overlays/{env}")
        for env in ("dev", "production", "staging")]


def test_the_memory_ceiling_cannot_be_configured_away(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    with (repo / ".llmops-gate.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"limits:\n  kustomize_memory: {64 * 1024 * MiB}\n")
    result = run_cli("validate", repo, timeout=60)
    assert result.code == 2, result.stdout + result.stderr
    assert ".llmops-gate.yaml" in result.stderr and "kustomize_memory" in result.stderr


# --- one door for every render -----------------------------------------------------------------


@pytest.fixture(scope="module")
def promoted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with a dev change promoted once (so `rollback` has one to undo)."""
    repo = copy_tree(EXAMPLE, tmp_path_factory.mktemp("door") / "repo")
    init_git_repo(repo)
    change_dev(repo)
    done = run_cli("promote", "--repo", repo, "--no-validate", timeout=300)
    assert done.code == 0, done.stdout + done.stderr
    return repo


COMMANDS = {
    "validate": lambda repo: ["validate", str(repo)],
    "promote": lambda repo: ["promote", "--repo", str(repo), "--no-validate"],
    "promote --dry-run": lambda repo: ["promote", "--repo", str(repo), "--dry-run"],
    "diff": lambda repo: ["diff", "--repo", str(repo), "--to", "staging"],
    "rollback": lambda repo: ["rollback", "--repo", str(repo), "--env", "staging",
                              "--no-validate"],
}


@pytest.mark.parametrize("how", ["absolute", "relative", "dot-relative"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_render_refuses_a_kustomize_inside_the_repo(
        command: str, how: str, promoted: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["cp", "-a", str(promoted), str(repo)], check=True)
    ran = tmp_path / "ran"
    trap = repo / "bin" / "kustomize"
    trap.parent.mkdir()
    trap.write_text(f"#!/bin/sh\necho \"$0\" >> {ran}\nexit 1\n", encoding="utf-8")
    trap.chmod(0o755)
    path = {"absolute": str(trap), "relative": "bin/kustomize",
            "dot-relative": "./bin/kustomize"}[how]
    with (repo / ".llmops-gate.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"kustomize:\n  path: {path}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a kustomize of our own")
    # From another folder, so a relative path cannot be found from the working folder by luck.
    result = run_cli(*COMMANDS[command](repo), cwd=tmp_path, timeout=300)
    assert result.code == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"llmops-gate: error: .llmops-gate.yaml: kustomize.path leads to '{trap}', a program "
        "inside the repository under validation; llmops-gate never runs programs from that "
        "repository (name a trusted binary with --kustomize)")
    assert not ran.exists()


def test_a_relative_kustomize_path_outside_the_repo_is_found_from_the_repo(
        tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    kubectl = subprocess.run(["sh", "-c", "command -v kubectl"], capture_output=True,
                             text=True, check=True).stdout.strip()
    rel = os.path.relpath(os.path.realpath(kubectl), repo.resolve())
    with (repo / ".llmops-gate.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"kustomize:\n  path: {rel}\n")
    result = run_cli("validate", repo, "--only", "build", "--format", "json", cwd=ROOT,
                     timeout=120)
    assert result.code == 0, result.stdout + result.stderr


# --- --jobs follows the CPUs the process may use -------------------------------------------------


def _cpus_with_affinity(cpus: set[int]) -> int:
    code = ("import os, sys\n"
            f"os.sched_setaffinity(0, {sorted(cpus)!r})\n"
            "from llmops_gate.repo.cpus import available_cpus\n"
            "print(available_cpus())\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=cli_env(),
                         capture_output=True, text=True, check=True).stdout
    return int(out)


def test_jobs_default_follows_the_affinity_mask() -> None:
    allowed = sorted(os.sched_getaffinity(0))
    assert _cpus_with_affinity({allowed[0]}) == 1
    if len(allowed) >= 2:
        assert _cpus_with_affinity(set(allowed[:2])) == min(2, available_cpus())


def test_validate_runs_one_build_at_a_time_on_one_cpu(example_repo: Path,
                                                      tmp_path: Path) -> None:
    # A stand-in Kustomize that records how many builds run at once (it stands for a slow
    # build, not for Kustomize's output: it prints an empty stream).
    running = tmp_path / "running"
    running.mkdir()
    log = tmp_path / "log"
    fake = tmp_path / "kustomize"
    fake.write_text(f'#!/bin/sh\ntouch "{running}/$$"\nls "{running}" | wc -l >> "{log}"\n'
                    f'sleep 0.5\nrm "{running}/$$"\necho "---"\n', encoding="utf-8")
    fake.chmod(0o755)
    one = sorted(os.sched_getaffinity(0))[0]
    code = ("import os, sys\n"
            f"os.sched_setaffinity(0, {{{one}}})\n"
            "from llmops_gate.commands import main\n"
            "sys.argv = ['llmops-gate'] + sys.argv[1:]\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code, "validate", str(example_repo),
                           "--kustomize", str(fake), "--only", "build", "--format", "json"],
                          cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["summary"]["overlays"] == 3
    assert [int(n) for n in log.read_text().split()] == [1, 1, 1]


def test_cpu_quota_of_the_cgroup_limits_the_count(tmp_path: Path) -> None:
    # The files the kernel writes, laid out as cgroup v2 and v1 mount them.
    proc_cgroup = tmp_path / "cgroup"
    root = tmp_path / "fs"
    (root / "pod" / "step").mkdir(parents=True)
    (root / "pod" / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs: 2 builds
    (root / "pod" / "step" / "cpu.max").write_text("max 100000\n")
    proc_cgroup.write_text("0::/pod/step\n")
    assert available_cpus(root, proc_cgroup) == min(2, len(os.sched_getaffinity(0)))
    (root / "pod" / "cpu.max").write_text("50000 100000\n")  # half a CPU: still one build
    assert available_cpus(root, proc_cgroup) == 1
    v1 = tmp_path / "v1"
    (v1 / "cpu,cpuacct" / "job").mkdir(parents=True)
    (v1 / "cpu,cpuacct" / "job" / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu,cpuacct" / "job" / "cpu.cfs_period_us").write_text("100000\n")
    proc_cgroup.write_text("4:cpu,cpuacct:/job\n3:memory:/job\n")
    assert available_cpus(v1, proc_cgroup) == 1
    (v1 / "cpu,cpuacct" / "job" / "cpu.cfs_quota_us").write_text("-1\n")
    assert available_cpus(v1, proc_cgroup) == len(os.sched_getaffinity(0))


def test_a_kustomize_child_runs_go_on_one_thread_unless_the_user_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The door itself, with a real program that prints its environment.
    from llmops_gate.repo.child import run_child

    monkeypatch.delenv("GOMAXPROCS", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    _, out, _ = run_child(["env"], cwd=tmp_path, timeout=10, max_bytes=1 << 20,
                          memory=1 << 30, threads=1)
    lines = out.decode().splitlines()
    assert "GOMAXPROCS=1" in lines
    assert f"GOMEMLIMIT={(1 << 30) // 10 * 9}" in lines
    monkeypatch.setenv("GOMAXPROCS", "3")
    _, out, _ = run_child(["env"], cwd=tmp_path, timeout=10, max_bytes=1 << 20,
                          memory=1 << 30, threads=1)
    assert "GOMAXPROCS=3" in out.decode().splitlines()
    _, out, _ = run_child(["env"], cwd=tmp_path, timeout=10, max_bytes=1 << 20, memory=None)
    assert "GOMAXPROCS=3" in out.decode().splitlines()
