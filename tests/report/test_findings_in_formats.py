"""A repo with errors and warnings rendered in every format: each keeps file, line, rule and
severity, and stays well-formed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llmops_gate.engine import Options, validate_repo
from llmops_gate.model import Finding, Report, ResourceRef, Severity, Unit
from llmops_gate.report import github, junit, renderer, sarif, text
from llmops_gate.report.json_report import as_dict
from tests.conftest import EXAMPLE, check_report_schema, copy_tree
from tests.report.helpers import TEXT_LINE, check_github, check_junit, check_sarif, suites

STAGING = "deploy_model/overlays/staging"
APP = "argocd-apps/dev-application.yaml"
BASE_IS = "deploy_model/base/inferenceservice.yaml"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Staging's patch file is gone (build error), the dev Application has a duplicate key
    (lint error in a manifest), a base file has trailing spaces (lint warning)."""
    repo = copy_tree(EXAMPLE, tmp_path_factory.mktemp("broken") / "repo")
    (repo / STAGING / "size.yaml").unlink()
    app = repo / APP
    app.write_text(app.read_text().replace("  project: default\n",
                                           "  project: default\n  project: other\n"))
    base = repo / BASE_IS
    lines = base.read_text().splitlines(keepends=True)
    lines[2] = lines[2].rstrip("\n") + "   \n"
    base.write_text("".join(lines))
    return validate_repo(repo, Options(jobs=2))


def test_json_keeps_every_finding_and_fits_the_schema(broken: Report) -> None:
    data = json.loads(renderer("json")(broken))
    check_report_schema(data)
    assert data["summary"]["passed"] is False
    rules = {(f["rule"], f["file"], f["line"]) for f in data["findings"]}
    assert ("kustomize-build", f"{STAGING}/kustomization.yaml", 13) in rules
    assert ("yaml-key-duplicates", APP, 11) in rules
    assert ("yaml-trailing-spaces", BASE_IS, 3) in rules


def test_text_lines_start_with_file_line_column(broken: Report) -> None:
    out = text.render(broken)
    located = [m for m in map(TEXT_LINE.match, out.splitlines()) if m]
    assert len(located) == len(broken.findings)
    trailing = next(m for m in located if m["rule"] == "yaml-trailing-spaces")
    assert (trailing["file"], trailing["line"], trailing["severity"]) == (BASE_IS, "3", "warning")
    assert trailing["col"] is not None
    assert f"{STAGING}/kustomization.yaml:13:5: error kustomize-build: " in out
    assert out.splitlines()[-1].endswith(": FAILED")


def test_junit_fails_the_broken_units_only(broken: Report) -> None:
    root = check_junit(junit.render(broken))
    by_name = suites(root)
    staging = by_name[STAGING]
    assert staging.get("failures") == "1"
    build_case = staging.find("testcase[@name='build']")
    assert build_case is not None
    failure = build_case.find("failure")
    assert failure is not None
    assert failure.get("type") == "kustomize-build"
    assert "size.yaml" in (failure.get("message") or "")
    assert f"{STAGING}/kustomization.yaml:13:" in (failure.text or "")
    assert by_name["deploy_model/overlays/dev"].get("failures") == "0"
    assert by_name["deploy_model/overlays/production"].get("failures") == "0"
    app_suite = by_name[APP]
    # the duplicate key is found by the `parse` validator (yamllint is not trusted with it)
    parse_case = app_suite.find("testcase[@name='parse']")
    assert parse_case is not None and parse_case.find("failure") is not None
    # The base file's warning is listed, not failed, in the suite of findings with no unit.
    source_case = by_name["sources"].find(f"testcase[@name='{BASE_IS}']")
    assert source_case is not None and source_case.find("failure") is None
    assert "trailing-spaces" in (source_case.findtext("system-out") or "")
    assert root.get("failures") == "2"


