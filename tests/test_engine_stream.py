"""The engine overlaps validators with the builds without changing what they see or report."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmops_gate import validators
from llmops_gate.engine import Options, validate_repo
from llmops_gate.model import Finding, Severity, UnitResult
from llmops_gate.validators.context import Context
from tests.conftest import EXAMPLE, EXAMPLE_MANIFESTS, run_cli


def _probe_module() -> types.ModuleType:
    """A validator with the streaming hooks that records what the engine handed it."""
    mod = types.ModuleType("llmops_gate_test_probe")
    seen: list[str] = []
    finished: list[int] = []

    def check(ctx: Context) -> Iterator[Finding]:
        for result in ctx.results:
            yield from check_unit(ctx, result)

    def check_unit(ctx: Context, result: UnitResult) -> Iterator[Finding]:
        seen.append(result.unit.path)
        yield Finding(validator="probe", rule="probe-seen", severity=Severity.INFO,
                      message=f"{len(result.resources)} resources", overlay=result.unit.path)

    def check_finish(ctx: Context) -> Iterator[Finding]:
        finished.append(len(ctx.results))
        return iter(())

    for fn in (check, check_unit, check_finish):
        fn.__module__ = mod.__name__
    mod.check = check  # type: ignore[attr-defined]
    mod.check_unit = check_unit  # type: ignore[attr-defined]
    mod.check_finish = check_finish  # type: ignore[attr-defined]
    mod.seen = seen  # type: ignore[attr-defined]
    mod.finished = finished  # type: ignore[attr-defined]
    return mod


def test_check_unit_sees_every_unit_once_and_finish_sees_all(
        monkeypatch: pytest.MonkeyPatch) -> None:
    probe = _probe_module()
    monkeypatch.setitem(sys.modules, probe.__name__, probe)
    monkeypatch.setitem(validators.REGISTRY, "probe", f"{probe.__name__}:check")
    report = validate_repo(EXAMPLE, Options())
    units = [u.path for u in report.units]
    assert sorted(probe.seen) == sorted(units)  # type: ignore[attr-defined]
    assert probe.finished == [len(units)]  # type: ignore[attr-defined]
    found = {f.overlay: f.message for f in report.findings if f.validator == "probe"}
    # Each unit was handed over with its resources (3 per overlay, 1 per Application).
    assert found["deploy_model/overlays/dev"] == "3 resources"
    assert found["argocd-apps/dev-application.yaml"] == "1 resources"
    assert report.resources == 9 + EXAMPLE_MANIFESTS


def test_error_in_the_side_thread_is_a_usage_error(tmp_path: Path) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    (repo / ".yamllint").write_text("rules:\n  nosuchrule: enable\n", encoding="utf-8")
    result = run_cli("validate", repo)
    assert result.code == 2
    assert "invalid yamllint config" in result.stderr
