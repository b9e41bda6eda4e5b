"""resources-required, limits-cover-requests, resources-within-bounds."""

from __future__ import annotations

from pathlib import Path

from tests.validators.policy.conftest import ISVC, RUNTIME, line, model_files, run_policy, where

F_ISVC = "overlays/dev/inferenceservice.yaml"
F_RT = "overlays/dev/servingruntime.yaml"

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway
  namespace: llm-dev
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: proxy
          image: quay.io/org/proxy:1.2
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 200m, memory: 256Mi}
"""


def test_complete_resources_pass(tmp_path: Path) -> None:
    files = {**model_files(), "overlays/dev/deploy.yaml": DEPLOYMENT}
    assert where(run_policy(tmp_path, files)) == []


def test_missing_limits_on_deployment(tmp_path: Path) -> None:
    text = DEPLOYMENT.replace("            limits: {cpu: 200m, memory: 256Mi}\n", "")
    found = run_policy(tmp_path, {"overlays/dev/deploy.yaml": text})
    assert where(found) == [("resources-required", "overlays/dev/deploy.yaml",
                             line(text, "resources:"))]
    assert found[0].container == "proxy"
    assert "CPU limit, memory limit" in found[0].message


def test_isvc_without_resources_falls_back_to_runtime(tmp_path: Path) -> None:
    isvc = ISVC.split("      resources:")[0] + """    tolerations:
      - key: nvidia.com/gpu
        operator: Exists
"""
    runtime = RUNTIME + """      resources:
        requests: {cpu: "1", memory: 2Gi}
        limits: {cpu: "1", memory: 2Gi}
"""
    assert where(run_policy(tmp_path, model_files(isvc, runtime))) == []


def test_isvc_and_runtime_both_without_resources(tmp_path: Path) -> None:
    isvc = ISVC.split("      resources:")[0]
    found = run_policy(tmp_path, model_files(isvc))
    # Reported once, on the InferenceService (KServe merges the runtime's container into it).
    assert where(found, "resources-required") == [
        ("resources-required", F_ISVC, line(isvc, "model:"))]


def test_unused_runtime_is_checked_itself(tmp_path: Path) -> None:
    found = run_policy(tmp_path, {F_RT: RUNTIME})
    assert where(found, "resources-required") == [
        ("resources-required", F_RT, line(RUNTIME, "- name: kserve-container"))]


def test_limit_below_request(tmp_path: Path) -> None:
    isvc = ISVC.replace('cpu: "2"', "cpu: 400m")
    found = run_policy(tmp_path, model_files(isvc))
    assert where(found) == [("limits-cover-requests", F_ISVC, line(isvc, "cpu: 400m"))]
    assert "cpu limit 400m is below its request 500m" in found[0].message


def test_quantities_compare_as_quantities(tmp_path: Path) -> None:
    # 500m < 1 and 6Gi > 6G: a string comparison gets both wrong.
    config = """
    policy:
      requests: {cpu: {min: 500m, max: "1"}}
      limits: {memory: {max: 6G}}
    """
    found = run_policy(tmp_path, model_files(), config=config)
    assert where(found) == [("resources-within-bounds", F_ISVC, line(ISVC, "memory: 6Gi"))]
    assert "memory limit 6Gi is outside dev's bounds (0 to 6G)" in found[0].message


def test_bounds_per_environment(tmp_path: Path) -> None:
    config = """
    environments:
      - name: dev
        overlay: overlays/dev
        policy:
          limits: {cpu: {max: "1"}}
      - name: production
        overlay: overlays/production
        policy:
          replicas: {min: 1}
          limits: {cpu: {max: "8"}}
    """
    (tmp_path / "overlays/dev").mkdir(parents=True)
    (tmp_path / "overlays/production").mkdir(parents=True)
    for env in ("dev", "production"):
        (tmp_path / f"overlays/{env}/kustomization.yaml").write_text("resources: []\n")
    files = {**model_files(), **model_files(folder="overlays/production")}
    found = run_policy(tmp_path, files, config=config)
    assert where(found) == [("resources-within-bounds", F_ISVC, line(ISVC, 'cpu: "2"'))]
    assert found[0].environment == "dev"


def test_bound_that_is_not_a_quantity_is_a_config_error(tmp_path: Path) -> None:
    import pytest

    from llmops_gate.errors import GateError

    with pytest.raises(GateError, match=r"limits.cpu.max: 'two' is not a Kubernetes quantity"):
        run_policy(tmp_path, model_files(), config='policy: {limits: {cpu: {max: "two"}}}\n')


def test_a_huge_exponent_is_outside_the_bounds(tmp_path: Path) -> None:
    # A hostile PR's `cpu: 1e999999999` is reported against the bound, and quickly (the
    # quantity's exponent is clamped instead of computed).
    huge = ISVC.replace('cpu: "2"', "cpu: 1e999999999")
    found = run_policy(tmp_path, model_files(isvc=huge),
                       config='policy: {limits: {cpu: {max: "8"}}}\n')
    assert where(found) == [("resources-within-bounds", F_ISVC, line(huge, "cpu: 1e999999999"))]
