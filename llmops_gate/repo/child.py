"""The one door every child process of the tool takes (Kustomize and kubeconform): an argument
list, a timeout, an output cap, a memory ceiling, a parent-death signal and a process group of
its own, killed at the end, on a timeout and on SIGINT/SIGTERM (`stop_all`). The errors it
raises are the ones a build reports (`BuildError` and its kinds).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class BuildError(Exception):
    """Kustomize failed on an overlay (its message is the finding's message).

    `file` and `line` name the repo-relative file the failure is about, when Kustomize's
    message lets us tell (see `kustomize_errors.explain`).
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column


class BuildTimeout(BuildError):
    """Kustomize did not finish within the timeout; its whole process group was killed."""


class OutOfMemory(BuildError):
    """The child hit its memory ceiling (`limits.kustomize_memory`) and was stopped."""


class Cancelled(BuildError):
    """The run is stopping (SIGINT/SIGTERM): no new child is started, running ones are killed."""


STDERR_KEEP = 256 * 1024
GiB = 1024 * 1024 * 1024

# What the Go runtime prints when an allocation fails (kubectl, kustomize and kubeconform are
# Go programs): under RLIMIT_DATA mmap fails with ENOMEM and the runtime aborts with "fatal
# error: runtime: out of memory", "fatal error: runtime: cannot allocate memory" or, when it
# happens at start-up, "fatal error: out of memory allocating heap arena map".
OOM_MARKERS = (b"out of memory", b"cannot allocate memory")


def memory_label(limit: int) -> str:
    """`2 GiB`, `64 MiB`: a ceiling as a user wrote it."""
    for unit, size in (("GiB", GiB), ("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


# --- every child process of the tool starts here ----------------------------------------------
#
# One door for every Kustomize and kubeconform process, so the bounds hold for all of them:
# - a memory ceiling, RLIMIT_DATA set in the child before exec. Measured with kubectl 1.32
#   (Go): RLIMIT_AS cannot work, the Go runtime reserves address space at start and dies in
#   mallocinit under any limit below ~1 GiB even for a 4-line overlay; RLIMIT_DATA counts only
#   memory actually mapped writable, so a 64 MiB ceiling still builds small overlays and stops
#   a large one with "fatal error: runtime: cannot allocate memory". GOMEMLIMIT (90% of the
#   ceiling) makes Go's collector work harder before the hard limit is hit;
# - for Kustomize, GOMAXPROCS=1 (`threads`): its build is one goroutine's work, yet Go starts
#   a thread per CPU for its scheduler and collector, and `--jobs` builds run at once beside
#   the tool's own process; one each measured 4-8% less wall time and CPU on a 2-core machine
#   (the benchmark repos, 102 and 300 overlays). A GOMAXPROCS the user sets stands;
# - a parent-death signal (Linux prctl PR_SET_PDEATHSIG = SIGKILL), so a child dies with the
#   tool even when the tool is SIGKILLed. It fires when the *thread* that forked exits; every
#   spawning thread waits for (and reaps) its child before it returns, so that thread always
#   outlives the child;
# - its own session (process group), killed as a whole at the timeout, on too much output, on
#   a stop (SIGINT/SIGTERM, see `stop_all`), or when the caller unwinds;
# - the timeout and the output cap.

PR_SET_PDEATHSIG = 1
_libc: Any = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        _libc = ctypes.CDLL(None, use_errno=True)

_live_lock = threading.RLock()
_live: set[subprocess.Popen[bytes]] = set()
_stopping = threading.Event()


def _child_setup(memory: int | None, parent: int) -> Callable[[], None]:
    """The function run in the child between fork and exec (only async-safe work: rlimits,
    prctl; everything it needs is bound before the fork)."""
    prctl = _libc.prctl if _libc is not None else None
    data = resource.RLIMIT_DATA

    def setup() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os.kill(os.getpid(), signal.SIGKILL)
        if memory is not None:
            _soft, hard = resource.getrlimit(data)
            cap = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
            resource.setrlimit(data, (cap, cap))

    return setup


def stop_all() -> int:
    """Start no more children and SIGKILL the process group of every running one (the SIGINT
    and SIGTERM handlers call it). Returns how many were running."""
    _stopping.set()
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return len(procs)


def stopping() -> bool:
    return _stopping.is_set()


def run_child(argv: Sequence[str], *, cwd: str | Path | None, timeout: float, max_bytes: int,
              memory: int | None, what: str = "kustomize build",
              stdin: int | None = subprocess.DEVNULL,
              threads: int | None = None) -> tuple[int, bytes, bytes]:
    """Run one child within the bounds above: (exit code, stdout, start of stderr).

    Raises BuildTimeout, BuildError (output over `max_bytes`), OutOfMemory (the child died at
    its ceiling; the message names it, the caller adds where) or Cancelled (the run is
    stopping). OSError when the program cannot be started.
    """
    if _stopping.is_set():
        raise Cancelled(f"{what} not started: llmops-gate is stopping")
    env = dict(os.environ)
    if memory is not None and "GOMEMLIMIT" not in env:
        env["GOMEMLIMIT"] = str(memory // 10 * 9)
    if threads is not None and "GOMAXPROCS" not in env:
        env["GOMAXPROCS"] = str(threads)
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin,
        start_new_session=True,
        cwd=cwd,
        env=env,
        preexec_fn=_child_setup(memory, os.getpid()),
    )
    with _live_lock:
        _live.add(proc)
    try:
        if _stopping.is_set():  # stop_all ran between the check above and the registration
            raise Cancelled(f"{what} stopped: llmops-gate is stopping")
        out, err = _collect(proc, timeout, max_bytes, what)
    except BaseException:
        if proc.returncode is None:
            _kill_group(proc)
        raise
    finally:
        with _live_lock:
            _live.discard(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    if _stopping.is_set() and proc.returncode != 0:
        raise Cancelled(f"{what} stopped: llmops-gate is stopping")
    if proc.returncode != 0 and memory is not None and any(m in err for m in OOM_MARKERS):
        raise OutOfMemory(f"ran out of its {memory_label(memory)} memory limit "
                          "(limits.kustomize_memory)")
    assert proc.returncode is not None
    return proc.returncode, out, err


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL every process of the child's session, then reap the leader.

    Called while the leader is not yet reaped, so its pid (the group id) cannot have been
    reused by an unrelated process.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _leader_exited(proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait, without reaping it, for the leader to exit; False at the deadline."""
    while True:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if info is not None and info.si_pid == proc.pid:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def _collect(proc: subprocess.Popen[bytes], timeout: float, max_bytes: int,
             what: str = "kustomize build") -> tuple[bytes, bytes]:
    """stdout (at most `max_bytes`) and the start of stderr of `proc`, within `timeout`.

    On expiry, or when the output grows past the limit, the process group is killed: a
    hung or runaway Kustomize (or anything it started) never outlives the run.
    """
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                _kill_group(proc)
                raise BuildTimeout(f"{what} timed out after {timeout:g}s (its "
                                   "processes were killed)")
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.fileobj is proc.stdout:
                    out += chunk
                    if len(out) > max_bytes:
                        _kill_group(proc)
                        raise BuildError(f"{what.split()[0]} output is over {max_bytes} bytes "
                                         "(limits.max_stream_bytes)")
                elif len(err) < STDERR_KEEP:
                    err += chunk
    exited = _leader_exited(proc, deadline)
    _kill_group(proc)
    if not exited:
        raise BuildTimeout(f"{what} timed out after {timeout:g}s (its processes "
                           "were killed)")
    return bytes(out), bytes(err)
