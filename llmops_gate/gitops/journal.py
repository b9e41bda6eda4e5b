"""Crash safety for promotions: a lock per clone, a journal of original file contents, and the
test-only stop points.

Before the first file of the work tree is written, the journal
(`.git/llmops-gate/journal.json`) records every file's original content. The commit is the
point of no return: a run that dies before it leaves the journal behind, and the next run
restores the files from it and starts over; a run that dies after it finds its own
`Promotion-Id` on HEAD and only removes the journal.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmops_gate.errors import GateError
from llmops_gate.yamlio.fsutil import atomic_write

# Where LLMOPS_GATE_STOP_AT can kill a promotion, in the order they are passed.
STAGES = ("locked", "planned", "journal", "write", "written", "committed", "push")


def checkpoint(stage: str) -> None:
    """Test hooks. `LLMOPS_GATE_STOP_AT=<stage>` SIGKILLs the process here;
    `LLMOPS_GATE_WAIT_AT=<stage>:<file>` creates `<file>.waiting` and waits for `<file>`."""
    if os.environ.get("LLMOPS_GATE_STOP_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)
    wait = os.environ.get("LLMOPS_GATE_WAIT_AT", "")
    if wait.startswith(stage + ":"):
        gate = Path(wait.split(":", 1)[1])
        Path(str(gate) + ".waiting").touch()
        deadline = time.monotonic() + 120
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def state_dir(git_dir: Path) -> Path:
    d = git_dir / "llmops-gate"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def lock(git_dir: Path) -> Iterator[None]:
    """One promotion per clone at a time; a lock left by a dead process is taken over."""
    path = state_dir(git_dir) / "lock"
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(path.read_text(encoding="utf-8").strip() or "0")
            except (OSError, ValueError):
                pid = 0
            if pid and _alive(pid):
                raise GateError(f"another llmops-gate promotion (pid {pid}) is running in this "
                                f"clone; wait for it to finish (lock file {path})") from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(str(os.getpid()))
        break
    else:
        raise GateError(f"cannot take the promotion lock {path}")
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def journal_path(git_dir: Path) -> Path:
    return state_dir(git_dir) / "journal.json"


def write_journal(git_dir: Path, data: dict[str, Any]) -> None:
    atomic_write(journal_path(git_dir), json.dumps(data, indent=2, sort_keys=True))


def read_journal(git_dir: Path) -> dict[str, Any] | None:
    path = git_dir / "llmops-gate" / "journal.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise GateError(f"{path}: unreadable promotion journal ({exc}); check the files it "
                        "names with `git status`, restore them with `git checkout -- FILE`, "
                        "then delete the journal") from None
    return data if isinstance(data, dict) else None


def clear_journal(git_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        journal_path(git_dir).unlink()


def restore_files(root: Path, files: dict[str, str | None]) -> list[str]:
    """Put each file back to its journalled content (None: it did not exist)."""
    restored = []
    for rel, content in sorted(files.items()):
        path = root / rel
        if content is None:
            if path.exists():
                path.unlink()
                restored.append(rel)
            continue
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != content:
            atomic_write(path, content)
            restored.append(rel)
    return restored
