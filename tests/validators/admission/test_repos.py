"""Real repos stay clean under the admission rules: the example, tekton/, every corpus repo
that builds, and kubeconform's valid fixtures; each exception is listed with why it is right.

Corpus repos are validated whole (every overlay built with real Kustomize, every plain
manifest), admission only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.commands.schema import validate_files
from llmops_gate.config import load_config
from llmops_gate.model import Finding
from llmops_gate.repo.discover import discover_units, scan_repo
from llmops_gate.repo.kustomize import find_kustomize
from llmops_gate.repo.render import render_all
from llmops_gate.validators import admission
from llmops_gate.validators.context import Context, Settings
from llmops_gate.yamlio.sourcemap import SourceMap
from tests.conftest import CORPUS, EXAMPLE, ROOT, need_shared
from tests.validators.schema.test_kubeconform_parity import EXCEPTIONS, map_args, rows

# (repo, file, rule): why the finding is right.
KNOWN = {
    **{("seed-repo", f"revisions/{rev}/deploy_model/base/inferenceservice.yaml",
        "kserve-one-implementation"):
       "a real upstream defect: these revisions set spec.predictor.model.name, which KServe's "
       "webhook refuses ('the name field is not allowed in standard predictor'); later "
       "revisions dropped it"
       for rev in ("19-c695a8a", "20-28d6b61", "21-60aae70", "22-a8350fa")},
}

# kubeconform fixtures its tests call valid that the API server would still refuse.
FIXTURE_EXCEPTIONS = {
    ("fixtures/extra_property.yaml", "selector-mismatch"):
        "a DaemonSet whose pod template has no labels: valid for the schema (kubeconform's "
        "point, with an unknown `replicas`), refused by the API server ('selector does not "
        "match template labels')",
    ("fixtures/duplicate_property.yaml", "selector-mismatch"):
        "the same DaemonSet, with a duplicate key",
}

LARGE = {"seed-repo"}


def corpus_repos() -> list[object]:
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-absent")]
    return [pytest.param(repo, id=repo.name,
                         marks=[pytest.mark.slow] if repo.name in LARGE else [])
            for repo in sorted(p for p in CORPUS.iterdir() if p.is_dir())
            if repo.name != "kubeconform-fixtures"]


def admission_findings(repo: Path) -> tuple[list[Finding], int]:
    config = load_config(repo)
    scan = scan_repo(repo, config)
    units = discover_units(scan, config)
    sources = SourceMap(repo)
    results = render_all(repo, units, find_kustomize(), sources, jobs=2, timeout=120)
    ctx = Context(repo=repo, config=config, scan=scan, results=results, sources=sources,
                  settings=Settings(validators=("admission",)))
    return list(admission.check(ctx)), sum(len(r.resources) for r in results)


@pytest.mark.parametrize("repo", corpus_repos())
def test_corpus_repo_is_clean_or_explained(repo: Path | None) -> None:
    if repo is None:
        pytest.skip(f"../shared is absent here ({CORPUS} not found): the corpus tests need it")
    found, resources = admission_findings(repo)
    assert resources > 0
    unexplained = [f"{f.file}:{f.line} {f.rule} {f.message}" for f in found
                   if (repo.name, f.file, f.rule) not in KNOWN]
    assert unexplained == []
    expected = {k for k in KNOWN if k[0] == repo.name}
    assert {(repo.name, f.file, f.rule) for f in found} == expected


@pytest.mark.parametrize("folder", [ROOT / "tekton", EXAMPLE], ids=["tekton", "example"])
def test_folder_is_clean(folder: Path) -> None:
    found, resources = admission_findings(folder)
    assert found == [] and resources > 0
    # every YAML file read as a plain manifest too, as `llmops-gate schema FOLDER` does
    report = validate_files([str(folder)], {})
    assert [f for f in report.findings if f.validator == "admission"] == []
    assert report.resources > 0


def valid_rows() -> list[object]:
    """The rows kubeconform calls valid that run offline (stdin rows read the same files)."""
    try:
        return [pytest.param(r, id=r["case_id"]) for r in rows()
                if r["expected_result"].startswith("valid") and "<" not in r["fixture_files"]
                and r["case_id"] not in EXCEPTIONS]
    except pytest.skip.Exception:
        return [pytest.param(None, id="shared-absent")]


def report_passes_schema_alone(row: dict[str, str], base: Path) -> bool:
    """The row is valid for the schema (kubeconform's verdict), so whatever fires below is the
    admission rules' alone."""
    import os

    here = Path.cwd()
    os.chdir(base)
    try:
        files, flags, ignore, _ = map_args(row["upstream_args"])
        return validate_files(files, flags, ignore_patterns=ignore, admission=False).passed
    finally:
        os.chdir(here)


@pytest.mark.parametrize("row", valid_rows())
def test_no_admission_rule_fires_on_kubeconform_valid_fixtures(
        row: dict[str, str] | None, monkeypatch: pytest.MonkeyPatch) -> None:
    base = need_shared("corpus", "kubeconform-fixtures")
    assert row is not None
    assert report_passes_schema_alone(row, base)
    monkeypatch.chdir(base)
    files, flags, ignore, _stdin = map_args(row["upstream_args"])
    report = validate_files(files, flags, ignore_patterns=ignore)
    fired = {(f.file, f.rule) for f in report.findings if f.validator == "admission"}
    assert fired <= set(FIXTURE_EXCEPTIONS), fired


def test_fixture_exceptions_are_still_true(monkeypatch: pytest.MonkeyPatch) -> None:
    base = need_shared("corpus", "kubeconform-fixtures")
    monkeypatch.chdir(base)
    report = validate_files(sorted({file for file, _ in FIXTURE_EXCEPTIONS}), {"strict": False})
    assert {(f.file, f.rule) for f in report.findings if f.validator == "admission"} == \
        set(FIXTURE_EXCEPTIONS)
