"""`--changed-since`: which units a real Git history's changes reach (llmops_gate.repo.changes)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from llmops_gate.config import load_config
from llmops_gate.errors import GateError
from llmops_gate.repo.changes import ChangeSet, select_changed
from llmops_gate.repo.discover import discover_units, scan_repo
from tests.conftest import EXAMPLE, EXAMPLE_MANIFESTS, copy_tree, git, init_git_repo

DEV = "deploy_model/overlays/dev"
STAGING = "deploy_model/overlays/staging"
PROD = "deploy_model/overlays/production"


def select(repo: Path, rev: str = "HEAD") -> ChangeSet:
    config = load_config(repo)
    scan = scan_repo(repo, config)
    return select_changed(repo, rev, config, scan, discover_units(scan, config))


def overlays(change: ChangeSet) -> list[str]:
    return [u.path for u in change.units if u.kind == "overlay"]


def manifests(change: ChangeSet) -> list[str]:
    return [u.path for u in change.units if u.kind == "manifest"]


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return init_git_repo(copy_tree(EXAMPLE, tmp_path / "repo"))


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


# A repo with a Component that two of three overlays use, and Applications for each.
COMPONENT_REPO = {
    "base/kustomization.yaml": "resources:\n  - model.yaml\n",
    "base/model.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: model\n"
                        "data:\n  size: small\n"),
    "components/gpu/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\n"
                                          "kind: Component\npatches:\n  - path: gpu.yaml\n"),
    "components/gpu/gpu.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: model\n"
                                "data:\n  accelerator: gpu\n"),
    "overlays/dev/kustomization.yaml": ("resources:\n  - ../../base\ncomponents:\n"
                                        "  - ../../components/gpu\nnamePrefix: dev-\n"),
    "overlays/staging/kustomization.yaml": "resources:\n  - ../../base\nnamePrefix: staging-\n",
    "overlays/prod/kustomization.yaml": ("resources:\n  - ../../base\ncomponents:\n"
                                         "  - ../../components/gpu\nnamePrefix: prod-\n"),
    "apps/staging.yaml": ("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
                          "  name: staging\nspec:\n  source:\n    path: overlays/staging\n"),
    "apps/prod.yaml": ("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
                       "  name: prod\nspec:\n  source:\n    path: overlays/prod\n"),
    "README.md": "a small repo\n",
}


@pytest.fixture
def component_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "comp"
    for rel, text in COMPONENT_REPO.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    return init_git_repo(repo)


def test_overlay_change_selects_only_it(example: Path) -> None:
    append(example / DEV / "size.yaml", "# bigger soon\n")
    commit(example)
    change = select(example, "HEAD~1")
    assert not change.all
    assert overlays(change) == [DEV]
    assert manifests(change) == []
    assert change.why[DEV] == (f"{DEV}/size.yaml",)
    assert len(change.skipped) == 2 + EXAMPLE_MANIFESTS
    assert change.removed == ()


def test_uncommitted_base_change_selects_all_three(example: Path) -> None:
    append(example / "deploy_model/base/servingruntime.yaml", "# touched\n")
    change = select(example)
    assert overlays(change) == [DEV, STAGING, PROD]
    assert manifests(change) == []


def test_committed_and_uncommitted_changes_add_up(example: Path) -> None:
    append(example / DEV / "size.yaml", "# one\n")
    commit(example)
    append(example / PROD / "kustomization.yaml", "# two\n")
    assert overlays(select(example, "HEAD~1")) == [DEV, PROD]


def test_base_kustomization_config_file_reaches_every_overlay(example: Path) -> None:
    # configurations: is read by Kustomize too, so it is part of the closure.
    append(example / "deploy_model/base/kustomizeconfig.yaml", "# touched\n")
    assert overlays(select(example)) == [DEV, STAGING, PROD]


def test_component_change_selects_the_overlays_using_it(component_repo: Path) -> None:
    append(component_repo / "components/gpu/gpu.yaml", "  memory: big\n")
    change = select(component_repo)
    assert overlays(change) == ["overlays/dev", "overlays/prod"]
    assert manifests(change) == []


def test_base_change_reaches_overlays_through_components_too(component_repo: Path) -> None:
    append(component_repo / "base/model.yaml", "  region: eu\n")
    assert overlays(select(component_repo)) == ["overlays/dev", "overlays/prod",
                                                 "overlays/staging"]


@pytest.mark.parametrize("name", [".llmops-gate.yaml", ".yamllint"])
def test_config_change_selects_everything(example: Path, name: str) -> None:
    append(example / name, "# changed\n") if (example / name).exists() else (
        (example / name).write_text("extends: default\n", encoding="utf-8"))
    change = select(example)
    assert change.all
    assert name in (change.reason or "")
    assert overlays(change) == [DEV, STAGING, PROD]
    assert len(manifests(change)) == EXAMPLE_MANIFESTS
    assert change.skipped == ()


def test_a_file_the_config_names_counts_as_config(example: Path) -> None:
    (example / "schemas").mkdir()
    (example / "schemas/extra.json").write_text("{}\n", encoding="utf-8")
    append(example / ".llmops-gate.yaml", "schema:\n  locations:\n    - schemas\n")
    commit(example)
    (example / "schemas/extra.json").write_text('{"type": "object"}\n', encoding="utf-8")
    change = select(example)
    assert change.all
    assert "schemas/extra.json" in (change.reason or "")


def test_deleted_overlay_is_reported_removed(component_repo: Path) -> None:
    git(component_repo, "rm", "-rq", "overlays/staging")
    commit(component_repo)
    change = select(component_repo, "HEAD~1")
    assert not change.all
    assert [(u.path, u.kind) for u in change.removed] == [("overlays/staging", "overlay")]
    assert overlays(change) == []
    # The Application that deployed it now points at nothing: it is checked again.
    assert manifests(change) == ["apps/staging.yaml"]


def test_deleted_overlay_named_in_config_keeps_its_environment(example: Path) -> None:
    shutil.rmtree(example / STAGING)
    config = example / ".llmops-gate.yaml"
    config.write_text(re.sub(r"  - name: staging\n(    .*\n)+", "",
                             config.read_text(encoding="utf-8")), encoding="utf-8")
    change = select(example)
    assert change.all  # the config changed as well
    assert [(u.path, u.environment) for u in change.removed] == [(STAGING, "staging")]


def test_deleted_base_file_maps_to_the_overlays_that_used_it(component_repo: Path) -> None:
    # The base no longer lists the file, and the file is gone: only the old tree knows who
    # read it.
    (component_repo / "base/model.yaml").unlink()
    (component_repo / "base/other.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: model\n", encoding="utf-8")
    commit(component_repo)
    git(component_repo, "commit", "-q", "--allow-empty", "-m", "noise")
    change = select(component_repo, "HEAD~2")
    assert set(change.changed) >= {"base/model.yaml", "base/other.yaml"}
    assert overlays(change) == ["overlays/dev", "overlays/prod", "overlays/staging"]


def test_renamed_patch_selects_its_overlay(example: Path) -> None:
    git(example, "mv", f"{DEV}/size.yaml", f"{DEV}/resources.yaml")
    kust = example / DEV / "kustomization.yaml"
    kust.write_text(kust.read_text(encoding="utf-8").replace("size.yaml", "resources.yaml"),
                    encoding="utf-8")
    change = select(example)
    assert overlays(change) == [DEV]
    assert {f"{DEV}/size.yaml", f"{DEV}/resources.yaml"} <= set(change.changed)


def test_argocd_apps_change_selects_the_apps_manifests(example: Path) -> None:
    append(example / "argocd-apps/staging-application.yaml", "# touched\n")
    append(example / "argocd-apps/production-application.yaml", "# touched\n")
    change = select(example)
    assert overlays(change) == []
    assert manifests(change) == ["argocd-apps/production-application.yaml",
                                 "argocd-apps/staging-application.yaml"]


def test_new_untracked_app_is_selected(example: Path) -> None:
    shutil.copy(example / "argocd-apps/dev-application.yaml",
                example / "argocd-apps/qa-application.yaml")
    assert manifests(select(example)) == ["argocd-apps/qa-application.yaml"]


def test_unrelated_change_selects_nothing(example: Path) -> None:
    append(example / "README.md", "more words\n")
    change = select(example)
    assert change.units == ()
    assert len(change.skipped) == 3 + EXAMPLE_MANIFESTS


def test_repo_in_a_subfolder_of_the_git_work_tree(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    copy_tree(EXAMPLE, outer / "gitops")
    (outer / "src").mkdir()
    (outer / "src/app.py").write_text("print(1)\n", encoding="utf-8")
    init_git_repo(outer)
    (outer / "src/app.py").write_text("print(2)\n", encoding="utf-8")
    append(outer / "gitops" / STAGING / "size.yaml", "# touched\n")
    git(outer, "rm", "-rq", "gitops/argocd-apps/dev-application.yaml")
    change = select(outer / "gitops")
    assert overlays(change) == [STAGING]
    assert change.changed == {f"{STAGING}/size.yaml", "argocd-apps/dev-application.yaml"}
    assert [u.path for u in change.removed] == ["argocd-apps/dev-application.yaml"]


def test_unknown_revision_is_a_usage_error(example: Path) -> None:
    with pytest.raises(GateError, match="unknown revision 'no-such-branch'"):
        select(example, "no-such-branch")


def test_not_a_git_repo_is_a_usage_error(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "plain")
    with pytest.raises(GateError, match="not inside a Git work tree"):
        select(repo)


def test_unnamed_file_in_a_used_folder_counts(component_repo: Path) -> None:
    # Kustomize can read files a kustomization does not list (a Helm chart's values, an
    # OpenAPI schema): a change in a used folder selects the overlays that use it.
    (component_repo / "components/gpu/openapi.json").write_text("{}\n", encoding="utf-8")
    assert overlays(select(component_repo)) == ["overlays/dev", "overlays/prod"]
