"""yamllint in a forked child (`llmops_gate.validators.lint_worker`) reports what it reports
in-process: the same findings, byte for byte, and the same when the child fails."""

from __future__ import annotations

import functools
import gc
import json
import os
from pathlib import Path

import pytest

from benchmarks.generate import generate, model_names
from llmops_gate.model import Finding
from llmops_gate.repo import child
from llmops_gate.validators import lint_worker
from llmops_gate.validators.lint import BUILTIN_CONFIG, lint_list, lint_text
from tests import bounded
from tests.conftest import cli_env, run_cli

# The same text in two plain manifests: linted once, reported for each file.
REPEATED = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  key: value   \n"""


def lint_repo(tmp_path: Path) -> Path:
    repo = generate(tmp_path / "gen", 6, defects=True)
    extra = repo / "extra"
    extra.mkdir()
    for name in ("a", "b"):
        (extra / f"{name}.yaml").write_text(REPEATED.format(name="same"), encoding="utf-8")
    return repo


def lint_findings(report: str) -> list[tuple[str, str, int, int]]:
    return [(f["rule"], f["file"], f["line"], f["column"])
            for f in json.loads(report)["findings"] if f["validator"] == "lint"]


def test_lint_in_a_child_gives_the_in_process_report(tmp_path: Path) -> None:
    repo = lint_repo(tmp_path)
    forked = run_cli("validate", repo, "--format", "json")
    inline = run_cli("validate", repo, "--format", "json",
                     env=cli_env({"LLMOPS_GATE_NO_LINT_WORKER": "1"}))
    assert forked.code == inline.code == 1, forked.stderr + inline.stderr
    assert "Traceback" not in forked.stderr
    assert forked.stdout == inline.stdout
    found = lint_findings(forked.stdout)
    broken = f"models/{model_names(6)[2]}/overlays/production/size.yaml"
    assert ("yaml-syntax", broken, 11, 17) in found
    assert [f for f in found if f[0] == "yaml-trailing-spaces"] == [
        ("yaml-trailing-spaces", "extra/a.yaml", 6, 13),
        ("yaml-trailing-spaces", "extra/b.yaml", 6, 13)]


def _texts(count: int) -> list[tuple[str, str]]:
    return [(REPEATED.format(name=f"cm-{i}"), f"f{i}.yaml") for i in range(count)]


def _lint(text: str, file: str) -> list[Finding]:
    from yamllint.config import YamlLintConfig

    return list(lint_text(text, file, YamlLintConfig(content=BUILTIN_CONFIG)))


def test_the_child_computes_what_the_process_computes() -> None:
    items = _texts(lint_worker.MIN_TEXTS + 2)
    assert lint_worker.wanted(len(items))
    got = lint_worker._in_child(_lint, items)
    assert got is not None  # the child ran and its result read back
    assert got == [_lint(text, file) for text, file in items]
    assert all(f.rule == "yaml-trailing-spaces" for found in got for f in found)


def test_a_child_over_its_memory_ceiling_falls_back_to_linting_here(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Fault injection: a lint that needs 64 MiB, given a child with 16 MiB to spare, dies
    # there at the ceiling; the parent then lints the same texts itself.
    monkeypatch.setattr(lint_worker, "MEMORY", 16 * 1024 * 1024)

    def hungry(text: str, file: str) -> list[Finding]:
        ballast = bytearray(64 * 1024 * 1024)
        return _lint(text, file) if ballast else []

    items = _texts(lint_worker.MIN_TEXTS + 2)
    assert lint_worker._in_child(hungry, items) is None
    assert lint_worker.map_texts(hungry, items) == [_lint(t, f) for t, f in items]


def _children() -> set[int]:
    """This process's live descendants (tests.bounded's /proc walk)."""
    return set(bounded.tree(os.getpid())) - {os.getpid()}


def test_a_stop_kills_the_child_and_leaves_no_process(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _children()
    calls = 0

    def stop_after_fork() -> bool:
        # False for the check before the fork, True once the parent waits on the child.
        nonlocal calls
        calls += 1
        return calls > 1

    monkeypatch.setattr(child, "stopping", stop_after_fork)
    with pytest.raises(child.Cancelled):
        lint_worker._in_child(_lint, _texts(200))
    assert _children() <= before


def _conf_lint() -> functools.partial[list[Finding]]:
    from yamllint.config import YamlLintConfig

    return functools.partial(lint_list, YamlLintConfig(content=BUILTIN_CONFIG))


def test_a_child_forked_early_gets_its_job_through_the_pipe() -> None:
    before = _children()
    worker = lint_worker.prefork()
    assert worker is not None and worker.pid in _children()
    items = _texts(lint_worker.MIN_TEXTS + 2)
    try:
        got = lint_worker._in_child(_conf_lint(), items)
    finally:
        lint_worker.release(worker)
    assert got == [_lint(text, file) for text, file in items]
    # The early child did the job (none waits any more), and nothing is left or frozen.
    assert lint_worker._take() is None
    assert _children() <= before
    assert gc.get_freeze_count() == 0


def test_an_unused_early_child_is_ended_and_reaped() -> None:
    before = _children()
    worker = lint_worker.prefork()
    assert worker is not None
    lint_worker.release(worker)
    assert _children() <= before
    with pytest.raises(ChildProcessError):
        os.waitpid(worker.pid, os.WNOHANG)
    assert gc.get_freeze_count() == 0


def test_a_lint_that_does_not_pickle_goes_to_a_child_forked_then() -> None:
    before = _children()
    worker = lint_worker.prefork()
    items = _texts(lint_worker.MIN_TEXTS + 2)
    conf_lint = _conf_lint()
    try:
        got = lint_worker._in_child(lambda text, file: conf_lint(text, file), items)
    finally:
        lint_worker.release(worker)
    assert got == [_lint(text, file) for text, file in items]
    assert _children() <= before
    assert gc.get_freeze_count() == 0


def test_validate_forks_the_lint_child_before_reading_the_repo(tmp_path: Path) -> None:
    # The child is forked before the scan: the texts reach it by pipe, and the report is the
    # one an in-process lint gives (the first test above compares the CLI's two reports).
    from llmops_gate import engine

    repo = lint_repo(tmp_path)
    forks: list[int] = []
    real = lint_worker._fork

    def counting(job: object) -> object:
        forks.append(0 if job is None else 1)
        return real(job)  # type: ignore[arg-type]

    before = _children()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lint_worker, "_fork", counting)
        report = engine.validate_repo(repo)
    assert forks == [0]  # one child, forked early, none later
    assert any(f.validator == "lint" for f in report.findings)
    assert _children() <= before
