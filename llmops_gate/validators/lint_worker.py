"""yamllint in a child process, beside the builds.

yamllint is pure Python and the largest share of a run's Python time (about 60% on a repo of
many small overlays). In the tool's own process it runs in a side thread, where it takes turns
on the GIL with the thread that parses Kustomize's output and runs the other validators; a
child process has a core (and an interpreter) of its own. The child is forked, not spawned:
it inherits the yamllint config and the texts already read, so it starts in milliseconds and
imports nothing (a spawned interpreter would import the package again, and multiprocessing's
spawn and forkserver methods start a resource-tracker process as well). Forking a process
with threads is safe here because the child runs nothing but yamllint and pickle on objects it
already has (its modules are imported before the fork, and CPython holds the import lock across
a fork anyway; no I/O but its own pipe, every other descriptor is closed at once) and leaves
with `os._exit`.

Bounds and clean-up, as for every child of the tool: one child at a time per run, a memory
ceiling (RLIMIT_DATA), a parent-death signal (SIGKILL: it dies with the tool even when the tool
is SIGKILLed), SIGINT and SIGTERM back to their default action (a Ctrl-C that reaches the
process group ends it at once), and on a stop (`repo.child.stopping()`, set by the SIGINT
and SIGTERM handlers) the parent kills it and reaps it. The child only computes: any failure
in it (a crash, the ceiling, a result that does not read back) makes the parent lint the same
texts itself, so the findings are the same either way; `LLMOPS_GATE_NO_LINT_WORKER=1` always
lints in-process (the tests compare both).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import resource
import select
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from llmops_gate.repo import child

T = TypeVar("T")

# Below this many distinct texts the fork and the pickling cost more than they give back.
MIN_TEXTS = 8
# yamllint's memory per file is a few times the file (at most limits.max_file_bytes): 1 GiB
# more than the parent had is far more than any lint needs, and still bounds a runaway.
MEMORY = 1024 * 1024 * 1024
POLL = 0.05


def wanted(count: int) -> bool:
    return (count >= MIN_TEXTS and sys.platform.startswith("linux") and hasattr(os, "fork")
            and not os.environ.get("LLMOPS_GATE_NO_LINT_WORKER"))


def map_texts(lint: Callable[[str, str], T], items: Sequence[tuple[str, str]]) -> list[T]:
    """`[lint(text, file) for text, file in items]`, computed in a forked child when there are
    enough of them (see the module's doc), in-process otherwise or when the child fails."""
    if wanted(len(items)):
        got = _in_child(lint, items)
        if got is not None:
            return got
    return [lint(text, file) for text, file in items]


def _in_child(lint: Callable[[str, str], T], items: Sequence[tuple[str, str]]
              ) -> list[T] | None:
    if child.stopping():
        raise child.Cancelled("lint not started: llmops-gate is stopping")
    prctl = child._libc.prctl if child._libc is not None else None
    parent = os.getpid()
    read_end, write_end = os.pipe()
    # Memory: after the fork, every page either process writes is copied, and a collection
    # of the garbage collector writes to every object it walks; while the child lives, both
    # processes' collections look only at objects made after the fork. The copies left (the
    # parent keeps parsing builds meanwhile) still cost the tree's peak 25-35 MB on a
    # 300-overlay run (measured against LLMOPS_GATE_NO_LINT_WORKER=1).
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: compute, write, leave without running any of the parent's exits
        code = 1
        try:
            # Only the pipe to the parent stays open: another thread may have been starting
            # a Kustomize process, and a copy of that pipe's write end held here would keep
            # the parent waiting for its end of output until this child exits.
            os.closerange(3, write_end)
            os.closerange(write_end + 1, _max_fd())
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            if prctl is not None:
                prctl(child.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
            _cap_memory()
            data = pickle.dumps([lint(text, file) for text, file in items],
                                protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    status = None
    try:
        while True:
            ready, _, _ = select.select([read_end], [], [], POLL)
            if child.stopping():
                raise child.Cancelled("lint stopped: llmops-gate is stopping")
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
    finally:
        gc.unfreeze()
        os.close(read_end)
        if status is None:  # stopping, or an error in this thread: the child goes too
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    try:
        got = pickle.loads(b"".join(chunks))
    except Exception:
        return None
    return got if isinstance(got, list) and len(got) == len(items) else None


def _max_fd() -> int:
    try:
        return max(int(os.sysconf("SC_OPEN_MAX")), 1024)
    except (OSError, ValueError):
        return 65536


def _cap_memory() -> None:
    limit = resource.RLIMIT_DATA
    # What RLIMIT_DATA counts already (the parent's heap and thread stacks, inherited), so
    # the ceiling is on what the child adds.
    used = 0
    with contextlib.suppress(OSError, ValueError, IndexError), \
            open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmData:"):
                used = int(line.split()[1]) * 1024
    _soft, hard = resource.getrlimit(limit)
    cap = used + MEMORY
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(limit, (cap, cap))
