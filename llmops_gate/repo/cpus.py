"""How many CPUs this process may use: the default of `--jobs`."""

from __future__ import annotations

import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def available_cpus(cgroup_root: Path = CGROUP_ROOT,
                   proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """The CPUs this process may use: its affinity mask, and its cgroup's CPU quota (v2
    `cpu.max`, v1 `cpu.cfs_quota_us`), whichever is smaller. A Tekton step limited to 2 CPUs
    on a 64-core node gets 2, not 64 (`os.cpu_count()` counts the host)."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = _cgroup_quota(cgroup_root, proc_cgroup)
    if quota is not None:
        count = min(count, quota)
    return max(1, count)


def _cgroup_quota(root: Path, proc_cgroup: Path) -> int | None:
    """CPUs allowed by the cgroup CPU quota (rounded up), or None when there is none."""
    try:
        lines = proc_cgroup.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    v2 = [line.split(":", 2)[2] for line in lines if line.startswith("0::")]
    v1 = [line.split(":", 2)[2] for line in lines
          if line.count(":") >= 2 and "cpu" in line.split(":", 2)[1].split(",")]
    found: list[int] = []
    for rel in v2 or ["/"]:
        # The process's own cgroup, and its parents: a limit set higher up applies as well.
        for folder in _up(root, rel):
            raw = _read(folder / "cpu.max")
            if raw and raw.split()[0] != "max" and len(raw.split()) == 2:
                found.append(_ceil_div(int(raw.split()[0]), int(raw.split()[1])))
    for rel in v1 or ["/"]:
        for mount in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
            for folder in _up(root / mount, rel):
                quota, period = _read(folder / "cpu.cfs_quota_us"), \
                    _read(folder / "cpu.cfs_period_us")
                if quota and period and int(quota) > 0 and int(period) > 0:
                    found.append(_ceil_div(int(quota), int(period)))
    return min(found) if found else None


def _up(base: Path, rel: str) -> list[Path]:
    parts = [p for p in rel.strip().split("/") if p]
    return [base.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return None
    return text if text and all(t.lstrip("-").isdigit() or t == "max"
                                for t in text.split()) else None


def _ceil_div(a: int, b: int) -> int:
    return max(1, -(-a // b))
