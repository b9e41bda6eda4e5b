"""Every admission rule, accepted and rejected, through both ways llmops-gate reads manifests:
the `schema` command on a plain file, and `validate` on an overlay built by real Kustomize whose
base holds the manifest (findings point at the base file, at the marked lines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.commands.schema import validate_files
from llmops_gate.engine import Options, validate_repo
from llmops_gate.model import Finding, Report
from llmops_gate.validators.admission.registry import RULES
from tests.validators.admission.conftest import KINDS, case_rules, case_text, expected


def where(findings: list[Finding] | tuple[Finding, ...]) -> list[tuple[str, int]]:
    return sorted((f.rule, f.line or 0) for f in findings if f.validator == "admission")


def test_every_rule_has_a_pass_and_a_fail_case() -> None:
    assert case_rules() == sorted(RULES)
    for rule in RULES:
        fail = expected(case_text(rule, "fail"))
        assert fail and {r for r, _ in fail} == {rule}, rule
        assert expected(case_text(rule, "pass")) == [], rule


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rule", case_rules())
def test_schema_command_on_a_plain_file(rule: str, kind: str, tmp_path: Path) -> None:
    text = case_text(rule, kind)
    path = tmp_path / f"{rule}.yaml"
    path.write_text(text, encoding="utf-8")
    report = validate_files([str(path)], {})
    if kind == "pass":
        # accepted: no finding at all, the schema's included
        assert [(f.rule, f.line, f.message) for f in report.findings] == []
        return
    assert where(report.findings) == expected(text)
    assert {f.file for f in report.findings if f.validator == "admission"} == {str(path)}
    assert all(f.hint == RULES[f.rule].fix for f in report.findings
               if f.validator == "admission")


# Cases Kustomize cannot build, and how `validate` meets them instead: as a plain manifest
# (a YAML file no kustomization uses), which `validate` checks as it is.
PLAIN_IN_VALIDATE = {
    "generate-name-invalid": "Kustomize 5.5 refuses an object without metadata.name ('missing "
                             "metadata.name'); generateName reaches the cluster from plain "
                             "manifests, such as a .tekton/ PipelineRun",
}


def _file(rule: str, kind: str) -> str:
    name = f"{rule}-{kind}"
    return f"manifests/{name}.yaml" if rule in PLAIN_IN_VALIDATE else \
        f"base/{name}/manifest.yaml"


def _repo(root: Path) -> Path:
    """One base and one overlay per case: overlays/<rule>-<kind> uses base/<rule>-<kind>
    (cases in PLAIN_IN_VALIDATE are plain manifests/<rule>-<kind>.yaml instead)."""
    for rule in case_rules():
        for kind in KINDS:
            name = f"{rule}-{kind}"
            if rule in PLAIN_IN_VALIDATE:
                (root / "manifests").mkdir(exist_ok=True)
                (root / _file(rule, kind)).write_text(case_text(rule, kind), encoding="utf-8")
                continue
            base = root / "base" / name
            base.mkdir(parents=True)
            (base / "manifest.yaml").write_text(case_text(rule, kind), encoding="utf-8")
            (base / "kustomization.yaml").write_text("resources:\n  - manifest.yaml\n")
            overlay = root / "overlays" / name
            overlay.mkdir(parents=True)
            (overlay / "kustomization.yaml").write_text(f"resources:\n  - ../../base/{name}\n")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Report:
    repo = _repo(tmp_path_factory.mktemp("admission-repo"))
    return validate_repo(repo, Options(only=("build", "admission"), jobs=2))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rule", case_rules())
def test_validate_through_kustomize(rule: str, kind: str, built: Report) -> None:
    unit = _file(rule, kind) if rule in PLAIN_IN_VALIDATE else f"overlays/{rule}-{kind}"
    assert unit in {u.path for u in built.units}
    mine = [f for f in built.findings if f.overlay == unit]
    assert [f for f in mine if f.validator == "build"] == [], "Kustomize failed"
    if kind == "pass":
        assert where(mine) == []
        return
    assert where(mine) == expected(case_text(rule, kind))
    assert {f.file for f in mine} == {_file(rule, kind)}
    assert all(f.resource is not None and f.environment is None for f in mine)
