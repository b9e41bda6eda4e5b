"""runtime-resolves, secret-resolves."""

from __future__ import annotations

from pathlib import Path

from tests.validators.policy.conftest import ISVC, RUNTIME, line, model_files, run_policy, where

F_ISVC = "overlays/dev/inferenceservice.yaml"

SECRET = """
apiVersion: v1
kind: Secret
metadata: {name: dev-conn, namespace: llm-dev}
stringData: {OCI_HOST: ""}
"""


def test_runtime_resolves(tmp_path: Path) -> None:
    assert where(run_policy(tmp_path, model_files())) == []


def test_runtime_without_prefix(tmp_path: Path) -> None:
    # The base name, as when namePrefix renamed the runtime but not the reference.
    isvc = ISVC.replace("runtime: dev-llm", "runtime: llm")
    found = [f for f in run_policy(tmp_path, model_files(isvc)) if f.rule == "runtime-resolves"]
    assert where(found) == [("runtime-resolves", F_ISVC, line(isvc, "runtime: llm"))]
    assert "renders 'dev-llm'" in found[0].message


def test_cluster_runtime_option(tmp_path: Path) -> None:
    isvc = ISVC.replace("runtime: dev-llm", "runtime: vllm-cuda")
    config = "policy: {rules: {runtime-resolves: {cluster-runtimes: [vllm-cuda]}}}\n"
    found = run_policy(tmp_path, model_files(isvc), config=config)
    assert where(found, "runtime-resolves") == []


def test_storage_key_names_rendered_secret(tmp_path: Path) -> None:
    isvc = ISVC.replace("      storageUri:", "      storage: {key: dev-conn}\n      storageUri:")
    files = {**model_files(isvc), "overlays/dev/secret.yaml": SECRET}
    assert where(run_policy(tmp_path, files)) == []


def test_storage_key_without_prefix(tmp_path: Path) -> None:
    isvc = ISVC.replace("      storageUri:", "      storage: {key: conn}\n      storageUri:")
    files = {**model_files(isvc), "overlays/dev/secret.yaml": SECRET}
    found = run_policy(tmp_path, files)
    assert where(found) == [("secret-resolves", F_ISVC, line(isvc, "storage:"))]


def test_secret_key_ref_missing_and_external(tmp_path: Path) -> None:
    runtime = RUNTIME + """      env:
        - name: HF_TOKEN
          valueFrom: {secretKeyRef: {name: hf-token, key: token}}
        - name: OPTIONAL
          valueFrom: {secretKeyRef: {name: nope, key: x, optional: true}}
"""
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [("secret-resolves", "overlays/dev/servingruntime.yaml",
                             line(runtime, "secretKeyRef: {name: hf-token"))]
    config = "policy: {rules: {secret-resolves: {external: [hf-token]}}}\n"
    assert where(run_policy(tmp_path, model_files(runtime=runtime), config=config)) == []
