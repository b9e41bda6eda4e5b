"""Real repos validate clean: the example, the tekton/ folder, and every corpus repo that builds.

For the corpus (only the overlays and manifests whose sources name a bundled API group: the
Kustomize builds are the cost), "clean" means: no schema finding at all on a kind we bundle
(KServe, ArgoCD Application/AppProject, Tekton, Pipelines-as-Code), and on any other kind
nothing but
`missing-schema` (we do not ship schemas for OLM, OpenShift, Istio, ... kinds), except the
findings listed in KNOWN with the reason each one is right.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmops_gate.config import load_config
from llmops_gate.model import Finding
from llmops_gate.repo.discover import closure, discover_units, scan_repo
from llmops_gate.repo.kustomize import find_kustomize
from llmops_gate.repo.render import render_all
from llmops_gate.validators import schema as schema_validator
from llmops_gate.validators.context import Context, SchemaFlags, Settings
from llmops_gate.yamlio.sourcemap import SourceMap
from tests.conftest import CORPUS, EXAMPLE, ROOT, findings, real_kubeconform, run_cli, summary

BUNDLED_GROUPS = {"serving.kserve.io", "argoproj.io", "tekton.dev",
                  "pipelinesascode.tekton.dev", "triggers.tekton.dev", "route.openshift.io"}
BUNDLED_KINDS = {"InferenceService", "ServingRuntime", "ClusterServingRuntime", "Application",
                 "AppProject", "Task", "Pipeline", "PipelineRun", "TaskRun", "Repository",
                 # written by llmops-gate (data/NOTICE.md)
                 "EventListener", "TriggerBinding", "ClusterTriggerBinding", "TriggerTemplate",
                 "Trigger", "Interceptor", "ClusterInterceptor", "Route"}

# (repo, file, rule, path): why the finding is right.
KNOWN = {
    ("kubernetes-sigs__kustomize", "examples/validationTransformer/invalid.yaml", "wrong-type",
     "data"): "the Kustomize example is invalid on purpose: a ConfigMap whose `data` is a list",
}

# 141 overlays, ~16 s of Kustomize builds: deselect with `-m "not slow"`.
LARGE = {"seed-repo"}


def corpus_repos() -> list[object]:
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-absent")]
    out: list[object] = []
    for repo in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        if repo.name == "kubeconform-fixtures":
            continue  # plain fixtures, no overlays: see test_kubeconform_parity.py
        marks = [pytest.mark.slow] if repo.name in LARGE else []
        out.append(pytest.param(repo, id=repo.name, marks=marks))
    return out


BUNDLED_API = re.compile(r"(serving\.kserve\.io|argoproj\.io|tekton\.dev|route\.openshift\.io)/v")


def schema_findings(repo: Path, **engine: str) -> tuple[list[Finding], list[Finding]]:
    """The schema validator over the units whose sources mention a bundled API group (to
    keep the Kustomize builds, most of the cost, to the units that matter here): with the
    embedded engine, and on the same renders with the real kubeconform."""
    config = load_config(repo)
    scan = scan_repo(repo, config)
    units = []
    for unit in discover_units(scan, config):
        files = closure(scan, unit.path) if unit.kind == "overlay" else {unit.path}
        if any(BUNDLED_API.search((repo / f).read_text(encoding="utf-8", errors="replace"))
               for f in files if (repo / f).is_file()):
            units.append(unit)
    sources = SourceMap(repo)
    results = render_all(repo, units, find_kustomize(), sources, jobs=2, timeout=120)
    out = []
    for flags in (SchemaFlags(schema_engine="embedded"),
                  SchemaFlags(schema_engine="kubeconform", kubeconform=real_kubeconform())):
        ctx = Context(repo=repo, config=config, scan=scan, results=results, sources=sources,
                      settings=Settings(validators=("schema",), schema=flags))
        out.append(list(schema_validator.check(ctx)))
    return out[0], out[1]


def keys(found: list[Finding]) -> list[tuple[str, str | None, int | None, str | None, str]]:
    return sorted((f.rule, f.file, f.line, f.path, f.severity.value) for f in found)


def bundled(f: Finding) -> bool:
    if f.resource is None:
        return False
    group = f.resource.api_version.rpartition("/")[0]
    return group in BUNDLED_GROUPS and f.resource.kind in BUNDLED_KINDS


@pytest.mark.parametrize("repo", corpus_repos())
def test_corpus_repo_has_no_schema_error_on_bundled_kinds(repo: Path | None) -> None:
    if repo is None:
        pytest.skip(f"../shared is absent here ({CORPUS} not found): the corpus tests need it")
    schema, kubeconform = schema_findings(repo)
    # the same verdicts and places from the real kubeconform (test_engine_parity.py)
    assert keys(kubeconform) == keys(schema)
    on_bundled = [f for f in schema if bundled(f)]
    assert on_bundled == [], [f"{f.file}:{f.line} {f.message}" for f in on_bundled]
    other = [f for f in schema if f.rule != "missing-schema"
             and (repo.name, f.file, f.rule, f.path) not in KNOWN]
    assert other == [], [f"{f.file}:{f.line} {f.rule} {f.message}" for f in other]


def test_example_validates_clean_with_schema_on() -> None:
    result = run_cli("validate", EXAMPLE, "--format", "json", "-q")
    assert result.code == 0, result.stdout + result.stderr
    assert "schema" in result.json()["validators"]
    assert summary(result)["errors"] == 0
    assert [f for f in findings(result) if f["validator"] == "schema"] == []


@pytest.mark.parametrize("folder", [ROOT / "tekton", EXAMPLE], ids=["tekton", "example"])
def test_folder_validates_clean_with_the_schema_command(folder: Path) -> None:
    """Every YAML file under tekton/ and the example repo (its .tekton/ too), kustomizations
    and Tekton Triggers and Route included, has a schema and fits it."""
    if not folder.is_dir():
        pytest.skip(f"no {folder.name}/ folder in this checkout")
    result = run_cli("schema", folder, "--format", "json")
    assert result.code == 0, [(f["file"], f["line"], f["message"])
                              for f in result.json()["findings"]]
    checked = {Path(u["path"]).relative_to(folder).as_posix()
               for u in result.json()["overlays"]}
    # what the folder walk leaves out: llmops-gate's config, Kustomize transformer configs
    left_out = {".llmops-gate.yaml", "deploy_model/base/kustomizeconfig.yaml"}
    assert checked == {p.relative_to(folder).as_posix() for p in folder.rglob("*.y*ml")
                       } - left_out
    assert result.json()["summary"]["skipped"] == 0
    assert result.json()["summary"]["resources"] >= len(checked)
