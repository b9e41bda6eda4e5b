"""The bundled example through the CLI in every format: each is well-formed and says "clean"."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.commands.output import FORMAT_NAMES
from llmops_gate.report import FORMATS
from tests.conftest import EXAMPLE, CliResult, run_cli
from tests.report.helpers import TEXT_LINE, check_github, check_junit, check_sarif, suites


@pytest.fixture(scope="module")
def outputs() -> dict[str, CliResult]:
    return {fmt: run_cli("validate", EXAMPLE, "--format", fmt) for fmt in FORMAT_NAMES}


def test_every_cli_format_is_registered() -> None:
    assert set(FORMAT_NAMES) == set(FORMATS) == {"text", "json", "junit", "sarif", "github"}


def test_clean_example_exits_0_in_every_format(outputs: dict[str, CliResult]) -> None:
    for fmt, result in outputs.items():
        assert result.code == 0, (fmt, result.stdout, result.stderr)
        assert result.stderr == "", fmt


def test_json_report_fits_its_schema(outputs: dict[str, CliResult]) -> None:
    data = outputs["json"].json()  # CliResult.json() checks report-schema.json
    assert data["summary"]["overlays"] == 3
    assert data["summary"]["errors"] == 0
    assert data["summary"]["passed"] is True
    assert data["validators"][:2] == ["build", "lint"]
    assert [o["environment"] for o in data["overlays"] if o["kind"] == "overlay"] == [
        "dev", "staging", "production"]


def test_junit_report_fits_junit_xsd_with_a_suite_per_unit(
        outputs: dict[str, CliResult]) -> None:
    root = check_junit(outputs["junit"].stdout)
    by_name = suites(root)
    assert root.get("failures") == "0"
    for env in ("dev", "staging", "production"):
        suite = by_name[f"deploy_model/overlays/{env}"]
        names = [c.get("name") for c in suite.findall("testcase")]
        assert names[0] == "build"
        assert float(suite.get("time", "-1")) >= 0
        prefix = "prod" if env == "production" else env
        assert f"InferenceService/{prefix}-qwen25-05b-instruct" in names
        assert f"ServingRuntime/{prefix}-qwen25-05b-instruct" in names
    assert "argocd-apps/dev-application.yaml" in by_name
    assert [c.get("name") for c in by_name["sources"].findall("testcase")] == ["lint"]


def test_sarif_report_fits_sarif_schema(outputs: dict[str, CliResult]) -> None:
    data = check_sarif(outputs["sarif"].stdout)
    run = data["runs"][0]
    assert run["tool"]["driver"]["name"] == "llmops-gate"
    assert run["results"] == []
    assert run["originalUriBaseIds"]["REPOROOT"]["uri"].startswith("file:///")
    assert run["properties"]["passed"] is True


def test_github_report_has_no_annotations_when_clean(outputs: dict[str, CliResult]) -> None:
    assert check_github(outputs["github"].stdout) == []
    assert "0 errors" in outputs["github"].stdout


def test_text_report_lists_units_and_a_summary(outputs: dict[str, CliResult]) -> None:
    lines = outputs["text"].stdout.splitlines()
    assert lines[0] == "overlay deploy_model/overlays/dev (dev): ok (0 errors, 0 warnings)"
    manifests = len(list(EXAMPLE.glob("argocd-apps/*.yaml"))) + len(
        list(EXAMPLE.glob(".tekton/*.yaml")))
    assert lines[-1].startswith(
        f"Summary: 3 overlays, {manifests} manifest files, {9 + manifests} resources: 0 errors")
    assert lines[-1].endswith(": passed")
    assert not [ln for ln in lines if TEXT_LINE.match(ln)]
    assert "\033[" not in outputs["text"].stdout


def test_output_file_gets_the_report_and_stdout_stays_empty(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.sarif"
    target.parent.mkdir()
    target.write_text("old report\n")
    target.chmod(0o600)
    result = run_cli("validate", EXAMPLE, "--format", "sarif", "--output", target)
    assert result.code == 0
    assert result.stdout == ""
    check_sarif(target.read_text())
    assert target.stat().st_mode & 0o777 == 0o600
    # Written through a temporary file and a rename: nothing else is left in the folder.
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.sarif"]


def test_output_into_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("validate", EXAMPLE, "--format", "json", "-o", tmp_path / "no" / "r.json")
    assert result.code == 2
    assert "cannot write report" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_report_schema_is_a_valid_schema_shipped_with_the_package() -> None:
    import jsonschema

    from llmops_gate.report.json_report import schema

    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["properties"]["tool"] == {"const": "llmops-gate"}
