"""namespace-matches-env, cluster-scoped-resource."""

from __future__ import annotations

from pathlib import Path

from tests.validators.policy.conftest import line, run_policy, where

CONFIG = """
environments:
  - name: dev
    overlay: overlays/dev
    namespace: llm-dev
"""
CM = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: llm-dev
data: {LOG_LEVEL: info}
"""
F = "overlays/dev/cm.yaml"


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "overlays/dev").mkdir(parents=True)
    (tmp_path / "overlays/dev/kustomization.yaml").write_text("resources: [cm.yaml]\n")
    return tmp_path


def test_namespace_matches(tmp_path: Path) -> None:
    assert where(run_policy(_repo(tmp_path), {F: CM}, config=CONFIG)) == []


def test_wrong_namespace(tmp_path: Path) -> None:
    text = CM.replace("namespace: llm-dev", "namespace: llm-prod")
    found = run_policy(_repo(tmp_path), {F: text}, config=CONFIG)
    assert where(found) == [("namespace-matches-env", F, line(text, "namespace: llm-prod"))]


def test_namespace_from_kustomization_without_config(tmp_path: Path) -> None:
    (tmp_path / "overlays/dev").mkdir(parents=True)
    (tmp_path / "overlays/dev/kustomization.yaml").write_text("namespace: llm-qa\n")
    found = run_policy(tmp_path, {F: CM})
    assert where(found) == [("namespace-matches-env", F, line(CM, "namespace: llm-dev"))]


def test_cluster_scoped_resource(tmp_path: Path) -> None:
    text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\n"
    found = run_policy(_repo(tmp_path), {"overlays/dev/role.yaml": text}, config=CONFIG)
    assert where(found) == [("cluster-scoped-resource", "overlays/dev/role.yaml", 2)]
    allowed = CONFIG + "    policy: {allow-cluster-scoped: [ClusterRole]}\n"
    assert where(run_policy(tmp_path, {"overlays/dev/role.yaml": text}, config=allowed)) == []