def test_sarif_points_at_files_relative_to_the_repo_root(broken: Report) -> None:
    data = check_sarif(sarif.render(broken))
    run = data["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["kustomize-build"]["help"]["text"]
    assert rules["kustomize-build"]["fullDescription"]["text"]
    assert rules["yaml-trailing-spaces"]["helpUri"].startswith("https://yamllint.readthedocs.io/")
    by_rule = {r["ruleId"]: r for r in run["results"]}
    build = by_rule["kustomize-build"]
    assert build["level"] == "error"
    loc = build["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": f"{STAGING}/kustomization.yaml",
                                       "uriBaseId": "REPOROOT"}
    assert loc["region"] == {"startLine": 13, "startColumn": 5}
    warn = by_rule["yaml-trailing-spaces"]
    assert warn["level"] == "warning"
    region = warn["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 3 and region["startColumn"] > 1
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_github_annotations_carry_file_line_and_severity(broken: Report) -> None:
    lines = check_github(github.render(broken))
    assert any(re.match(rf"::error file={re.escape(STAGING)}/kustomization.yaml,line=13,col=5,"
                        r"title=llmops-gate kustomize-build::", ln) for ln in lines)
    assert any(ln.startswith(f"::warning file={BASE_IS},line=3,col=") for ln in lines)
    assert len(lines) == len(broken.findings)


def _report(*found: Finding, units: tuple[Unit, ...] = ()) -> Report:
    return Report(repo=str(Path.cwd()), units=units, resources=0, findings=found,
                  validators=("build", "lint"))


def test_github_escapes_data_and_properties() -> None:
    f = Finding(validator="policy", rule="odd-rule", severity=Severity.WARNING,
                message="100% bad\r\nsecond line: yes, really", file="a,b:c%.yaml", line=3,
                column=2)
    (line,) = check_github(github.render(_report(f)))
    assert line == ("::warning file=a%2Cb%3Ac%25.yaml,line=3,col=2,title=llmops-gate odd-rule"
                    "::100%25 bad%0D%0Asecond line: yes, really")


def test_github_notice_for_info_and_nothing_for_waived() -> None:
    info = Finding(validator="policy", rule="r", severity=Severity.INFO, message="fyi")
    waived = Finding(validator="policy", rule="r", severity=Severity.ERROR, message="x",
                     waived=True, waiver_reason="accepted")
    lines = check_github(github.render(_report(info, waived)))
    assert lines == ["::notice title=llmops-gate r::fyi"]


def test_resource_findings_get_their_own_testcase_and_sarif_suppression() -> None:
    unit = Unit(path="overlays/dev", kind="overlay", environment="dev")
    ref = ResourceRef("serving.kserve.io/v1beta1", "InferenceService", "dev-m", "ns")
    bad = Finding(validator="policy", rule="resources-required", severity=Severity.ERROR,
                  message="no limits \x1b[31m<here>", overlay=unit.path, environment="dev",
                  file="base/is.yaml", line=4, resource=ref)
    waived = Finding(validator="policy", rule="image-pinned", severity=Severity.ERROR,
                     message="tag latest", overlay=unit.path, file="base/is.yaml", line=9,
                     resource=ref, waived=True, waiver_reason="vendor image")
    report = Report(repo=str(Path.cwd()), units=(unit,), resources=1, findings=(bad, waived),
                    validators=("build", "policy"), unit_resources={unit.path: [ref]})
    root = check_junit(junit.render(report))
    suite = suites(root)["overlays/dev"]
    case = suite.find("testcase[@name='InferenceService/dev-m']")
    assert case is not None
    failures = case.findall("failure")
    assert [f.get("type") for f in failures] == ["resources-required"]
    assert "\x1b" not in (failures[0].text or "")
    assert "waived: vendor image" in (case.findtext("system-out") or "")
    data = check_sarif(sarif.render(report))
    results = {r["ruleId"]: r for r in data["runs"][0]["results"]}
    assert results["image-pinned"]["suppressions"][0]["justification"] == "vendor image"
    assert "suppressions" not in results["resources-required"]
    logical = results["resources-required"]["locations"][0]["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == "ns/InferenceService/dev-m"
    assert results["resources-required"]["properties"]["resource"]["kind"] == "InferenceService"
    check_report_schema(as_dict(report))


def test_sarif_uri_is_percent_encoded() -> None:
    f = Finding(validator="lint", rule="yaml-syntax", severity=Severity.ERROR, message="x",
                file="my apps/a#b.yaml", line=1)
    data = check_sarif(sarif.render(_report(f)))
    uri = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "my%20apps/a%23b.yaml"


def test_text_never_drops_a_finding_whose_unit_is_not_listed() -> None:
    f = Finding(validator="policy", rule="r", severity=Severity.ERROR, message="lost?",
                overlay="gone/overlay", file="gone/overlay/kustomization.yaml", line=2)
    out = text.render(_report(f))
    assert "gone/overlay/kustomization.yaml:2: error r: lost?" in out.splitlines()


def test_text_names_the_container_once() -> None:
    ref = ResourceRef("serving.kserve.io/v1alpha1", "ServingRuntime", "dev-m", "ns")
    said = Finding(validator="policy", rule="image-tag-pinned", severity=Severity.ERROR,
                   message="container kserve: image x:latest uses the moving tag :latest",
                   file="base/sr.yaml", line=26, resource=ref, container="kserve")
    unsaid = Finding(validator="policy", rule="r", severity=Severity.ERROR,
                     message="no limits", file="base/sr.yaml", line=30, resource=ref,
                     container="kserve")
    lines = text.render(_report(said, unsaid)).splitlines()
    assert ("base/sr.yaml:26: error image-tag-pinned [ServingRuntime/dev-m]: container kserve: "
            "image x:latest uses the moving tag :latest") in lines
    assert "base/sr.yaml:30: error r [ServingRuntime/dev-m] container kserve: no limits" in lines
