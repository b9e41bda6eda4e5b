"""The schema flags on `validate` and the `schema` config section, on a small real repo."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from llmops_gate.engine import Options, validate_repo
from llmops_gate.errors import GateError
from llmops_gate.model import Finding
from tests.conftest import findings, run_cli

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: two
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
"""

WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: 1
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("opts") / "repo"
    overlay = root / "app/overlays/dev"
    overlay.mkdir(parents=True)
    (overlay / "deployment.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (overlay / "widget.yaml").write_text(WIDGET, encoding="utf-8")
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - deployment.yaml\n  - widget.yaml\n", encoding="utf-8")
    return root


def run(repo: Path, **settings: Any) -> list[Finding]:
    report = validate_repo(repo, Options(only=["schema"], settings=settings, jobs=1))
    return [f for f in report.findings if f.validator == "schema"]


def rules(found: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted((f.rule, f.severity.value, f.resource.kind if f.resource else "")
                  for f in found)


def test_defaults_flag_wrong_type_and_missing_schema(repo: Path) -> None:
    found = run(repo)
    assert rules(found) == [("missing-schema", "error", "Widget"),
                            ("wrong-type", "error", "Deployment")]
    bad = next(f for f in found if f.rule == "wrong-type")
    assert bad.path == "spec.replicas"
    assert (bad.file, bad.line) == ("app/overlays/dev/deployment.yaml", 6)
    assert bad.message == 'spec.replicas: expected integer, got string \"two\"'


def test_ignore_missing_skip_and_reject(repo: Path) -> None:
    assert rules(run(repo, ignore_missing_schemas=True)) == [
        ("missing-schema", "warning", "Widget"), ("wrong-type", "error", "Deployment")]
    assert rules(run(repo, skip_kinds=["Widget,Deployment"])) == []
    assert rules(run(repo, skip_kinds=["apps/v1/Deployment"], reject_kinds=["Widget"])) == [
        ("rejected-kind", "error", "Widget")]


def test_kubernetes_version_picks_the_schema_set(repo: Path) -> None:
    from llmops_gate.validators.schema.store import kubernetes_versions

    oldest = kubernetes_versions()[0]
    assert rules(run(repo, kubernetes_version=oldest, skip_kinds=["Widget"])) == [
        ("wrong-type", "error", "Deployment")]
    with pytest.raises(GateError, match=r"no Kubernetes 1\.2 schemas"):
        run(repo, kubernetes_version="1.2")


def test_config_section_sets_the_defaults_and_flags_win(repo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    (copy / ".llmops-gate.yaml").write_text(
        "version: 1\nschema:\n  skip_kinds: [Widget]\n  strict: false\n", encoding="utf-8")
    assert rules(run(copy)) == [("wrong-type", "error", "Deployment")]
    assert rules(run(copy, skip_kinds=["Deployment"])) == [("missing-schema", "error", "Widget")]


def test_config_unknown_key_is_named(repo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    (copy / ".llmops-gate.yaml").write_text("version: 1\nschema:\n  strictt: true\n",
                                            encoding="utf-8")
    result = run_cli("validate", copy)
    assert result.code == 2
    assert "unknown key 'schema.strictt'" in result.stderr


def test_cli_flags_reach_the_validator(repo: Path) -> None:
    result = run_cli("validate", repo, "--only", "schema", "--skip-kind", "Deployment",
                     "--ignore-missing-schemas", "--format", "json", "-q")
    assert result.code == 0, result.stdout + result.stderr
    assert [(f["rule"], f["severity"]) for f in findings(result)] == [
        ("missing-schema", "warning")]


def test_schema_engine_kubeconform_without_binary_exits_2(repo: Path, tmp_path: Path) -> None:
    result = run_cli("validate", repo, "--only", "schema", "--schema-engine", "kubeconform",
                     "--kubeconform", str(tmp_path / "no-such-kubeconform"))
    assert result.code == 2
    assert "kubeconform" in result.stderr and "install" in result.stderr


def test_kubeconform_wrapper_gives_the_same_findings(repo: Path) -> None:
    """Only where kubeconform is installed (it cannot be installed here; nothing fakes it).
    kubeconform's `default` location downloads the Kubernetes schemas, so this also needs the
    network or kubeconform's cache."""
    if shutil.which("kubeconform") is None:
        pytest.skip("kubeconform is not on PATH")
    embedded = run(repo, schema_engine="embedded")
    wrapped = run(repo, schema_engine="kubeconform")
    key = [(f.rule, f.path, f.file, f.line) for f in embedded]
    assert [(f.rule, f.path, f.file, f.line) for f in wrapped] == key
