"""Python rule plugins through the `llmops_gate.rules` entry-point group."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from llmops_gate.validators.policy.registry import ENTRY_POINT_GROUP, all_rules
from tests.conftest import EXAMPLE, cli_env, findings, run_cli
from tests.validators.policy.conftest import ISVC, line, model_files, run_policy, where

PLUGIN = '''
from llmops_gate.validators.policy.base import Rule, Violation


def check(resource, ctx):
    labels = resource.doc.get("metadata", {}).get("labels") or {}
    if "team" not in labels:
        yield Violation(f"{resource.kind} has no team label", path=("metadata", "name"))


def crash(resource, ctx):
    raise RuntimeError("plugin bug")


RULE = Rule(id="team-label", description="Every model names its team.", why="on-call",
            fix="add metadata.labels.team", check=check, kinds=frozenset({"InferenceService"}))
CRASH = [Rule(id="crashing-rule", description="d", why="w", fix="f", check=crash,
              kinds=frozenset({"InferenceService"}))]
'''


def make_plugin(root: Path, broken: bool = False) -> Path:
    site = root / "site"
    (site / "team_rules-1.0.dist-info").mkdir(parents=True)
    (site / "team_rules.py").write_text(PLUGIN)
    (site / "team_rules-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: team-rules\nVersion: 1.0\n")
    eps = f"[{ENTRY_POINT_GROUP}]\nteam = team_rules:RULE\n"
    if broken:
        eps += "crash = team_rules:CRASH\nmissing = no_such_module:RULE\n"
    (site / "team_rules-1.0.dist-info" / "entry_points.txt").write_text(textwrap.dedent(eps))
    return site


def test_plugin_rule_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(make_plugin(tmp_path)))
    rules, problems = all_rules()
    assert problems == [] and rules["team-label"].source == "plugin team-rules"
    found = run_policy(tmp_path / "repo", model_files())
    assert where(found) == [("team-label", "overlays/dev/inferenceservice.yaml",
                             line(ISVC, "name: dev-llm"))]


def test_broken_plugins_are_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(make_plugin(tmp_path, broken=True)))
    found = run_policy(tmp_path / "repo", model_files())
    failed = [f for f in found if f.rule == "rule-failed"]
    assert len(failed) == 2
    assert any("no_such_module" in f.message and f.file is None for f in failed)
    assert any("crashing-rule" in f.message and "plugin bug" in f.message and
               f.file == "overlays/dev/inferenceservice.yaml" for f in failed)


def test_plugin_through_the_cli(tmp_path: Path) -> None:
    site = make_plugin(tmp_path)
    env = cli_env({"PYTHONPATH": f"{cli_env()['PYTHONPATH']}{site}"})
    listed = run_cli("rules", "--format", "json", env=env)
    assert listed.code == 0, listed.stderr
    assert "team-label" in [r["id"] for r in listed.json()["rules"]]
    result = run_cli("validate", EXAMPLE, "--only", "policy", "--format", "json", env=env)
    assert result.code == 1, result.stdout + result.stderr
    assert sorted((f["rule"], f["file"], f["line"]) for f in findings(result)) == [
        ("team-label", "deploy_model/base/inferenceservice.yaml", 6)] * 3
