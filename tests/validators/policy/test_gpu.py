"""gpu-limits, gpu-toleration, vllm-tensor-parallel."""

from __future__ import annotations

from pathlib import Path

from tests.validators.policy.conftest import ISVC, RUNTIME, line, model_files, run_policy, where

F_ISVC = "overlays/dev/inferenceservice.yaml"
F_RT = "overlays/dev/servingruntime.yaml"


def test_gpu_model_passes(tmp_path: Path) -> None:
    assert where(run_policy(tmp_path, model_files())) == []


def test_gpu_only_in_requests(tmp_path: Path) -> None:
    isvc = ISVC.replace('          nvidia.com/gpu: "1"\n    tolerations', "    tolerations")
    found = run_policy(tmp_path, model_files(isvc))
    assert where(found) == [("gpu-limits", F_ISVC, line(isvc, "nvidia.com/gpu"))]


def test_gpu_request_differs_from_limit(tmp_path: Path) -> None:
    isvc = ISVC.replace('nvidia.com/gpu: "1"\n    tolerations', 'nvidia.com/gpu: "2"\n    '
                        'tolerations')
    found = run_policy(tmp_path, model_files(isvc))
    assert where(found, "gpu-limits") == [("gpu-limits", F_ISVC, line(isvc, 'gpu: "2"'))]


def test_missing_toleration(tmp_path: Path) -> None:
    isvc = ISVC.split("    tolerations:")[0]
    found = run_policy(tmp_path, model_files(isvc))
    assert where(found) == [("gpu-toleration", F_ISVC, line(isvc, "predictor:"))]


def test_toleration_on_runtime_counts(tmp_path: Path) -> None:
    isvc = ISVC.split("    tolerations:")[0]
    runtime = RUNTIME.replace("  containers:", "  tolerations:\n    - {key: nvidia.com/gpu, "
                              "operator: Exists}\n  containers:")
    assert where(run_policy(tmp_path, model_files(isvc, runtime))) == []


def test_configured_accelerator(tmp_path: Path) -> None:
    isvc = ISVC.replace("nvidia.com/gpu", "amd.com/gpu").split("    tolerations:")[0]
    config = "policy: {accelerators: [amd.com/gpu]}\n"
    found = run_policy(tmp_path, model_files(isvc), config=config)
    assert where(found) == [("gpu-toleration", F_ISVC, line(isvc, "predictor:"))]
    assert where(run_policy(tmp_path, model_files(isvc),
                            config="policy: {accelerators: [x.io/tpu]}\n")) == []


def test_tensor_parallel_above_gpus(tmp_path: Path) -> None:
    runtime = RUNTIME + "        - --tensor-parallel-size=2\n"
    found = run_policy(tmp_path, model_files(ISVC, runtime))
    assert where(found) == [("vllm-tensor-parallel", F_RT, line(runtime, "tensor-parallel"))]
    assert "needs 2 GPUs" in found[0].message and "gets 1" in found[0].message


def test_tensor_parallel_matching_gpus(tmp_path: Path) -> None:
    runtime = RUNTIME + "        - --tensor-parallel-size\n        - '2'\n"
    isvc = ISVC.replace('nvidia.com/gpu: "1"', 'nvidia.com/gpu: "2"')
    assert where(run_policy(tmp_path, model_files(isvc, runtime))) == []


def test_tensor_parallel_in_isvc_args(tmp_path: Path) -> None:
    isvc = ISVC.replace("      runtime: dev-llm", "      runtime: dev-llm\n      args: "
                        "[--tensor-parallel-size=4]")
    found = run_policy(tmp_path, model_files(isvc))
    assert where(found) == [("vllm-tensor-parallel", F_ISVC, line(isvc, "args:"))]
