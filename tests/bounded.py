"""Running the real CLI under hard bounds, and watching every process it starts.

For tests that feed the tool input meant to exhaust it, or that stop it with signals: the CLI
runs in its own session under an address-space rlimit (so even a failed screen could not take
the machine down), with TMPDIR pointed at a folder the test owns, and the test samples /proc to
measure the peak memory of the whole process tree and to find every process of the run.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT, cli_env

# The run's own hard bound: far over what it needs (the tests assert under 500 MB), far under
# what would hurt the shared machine.
ADDRESS_SPACE = 3 * 1024 * 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_tree_bytes: int  # the largest sum of RSS over the run's process tree, sampled
    peak_child_bytes: int  # the kernel's max RSS of the run and every child it reaped
    left: list[int] = field(default_factory=list)  # processes of the run still alive after


def _stat(pid: str) -> tuple[int, int, str] | None:
    """(parent pid, RSS in bytes, state) of a process."""
    try:
        raw = Path("/proc", pid, "stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[21]) * PAGE, fields[0]


def tree(root: int) -> dict[int, int]:
    """pid -> RSS of `root` and all its live descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(entry)
            if st is not None and st[2] != "Z":
                parents[int(entry)] = st[0]
                rss[int(entry)] = st[1]
    out = {root: rss[root]} if root in rss else {}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in out and pid not in out:
                out[pid] = rss[pid]
                grew = True
    return out


def with_marker(marker: str) -> list[int]:
    """Live processes whose command line or environment holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        st = _stat(entry)
        if st is None or st[2] == "Z":
            continue
        for name in ("cmdline", "environ"):
            with contextlib.suppress(OSError):
                if marker.encode() in Path("/proc", entry, name).read_bytes():
                    found.append(int(entry))
                    break
    return found


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_bounded(*args: str | Path, tmpdir: Path, marker: str, timeout: float = 60,
                env: dict[str, str] | None = None,
                during: Callable[[subprocess.Popen[str], float], bool] | None = None) -> Run:
    """Run `llmops-gate ARGS` bounded as described above; `marker` must be unique to the run
    (it is put in the environment, which every child inherits).

    `during(proc, elapsed)` is called about every 20 ms while the run lives (to send it a
    signal); it returns True once it is done. At `timeout` the whole session is SIGKILLed.
    """
    tmpdir.mkdir(parents=True, exist_ok=True)
    extra = {"TMPDIR": str(tmpdir), "LLMOPS_GATE_TEST_MARKER": marker}
    full_env = cli_env({**(env or {}), **extra})
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "llmops_gate", *map(str, args)], cwd=ROOT,
                            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_limit, start_new_session=True)
    peak = 0
    done_during = during is None
    out_chunks: list[str] = []
    err_chunks: list[str] = []
    import threading

    def drain(stream: object, into: list[str]) -> None:
        assert hasattr(stream, "read")
        into.append(stream.read())

    readers = [threading.Thread(target=drain, args=(proc.stdout, out_chunks)),
               threading.Thread(target=drain, args=(proc.stderr, err_chunks))]
    for t in readers:
        t.start()
    rusage = None
    try:
        while True:
            waited = os.wait4(proc.pid, os.WNOHANG)
            if waited[0] == proc.pid:
                status, rusage = waited[1], waited[2]
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            peak = max(peak, sum(tree(proc.pid).values()))
            elapsed = time.monotonic() - start
            if not done_during and during is not None:
                done_during = during(proc, elapsed)
            if elapsed > timeout:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.02)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for t in readers:
            t.join(timeout=10)
    seconds = time.monotonic() - start
    left = with_marker(marker)
    for _ in range(100):  # a SIGKILLed process may take a moment to be gone
        if not left:
            break
        time.sleep(0.02)
        left = with_marker(marker)
    for pid in left:  # never leave anything behind, whatever the test then asserts
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert rusage is not None
    return Run(code=proc.returncode, stdout="".join(out_chunks), stderr="".join(err_chunks),
               seconds=seconds, peak_tree_bytes=peak,
               peak_child_bytes=rusage.ru_maxrss * 1024, left=left)
