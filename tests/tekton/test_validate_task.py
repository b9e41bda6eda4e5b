"""The validation Task executed step by step on the example repo (tests/tekton/harness.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from llmops_gate.validators import REGISTRY
from tests.conftest import EXAMPLE, copy_tree
from tests.tekton.conftest import TEKTON
from tests.tekton.harness import TaskRun, load_task, run_task

TASK = load_task(TEKTON / "tasks" / "llmops-gate-validate.yaml")


def run_validate(tmp_path: Path, source: Path, image_path: str, **params: Any) -> TaskRun:
    reports = tmp_path / "reports"
    reports.mkdir()
    return run_task(TASK, params, {"source": source, "reports": reports},
                    work=tmp_path / "work", path=image_path, name="pr-1-validate-0")


def report_of(tmp_path: Path, run: TaskRun) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "reports" / run.results["report"]).read_text())
    return data


def test_example_repo_passes(tmp_path: Path, image_path: str) -> None:
    source = copy_tree(EXAMPLE, tmp_path / "source")
    run = run_validate(tmp_path, source, image_path)
    assert run.succeeded, run.log
    assert run.results["passed"] == "true"
    assert run.results["errors"] == "0"
    assert run.results["report"] == "pr-1-validate-0.json"
    report = report_of(tmp_path, run)
    assert report["summary"]["passed"] is True
    assert report["validators"] == list(REGISTRY)
    assert run.results["summary"].startswith("3 overlays, ")
    # The log is the text report: what Pipelines-as-Code scans for error locations.
    assert "Summary: 3 overlays" in run.step("validate").stdout


def test_broken_overlay_fails_with_its_error_count(tmp_path: Path, image_path: str) -> None:
    source = copy_tree(EXAMPLE, tmp_path / "source")
    (source / "deploy_model/overlays/staging/size.yaml").unlink()
    run = run_validate(tmp_path, source, image_path, validators="build,lint")
    assert not run.succeeded
    assert run.results["passed"] == "false"
    report = report_of(tmp_path, run)
    assert int(run.results["errors"]) == report["summary"]["errors"] == 1
    assert re.search(r"deploy_model/overlays/staging/kustomization\.yaml:\d+: kustomize-build",
                     run.results["summary"])
    assert run.step("validate").exit_code == 1
    assert run.step("results").exit_code == 1
    assert re.search(r"deploy_model/overlays/staging/kustomization\.yaml:\d+:\d+: error "
                     r"kustomize-build", run.step("validate").stdout)


def test_environment_and_validator_params_narrow_the_run(tmp_path: Path,
                                                        image_path: str) -> None:
    source = copy_tree(EXAMPLE, tmp_path / "source")
    (source / "deploy_model/overlays/staging/size.yaml").unlink()
    run = run_validate(tmp_path, source, image_path, validators="build", environments="dev",
              format="json")
    assert run.succeeded, run.log
    report = report_of(tmp_path, run)
    assert report["validators"] == ["build"]
    assert [o["path"] for o in report["overlays"] if o["kind"] == "overlay"] == [
        "deploy_model/overlays/dev"]
    assert json.loads(run.step("validate").stdout)["summary"]["passed"] is True


def test_a_cli_that_cannot_run_fails_the_task_without_a_report(tmp_path: Path,
                                                               image_path: str) -> None:
    run = run_validate(tmp_path, copy_tree(EXAMPLE, tmp_path / "source"), image_path,
              validators="no-such-validator")
    assert not run.succeeded
    assert run.step("validate").exit_code == 2
    assert "unknown validator 'no-such-validator'" in run.step("validate").stderr
    assert run.results["passed"] == "false"
    assert run.results["report"] == ""
    assert "could not run" in run.results["summary"]


@pytest.mark.parametrize("validator", ["schema", "policy"])
def test_each_validator_alone_passes_on_the_example(tmp_path: Path, image_path: str,
                                                    validator: str) -> None:
    if validator not in REGISTRY:
        pytest.skip(f"the '{validator}' validator is not in this build's REGISTRY yet")
    run = run_validate(tmp_path, copy_tree(EXAMPLE, tmp_path / "source"), image_path,
              validators=validator)
    assert run.succeeded, run.log
    assert run.results["passed"] == "true"


def test_extra_args_reach_the_cli(tmp_path: Path, image_path: str) -> None:
    run = run_validate(tmp_path, copy_tree(EXAMPLE, tmp_path / "source"), image_path,
              validators="build", **{"extra-args": ["--skip", "build"]})
    # --only build --skip build leaves nothing to run: the report lists no validator.
    assert report_of(tmp_path, run)["validators"] == []


def test_a_broken_pipelinerun_in_the_repo_fails_the_check(tmp_path: Path,
                                                         image_path: str) -> None:
    source = copy_tree(EXAMPLE, tmp_path / "source")
    run_file = source / ".tekton/pr-validation.yaml"
    run_file.write_text(run_file.read_text().replace('"{{ revision }}"', "{{ revision }}"))
    run = run_validate(tmp_path, source, image_path, validators="tekton")
    assert not run.succeeded
    assert run.results["passed"] == "false"
    assert ".tekton/pr-validation.yaml:22: pac-placeholder-unquoted" in run.results["summary"]
    assert ".tekton/pr-validation.yaml:22:14: error pac-placeholder-unquoted" \
        in run.step("validate").stdout
    # tekton/README.md's `error-detection-simple-regexp` for Pipelines-as-Code finds exactly
    # the located error in the log, so PaC can annotate the PR's file.
    readme = (TEKTON / "README.md").read_text()
    pattern = re.search(r"error-detection-simple-regexp: '(.+)'", readme)
    assert pattern is not None
    regexp = re.compile(pattern.group(1))
    hits = [m.group("filename", "line", "column") for line in
            run.step("validate").stdout.splitlines() if (m := regexp.match(line))]
    assert hits == [(".tekton/pr-validation.yaml", "22", "14")]

