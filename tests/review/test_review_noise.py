"""Noise filters: what `review` leaves out of rendered diffs by default and by config, and the
published JSON schema's findings are the validate report's."""

from __future__ import annotations

from pathlib import Path

from llmops_gate.report.json_report import schema as report_schema
from llmops_gate.review.report import schema as review_schema
from tests.conftest import init_git_repo
from tests.review.helpers import changed, commit_all, diff_lines, facts, review_json

CONFIG = """\
version: 1
environments:
  - name: dev
    overlay: overlays/dev
"""

APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: app-dev
  namespace: openshift-gitops
spec:
  project: default
  source:
    repoURL: https://example.com/repo.git
    targetRevision: main
    path: overlays/dev
  destination:
    server: https://kubernetes.default.svc
    namespace: dev
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers:
        - /spec/replicas
"""


def _tree(root: Path, *, setting: str, label: str, replicas: int, note: str) -> None:
    (root / "overlays" / "dev").mkdir(parents=True, exist_ok=True)
    (root / "argocd-apps").mkdir(exist_ok=True)
    (root / "argocd-apps" / "app.yaml").write_text(APP)
    (root / "overlays" / "dev" / "kustomization.yaml").write_text(
        "namespace: dev\nresources:\n  - deploy.yaml\n"
        "configMapGenerator:\n  - name: settings\n    literals:\n"
        f"      - MODE={setting}\n")
    (root / "overlays" / "dev" / "deploy.yaml").write_text(f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/managed-by: {label}
  annotations:
    example.com/build-note: {note}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: registry.example.com/web@sha256:{"a" * 64}
          envFrom:
            - configMapRef:
                name: settings
""")


def test_hash_suffix_labels_ignore_differences_and_configured_fields_are_left_out(
        tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".llmops-gate.yaml").write_text(
        CONFIG + "review:\n  ignore_fields:\n    - kind: Deployment\n"
                 "      pointer: /metadata/annotations/example.com~1build-note\n")
    _tree(repo, setting="fast", label="helm", replicas=1, note="one")
    init_git_repo(repo)
    _tree(repo, setting="safe", label="kustomize", replicas=3, note="two")
    commit_all(repo, "new mode; noise elsewhere")
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD", "--no-validate")
    units = changed(data)
    dev = units["overlays/dev"]
    # The generated ConfigMap's new hash would be a removal and an addition, and the
    # Deployment's reference to it a change; without the suffix only the value changed.
    assert [(r["status"], r["resource"]["kind"]) for r in dev["resources"]] == [
        ("changed", "ConfigMap")]
    assert dev["resources"][0]["resource"]["name"].startswith("settings-")
    assert diff_lines(dev, "-") == ["-  MODE: fast"]
    assert diff_lines(dev, "+") == ["+  MODE: safe"]
    # managed-by (default), replicas (the Application's ignoreDifferences) and the build note
    # (review.ignore_fields) are not compared at all.
    assert facts(dev) == []
    assert dev["unchanged"] == 1
    assert dev["ignored"] == ["/spec/replicas"]


def test_filters_can_be_switched_off(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".llmops-gate.yaml").write_text(
        CONFIG + "review:\n  hash_suffixes: false\n  labels: []\n"
                 "  argocd_ignore_differences: false\n")
    _tree(repo, setting="fast", label="helm", replicas=1, note="one")
    init_git_repo(repo)
    _tree(repo, setting="safe", label="kustomize", replicas=3, note="two")
    commit_all(repo, "new mode; noise elsewhere")
    dev = changed(review_json(repo, "--base", "HEAD~1", "--head", "HEAD",
                              "--no-validate"))["overlays/dev"]
    statuses = sorted((r["status"], r["resource"]["kind"]) for r in dev["resources"])
    assert statuses == [("added", "ConfigMap"), ("changed", "Deployment"),
                        ("removed", "ConfigMap")]
    assert "replicas: 1 -> 3" in facts(dev)
    assert "+    app.kubernetes.io/managed-by: kustomize" in diff_lines(dev, "+")


def test_review_schema_findings_are_the_validate_reports() -> None:
    assert review_schema()["$defs"] == report_schema()["$defs"]
