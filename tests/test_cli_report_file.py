"""`validate --report-file FORMAT=FILE`: a second report from the same run (the Tekton Task
logs text for Pipelines-as-Code and keeps JSON for its results)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import EXAMPLE, run_cli


def test_text_on_stdout_and_json_in_a_file_from_one_run(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "report.json"
    out.parent.mkdir()
    result = run_cli("validate", EXAMPLE, "--report-file", f"json={out}")
    assert result.code == 0, result.stderr
    assert "Summary: 3 overlays" in result.stdout
    data = json.loads(out.read_text())
    assert data["summary"]["passed"] is True
    assert data["summary"]["overlays"] == 3


def test_the_extra_report_is_written_when_findings_fail_the_run(example_repo: Path,
                                                                tmp_path: Path) -> None:
    (example_repo / "deploy_model/overlays/dev/size.yaml").unlink()
    out = tmp_path / "r.json"
    result = run_cli("validate", example_repo, "--format", "json", "--report-file",
                     f"text={out}")
    assert result.code == 1
    assert json.loads(result.stdout)["summary"]["errors"] == 1
    assert re.search(r"deploy_model/overlays/dev/kustomization\.yaml:\d+(:\d+)?: error "
                     r"kustomize-build", out.read_text())


def test_a_malformed_report_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("validate", EXAMPLE, "--report-file", "yaml=out.yaml")
    assert result.code == 2
    assert "--report-file" in result.stderr and "FORMAT=FILE" in result.stderr
    assert not (tmp_path / "out.yaml").exists()
