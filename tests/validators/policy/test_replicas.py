"""replicas-within-bounds."""

from __future__ import annotations

from pathlib import Path

from tests.validators.policy.conftest import ISVC, line, model_files, run_policy, where

F_PROD = "overlays/production/inferenceservice.yaml"


def test_production_needs_two_replicas_by_default(tmp_path: Path) -> None:
    found = run_policy(tmp_path, model_files(folder="overlays/production"))
    assert where(found) == [("replicas-within-bounds", F_PROD, line(ISVC, "minReplicas: 1"))]
    assert "below production's minimum of 2" in found[0].message


def test_production_with_two_replicas_passes(tmp_path: Path) -> None:
    isvc = ISVC.replace("minReplicas: 1", "minReplicas: 2").replace("maxReplicas: 1",
                                                                     "maxReplicas: 3")
    assert where(run_policy(tmp_path, model_files(isvc, folder="overlays/production"))) == []


def test_min_above_max(tmp_path: Path) -> None:
    isvc = ISVC.replace("minReplicas: 1", "minReplicas: 3")
    found = run_policy(tmp_path, model_files(isvc))
    assert where(found) == [("replicas-within-bounds", "overlays/dev/inferenceservice.yaml",
                             line(isvc, "maxReplicas"))]


def test_max_over_configured_bound(tmp_path: Path) -> None:
    isvc = ISVC.replace("maxReplicas: 1", "maxReplicas: 4")
    found = run_policy(tmp_path, model_files(isvc), config="policy: {replicas: {max: 2}}\n")
    assert where(found) == [("replicas-within-bounds", "overlays/dev/inferenceservice.yaml",
                             line(isvc, "maxReplicas: 4"))]


def test_deployment_replicas_unset_in_production(tmp_path: Path) -> None:
    text = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: proxy, namespace: prod}
    spec:
      template:
        spec:
          containers:
            - name: proxy
              image: quay.io/org/proxy:1
              resources: {requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, memory: 1Gi}}
    """
    found = run_policy(tmp_path, {"overlays/production/deploy.yaml": text})
    assert where(found) == [("replicas-within-bounds", "overlays/production/deploy.yaml",
                             line(text, "spec:"))]
    assert "replicas 1 (unset)" in found[0].message
