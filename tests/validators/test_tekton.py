"""The `tekton` validator: pass and fail manifests, exact (rule, file, line) findings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from llmops_gate.engine import Options, validate_repo
from llmops_gate.model import Finding
from tests.conftest import need_shared

TASK = """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: greet
spec:
  params:
    - name: who
    - name: greeting
      default: hello
    - name: image
      default: registry.example.com/tools/shell:1.2
  workspaces:
    - name: out
  results:
    - name: said
  steps:
    - name: say
      image: $(params.image)
      env:
        - name: WHO
          value: $(params.who)
      script: |
        #!/bin/sh
        echo "$(params.greeting) $WHO" | tee $(workspaces.out.path)/said
        printf done > $(results.said.path)
"""

PIPELINE = """\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: greetings
spec:
  params:
    - name: who
  workspaces:
    - name: shared
  tasks:
    - name: first
      taskRef:
        name: greet
      params:
        - name: who
          value: $(params.who)
      workspaces:
        - name: out
          workspace: shared
    - name: second
      taskRef:
        name: greet
      params:
        - name: who
          value: $(tasks.first.results.said)
      workspaces:
        - name: out
          workspace: shared
  finally:
    - name: tell
      taskRef:
        name: greet
      params:
        - name: who
          value: $(tasks.status) $(context.pipelineRun.name)
      workspaces:
        - name: out
          workspace: shared
"""

RUN = """\
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: greetings-run
  annotations:
    pipelinesascode.tekton.dev/on-event: "[pull_request]"
spec:
  pipelineRef:
    name: greetings
  params:
    - name: who
      value: "{{ sender }}"
  taskRunTemplate:
    serviceAccountName: pipeline
  workspaces:
    - name: shared
      emptyDir: {}
