"""`review` on upstream's own history (../shared/corpus/seed-repo/revisions), commit by commit."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import SEED
from tests.review.helpers import (
    OVERLAYS,
    changed,
    commit_all,
    diff_lines,
    facts,
    review_json,
    seed_history,
)

REVISIONS = SEED / "revisions"

OLD_IMAGE = "quay.io/modh/vllm:rhoai-2.22-cuda-5e9c649953464aa3a668aba1774e42fc933f721b"
NEW_DIGEST = "sha256:5800e12b2a465f15961fcf34b645d79ed4f91ec9161eab22b1205d12682183c8"


def test_upstream_dev_gpu_utilisation_argument_shows_only_dev(tmp_path: Path) -> None:
    # 10-8af44d8 "change gpu utilizations - test auto sync": two list items added in dev.
    repo = seed_history(tmp_path / "seed", "09-6ffa1c9", "10-8af44d8")
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD", "--no-validate")
    units = changed(data)
    assert list(units) == [f"{OVERLAYS}/dev"]
    dev = units[f"{OVERLAYS}/dev"]
    assert facts(dev) == ["vLLM argument --gpu-memory-utilization=0.75 added"]
    # The argument is two list items upstream (`--gpu-memory-utilization`, `0.75`): its lines
    # are the whole diff.
    assert diff_lines(dev, "+") == ["+    - --gpu-memory-utilization", "+    - '0.75'"]
    assert diff_lines(dev, "-") == []


def test_upstream_staging_max_model_len_is_a_one_line_diff(tmp_path: Path) -> None:
    # 40-1458084 "staging - shorten model len" (on top of 25-6f7edfc): args/4 12000 -> 8000,
    # and the display name annotation bumped.
    repo = seed_history(tmp_path / "seed", "25-6f7edfc", "40-1458084")
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD", "--no-validate")
    units = changed(data)
    assert list(units) == [f"{OVERLAYS}/staging"]
    staging = units[f"{OVERLAYS}/staging"]
    assert "vLLM argument --max-model-len: 12000 -> 8000" in facts(staging)
    runtime = [r for r in staging["resources"] if r["resource"]["kind"] == "ServingRuntime"]
    assert len(runtime) == 1
    lines = [ln for ln in runtime[0]["diff"].splitlines()
             if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert lines == ["-    - '12000'", "+    - '8000'"]


def test_upstream_base_image_change_shows_all_three_environments(tmp_path: Path) -> None:
    # 42-19ded74 "Update vLLM image to RHOAI 3.4 compatible version": base ServingRuntime.
    repo = seed_history(tmp_path / "seed", "41-7461dc1", "42-19ded74")
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD", "--no-validate")
    units = changed(data)
    assert [u["environment"] for u in units.values()] == ["dev", "staging", "production"]
    for unit in units.values():
        [image] = [f for f in unit["release"] if f["field"].endswith(".image")]
        assert image["old"] == OLD_IMAGE
        assert image["new"].endswith(f"@{NEW_DIGEST}")
        assert f"digest (none) -> {NEW_DIGEST}" in image["text"]


def test_promotion_of_upstream_dev_state_shows_staging_and_production(tmp_path: Path) -> None:
    # Upstream's dev at 16-1b31edb (five vLLM arguments added) over 09-6ffa1c9, promoted by
    # llmops-gate. Upstream never gave an environment its own model or image, so the summary
    # names the arguments (the example's promotion test covers model and image).
    from tests.conftest import run_cli

    repo = seed_history(tmp_path / "seed", "09-6ffa1c9")
    shutil.copyfile(REVISIONS / "16-1b31edb" / OVERLAYS / "dev" / "kustomization.yaml",
                    repo / OVERLAYS / "dev" / "kustomization.yaml")
    commit_all(repo, "upstream 16-1b31edb: dev - roll back to final configs")
    result = run_cli("promote", "--repo", repo, "--no-validate")
    assert result.code == 0, result.stderr
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD", "--no-validate")
    units = changed(data)
    assert [u["environment"] for u in units.values()] == ["staging", "production"]
    for unit in units.values():
        words = facts(unit)
        assert "vLLM argument --enable-auto-tool-choice added" in words, words
        assert "vLLM argument --tool-call-parser=hermes added" in words, words
        assert not any(w.startswith(("model ", "runtime image")) for w in words), words
