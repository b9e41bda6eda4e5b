"""`llmops-gate rules` lists every validator's rules in one vocabulary, and reports carry the
documentation of the rules that produced their findings.

That every rule id the suite sees emitted is listed is checked once per test session (see
tests/rule_record.py and `pytest_sessionfinish` in tests/conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from llmops_gate import validators
from llmops_gate.engine import Options, validate_repo
from llmops_gate.report import sarif
from llmops_gate.validators.policy.registry import BUILTIN, META
from llmops_gate.validators.tekton import RULES as TEKTON
from tests.conftest import EXAMPLE, copy_tree, run_cli

EVERY = {"build", "lint", "parse", "schema", "admission", "policy", "tekton", "promote"}
POLICY_KEYS = {"id", "severity", "description", "why", "fix", "options", "kinds",
               "equivalents", "source", "doc"}


def test_rules_lists_every_validator_in_one_shape(tmp_path: Path) -> None:
    result = run_cli("rules", tmp_path, "--format", "json")
    assert result.code == 0, result.stderr
    listed = result.json()["rules"]
    assert {r["validator"] for r in listed} == EVERY
    pairs = [(r["validator"], r["id"]) for r in listed]
    assert len(pairs) == len(set(pairs))
    for r in listed:
        # The fields the policy listing always had stay on every entry (the output only grew).
        assert POLICY_KEYS | {"validator", "links"} <= set(r), r["id"]
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r["id"]), r["id"]
        assert r["severity"] in ("error", "warning", "info")
        assert r["description"] and r["fix"], (r["validator"], r["id"])
    by = {(r["validator"], r["id"]): r for r in listed}
    assert {i for v, i in by if v == "policy"} == set(BUILTIN) | set(META)
    assert by[("build", "kustomize-build")]["severity"] == "error"
    assert by[("build", "remote-resource")]["fix"].startswith("vendor the remote base")
    assert by[("lint", "yaml-trailing-spaces")]["severity"] == "warning"
    assert by[("lint", "yaml-key-duplicates")]["severity"] == "error"
    assert by[("lint", "yaml-trailing-spaces")]["links"][0].startswith(
        "https://yamllint.readthedocs.io/")
    assert by[("parse", "yaml-aliases")]["fix"].startswith("write the values out")
    assert by[("schema", "unknown-field")]["fix"].endswith("--no-strict to allow unknown fields")
    assert by[("tekton", "tekton-api-version")]["severity"] == "warning"
    assert ("promote", "promote-verify") in by


def test_validator_filter(tmp_path: Path) -> None:
    result = run_cli("rules", tmp_path, "--format", "json", "--validator", "tekton")
    assert result.code == 0, result.stderr
    assert [r["id"] for r in result.json()["rules"]] == list(TEKTON)
    text = run_cli("rules", tmp_path, "--validator", "build")
    assert text.code == 0, text.stderr
    assert re.search(r"^kustomize-build +error +Every overlay builds", text.stdout, re.M)
    assert "resources-required" not in text.stdout
    unknown = run_cli("rules", tmp_path, "--validator", "nope")
    assert unknown.code == 2
    assert "unknown validator 'nope'" in unknown.stderr


def test_text_listing_groups_by_validator(tmp_path: Path) -> None:
    result = run_cli("rules", tmp_path)
    assert result.code == 0, result.stderr
    headers = re.findall(r"^([a-z]+):$", result.stdout, re.M)
    assert headers == [*validators.names(), "promote"]


def test_explain_finds_a_rule_of_any_validator(tmp_path: Path) -> None:
    result = run_cli("rules", tmp_path, "--explain", "yaml-syntax")
    assert result.code == 0, result.stderr
    assert re.findall(r"^([a-z]+):$", result.stdout, re.M) == ["lint", "parse"]
    assert run_cli("rules", tmp_path, "--explain", "tekton-dependency-cycle").code == 0
    wrong = run_cli("rules", tmp_path, "--validator", "lint", "--explain", "image-tag-pinned")
    assert wrong.code == 2 and "unknown lint rule 'image-tag-pinned'" in wrong.stderr


def test_the_report_carries_the_docs_of_its_rules(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    isvc = repo / "deploy_model" / "base" / "inferenceservice.yaml"
    isvc.write_text(isvc.read_text().replace(":qwen2.5-0.5b-instruct", ":latest") +
                    "\n# trailing \n")
    report = validate_repo(repo, Options(only=["lint", "policy"], jobs=2))
    found = {(f.validator, f.rule) for f in report.findings}
    assert found == {("policy", "model-uri-pinned"), ("lint", "yaml-trailing-spaces")}
    assert set(report.rules) == found
    for (validator, rule), doc in report.rules.items():
        assert (doc.validator, doc.id) == (validator, rule)
        listed = {d.id: d for d in validators.rules(validator)}
        assert listed[rule] == doc
    data = sarif.as_dict(report)
    driver = {r["id"]: r for r in data["runs"][0]["tool"]["driver"]["rules"]}
    for (validator, rule), doc in report.rules.items():
        assert driver[rule]["shortDescription"]["text"] == doc.summary
        assert driver[rule]["properties"]["validator"] == validator
