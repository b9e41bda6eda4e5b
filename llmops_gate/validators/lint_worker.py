"""yamllint in a child process, beside the builds.

yamllint is pure Python and the largest share of a run's Python time (about 60% on a repo of
many small overlays). In the tool's own process it runs in a side thread, where it takes turns
on the GIL with the thread that parses Kustomize's output and runs the other validators; a
child process has a core (and an interpreter) of its own. The child is forked, not spawned,
so it starts in milliseconds and imports nothing (a spawned interpreter would import the
package again, and multiprocessing's spawn and forkserver methods start a resource-tracker
process as well). `validate` forks it early (`prefork`), before the repo is read, and sends
it the texts and the yamllint config through a pipe: a child forked late holds a copy of
every page the parent writes while it lives, and the parent then holds the whole repo.
Without a waiting child (another caller, or a lint that does not pickle) one is forked when
the texts are ready, and inherits them. Forking a process
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
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from llmops_gate.repo import child

T = TypeVar("T")

# Below this many distinct texts the fork and the pickling cost more than they give back.
MIN_TEXTS = 8
# yamllint's memory per file is a few times the file (at most limits.max_file_bytes): 1 GiB
# more than the parent had is far more than any lint needs, and still bounds a runaway.
MEMORY = 1024 * 1024 * 1024
POLL = 0.05


def available() -> bool:
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and not os.environ.get("LLMOPS_GATE_NO_LINT_WORKER"))


def wanted(count: int) -> bool:
    return count >= MIN_TEXTS and available()


class Worker:
    """A forked child: its pid, the pipe its job goes in by (None when it inherited the job),
    the pipe its result comes back by."""

    def __init__(self, pid: int, job: int | None, result: int) -> None:
        self.pid, self.job, self.result = pid, job, result

    def discard(self) -> None:
        """End it unused (its job pipe closes empty: it leaves at once), and reap it."""
        if self.job is not None:
            os.close(self.job)
            self.job = None
        os.close(self.result)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


_spare: Worker | None = None
_spare_lock = threading.Lock()
_frozen = 0


def _freeze() -> None:
    # Memory: after a fork, every page either process writes is copied, and a collection of
    # the garbage collector writes to every object it walks; while a child lives, both
    # processes' collections look only at objects made after the fork.
    global _frozen
    with _spare_lock:
        if _frozen == 0:
            gc.freeze()
        _frozen += 1


def _unfreeze() -> None:
    global _frozen
    with _spare_lock:
        _frozen -= 1
        if _frozen == 0:
            gc.unfreeze()


def prefork() -> Worker | None:
    """Fork the child that will lint this run's texts now, while this process is small (its
    imports and config only): forked later, from a process holding the whole repo's parsed
    sources, its copy of what the parent touches meanwhile cost 25-35 MB of a 300-overlay
    run's peak. It waits for one job (`map_texts` sends it the texts and the lint); give the
    result to `release` at the end of the run, used or not."""
    global _spare
    if not available():
        return None
    # What the job's unpickling needs is imported before the fork: yamllint and its rules.
    from llmops_gate.validators import lint  # noqa: F401

    with _spare_lock:
        if _spare is not None:  # another run in this process holds one
            return None
    worker = _fork(None)
    with _spare_lock:
        _spare = worker
    return worker


def release(worker: Worker | None) -> None:
    """End `prefork`'s child if no job took it."""
    global _spare
    if worker is None:
        return
    with _spare_lock:
        unused = _spare is worker
        if unused:
            _spare = None
    if unused:
        worker.discard()
        _unfreeze()


def _take() -> Worker | None:
    global _spare
    with _spare_lock:
        worker, _spare = _spare, None
    return worker


def map_texts(lint: Callable[[str, str], T], items: Sequence[tuple[str, str]]) -> list[T]:
    """`[lint(text, file) for text, file in items]`, computed in a forked child when there are
    enough of them (see the module's doc), in-process otherwise or when the child fails.
    `lint` is pickled to a child forked early (`prefork`), so give a module-level function
    or a partial of one; anything else is run by a child forked now."""
    if wanted(len(items)):
        got = _in_child(lint, items)
        if got is not None:
            return got
    return [lint(text, file) for text, file in items]


def _in_child(lint: Callable[[str, str], T], items: Sequence[tuple[str, str]]
              ) -> list[T] | None:
    if child.stopping():
        raise child.Cancelled("lint not started: llmops-gate is stopping")
    worker = _take()
    if worker is not None:
        try:
            job = pickle.dumps((lint, list(items)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            job = None
        if job is None or not _send(worker, job):
            worker.discard()
            _unfreeze()
            worker = None
    if worker is None:
        _freeze()
        worker = _fork((lint, items))
        if worker is None:
            _unfreeze()
            return None
    try:
        got = _result(worker)
    finally:
        _unfreeze()
    return got if got is not None and len(got) == len(items) else None


def _send(worker: Worker, job: bytes) -> bool:
    assert worker.job is not None
    try:
        view = memoryview(job)
        while view:
            view = view[os.write(worker.job, view):]
    except OSError:  # the child is gone (its ceiling, a kill): fork another
        return False
    finally:
        os.close(worker.job)
        worker.job = None
    return True


def _fork(job: tuple[Callable[[str, str], Any], Sequence[tuple[str, str]]] | None
          ) -> Worker | None:
    """A child that computes `job`, or, when it is None, the one its job pipe brings."""
    prctl = child._libc.prctl if child._libc is not None else None
    parent = os.getpid()
    read_end, write_end = os.pipe()
    job_read, job_write = os.pipe() if job is None else (-1, -1)
    if job is None:
        _freeze()
    try:
        pid = os.fork()
    except OSError:
        for fd in (read_end, write_end, job_read, job_write):
            if fd >= 0:
                os.close(fd)
        if job is None:
            _unfreeze()
        return None
    if pid == 0:  # the child: compute, write, leave without running any of the parent's exits
        code = 1
        try:
            # Only its pipes to the parent stay open: another thread may have been starting
            # a Kustomize process, and a copy of that pipe's write end held here would keep
            # the parent waiting for its end of output until this child exits.
            keep = sorted(fd for fd in (write_end, job_read) if fd >= 0)
            low = 3
            for fd in keep:
                os.closerange(low, fd)
                low = fd + 1
            os.closerange(low, _max_fd())
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            if prctl is not None:
                prctl(child.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
            if job is None:
                chunks = []
                while chunk := os.read(job_read, 1 << 20):
                    chunks.append(chunk)
                if not chunks:  # discarded unused
                    os._exit(0)
                _cap_memory()
                job = pickle.loads(b"".join(chunks))
            else:
                _cap_memory()
            lint, items = job
            data = pickle.dumps([lint(text, file) for text, file in items],
                                protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    if job_read >= 0:
        os.close(job_read)
    return Worker(pid, job_write if job is None else None, read_end)


def _result(worker: Worker) -> list[Any] | None:
    """The child's result, once it has left; None when it failed."""
    pid, read_end = worker.pid, worker.result
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
    return got if isinstance(got, list) else None


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
