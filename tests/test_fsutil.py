"""Files the tool writes appear whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.yamlio.fsutil import atomic_write


def test_atomic_write_replaces_and_keeps_permissions(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write(target, "new\n")
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()  # a folder cannot be replaced by a file: the rename fails
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        atomic_write(target, "data")
    assert (target / "keep").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
