"""Writing files so that nothing is ever half-written: a temporary file, then a rename;
temporary folders that a stopped run still removes; and reading a JSON file the package
ships."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

_temp_lock = threading.Lock()
_temp_dirs: set[str] = set()


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[str]:
    """A temporary folder (like `tempfile.TemporaryDirectory`), also known to
    `remove_temp_dirs`, which a run stopped by SIGINT/SIGTERM calls before it exits, whatever
    its threads are doing."""
    path = tempfile.mkdtemp(prefix=prefix)
    with _temp_lock:
        _temp_dirs.add(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        with _temp_lock:
            _temp_dirs.discard(path)


def track_temp(path: str) -> None:
    """Have `remove_temp_dirs` remove `path` too (a folder whose owner removes it itself)."""
    with _temp_lock:
        _temp_dirs.add(path)


def untrack_temp(path: str) -> None:
    with _temp_lock:
        _temp_dirs.discard(path)


def remove_temp_dirs() -> None:
    """Remove every temporary folder `temp_dir` made that is still there."""
    with _temp_lock:
        paths = list(_temp_dirs)
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def atomic_write(path: Path, data: str | bytes, encoding: str = "utf-8") -> None:
    """Write `data` to `path` through a temporary file in the same folder and an atomic rename.

    The file's permission bits are kept when it already exists.
    """
    raw = data.encode(encoding) if isinstance(data, str) else data
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@functools.cache
def packaged_json(package: str, name: str) -> dict[str, Any]:
    """The JSON file `name` shipped inside `package` (a report's schema), read once a run;
    callers only read it."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
