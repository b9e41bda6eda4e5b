"""argocd-app-target, argocd-auto-sync, argocd-revision-pinned."""

from __future__ import annotations

from pathlib import Path

from tests.validators.policy.conftest import line, model_files, run_policy, where

CONFIG = """
environments:
  - name: dev
    overlay: deploy/overlays/dev
    application: app-dev
    namespace: llm-dev
  - name: production
    overlay: deploy/overlays/production
    application: app-prod
    namespace: llm-prod
"""

APP = """
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: app-prod
  namespace: openshift-gitops
spec:
  project: default
  source:
    repoURL: https://example.com/repo.git
    targetRevision: main
    path: deploy/overlays/production
  destination:
    server: https://kubernetes.default.svc
    namespace: llm-prod
  syncPolicy:
    syncOptions: [CreateNamespace=true]
"""
DEV_APP = APP.replace("app-prod", "app-dev").replace("overlays/production", "overlays/dev") \
    .replace("llm-prod", "llm-dev").replace("  syncPolicy:\n",
                                            "  syncPolicy:\n    automated: {prune: true}\n")
F = "argocd-apps/production-app.yaml"


def _repo(tmp_path: Path) -> Path:
    for env in ("dev", "production"):
        (tmp_path / f"deploy/overlays/{env}").mkdir(parents=True)
        (tmp_path / f"deploy/overlays/{env}/kustomization.yaml").write_text("resources: []\n")
    return tmp_path


def test_applications_pass(tmp_path: Path) -> None:
    files = {F: APP, "argocd-apps/dev-app.yaml": DEV_APP}
    assert where(run_policy(_repo(tmp_path), files, config=CONFIG)) == []


def test_production_app_points_at_dev(tmp_path: Path) -> None:
    text = APP.replace("overlays/production", "overlays/dev")
    found = run_policy(_repo(tmp_path), {F: text}, config=CONFIG)
    assert where(found) == [("argocd-app-target", F, line(text, "path:"))]
    assert "dev's overlay" in found[0].message
    assert found[0].environment == "production"


def test_wrong_destination_namespace(tmp_path: Path) -> None:
    text = APP.replace("namespace: llm-prod", "namespace: llm-dev")
    found = run_policy(_repo(tmp_path), {F: text}, config=CONFIG)
    assert where(found) == [("argocd-app-target", F, line(text, "namespace: llm-dev"))]


def test_production_auto_sync(tmp_path: Path) -> None:
    text = APP.replace("  syncPolicy:\n", "  syncPolicy:\n    automated: {selfHeal: true}\n")
    found = run_policy(_repo(tmp_path), {F: text}, config=CONFIG)
    assert where(found) == [("argocd-auto-sync", F, line(text, "automated"))]
    allowed = CONFIG + "    policy: {allow-auto-sync: true}\n"
    assert where(run_policy(tmp_path, {F: text}, config=allowed)) == []


def test_pinned_revision_when_asked(tmp_path: Path) -> None:
    strict = CONFIG + "    policy: {require-pinned-revision: true}\n"
    found = run_policy(_repo(tmp_path), {F: APP}, config=strict)
    assert where(found) == [("argocd-revision-pinned", F, line(APP, "targetRevision"))]
    for pinned in ("v1.4.0", "0123456789abcdef0123456789abcdef01234567"):
        text = APP.replace("targetRevision: main", f"targetRevision: {pinned}")
        assert where(run_policy(tmp_path, {F: text}, config=strict)) == []


def test_matched_by_source_path_without_config(tmp_path: Path) -> None:
    # No config: the Application's env is the overlay its path names (with a repo subfolder).
    files = {**model_files(folder="deploy/overlays/staging"),
             "argocd-apps/staging-app.yaml": APP.replace(
                 "path: deploy/overlays/production", "path: sub/deploy/overlays/staging")
             .replace("  syncPolicy:\n", "  syncPolicy:\n    automated: {}\n")}
    found = run_policy(tmp_path, files)
    assert ("argocd-auto-sync", "argocd-apps/staging-app.yaml",
            line(files["argocd-apps/staging-app.yaml"], "automated")) in where(found)
