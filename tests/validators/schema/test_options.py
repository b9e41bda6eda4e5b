"""The schema flags on `validate` and the `schema` config section, on a small real repo."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from llmops_gate.engine import Options, validate_repo
from llmops_gate.errors import GateError
from llmops_gate.model import Finding
from llmops_gate.validators.schema.settings import SchemaFlags
from tests.conftest import findings, real_kubeconform, run_cli
from tests.manifests import deployment

DEPLOYMENT = deployment(replicas="two")

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
    report = validate_repo(repo, Options(only=["schema"], schema=SchemaFlags.of(settings), jobs=1))
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
    """With the real kubeconform (offline: the wrapper exports the schemas it needs)."""
    embedded = run(repo, schema_engine="embedded")
    wrapped = run(repo, schema_engine="kubeconform", kubeconform=real_kubeconform())
    key = [(f.rule, f.path, f.file, f.line) for f in embedded]
    assert [(f.rule, f.path, f.file, f.line) for f in wrapped] == key


def test_kubeconform_export_is_self_contained(tmp_path: Path) -> None:
    """What the wrapper hands kubeconform resolves from local files only (no network)."""
    import json

    import jsonschema
    import referencing

    from llmops_gate.validators.schema.kubeconform import argv_for
    from llmops_gate.validators.schema.kubeconform_schemas import (
        K8S_LAYOUT,
        LAYOUT,
        export_bundled,
        export_kubernetes,
    )
    from llmops_gate.validators.schema.settings import SchemaSettings
    from llmops_gate.validators.schema.store import GVK, resolve_kubernetes_version

    version = resolve_kubernetes_version(None)
    export_kubernetes(tmp_path, [GVK.of("apps/v1", "Deployment")], version, True)
    export_bundled(tmp_path, True)
    assert (tmp_path / "serving.kserve.io/inferenceservice_v1beta1.json").is_file()
    folder = tmp_path / "kubernetes"
    schema = json.loads((folder / "deployment-apps-v1.json").read_text(encoding="utf-8"))
    defs = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))
    base = folder.as_uri() + "/"
    registry: referencing.Registry[object] = referencing.Registry().with_resource(
        base + "_definitions.json", referencing.Resource.from_contents(
            defs, default_specification=referencing.jsonschema.DRAFT202012))
    validator = jsonschema.Draft202012Validator(
        {**schema, "$id": base + "deployment-apps-v1.json"}, registry=registry)
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
           "spec": {"replicas": "two", "selector": {}, "template": {}, "replica": 1}}
    assert sorted(e.validator for e in validator.iter_errors(doc)) == [
        "additionalProperties", "type"]
    argv = argv_for("kubeconform", SchemaSettings(skip=("Secret",)), version, tmp_path,
                    [tmp_path / "r.json"])
    assert argv[:6] == ["kubeconform", "-output", "json", "-kubernetes-version", version,
                        "-strict"]
    assert str(tmp_path / LAYOUT) in argv and str(tmp_path / K8S_LAYOUT) in argv
    assert "default" not in argv  # kubeconform's default registry is online
    assert argv[argv.index("-skip") + 1] == "Secret"


def test_kubeconform_results_map_to_findings_rules() -> None:
    """kubeconform v0.7.0's result for one resource (its `-output json`, as the real binary
    printed it for a Deployment with four defects): top-level causes are structured, the
    ones under a "validation failed" group only in the rendered tree of `msg`."""
    from llmops_gate.validators.schema.kubeconform import problems_from

    entry = {
        "filename": "d.yaml", "kind": "Deployment", "name": "web", "version": "apps/v1",
        "status": "statusInvalid",
        "msg": "problem validating schema. Check JSON formatting: jsonschema validation failed "
               "with 'file:///tmp/s/kubernetes/deployment-apps-v1.json#' - at '/metadata': "
               "additional properties 'labelz' not allowed - at '/spec': validation failed   "
               "- at '/spec/replicas': got string, want null or integer   - at "
               "'/spec/template/spec/containers/0': validation failed     - at "
               "'/spec/template/spec/containers/0/ports/0/containerPort': got string, want "
               "integer     - at '/spec/template/spec/containers/0': additional properties "
               "'resoures' not allowed",
        "validationErrors": [
            {"path": "/metadata", "msg": "additional properties 'labelz' not allowed"},
            {"path": "/spec", "msg": "validation failed"}]}
    assert [(p.rule, p.dotted, p.message) for p in problems_from(entry)] == [
        ("unknown-field", "metadata.labelz", "unknown field"),
        ("wrong-type", "spec.replicas", "expected integer, got string"),
        ("wrong-type", "spec.template.spec.containers[0].ports[0].containerPort",
         "expected integer, got string"),
        ("unknown-field", "spec.template.spec.containers[0].resoures", "unknown field")]
    required = {"status": "statusInvalid", "msg": "", "validationErrors": [
        {"path": "/spec", "msg": "missing properties 'selector', 'template'"},
        {"path": "/spec/strategy/type", "msg": "value must be one of 'Recreate', "
                                                "'RollingUpdate'"},
        {"path": "/spec/minReadySeconds", "msg": "minimum: got -1, want 0"}]}
    assert [(p.rule, p.dotted) for p in problems_from(required)] == [
        ("required-field", "spec.selector"), ("required-field", "spec.template"),
        ("invalid-value", "spec.strategy.type"), ("schema-violation", "spec.minReadySeconds")]


def test_template_variables_are_kubeconforms() -> None:
    from llmops_gate.validators.schema.store import GVK, render_template

    template = ("{{ .NormalizedKubernetesVersion }}{{ .StrictSuffix }}/{{.ResourceKind}}"
                "{{ .KindSuffix }}|{{ .Group }}|{{ .ResourceAPIVersion }}")
    assert render_template(template, GVK.of("rbac.authorization.k8s.io/v1", "RoleBinding"),
                           "1.30.0", True) == (
        "v1.30.0-strict/rolebinding-rbac-v1|rbac.authorization.k8s.io|v1")
    assert render_template(template, GVK.of("v1", "Service"), "1.30.0", False) == (
        "v1.30.0/service-v1||v1")
    with pytest.raises(GateError, match="unknown template variable 'Kind'"):
        render_template("{{ .Kind }}.json", GVK.of("v1", "Service"), "1.30.0", False)


def test_identical_documents_are_validated_once_and_schemas_compiled_once() -> None:
    from llmops_gate.model import Unit
    from llmops_gate.validators.schema.run import Checker, Item
    from llmops_gate.validators.schema.settings import SchemaSettings

    checker = Checker.create(SchemaSettings())
    unit = Unit(path="x.yaml", kind="manifest")
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"},
           "data": {"k": 1}}
    other = {**doc, "metadata": {"name": "b"}}
    items = [Item(doc=dict(doc), unit=unit), Item(doc=dict(doc), unit=unit),
             Item(doc=other, unit=unit)]
    found = list(checker.check(items))
    assert [f.rule for f in found] == ["wrong-type"] * 3
    assert checker.validators.validated == 2
    assert len(checker.validators._compiled) == 1
