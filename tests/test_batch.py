"""Batched Kustomize builds never change what is reported.

Several overlays are built by one Kustomize process (`llmops_gate.repo.batch`) unless
`LLMOPS_GATE_NO_BATCH=1` or `--no-batch`; these tests run both ways, with real Kustomize, and
compare the reports byte for byte, and the split resources object for object.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import generate, model_names
from llmops_gate.config import load_config
from llmops_gate.model import Unit, UnitResult
from llmops_gate.repo import batch
from llmops_gate.repo.discover import discover_units, scan_repo
from llmops_gate.repo.kustomize import find_kustomize, render_unit
from llmops_gate.repo.render import plan_batches
from llmops_gate.yamlio.sourcemap import SourceMap
from tests import manifests
from tests.conftest import CORPUS, EXAMPLE, cli_env, need_shared, once_per_run, run_cli

CORPUS_REPOS = sorted(p.name for p in CORPUS.iterdir()) if CORPUS.is_dir() else []
FORMATS = ("json", "sarif", "junit", "text")


def reports(repo: Path, fmt: str = "json", *extra: str) -> tuple[str, str]:
    """The report of a batched and of an unbatched run (same exit code)."""
    batched = run_cli("validate", repo, "--format", fmt, *extra)
    plain = run_cli("validate", repo, "--format", fmt, *extra,
                    env=cli_env({"LLMOPS_GATE_NO_BATCH": "1"}))
    assert batched.code == plain.code, batched.stderr + plain.stderr
    assert "Traceback" not in batched.stderr
    if batched.code == 2:  # a repo without overlays (kubeconform-fixtures): the same refusal
        assert batched.stderr == plain.stderr
        return batched.stderr, plain.stderr
    assert batched.code in (0, 1), batched.stderr
    return batched.stdout, plain.stdout


def units_of(repo: Path) -> tuple[list[Unit], Any]:
    config = load_config(repo, None)
    scan = scan_repo(repo, config)
    return discover_units(scan, config), scan


def same_result(a: UnitResult, b: UnitResult) -> None:
    """Everything a validator reads of a unit, equal (build seconds aside)."""
    assert (a.error, a.error_file, a.error_line, a.error_column, a.timed_out) == (
        b.error, b.error_file, b.error_line, b.error_column, b.timed_out), a.unit.path
    assert [(r.doc, r.source_file, r.transformed_by, r.index) for r in a.resources] == [
        (r.doc, r.source_file, r.transformed_by, r.index) for r in b.resources], a.unit.path


def test_example_reports_are_identical() -> None:
    batched, plain = reports(EXAMPLE)
    assert batched == plain


@pytest.mark.parametrize("name", CORPUS_REPOS)
def test_corpus_repo_reports_are_identical(name: str) -> None:
    repo = need_shared("corpus", name)
    batched, plain = reports(repo)
    assert batched == plain
    assert batch.MARKER not in batched


@pytest.fixture(scope="module")
def defects_repo() -> Any:
    # One defect per environment (benchmarks.generate.plant_defects): a build error in dev,
    # a duplicate key in staging, a YAML syntax error in a production patch; six models, so
    # every environment is built in batches of several overlays.
    root = Path(tempfile.mkdtemp(prefix="llmops-gate-batch-test-"))
    try:
        yield generate(root / "gen", 6, defects=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def defects_reports(defects_repo: Path, tmp_path_factory: pytest.TempPathFactory
                    ) -> dict[str, tuple[str, str]]:
    """format -> (batched, unbatched) report of the defects repo: one run each way writes
    every format (`--report-file`), so the repo is built twice, not twice per format, and
    once per run, whatever the xdist workers (`once_per_run`)."""
    out = tmp_path_factory.mktemp("reports")
    pairs: dict[str, list[str]] = once_per_run(
        "batch-defects-reports", tmp_path_factory, lambda: _both_ways(defects_repo, out))
    return {fmt: (pair[0], pair[1]) for fmt, pair in pairs.items()}


def _both_ways(defects_repo: Path, out: Path) -> dict[str, list[str]]:
    runs: dict[str, dict[str, str]] = {}
    codes: list[int] = []
    for way, env in (("batched", None), ("plain", cli_env({"LLMOPS_GATE_NO_BATCH": "1"}))):
        extra = [a for fmt in FORMATS[1:] for a in ("--report-file", f"{fmt}={out}/{way}.{fmt}")]
        result = run_cli("validate", defects_repo, "--format", FORMATS[0], *extra, env=env)
        assert result.code in (0, 1) and "Traceback" not in result.stderr, result.stderr
        codes.append(result.code)
        runs[way] = {FORMATS[0]: result.stdout,
                     **{fmt: (out / f"{way}.{fmt}").read_text(encoding="utf-8")
                        for fmt in FORMATS[1:]}}
    assert codes[0] == codes[1]
    return {fmt: [runs["batched"][fmt], runs["plain"][fmt]] for fmt in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS)
def test_generated_repo_with_defects_reports_are_identical(
        defects_reports: dict[str, tuple[str, str]], fmt: str) -> None:
    batched, plain = defects_reports[fmt]
    if fmt == "junit":  # the build seconds differ from run to run, batched or not
        batched, plain = (re.sub(r' time="[\d.]+"', "", r) for r in (batched, plain))
    assert batched == plain
    assert batch.MARKER not in batched and "batch-member" not in batched


def test_failing_overlay_in_a_batch_is_reported_against_it(defects_repo: Path) -> None:
    units, scan = units_of(defects_repo)
    batches = plan_batches(units, 2, guess=batch.IdGuess(scan, SourceMap(defects_repo)))
    broken = f"models/{model_names(6)[2]}/overlays/production"
    (members,) = [b for b in batches if any(units[i].path == broken for i in b)]
    assert len(members) > 1  # it does share a batch with healthy overlays
    results = batch.build_batch(find_kustomize(), [units[i] for i in members], defects_repo)
    by_path = {r.unit.path: r for r in results}
    failed = [p for p, r in by_path.items() if r.error]
    assert failed == [broken]
    error = by_path[broken]
    assert (error.error_file, error.error_line) == (f"{broken}/size.yaml", 11)
    assert error.error is not None and f"{broken}/size.yaml line 11" in error.error
    for result in results:
        same_result(result, render_unit(find_kustomize(), result.unit, defects_repo))
        assert result.error or result.resources


def _overlay(repo: Path, folder: str, text: str, files: dict[str, str] | None = None) -> Unit:
    path = repo / folder
    path.mkdir(parents=True)
    (path / "kustomization.yaml").write_text(text, encoding="utf-8")
    for name, body in (files or {}).items():
        (path / name).write_text(body, encoding="utf-8")
    return Unit(path=folder, kind="overlay", environment="dev")


def test_id_collision_kustomize_refuses_is_split_off(tmp_path: Path) -> None:
    repo = generate(tmp_path / "gen", 3)
    names = model_names(3)
    # `copy` renders what models/<0>/overlays/dev renders: the guess sees that, so they go
    # to different batches. `renamed` is renamed by a patch into models/<1>'s ConfigMap: the
    # guess does not follow patches, Kustomize refuses the batch, and it is split.
    copy = _overlay(repo, "extra/copy", "resources:\n  - ../../models/" + names[0]
                    + "/overlays/dev\n")
    renamed = _overlay(repo, "extra/renamed", f"""\