"""


def make_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    overlay = repo / "deploy" / "overlays" / "dev"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources:\n  - cm.yaml\n")
    (overlay / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(textwrap.dedent(text))
    return repo


def tekton_findings(repo: Path) -> list[Finding]:
    report = validate_repo(repo, Options(only=["tekton"]))
    return [f for f in report.findings if f.validator == "tekton"]


def found(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, str | None, int | None]]:
    return [(f.rule, f.file, f.line) for f in tekton_findings(make_repo(tmp_path, files))]


def test_a_consistent_task_pipeline_and_run_pass(tmp_path: Path) -> None:
    assert found(tmp_path, {".tekton/task.yaml": TASK, ".tekton/pipeline.yaml": PIPELINE,
                            ".tekton/run.yaml": RUN}) == []


@pytest.mark.parametrize(("old", "new", "rule", "line"), [
    ("$(params.greeting) $WHO", "$(params.greting) $WHO", "tekton-param-unresolved", 24),
    ("$(workspaces.out.path)/said", "$(workspaces.output.path)/said",
     "tekton-workspace-unresolved", 24),
    ("$(results.said.path)", "$(results.sayd.path)", "tekton-result-unresolved", 25),
    ("value: $(params.who)", "value: $(params.whom)", "tekton-param-unresolved", 21),
    ("$(results.said.path)", "$(context.taskRun.nam)", "tekton-variable-unknown", 25),
    ("image: $(params.image)", "image: alpine", "tekton-image-unpinned", 18),
    ("image: $(params.image)", "image: alpine:latest", "tekton-image-unpinned", 18),
    ("default: registry.example.com/tools/shell:1.2",
     "default: registry.example.com/tools/shell", "tekton-image-unpinned", 18),
    ("      script: |", "      computeResources: {}\n      resources: {}\n      script: |",
     "tekton-v1-field", 23),
])
def test_task_defects(tmp_path: Path, old: str, new: str, rule: str, line: int) -> None:
    assert old in TASK
    assert found(tmp_path, {"tekton/task.yaml": TASK.replace(old, new, 1)}) == [
        (rule, "tekton/task.yaml", line)]


def test_images_pinned_by_digest_or_port_and_tag_pass(tmp_path: Path) -> None:
    task = (TASK.replace("image: $(params.image)",
                         "image: registry:5000/shell@sha256:" + "a" * 64)
            .replace("default: registry.example.com/tools/shell:1.2",
                     "default: registry:5000/tools/shell:1.2"))
    assert found(tmp_path, {"task.yaml": task}) == []


@pytest.mark.parametrize(("old", "new", "rule", "line"), [
    ("value: $(tasks.first.results.said)", "value: $(tasks.first.results.sad)",
     "tekton-task-result-unresolved", 25),
    ("value: $(tasks.first.results.said)", "value: $(tasks.frist.results.said)",
     "tekton-task-result-unresolved", 25),
    ("        - name: who\n          value: $(params.who)\n", "        []\n",
     "tekton-param-missing", 14),
    ("          workspace: shared\n    - name: second", "          workspace: sharde\n"
     "    - name: second", "tekton-workspace-unbound", 18),
    ("$(context.pipelineRun.name)", "$(context.pipelineRun.id)", "tekton-variable-unknown", 35),
])
def test_pipeline_defects(tmp_path: Path, old: str, new: str, rule: str, line: int) -> None:
    assert old in PIPELINE
    files = {"p/task.yaml": TASK, "p/pipeline.yaml": PIPELINE.replace(old, new, 1)}
    assert found(tmp_path, files) == [(rule, "p/pipeline.yaml", line)]


def test_an_unbound_task_workspace(tmp_path: Path) -> None:
    pipeline = PIPELINE.replace(
        "      workspaces:\n        - name: out\n          workspace: shared\n  finally:",
        "  finally:")
    assert found(tmp_path, {"task.yaml": TASK, "pipeline.yaml": pipeline}) == [
        ("tekton-workspace-unbound", "pipeline.yaml", 20)]


def test_a_dependency_cycle_through_run_after_and_results(tmp_path: Path) -> None:
    pipeline = PIPELINE.replace("    - name: first\n",
                                "    - name: first\n      runAfter: [second]\n")
    assert found(tmp_path, {"task.yaml": TASK, "pipeline.yaml": pipeline}) == [
        ("tekton-dependency-cycle", "pipeline.yaml", 11)]
    finding = tekton_findings(make_repo(tmp_path / "again", {"task.yaml": TASK,
                                                            "pipeline.yaml": pipeline}))[0]
    assert finding.message == "tasks wait for each other: first -> second -> first"


def test_run_after_an_unknown_task(tmp_path: Path) -> None:
    pipeline = PIPELINE.replace("    - name: second\n",
                                "    - name: second\n      runAfter: [frist]\n")
    assert found(tmp_path, {"task.yaml": TASK, "pipeline.yaml": pipeline}) == [
        ("tekton-task-unknown", "pipeline.yaml", 21)]


@pytest.mark.parametrize(("old", "new", "rule", "line"), [
    ("    - name: who\n      value: \"{{ sender }}\"\n", "    []\n", "tekton-param-missing", 10),
    ("  taskRunTemplate:\n    serviceAccountName: pipeline\n",
     "  serviceAccountName: pipeline\n", "tekton-v1-field", 13),
    ("    - name: shared\n      emptyDir: {}\n", "    []\n", "tekton-workspace-unbound", 15),
])
def test_pipelinerun_defects(tmp_path: Path, old: str, new: str, rule: str, line: int) -> None:
    assert old in RUN
    files = {"t.yaml": TASK, "p.yaml": PIPELINE, ".tekton/run.yaml": RUN.replace(old, new, 1)}
    assert found(tmp_path, files) == [(rule, ".tekton/run.yaml", line)]


def test_unquoted_pac_placeholder_is_found_where_it_is(tmp_path: Path) -> None:
    run = RUN.replace('value: "{{ sender }}"', "value: {{ sender }}")
    results = tekton_findings(make_repo(tmp_path, {".tekton/run.yaml": run}))
    assert [(f.rule, f.file, f.line, f.column) for f in results] == [
        ("pac-placeholder-unquoted", ".tekton/run.yaml", 12, 14)]
    assert results[0].hint == 'quote the value: "{{ var }}"'


def test_placeholders_inside_strings_and_block_scalars_are_fine(tmp_path: Path) -> None:
    task = TASK.replace('echo "$(params.greeting) $WHO"', 'echo {{ revision }} "$WHO"')
    run = RUN.replace('value: "{{ sender }}"', "value: pr-{{ sender }}")
    assert found(tmp_path, {"t.yaml": task, "p.yaml": PIPELINE, ".tekton/run.yaml": run}) == []


def test_v1beta1_is_a_warning(tmp_path: Path) -> None:
    results = tekton_findings(make_repo(tmp_path, {"task.yaml": TASK.replace(
        "tekton.dev/v1", "tekton.dev/v1beta1")}))
    assert [(f.rule, f.severity.value, f.line) for f in results] == [
        ("tekton-api-version", "warning", 1)]


def test_inline_specs_see_what_their_parent_passes(tmp_path: Path) -> None:
    run = """\
    apiVersion: tekton.dev/v1
    kind: PipelineRun
    metadata:
      name: inline
    spec:
      params:
        - name: msg
          value: hi
      pipelineSpec:
        tasks:
          - name: one
            taskSpec:
              steps:
                - name: echo
                  image: registry.example.com/shell:1
                  script: echo $(params.msg) $(params.nope)
    """
    assert found(tmp_path, {"run.yaml": run}) == [("tekton-param-unresolved", "run.yaml", 16)]


def test_trigger_template_pipelineruns_are_checked_against_the_pipeline(
        tmp_path: Path) -> None:
    template = """\
    apiVersion: triggers.tekton.dev/v1beta1
    kind: TriggerTemplate
    metadata:
      name: tt
    spec:
      resourcetemplates:
        - apiVersion: tekton.dev/v1
          kind: PipelineRun
          metadata:
            generateName: greetings-
          spec:
            pipelineRef:
              name: greetings
            workspaces:
              - name: shared
                emptyDir: {}
    """
    assert found(tmp_path, {"t.yaml": TASK, "p.yaml": PIPELINE, "tt.yaml": template}) == [
        ("tekton-param-missing", "tt.yaml", 11)]


def test_a_real_pipelines_as_code_repo_gets_only_its_real_findings() -> None:
    """opendatahub-io/odh-gitops' .tekton/: PaC placeholders (quoted, and inside names),
    PipelineRuns referencing the repo's Pipeline, inline taskSpecs. Its only defects are two
    `:latest` step images."""
    repo = need_shared("corpus", "opendatahub-io__odh-gitops")
    report = validate_repo(repo, Options(only=["tekton"]))
    pipeline = ".tekton/pipelines/cluster-validation-pipeline.yaml"
    assert [(f.rule, f.file, f.line) for f in report.findings] == [
        ("tekton-image-unpinned", pipeline, 121), ("tekton-image-unpinned", pipeline, 150)]
