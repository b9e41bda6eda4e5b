"""A typo'd field and a wrong type in each kind we bundle, caught with path, file and line.

One copy of the example repo gets eight mistakes (InferenceService and ServingRuntime in the
base, an ArgoCD Application in argocd-apps/, a Tekton Task in tekton/), one more in an
overlay's patch, and one in a Pipeline's inline taskSpec; one real `validate` run reports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE, copy_tree, findings, run_cli

TASK = """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: lint
spec:
  params:
    - name: path
      type: string
  steps:
    - name: run
      image: registry.access.redhat.com/ubi9/python-312@sha256:{digest}
      scriptt: llmops-gate validate
      timeout: 5
""".format(digest="0" * 64)

PIPELINE = """\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: gate
spec:
  tasks:
    - name: inline
      taskSpec:
        steps:
          - name: run
            image: busybox
            commnd: ["true"]
"""


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    repo = copy_tree(EXAMPLE, tmp_path_factory.mktemp("schema") / "repo")
    base = repo / "deploy_model/base"
    edit(base / "inferenceservice.yaml", "      resources:\n", "      resoures:\n")
    edit(base / "inferenceservice.yaml", "containerConcurrency: 1", "containerConcurrency: one")
    edit(base / "servingruntime.yaml", "  multiModel: false", "  multiModell: false")
    edit(base / "servingruntime.yaml", "containerPort: 8080", "containerPort: http")
    app = repo / "argocd-apps/dev-application.yaml"
    edit(app, "    targetRevision: main", "    targetRevison: main")
    edit(app, "      prune: true", "      prune: yes-please")
    edit(repo / "deploy_model/overlays/dev/size.yaml", "    maxReplicas: 1",
         "    maxReplica: 1")
    prod = repo / "deploy_model/overlays/production"
    (prod / "json-patch.yaml").write_text(
        "- op: add\n  path: /spec/predictor/scaleMetricc\n  value: cpu\n", encoding="utf-8")
    edit(prod / "kustomization.yaml", "  - path: size.yaml\n",
         "  - path: size.yaml\n  - path: json-patch.yaml\n    target:\n"
         "      kind: InferenceService\n")
    (repo / "tekton").mkdir()
    (repo / "tekton/task.yaml").write_text(TASK, encoding="utf-8")
    (repo / "tekton/pipeline.yaml").write_text(PIPELINE, encoding="utf-8")
    result = run_cli("validate", repo, "--only", "schema", "--format", "json", "-q")
    assert result.code == 1, result.stdout + result.stderr
    return repo, [f for f in findings(result) if f["validator"] == "schema"]


def pick(found: list[dict[str, Any]], kind: str, path: str) -> list[dict[str, Any]]:
    return [f for f in found if f["resource"]["kind"] == kind and f["path"] == path]


CASES = [
    # kind, field path, rule, file, text on the line
    ("InferenceService", "spec.predictor.model.resoures", "unknown-field",
     "deploy_model/base/inferenceservice.yaml", "resoures:"),
    ("InferenceService", "spec.predictor.containerConcurrency", "wrong-type",
     "deploy_model/base/inferenceservice.yaml", "containerConcurrency: one"),
    ("ServingRuntime", "spec.multiModell", "unknown-field",
     "deploy_model/base/servingruntime.yaml", "multiModell:"),
    ("ServingRuntime", "spec.containers[0].ports[0].containerPort", "wrong-type",
     "deploy_model/base/servingruntime.yaml", "containerPort: http"),
    ("Application", "spec.source.targetRevison", "unknown-field",
     "argocd-apps/dev-application.yaml", "targetRevison:"),
    ("Application", "spec.syncPolicy.automated.prune", "wrong-type",
     "argocd-apps/dev-application.yaml", "prune: yes-please"),
    ("Task", "spec.steps[0].scriptt", "unknown-field", "tekton/task.yaml", "scriptt:"),
    ("Task", "spec.steps[0].timeout", "wrong-type", "tekton/task.yaml", "timeout: 5"),
    ("Pipeline", "spec.tasks[0].taskSpec.steps[0].commnd", "unknown-field",
     "tekton/pipeline.yaml", "commnd:"),
]


@pytest.mark.parametrize(("kind", "path", "rule", "file", "text"), CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_mistake_is_reported_at_its_source_line(
        broken: tuple[Path, list[dict[str, Any]]], kind: str, path: str, rule: str,
        file: str, text: str) -> None:
    repo, found = broken
    hits = pick(found, kind, path)
    assert hits, f"no finding for {kind} {path}: {[(f['path'], f['message']) for f in found]}"
    want_line = line_of(repo / file, text)
    # The base is rendered by three overlays: each reports it at the same source line.
    for f in hits:
        assert (f["rule"], f["file"], f["line"], f["severity"]) == (
            rule, file, want_line, "error")
        assert f["message"].startswith(f"{path}: ")


def test_messages_say_what_was_expected(broken: tuple[Path, list[dict[str, Any]]]) -> None:
    _, found = broken
    typo = pick(found, "InferenceService", "spec.predictor.model.resoures")[0]
    assert typo["message"] == "spec.predictor.model.resoures: unknown field"
    assert typo["hint"] == "did you mean 'resources'?"
    assert typo["column"] == 7  # where `resoures:` starts
    port = pick(found, "ServingRuntime", "spec.containers[0].ports[0].containerPort")[0]
    assert port["container"] == "kserve-container"
    assert pick(found, "Task", "spec.steps[0].scriptt")[0]["container"] == "run"
    wrong = pick(found, "Application", "spec.syncPolicy.automated.prune")[0]
    assert "expected boolean, got string" in wrong["message"]


def test_field_set_by_a_patch_points_at_the_patch(
        broken: tuple[Path, list[dict[str, Any]]]) -> None:
    repo, found = broken
    hits = pick(found, "InferenceService", "spec.predictor.maxReplica")
    assert [(f["overlay"], f["file"], f["line"]) for f in hits] == [
        ("deploy_model/overlays/dev", "deploy_model/overlays/dev/size.yaml",
         line_of(repo / "deploy_model/overlays/dev/size.yaml", "maxReplica:"))]


def test_field_added_by_a_json_patch_points_at_the_operation(
        broken: tuple[Path, list[dict[str, Any]]]) -> None:
    hits = pick(broken[1], "InferenceService", "spec.predictor.scaleMetricc")
    assert [(f["overlay"], f["file"], f["line"], f["column"]) for f in hits] == [
        ("deploy_model/overlays/production", "deploy_model/overlays/production/json-patch.yaml",
         2, 9)]


def test_no_strict_allows_unknown_fields_but_not_wrong_types(
        broken: tuple[Path, list[dict[str, Any]]]) -> None:
    repo, _ = broken
    result = run_cli("validate", repo, "--only", "schema", "--no-strict", "--format", "json",
                     "-q")
    rules = {f["rule"] for f in findings(result) if f["validator"] == "schema"}
    assert "unknown-field" not in rules
    assert "wrong-type" in rules
