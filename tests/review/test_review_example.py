"""`review` on real Git histories of the example repo: what each kind of change shows."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git, run_cli
from tests.gitops.helpers import NEW_IMAGE_DIGEST, NEW_STORAGE, change_dev, example_git
from tests.review.helpers import OVERLAYS, changed, commit_all, diff_lines, facts, review_json

DEV_ARG_PATCH = """\
  # A longer context for dev only.
  - target:
      kind: ServingRuntime
      name: qwen25-05b-instruct
    patch: |-
      - op: replace
        path: /spec/containers/0/args/3
        value: "--max-model-len=8192"
"""


def test_vllm_argument_change_in_dev_shows_only_dev_and_a_one_line_diff(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    k = repo / OVERLAYS / "dev" / "kustomization.yaml"
    k.write_text(k.read_text() + DEV_ARG_PATCH)
    commit_all(repo, "dev: max-model-len 8192")
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD")
    units = changed(data)
    assert list(units) == [f"{OVERLAYS}/dev"]
    dev = units[f"{OVERLAYS}/dev"]
    assert dev["environment"] == "dev"
    assert facts(dev) == ["vLLM argument --max-model-len: 32768 -> 8192"]
    assert dev["release"][0]["resource"] == "ServingRuntime/dev-qwen25-05b-instruct"
    assert diff_lines(dev, "-") == ["-    - --max-model-len=32768"]
    assert diff_lines(dev, "+") == ["+    - --max-model-len=8192"]
    assert (dev["added"], dev["changed"], dev["removed"]) == (0, 1, 0)
    assert data["summary"]["validated"] is True


def test_base_change_shows_all_three_environments(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    sr = repo / "deploy_model" / "base" / "servingruntime.yaml"
    sr.write_text(sr.read_text().replace("        - --max-model-len=32768\n",
                                         "        - --max-model-len=32768\n"
                                         "        - --enable-prefix-caching\n"))
    commit_all(repo, "base: prefix caching")
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD")
    units = changed(data)
    assert [u["environment"] for u in units.values()] == ["dev", "staging", "production"]
    for unit in units.values():
        assert facts(unit) == ["vLLM argument --enable-prefix-caching added"]
        assert diff_lines(unit, "+") == ["+    - --enable-prefix-caching"]
        assert unit["why"] == ["deploy_model/base/servingruntime.yaml"]


def test_promotion_commit_shows_staging_and_production_with_model_and_image(
        tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    change_dev(repo)
    result = run_cli("promote", "--repo", repo, "--no-validate")
    assert result.code == 0, result.stderr
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD")
    units = changed(data)
    assert [u["environment"] for u in units.values()] == ["staging", "production"]
    for unit in units.values():
        words = facts(unit)
        assert any(w.startswith("model storageUri: oci://") and w.endswith(NEW_STORAGE)
                   for w in words), words
        image = [w for w in words if w.startswith("runtime image of kserve-container")]
        assert len(image) == 1 and f"-> {NEW_IMAGE_DIGEST}" in image[0], words
        assert any("--gpu-memory-utilization=0.75 added" in w for w in words), words


def test_application_change_shows_its_sync_policy(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    app = repo / "argocd-apps" / "staging-application.yaml"
    app.write_text(app.read_text().replace(
        "  syncPolicy:\n", "  syncPolicy:\n    automated:\n      prune: true\n"))
    commit_all(repo, "staging syncs on its own")
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD")
    units = changed(data)
    assert list(units) == ["argocd-apps/staging-application.yaml"]
    unit = units["argocd-apps/staging-application.yaml"]
    assert unit["kind"] == "manifest"
    assert facts(unit) == ["Application sync policy: manual -> automated (prune)"]
    assert diff_lines(unit, "+") == ["+    automated:", "+      prune: true"]


def test_work_tree_is_the_default_head_and_is_left_untouched(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    size = repo / OVERLAYS / "production" / "size.yaml"
    size.write_text(size.read_text().replace("maxReplicas: 3", "maxReplicas: 4"))
    status_before = git(repo, "status", "--porcelain")
    data = review_json(repo, "--base", "HEAD")
    units = changed(data)
    assert list(units) == [f"{OVERLAYS}/production"]
    assert facts(units[f"{OVERLAYS}/production"]) == ["replicas (maxReplicas): 3 -> 4"]
    assert data["head"]["commit"] is None
    assert git(repo, "status", "--porcelain") == status_before


def test_no_change_reports_nothing_and_a_bad_revision_is_a_usage_error(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    data = review_json(repo, "--base", "HEAD")
    assert changed(data) == {}
    result = run_cli("review", repo, "--base", "no-such-rev")
    assert result.code == 2
    assert "--base: unknown revision 'no-such-rev'" in result.stderr
