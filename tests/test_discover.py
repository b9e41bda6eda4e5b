"""Discovery without a config: overlays are the kustomizations nothing else uses, components are
never built alone, environments come from folder names, plain manifests are found."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.config import Config, load_config
from llmops_gate.engine import Options, validate_repo
from llmops_gate.repo.discover import closure, discover_units, scan_repo

FILES = {
    "apps/base/kustomization.yaml": "resources:\n  - deploy.yaml\n",
    "apps/base/deploy.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n"
        "      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n"
        "          image: nginx:1.27\n"),
    "apps/overlays/dev/kustomization.yaml": (
        "resources:\n  - ../../base\ncomponents:\n  - ../../../components/gpu\n"
        "namePrefix: dev-\n"),
    "apps/overlays/prod/kustomization.yml": "resources:\n  - ../../base\nnamePrefix: prod-\n",
    "apps/overlays/canary/Kustomization": "resources:\n  - ../../base\nnameSuffix: -canary\n",
    "components/gpu/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "commonLabels:\n  gpu: \"true\"\n"),
    "components/unused/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "commonLabels:\n  unused: \"true\"\n"),
    "argocd/app.yaml": (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web-dev\n"
        "  namespace: argocd\nspec:\n  project: default\n"),
    "notes/values.yaml": "replicas: 3\nimage: nginx\n",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("discover")
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_overlays_are_the_kustomizations_nothing_uses(repo: Path) -> None:
    scan = scan_repo(repo, Config(path=None))
    assert set(scan.kustomizations) == {
        "apps/base", "apps/overlays/dev", "apps/overlays/prod", "apps/overlays/canary",
        "components/gpu", "components/unused"}
    # The base is used by the overlays; components (used or not) are never built alone.
    assert scan.overlays == ["apps/overlays/canary", "apps/overlays/dev", "apps/overlays/prod"]


def test_environment_comes_from_the_folder_name(repo: Path) -> None:
    config = load_config(repo)
    assert config.path is None
    units = discover_units(scan_repo(repo, config), config)
    envs = {u.path: (u.kind, u.environment) for u in units}
    assert envs == {
        "apps/overlays/canary": ("overlay", None),
        "apps/overlays/dev": ("overlay", "dev"),
        "apps/overlays/prod": ("overlay", "production"),
        "argocd/app.yaml": ("manifest", None),
    }


def test_closure_follows_bases_and_components(repo: Path) -> None:
    files = closure(scan_repo(repo, Config(path=None)), "apps/overlays/dev")
    assert files == {"apps/overlays/dev/kustomization.yaml", "apps/base/kustomization.yaml",
                     "apps/base/deploy.yaml", "components/gpu/kustomization.yaml"}


def test_discovered_repo_builds_and_components_are_not_built_alone(repo: Path) -> None:
    report = validate_repo(repo, Options(only=["build"]))
    assert report.findings == []
    assert [u.path for u in report.units if u.kind == "overlay"] == [
        "apps/overlays/canary", "apps/overlays/dev", "apps/overlays/prod"]
    # 3 Deployments and the Application.
    assert report.resources == 4
    assert report.unit_resources["apps/overlays/canary"][0].name == "web-canary"


def test_env_option_picks_environments_named_by_folders(repo: Path) -> None:
    report = validate_repo(repo, Options(only=["build"], envs=["production"]))
    assert [u.path for u in report.units] == ["apps/overlays/prod"]