resources:
  - ../../models/{names[2]}/overlays/dev
patches:
  - target:
      kind: ConfigMap
    patch: |
      - op: replace
        path: /metadata/name
        value: dev-{names[1]}-settings
""")
    units = [Unit(path=f"models/{n}/overlays/dev", kind="overlay", environment="dev")
             for n in names]
    units = [units[0], units[1], renamed, copy, units[2]]
    config = load_config(repo, None)
    scan = scan_repo(repo, config)
    guess = batch.IdGuess(scan, SourceMap(repo))
    assert not guess.of(copy.path).isdisjoint(guess.of(units[0].path))
    assert guess.of(renamed.path).isdisjoint(guess.of(units[1].path))
    planned = plan_batches(units, 1, guess=guess)
    assert not any({0, 3} <= set(b) for b in planned)
    assert any({1, 2} <= set(b) for b in planned)
    with pytest.raises(batch._Failed) as refused:
        batch._attempt(find_kustomize(), [units[1], renamed], repo, 60)
    assert refused.value.duplicate and refused.value.member == 1
    kustomize = find_kustomize()
    for members in planned:
        got = batch.build_batch(kustomize, [units[i] for i in members], repo)
        for result in got:
            same_result(result, render_unit(kustomize, result.unit, repo))
            assert not result.error


def test_split_objects_equal_their_own_builds_on_the_corpus() -> None:
    # Object for object (the document, its source file, transformers and position): the
    # marker never survives the split, and shared bases land in the overlay that used them.
    kustomize = find_kustomize()
    for name in ("redhat-cop__gitops-catalog", "kubernetes-sigs__kustomize"):
        repo = need_shared("corpus", name)
        units, scan = units_of(repo)
        for members in plan_batches(units, 2, guess=batch.IdGuess(scan, SourceMap(repo))):
            if len(members) < 2:
                continue
            for result in batch.build_batch(kustomize, [units[i] for i in members], repo):
                for res in result.resources:
                    annotations = res.doc.get("metadata", {}).get("annotations") or {}
                    assert batch.MARKER not in annotations
                same_result(result, render_unit(kustomize, result.unit, repo))


def test_marker_touches_only_top_level_annotations(tmp_path: Path) -> None:
    # Pod templates, selectors and labels of a Deployment come out of a batch as they are
    # built alone (a commonAnnotations or commonLabels marker would change them).
    deployment = manifests.deployment(replicas=None, image="nginx@sha256:" + "0" * 64)
    # Block scalars that end a document keep their last line breaks through the split.
    configmap = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z-scripts\ndata:\n"
                 "  clip: |\n    echo one\n  keep: |+\n    echo two\n\n\n")
    units = [_overlay(tmp_path, f"apps/{n}", f"namePrefix: {n}-\nresources:\n  - d.yaml\n"
                      "  - c.yaml\n", {"d.yaml": deployment, "c.yaml": configmap})
             for n in ("a", "b")]
    results = batch.build_batch(find_kustomize(), units, tmp_path)
    for result in results:
        same_result(result, render_unit(find_kustomize(), result.unit, tmp_path))
        config, deploy = result.resources
        assert "annotations" not in deploy.doc["spec"]["template"]["metadata"]
        assert "annotations" not in deploy.doc["metadata"]
        assert config.doc["data"] == {"clip": "echo one\n", "keep": "echo two\n\n\n"}


def test_hung_batch_falls_back_to_one_timeout_per_overlay(tmp_path: Path) -> None:
    # A stand-in for a hung Kustomize (fault injection): every overlay of the batch gets its
    # own timeout finding, as without batching.
    repo = generate(tmp_path / "gen", 2)
    fake = tmp_path / "kustomize"
    fake.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    fake.chmod(0o755)
    result = run_cli("validate", repo, "--kustomize", fake, "--timeout", "1", "--format",
                     "json", "--only", "build", timeout=120)
    assert result.code == 1, result.stderr
    timeouts = sorted(f["overlay"] for f in result.json()["findings"]
                      if f["rule"] == "kustomize-timeout")
    assert timeouts == sorted(f"models/{n}/overlays/{e}" for n in model_names(2)
                              for e in ("dev", "staging", "production"))
