"""The admission validator as a user meets it: `llmops-gate validate` on the example with a
mistake in a base, a patch or an inline JSON 6902 patch (the finding points at the file and line
to edit), the `schema` command on a file and on stdin, the Kubernetes version that decides the
env var rule, and `llmops-gate rules` showing where each rule comes from."""

from __future__ import annotations

from pathlib import Path

from llmops_gate.validators.admission.registry import RULES
from tests.conftest import findings, run_cli
from tests.validators.admission.conftest import case_text, expected

BASE = "deploy_model/base"
DEV = "deploy_model/overlays/dev"


def _line(path: Path, needle: str) -> int:
    for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in text:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


def _admission(result_findings: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return sorted((f["rule"], f["file"], f["line"], f["overlay"]) for f in result_findings
                  if f["validator"] == "admission")


def test_example_is_clean_and_admission_runs_after_schema(example_repo: Path) -> None:
    result = run_cli("validate", example_repo, "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    validators = result.json()["validators"]
    assert validators.index("admission") == validators.index("schema") + 1
    assert [f for f in findings(result) if f["validator"] == "admission"] == []


def test_a_base_mistake_is_reported_in_every_overlay_at_the_base_line(
        example_repo: Path) -> None:
    runtime = example_repo / BASE / "servingruntime.yaml"
    runtime.write_text(runtime.read_text().replace("name: kserve-container",
                                                   "name: Main_Container"))
    result = run_cli("validate", example_repo, "--only", "build,admission", "--format", "json")
    assert result.code == 1, result.stderr
    line = _line(runtime, "name: Main_Container")
    assert _admission(findings(result)) == [
        ("container-name-invalid", f"{BASE}/servingruntime.yaml", line,
         f"deploy_model/overlays/{env}") for env in ("dev", "production", "staging")]
    first = next(f for f in findings(result) if f["validator"] == "admission")
    assert first["path"] == "spec.containers[0].name"
    assert first["container"] == "Main_Container"
    assert first["resource"]["kind"] == "ServingRuntime"
    assert first["column"] == 7


def test_a_value_set_by_a_patch_points_at_the_patch(example_repo: Path) -> None:
    size = example_repo / DEV / "size.yaml"
    size.write_text(size.read_text().replace("cpu: 500m", "cpu: 500 millicores"))
    kustomization = example_repo / DEV / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + """\
  - target: {kind: ServingRuntime}
    patch: |-
      - op: replace
        path: /spec/containers/0/ports/0/containerPort
        value: 80800
""")
    result = run_cli("validate", example_repo, "--env", "dev", "--only", "build,admission",
                     "--format", "json")
    assert result.code == 1, result.stderr
    assert _admission(findings(result)) == [
        ("container-port-invalid", f"{DEV}/kustomization.yaml",
         _line(kustomization, "path: /spec/containers/0/ports/0/containerPort"), DEV),
        ("quantity-invalid", f"{DEV}/size.yaml", _line(size, "cpu: 500 millicores"), DEV),
    ]


def test_plain_manifests_in_validate(example_repo: Path) -> None:
    app = example_repo / "argocd-apps" / "dev-application.yaml"
    text = app.read_text()
    assert "syncOptions:" in text
    app.write_text(text.replace("syncOptions:", "syncOptions:\n      - createNamespace=true", 1))
    result = run_cli("validate", example_repo, "--only", "build,admission", "--format", "json")
    assert result.code == 1, result.stderr
    found = [f for f in findings(result) if f["validator"] == "admission"]
    assert [(f["rule"], f["file"], f["line"]) for f in found] == [
        ("argocd-sync-option", "argocd-apps/dev-application.yaml",
         _line(app, "- createNamespace=true"))]
    assert "did you mean CreateNamespace=true?" in str(found[0]["message"])


def test_schema_command_file_stdin_and_no_admission(tmp_path: Path) -> None:
    text = case_text("quantity-invalid", "fail")
    path = tmp_path / "pod.yaml"
    path.write_text(text)
    result = run_cli("schema", path, "--format", "json")
    assert result.code == 1, result.stderr
    assert result.json()["validators"] == ["schema", "admission"]
    assert sorted((f["rule"], f["line"]) for f in findings(result)) == expected(text)
    piped = run_cli("schema", "-", "--format", "json", input=text)
    assert sorted((f["rule"], f["file"], f["line"]) for f in findings(piped)) == sorted(
        (rule, "stdin", line) for rule, line in expected(text))
    schema_only = run_cli("schema", "--no-admission", path)
    assert schema_only.code == 0, schema_only.stdout
    text_report = run_cli("schema", path)
    line = expected(text)[0][1]
    assert f"{path}:{line}:" in text_report.stdout and "quantity-invalid" in text_report.stdout


def test_env_var_names_follow_the_kubernetes_version(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text("""\
apiVersion: v1
kind: Pod
metadata: {name: vllm}
spec:
  containers:
    - name: vllm
      image: quay.io/org/vllm:0.9
      env:
        - {name: 1ST_MODEL, value: qwen}
""")
    relaxed = run_cli("schema", path, "--kubernetes-version", "1.32")
    assert relaxed.code == 0, relaxed.stdout
    strict = run_cli("schema", path, "--kubernetes-version", "1.31", "--format", "json")
    assert strict.code == 1, strict.stderr
    found = findings(strict)
    assert [(f["rule"], f["line"]) for f in found] == [("env-name-invalid", 9)]
    assert "Kubernetes 1.31" in found[0]["message"]


def test_skipped_kinds_are_not_judged(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(case_text("container-name-invalid", "fail"))
    assert run_cli("schema", path, "--skip", "Pod").code == 0


def test_rules_lists_admission_rules_with_their_source(tmp_path: Path) -> None:
    result = run_cli("rules", tmp_path, "--validator", "admission", "--format", "json")
    assert result.code == 0, result.stderr
    listed = {r["id"]: r for r in result.json()["rules"]}
    assert set(listed) == set(RULES)
    for rule in listed.values():
        assert rule["validator"] == "admission"
        assert rule["summary"] and rule["why"] and rule["fix"] and rule["source"]
        assert "Passing" in rule["doc"] and "Failing" in rule["doc"]
    assert "1.32" in listed["env-name-invalid"]["source"]
    assert "kserve" in listed["kserve-replicas"]["source"].lower()
    text = run_cli("rules", tmp_path)
    assert "container-port-invalid" in text.stdout and "resources-required" in text.stdout
    assert "source: " in text.stdout
    explain = run_cli("rules", tmp_path, "--explain", "argocd-sync-option")
    assert explain.code == 0 and "CreateNamespace=true" in explain.stdout


def test_sarif_describes_admission_rules(tmp_path: Path) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text(case_text("service-port-invalid", "fail"))
    result = run_cli("schema", path, "--format", "sarif")
    assert result.code == 1
    import json

    rules = {r["id"]: r for r in json.loads(result.stdout)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["service-port-invalid"]["shortDescription"]["text"] == \
        RULES["service-port-invalid"].summary
