"""Waivers: `llmops-gate.io/ignore` with a required reason; refused by config per environment."""

from __future__ import annotations

from pathlib import Path

from tests.validators.policy.conftest import RUNTIME, line, model_files, run_policy, where

F_RT = "overlays/dev/servingruntime.yaml"
LATEST = RUNTIME.replace("rhoai-2.22-cuda", "latest")


def _waive(text: str, rules: str, reason: str | None) -> str:
    extra = f"    llmops-gate.io/ignore: {rules}\n"
    if reason is not None:
        extra += f"    llmops-gate.io/ignore-reason: {reason}\n"
    return text.replace("  namespace: llm-dev\n", "  namespace: llm-dev\n  annotations:\n"
                        + extra, 1)


def test_waiver_with_reason(tmp_path: Path) -> None:
    runtime = _waive(LATEST, "image-tag-pinned", "nightly build, dev only")
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == []
    waived = [f for f in found if f.waived]
    assert [(f.rule, f.file, f.line) for f in waived] == [
        ("image-tag-pinned", F_RT, line(runtime, "image:"))]
    assert waived[0].waiver_reason == "nightly build, dev only"


def test_waiver_without_reason(tmp_path: Path) -> None:
    runtime = _waive(LATEST, "image-tag-pinned", None)
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [
        ("image-tag-pinned", F_RT, line(runtime, "image:")),
        ("waiver-reason-missing", F_RT, line(runtime, "llmops-gate.io/ignore:")),
    ]
    assert not any(f.waived for f in found)


def test_waiver_of_unknown_rule(tmp_path: Path) -> None:
    runtime = _waive(LATEST, "image-tag-pinned, image-latest", "dev only")
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [("waiver-unknown-rule", F_RT, line(runtime, "llmops-gate.io/ignore:"))]


PROD_CONFIG = """
environments:
  - name: dev
    overlay: overlays/dev
  - name: production
    overlay: overlays/production
    policy:
      replicas: {min: 1}
      waivers: {refuse: [image-tag-pinned]}
"""


def test_config_refuses_waiver_in_production(tmp_path: Path) -> None:
    for env in ("dev", "production"):
        (tmp_path / f"overlays/{env}").mkdir(parents=True)
        (tmp_path / f"overlays/{env}/kustomization.yaml").write_text("resources: []\n")
    runtime = _waive(LATEST, "image-tag-pinned", "we know")
    files = {**model_files(runtime=runtime), **model_files(runtime=runtime,
                                                           folder="overlays/production")}
    found = run_policy(tmp_path, files, config=PROD_CONFIG)
    prod = "overlays/production/servingruntime.yaml"
    assert where(found) == [("image-tag-pinned", prod, line(runtime, "image:"))]
    assert "waiver refused" in next(f.message for f in found if not f.waived)
    assert [(f.file, f.waived) for f in found] == [(F_RT, True), (prod, False)]


def test_refusing_an_unknown_rule_is_a_config_error(tmp_path: Path) -> None:
    import pytest

    from llmops_gate.errors import GateError

    with pytest.raises(GateError, match="unknown policy rule 'image-latest'"):
        run_policy(tmp_path, model_files(), config="policy: {waivers: {refuse: [image-latest]}}\n")
