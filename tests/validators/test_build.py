"""The `build` validator with real Kustomize: a failed build is one finding per overlay, with
Kustomize's innermost cause on one line, repo-relative paths, and the file and line it is about."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.engine import Options, validate_repo
from llmops_gate.model import Finding, Report, Unit
from llmops_gate.repo.kustomize import ORIGIN, TRANSFORMATIONS, find_kustomize, render_unit
from llmops_gate.repo.kustomize_errors import explain, unwrap
from tests.conftest import EXAMPLE, copy_tree, need_shared

DEV, STAGING, PROD = (f"deploy_model/overlays/{e}" for e in ("dev", "staging", "production"))
NOISE = ("accumulat", "must resolve to a file", "evalsymlink", "trouble configuring", "<build>",
         "llmops-gate-build-")


def build_findings(report: Report) -> dict[str, Finding]:
    found = [f for f in report.findings if f.validator == "build"]
    assert len(found) == len({f.overlay for f in found}), "one build finding per overlay"
    return {str(f.overlay): f for f in found}


def assert_clean_message(f: Finding, repo: Path) -> None:
    assert "\n" not in f.message
    assert str(repo) not in f.message and "/tmp/" not in f.message
    for noise in NOISE:
        assert noise not in f.message, (noise, f.message)


@pytest.fixture(scope="module")
def three_ways(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    """dev: unknown field in its kustomization; staging: its patch file is not YAML;
    production: names a base folder that does not exist."""
    repo = copy_tree(EXAMPLE, tmp_path_factory.mktemp("three") / "repo")
    with (repo / DEV / "kustomization.yaml").open("a") as fh:
        fh.write("replica: 2\n")
    size = repo / STAGING / "size.yaml"
    size.write_text(size.read_text().replace("    minReplicas: 1\n", "    minReplicas: [1\n"))
    prod = repo / PROD / "kustomization.yaml"
    prod.write_text(prod.read_text().replace("../../base", "../../bases"))
    return repo, validate_repo(repo, Options(only=["build"]))


def test_every_overlay_is_reported_with_its_own_cause(three_ways: tuple[Path, Report]) -> None:
    repo, report = three_ways
    found = build_findings(report)
    assert sorted(found) == [DEV, PROD, STAGING]
    for f in found.values():
        assert f.severity.value == "error" and f.rule == "kustomize-build"
        assert f.message.startswith("overlay does not build: ")
        assert_clean_message(f, repo)
    # every overlay failed, yet the plain manifests (Argo CD Applications, the PaC
    # PipelineRun) are still read
    assert report.resources == sum(1 for u in report.units if u.kind == "manifest")
    assert report.resources >= 3


def test_unknown_field_points_at_the_key(three_ways: tuple[Path, Report]) -> None:
    repo, report = three_ways
    f = build_findings(report)[DEV]
    lines = (repo / DEV / "kustomization.yaml").read_text().splitlines()
    assert (f.file, f.line) == (f"{DEV}/kustomization.yaml", lines.index("replica: 2") + 1)
    assert f.message == "overlay does not build: invalid kustomization: unknown field 'replica'"


def test_patch_file_that_is_not_yaml_points_at_its_line(three_ways: tuple[Path, Report]) -> None:
    f = build_findings(three_ways[1])[STAGING]
    assert f.file == f"{STAGING}/size.yaml"
    assert f.line is not None and 9 <= f.line <= 11
    assert "patch 'size.yaml': YAML syntax error" in f.message


def test_missing_base_folder_points_at_the_resources_entry(
        three_ways: tuple[Path, Report]) -> None:
    f = build_findings(three_ways[1])[PROD]
    assert (f.file, f.line, f.column) == (f"{PROD}/kustomization.yaml", 9, 5)
    assert f.message == ("overlay does not build: resource '../../bases': "
                         "deploy_model/bases: no such file or directory")


def test_missing_patch_file_is_one_line_naming_the_file(example_repo: Path) -> None:
    (example_repo / STAGING / "size.yaml").unlink()
    report = validate_repo(example_repo, Options(only=["build"]))
    f = build_findings(report)[STAGING]
    assert f.message == ("overlay does not build: patch 'size.yaml': "
                         f"{STAGING}/size.yaml: no such file or directory")
    assert (f.file, f.line) == (f"{STAGING}/kustomization.yaml", 13)
    assert sorted(build_findings(report)) == [STAGING]
    # The hint names the Kustomize that ran, as a command to paste.
    assert f.hint is not None and f.hint.startswith("run `")
    assert f"kustomize {STAGING}`" in f.hint or f"kustomize build {STAGING}`" in f.hint


def test_missing_resource_in_the_base_fails_every_overlay_at_the_base(
        example_repo: Path) -> None:
    base = example_repo / "deploy_model/base/kustomization.yaml"
    base.write_text(base.read_text().replace("  - model-connection.yaml\n",
                                             "  - model-connection.yaml\n  - extra.yaml\n"))
    report = validate_repo(example_repo, Options(only=["build"]))
    found = build_findings(report)
    assert sorted(found) == [DEV, PROD, STAGING]
    for f in found.values():
        assert (f.file, f.line) == ("deploy_model/base/kustomization.yaml", 10)
        assert "resource 'extra.yaml': deploy_model/base/extra.yaml: no such file" in f.message
        assert_clean_message(f, example_repo)


def test_seed_revision_45_fails_in_dev_at_the_mis_indented_patch(tmp_path: Path) -> None:
    src = need_shared("corpus", "seed-repo", "revisions", "45-2e700dd", "deploy_model")
    repo = tmp_path / "seed45"
    copy_tree(src, repo / "deploy_model")
    report = validate_repo(repo, Options(only=["build"]))
    found = build_findings(report)
    assert sorted(found) == ["deploy_model/overlays/dev"]
    f = found["deploy_model/overlays/dev"]
    assert f.file == "deploy_model/overlays/dev/kustomization.yaml"
    # The first mis-indented line of the ServingRuntime patch (`path:` under `- op: replace`).
    lines = (repo / f.file).read_text().splitlines()
    assert f.line is not None
    assert lines[f.line - 1].strip() == "path: /spec/containers/0/args/4"
    assert lines[f.line - 2].strip() == "- op: replace"
    assert "inline patch (target ServingRuntime/qwen25-05b-instruct)" in f.message
    assert_clean_message(f, repo)
    assert {u.path for u in report.units if u.kind == "overlay"} == {
        "deploy_model/overlays/dev", "deploy_model/overlays/staging",
        "deploy_model/overlays/production"}


def test_seed_revision_46_builds(tmp_path: Path) -> None:
    src = need_shared("corpus", "seed-repo", "revisions", "46-21a5d7b", "deploy_model")
    repo = tmp_path / "seed46"
    copy_tree(src, repo / "deploy_model")
    report = validate_repo(repo, Options(only=["build"]))
    assert build_findings(report) == {}
    assert report.passed
    assert report.resources >= 9


def test_rendered_resources_know_their_source_and_lose_the_build_annotations() -> None:
    unit = Unit(path=DEV, kind="overlay", environment="dev")
    result = render_unit(find_kustomize(), unit, EXAMPLE)
    assert result.error is None
    by_kind = {r.kind: r for r in result.resources}
    assert by_kind["InferenceService"].source_file == "deploy_model/base/inferenceservice.yaml"
    assert f"{DEV}/kustomization.yaml" in by_kind["InferenceService"].transformed_by
    for res in result.resources:
        annotations = res.doc["metadata"].get("annotations", {})
        assert ORIGIN not in annotations and TRANSFORMATIONS not in annotations
    # The user's files are untouched: no buildMetadata was written into them.
    assert "buildMetadata" not in (EXAMPLE / DEV / "kustomization.yaml").read_text()


KUBECTL_QUOTED = (
    'E1125 18:22:36.689711    7749 run.go:72] "command failed" err="accumulating resources: '
    "accumulation err='accumulating resources from '../r/o': '/r/o' must resolve to a file': "
    "couldn't make target for path '/r/o': invalid Kustomization: json: unknown field "
    '\\"bogus\\""\n')
KUSTOMIZE_BINARY = (
    "# Warning: 'patchesStrategicMerge' is deprecated.\n"
    "Error: accumulating resources: accumulation err='accumulating resources from 'x.yaml': "
    "evalsymlink failure on '/r/o/x.yaml' : lstat /r/o/x.yaml: no such file or directory': "
    "must build at directory: not a valid directory: evalsymlink failure on '/r/o/x.yaml' : "
    "lstat /r/o/x.yaml: no such file or directory\n")


def test_unwrap_reads_kubectl_and_kustomize_output() -> None:
    assert unwrap(KUBECTL_QUOTED).endswith('invalid Kustomization: json: unknown field "bogus"')
    assert unwrap(KUSTOMIZE_BINARY).startswith("accumulating resources: accumulation err=")
    assert "Warning" not in unwrap(KUSTOMIZE_BINARY)


def test_explain_without_the_files_still_gives_the_innermost_cause(tmp_path: Path) -> None:
    got = explain(KUSTOMIZE_BINARY, Path("/r/o"), repo=Path("/r"))
    assert got.message == "resource 'x.yaml': o/x.yaml: no such file or directory"
    got = explain(KUBECTL_QUOTED, Path("/r/o"), repo=Path("/r"))
    assert got.message == "invalid kustomization: unknown field 'bogus'"
    assert explain("", tmp_path).message == "kustomize build failed (no message)"
    assert explain("something new\n  and odd", tmp_path).message == "something new and odd"


def test_resource_without_kind_names_the_entry_not_go_internals(example_repo: Path) -> None:
    (example_repo / "deploy_model/base/extra.yaml").write_text("metadata:\n  name: x\n")
    base = example_repo / "deploy_model/base/kustomization.yaml"
    base.write_text(base.read_text().replace("  - model-connection.yaml\n",
                                             "  - model-connection.yaml\n  - extra.yaml\n"))
    f = build_findings(validate_repo(example_repo, Options(only=["build"], envs=["dev"])))[DEV]
    assert f.message == "overlay does not build: resource 'extra.yaml': missing kind"
    assert (f.file, f.line) == ("deploy_model/base/kustomization.yaml", 10)


def test_generator_file_missing_points_at_the_generator_entry(example_repo: Path) -> None:
    with (example_repo / DEV / "kustomization.yaml").open("a") as fh:
        fh.write("configMapGenerator:\n  - name: cfg\n    files:\n      - missing.conf\n")
    f = build_findings(validate_repo(example_repo, Options(only=["build"], envs=["dev"])))[DEV]
    lines = (example_repo / DEV / "kustomization.yaml").read_text().splitlines()
    entry = lines.index("      - missing.conf") + 1
    assert (f.file, f.line) == (f"{DEV}/kustomization.yaml", entry)
    assert f.message == ("overlay does not build: generator file 'missing.conf': "
                         f"{DEV}/missing.conf: no such file or directory")


def test_base_folder_without_kustomization_points_at_the_overlays_entry(
        example_repo: Path) -> None:
    (example_repo / "deploy_model/base/kustomization.yaml").unlink()
    report = validate_repo(example_repo, Options(only=["build"]))
    for overlay, f in build_findings(report).items():
        assert (f.file, f.line, f.column) == (f"{overlay}/kustomization.yaml", 9, 5)
        assert f.message.startswith("overlay does not build: resource '../../base': unable to "
                                    "find one of 'kustomization.yaml'")
        assert_clean_message(f, example_repo)


def test_only_paths_inside_the_repo_are_shortened() -> None:
    stderr = "Error: cannot read '/r/o/a.yaml' nor /r/other/b.yaml nor /rx/c\n"
    got = explain(stderr, Path("/r/o"), repo=Path("/r"))
    assert got.message == "cannot read 'o/a.yaml' nor other/b.yaml nor /rx/c"


def test_a_build_over_its_timeout_is_killed_and_reported() -> None:
    report = validate_repo(EXAMPLE, Options(only=["build"], envs=["dev"], timeout=0.001))
    f = build_findings(report)[DEV]
    assert f.message.startswith("overlay not built: kustomize build timed out after 0.001s")
    assert f.file == f"{DEV}/kustomization.yaml"
