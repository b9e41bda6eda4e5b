"""The per-run result caches and fast paths never change a verdict.

`LLMOPS_GATE_NO_CACHE=1` switches them off (lint's per-content cache; identical files across
overlays are linted once).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import generate
from llmops_gate.config import load_config
from llmops_gate.model import UnitResult
from llmops_gate.repo.discover import discover_units, scan_repo
from llmops_gate.validators import lint
from llmops_gate.validators.context import Context
from llmops_gate.yamlio.sourcemap import SourceMap
from tests.conftest import EXAMPLE, cli_env, need_shared, run_cli


def both(repo: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    cached = run_cli("validate", repo, "--format", "json")
    plain = run_cli("validate", repo, "--format", "json",
                    env=cli_env({"LLMOPS_GATE_NO_CACHE": "1"}))
    assert cached.code == plain.code, cached.stderr + plain.stderr
    return cached.json(), plain.json()


def test_example_same_findings_with_and_without_cache() -> None:
    cached, plain = both(EXAMPLE)
    assert cached["findings"] == plain["findings"]
    assert cached["summary"] == plain["summary"]


def test_generated_repo_with_a_defect_per_environment(tmp_path: Path) -> None:
    repo = generate(tmp_path / "gen", 3, defects=True)
    cached, plain = both(repo)
    assert cached["findings"] == plain["findings"]
    assert cached["summary"] == plain["summary"]
    assert cached["summary"]["passed"] is False
    failed = {o["environment"] for o in cached["overlays"] if not o["passed"]}
    lint_envs = {f["file"].split("/")[3] for f in cached["findings"]
                 if f["validator"] in ("lint", "parse") and f["severity"] == "error"}
    # Every planted defect is found: dev and production break the build, staging's
    # duplicate key and production's syntax error are lint errors.
    assert failed == {"dev", "production"}
    assert lint_envs == {"staging", "production"}
    # The identical files of the other models (each env's replicas.yaml, kustomization.yaml)
    # carry no findings of their own.
    assert all("/overlays/" not in f["file"] or f["severity"] == "error"
               or "qwen25-05b-instruct-000/overlays/production" in f["file"]
               for f in cached["findings"] if f["validator"] == "lint")


def test_cache_keeps_per_path_rule_ignores(tmp_path: Path) -> None:
    # Same content, but a rule-level ignore for one path: the cache must not carry the
    # finding of one file over to the other.
    repo = tmp_path / "repo"
    (repo / "a").mkdir(parents=True)
    (repo / "b").mkdir()
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: v   \n"
    (repo / "a/cm.yaml").write_text(text, encoding="utf-8")
    (repo / "b/cm.yaml").write_text(text, encoding="utf-8")
    (repo / "overlays/dev").mkdir(parents=True)
    (repo / "overlays/dev/kustomization.yaml").write_text("resources:\n  - ../../a/cm.yaml\n",
                                                          encoding="utf-8")
    (repo / ".yamllint").write_text(
        "extends: default\nrules:\n  document-start: disable\n"
        "  trailing-spaces:\n    ignore: |\n      b/\n", encoding="utf-8")
    cached, plain = both(repo)
    assert cached["findings"] == plain["findings"]
    trailing = [f["file"] for f in cached["findings"] if f["rule"] == "yaml-trailing-spaces"]
    assert trailing == ["a/cm.yaml"]


CORPUS_REPOS = [
    "GoogleCloudPlatform__microservices-demo", "argoproj__argocd-example-apps",
    "kostis-codefresh__gitops-environment-promotion", "kserve__kserve", "kubeconform-fixtures",
    "kubernetes-sigs__kustomize", "opendatahub-io__odh-gitops",
    "opendatahub-io__odh-model-controller", "redhat-ai-services__ai-accelerator",
    "redhat-cop__gitops-catalog", "seed-repo",
]


@pytest.mark.parametrize("name", CORPUS_REPOS)
def test_corpus_lint_same_with_and_without_cache(name: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    repo = need_shared("corpus", name)
    config = load_config(repo)
    scan = scan_repo(repo, config)
    units = discover_units(scan, config)
    ctx = Context(repo=repo, config=config, scan=scan,
                  results=[UnitResult(unit=u) for u in units], sources=SourceMap(repo),
                  settings={"validators": ("build", "lint"), "envs": ()})
    cached = list(lint.check(ctx))
    monkeypatch.setenv("LLMOPS_GATE_NO_CACHE", "1")
    plain = list(lint.check(ctx))
    assert cached == plain
    assert cached, f"{name}: expected some lint findings to compare"


@pytest.mark.parametrize("data", [
    {},
    {"version": 1, "environments": [{"name": "dev", "overlay": "overlays/dev"}]},
    {"version": 2},
    {"environments": [{"name": "Dev"}]},
    {"environments": [{"name": "dev", "overlay": ["a", 3]}]},
    {"kustomize": {"timeout": 0}},
    {"kustomize": {"timeout": True}},
    {"lint": {"config": ".yamllint", "extra": 1}},
    {"unknown": 1},
    {"exclude": "not-a-list"},
])
def test_config_fast_check_agrees_with_jsonschema(data: dict[str, Any]) -> None:
    # The compiled fast path must accept exactly what jsonschema accepts.
    import jsonschema

    from llmops_gate.config import CONFIG_SCHEMA, _quick_valid

    pytest.importorskip("jsonschema_rs")
    assert _quick_valid(data) is jsonschema.Draft202012Validator(CONFIG_SCHEMA).is_valid(data)


@pytest.mark.parametrize("name", CORPUS_REPOS)
def test_corpus_schema_same_with_and_without_cache(name: str) -> None:
    # The schema command over every YAML file of the repo: documents parsed once per distinct
    # text, validated once per (schema, content), must give exactly the findings of a run
    # that parses and validates every copy.
    repo = need_shared("corpus", name)
    args = ("schema", repo, "--format", "json", "--ignore-missing-schemas")
    cached = run_cli(*args)
    plain = run_cli(*args, env=cli_env({"LLMOPS_GATE_NO_CACHE": "1"}))
    assert cached.code == plain.code, cached.stderr + plain.stderr
    assert cached.json()["findings"] == plain.json()["findings"]
    assert cached.json()["summary"] == plain.json()["summary"]


def test_repeated_stream_same_with_and_without_cache(tmp_path: Path) -> None:
    # One rendered overlay concatenated many times, with a defect in it: the cached run reports
    # every copy at its own lines, as the uncached run does.
    text = (EXAMPLE / "deploy_model/base/inferenceservice.yaml").read_text(encoding="utf-8")
    broken = text.replace("minReplicas: 1", "minReplica: 1")
    stream = tmp_path / "stream.yaml"
    stream.write_text("---\n".join([text, broken] * 50), encoding="utf-8")
    cached = run_cli("schema", stream, "--format", "json")
    plain = run_cli("schema", stream, "--format", "json",
                    env=cli_env({"LLMOPS_GATE_NO_CACHE": "1"}))
    assert cached.code == plain.code == 1
    assert cached.json()["findings"] == plain.json()["findings"]
    assert len(cached.json()["findings"]) == 50
