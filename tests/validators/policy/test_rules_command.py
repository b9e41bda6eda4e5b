"""`llmops-gate rules` (text and json) and the rule metadata it shows."""

from __future__ import annotations

import re
from pathlib import Path

from llmops_gate.validators.policy.registry import BUILTIN, FAMILIES, META
from tests.conftest import run_cli


def test_rules_are_declared_as_data() -> None:
    ids = [r.id for f in FAMILIES for r in f.RULES]
    assert len(ids) == len(set(ids)) == len(BUILTIN)
    for rule in [*BUILTIN.values(), *META.values()]:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id)
        assert rule.description and rule.why and rule.fix, rule.id
    for family in FAMILIES:
        assert family.__doc__ and "Passing" in family.__doc__ and "Failing" in family.__doc__


def test_rules_json_lists_every_rule(tmp_path: Path) -> None:
    result = run_cli("rules", tmp_path, "--format", "json", "--validator", "policy")
    assert result.code == 0, result.stderr
    listed = {r["id"]: r for r in result.json()["rules"]}
    assert set(listed) == set(BUILTIN) | set(META)
    assert {r["validator"] for r in result.json()["rules"]} == {"policy"}
    assert listed["image-tag-pinned"]["severity"] == "error"
    assert listed["image-tag-pinned"]["equivalents"]["kube-linter"] == "latest-tag"
    assert listed["vllm-args"]["severity"] == "warning"
    assert {o["name"] for o in listed["vllm-args"]["options"]} == {"version", "extra-flags"}


def test_rules_text_with_custom_rule(tmp_path: Path) -> None:
    (tmp_path / ".llmops-gate.yaml").write_text(
        "policy:\n  custom-rules:\n    - {id: team-label, description: Every model names its "
        "team., field: metadata.labels.team, assert: {exists: true}}\n")
    result = run_cli("rules", tmp_path)
    assert result.code == 0, result.stderr
    assert re.search(r"^resources-required +error +Every container", result.stdout, re.M)
    assert re.search(r"^team-label +error +Every model names its team\. +\[config\]",
                     result.stdout, re.M)
    assert "fix: " in result.stdout and "why: " in result.stdout


def test_rules_with_bad_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / ".llmops-gate.yaml").write_text("policy: {nope: 1}\n")
    result = run_cli("rules", tmp_path)
    assert result.code == 2
    assert "unknown key 'policy.nope'" in result.stderr


def test_explain_shows_the_documentation(tmp_path: Path) -> None:
    result = run_cli("rules", tmp_path, "--explain", "runtime-resolves")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("runtime-resolves")
    assert "Passing:" in result.stdout and "Failing:" in result.stdout
    unknown = run_cli("rules", tmp_path, "--explain", "nope")
    assert unknown.code == 2 and "unknown rule 'nope'" in unknown.stderr


def test_readme_reference_table_lists_every_rule() -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Rule reference", 1)[1]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \| (error|warning|info) \|", table, re.M)
    assert dict(listed) == {r.id: r.severity.value for r in [*BUILTIN.values(), *META.values()]}
