"""vllm-args (unknown and deprecated flags); vllm-args-by-position is end-to-end (Kustomize) in
test_end_to_end.py, with one Kustomize-free case here."""

from __future__ import annotations

from pathlib import Path

from llmops_gate.model import Severity
from tests.validators.policy.conftest import ISVC, RUNTIME, line, model_files, run_policy, where

F_RT = "overlays/dev/servingruntime.yaml"


def test_known_flags_pass(tmp_path: Path) -> None:
    runtime = RUNTIME + "        - --gpu-memory-utilization\n        - '0.9'\n" \
                        "        - --no-enable-prefix-caching\n        - -tp\n        - '1'\n"
    assert where(run_policy(tmp_path, model_files(runtime=runtime))) == []


def test_unknown_flag_is_a_warning(tmp_path: Path) -> None:
    runtime = RUNTIME.replace("--max-model-len", "--max-model-length")
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [("vllm-args", F_RT, line(runtime, "--max-model-length"))]
    assert found[0].severity is Severity.WARNING


def test_deprecated_flag_depends_on_version(tmp_path: Path) -> None:
    runtime = RUNTIME + "        - --use-v2-block-manager\n"
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [("vllm-args", F_RT, line(runtime, "--use-v2-block-manager"))]
    assert "deprecated since vLLM 0.6.2" in found[0].message
    old = "policy: {rules: {vllm-args: {version: '0.5.4'}}}\n"
    assert where(run_policy(tmp_path, model_files(runtime=runtime), config=old)) == []


def test_removed_flag(tmp_path: Path) -> None:
    runtime = RUNTIME + "        - --enable-reasoning\n"
    config = "policy: {rules: {vllm-args: {version: '0.10.1'}}}\n"
    found = run_policy(tmp_path, model_files(runtime=runtime), config=config)
    assert where(found) == [("vllm-args", F_RT, line(runtime, "--enable-reasoning"))]
    assert "removed in vLLM 0.10.0" in found[0].message


def test_isvc_args_and_extra_flags(tmp_path: Path) -> None:
    isvc = ISVC.replace("      runtime: dev-llm", "      runtime: dev-llm\n      args: "
                        "[--my-plugin-flag=1]")
    found = run_policy(tmp_path, model_files(isvc))
    assert where(found) == [("vllm-args", "overlays/dev/inferenceservice.yaml",
                             line(isvc, "args:"))]
    config = "policy: {rules: {vllm-args: {extra-flags: [--my-plugin-flag]}}}\n"
    assert where(run_policy(tmp_path, model_files(isvc), config=config)) == []


def test_non_vllm_container_is_not_checked(tmp_path: Path) -> None:
    runtime = RUNTIME.replace("quay.io/modh/vllm:rhoai-2.22-cuda", "quay.io/org/tgis:1") \
        .replace("vllm.entrypoints.openai.api_server", "server").replace("--port", "--portt")
    isvc = ISVC.replace("name: vLLM", "name: pytorch")
    assert where(run_policy(tmp_path, model_files(isvc, runtime))) == []


def test_rule_can_be_switched_off(tmp_path: Path) -> None:
    runtime = RUNTIME.replace("--max-model-len", "--max-model-length")
    config = ("environments: [{name: dev, overlay: overlays/dev, "
              "policy: {rules: {vllm-args: off}}}]\n")
    (tmp_path / "overlays/dev").mkdir(parents=True)
    (tmp_path / "overlays/dev/kustomization.yaml").write_text("resources: []\n")
    assert where(run_policy(tmp_path, model_files(runtime=runtime), config=config)) == []
