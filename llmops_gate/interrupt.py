"""Stopping at once on SIGINT (Ctrl-C) and SIGTERM (`timeout`, a cancelled PipelineRun).

The CLI installs `install()` in its main thread. On the first signal the handler:
1. stops scheduling work and SIGKILLs the process group of every running child
   (`llmops_gate.repo.child.stop_all`: nothing new starts after it);
2. raises `Interrupted` in the main thread, so every `finally` and `with` runs on the way out
   (temporary folders are removed, a promotion puts back the files it had written, locks are
   released) and the CLI exits with 128 + the signal (130 for SIGINT, 143 for SIGTERM) after
   one line on stderr;
3. arms a watchdog: if the unwinding has not finished within `GRACE` seconds (a validator
   thread busy in pure Python cannot be interrupted), it removes the temporary folders itself
   and ends the process with the same code.

A section that must not be cut in two (a promotion's `git commit`: the commit and the files
around it go together) runs under `deferred()`: a signal arriving inside it is acted on as the
section ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from llmops_gate.repo import child
from llmops_gate.yamlio import fsutil

GRACE = 1.5
NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}

_lock = threading.Lock()
_deferred = 0
_pending: int | None = None
_reported = threading.Event()


class Interrupted(BaseException):
    """The run was stopped by a signal; not an `Exception`, so no handler swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def code(self) -> int:
        return 128 + self.signum

    @property
    def message(self) -> str:
        name = NAMES.get(signal.Signals(self.signum), f"signal {self.signum}")
        return (f"llmops-gate: stopped by {name}: running builds killed, temporary files "
                "removed")


def install() -> Callable[[], None]:
    """Handle SIGINT and SIGTERM as described above; returns what puts the previous handlers
    back (for callers that run the CLI in-process). Does nothing outside the main thread,
    where Python cannot install signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in NAMES}
    for sig in NAMES:
        signal.signal(sig, _handler)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def report(exc: Interrupted) -> None:
    """The one line on stderr, once (the watchdog may get there first)."""
    if not _reported.is_set():
        _reported.set()
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(exc.message + "\n")
            sys.stderr.flush()


def _handler(signum: int, frame: FrameType | None) -> None:
    global _pending
    first = not child.stopping()
    child.stop_all()
    if first:
        watchdog = threading.Thread(target=_watchdog, args=(signum,), daemon=True,
                                    name="llmops-gate-stop")
        watchdog.start()
    with _lock:
        if _deferred:
            _pending = signum
            return
    raise Interrupted(signum)


def _watchdog(signum: int) -> None:
    done = threading.Event()
    done.wait(GRACE)
    # A deferred section (a commit) may finish first; it is short, but never cut in two.
    for _ in range(200):
        with _lock:
            if not _deferred:
                break
        done.wait(0.05)
    child.stop_all()
    fsutil.remove_temp_dirs()
    report(Interrupted(signum))
    os._exit(128 + signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Run the body whole: a SIGINT/SIGTERM inside it is raised when it ends."""
    global _deferred, _pending
    with _lock:
        _deferred += 1
    try:
        yield
    finally:
        with _lock:
            _deferred -= 1
            pending = _pending if not _deferred else None
            if pending is not None:
                _pending = None
        if pending is not None:
            raise Interrupted(pending)
