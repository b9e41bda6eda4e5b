"""image-required, image-tag-pinned, image-registry-allowed, image-digest-required,
model-uri-pinned."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.kinds import parse_image
from tests.conftest import run_cli
from tests.validators.policy.conftest import ISVC, RUNTIME, line, model_files, run_policy, where

F_ISVC = "overlays/dev/inferenceservice.yaml"
F_RT = "overlays/dev/servingruntime.yaml"
DIGEST = "registry.redhat.io/rhaii/vllm-cuda-rhel9@sha256:" + "5" * 64


@pytest.mark.parametrize("image", ["vllm/vllm-openai:latest", "vllm/vllm-openai",
                                   "localhost:5000/vllm"])
def test_unpinned_images(tmp_path: Path, image: str) -> None:
    runtime = RUNTIME.replace("quay.io/modh/vllm:rhoai-2.22-cuda", image)
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [("image-tag-pinned", F_RT, line(runtime, "image:"))]
    assert found[0].container == "kserve-container"


def test_digest_passes_everything(tmp_path: Path) -> None:
    runtime = RUNTIME.replace("quay.io/modh/vllm:rhoai-2.22-cuda", DIGEST)
    config = "policy: {require-digest: true, allowed-registries: [registry.redhat.io, quay.io]}\n"
    assert where(run_policy(tmp_path, model_files(runtime=runtime), config=config)) == []


def test_digest_required(tmp_path: Path) -> None:
    found = run_policy(tmp_path, model_files(), config="policy: {require-digest: true}\n")
    assert where(found) == [("image-digest-required", F_RT, line(RUNTIME, "image:"))]


def test_model_digest_required(tmp_path: Path) -> None:
    found = run_policy(tmp_path, model_files(), config="policy: {require-model-digest: true}\n")
    assert where(found) == [("image-digest-required", F_ISVC, line(ISVC, "storageUri"))]


def test_registry_not_allowed(tmp_path: Path) -> None:
    config = "policy: {allowed-registries: [registry.redhat.io, quay.io/modh]}\n"
    found = run_policy(tmp_path, model_files(), config=config)
    # The runtime image (quay.io/modh/...) is allowed; the model (quay.io/org/...) is not.
    assert where(found) == [("image-registry-allowed", F_ISVC, line(ISVC, "storageUri"))]


@pytest.mark.parametrize("uri", ["oci://quay.io/org/models:latest", "oci://quay.io/org/models"])
def test_model_uri_unpinned(tmp_path: Path, uri: str) -> None:
    isvc = ISVC.replace("oci://quay.io/org/models:llama-3-8b", uri)
    found = run_policy(tmp_path, model_files(isvc))
    assert where(found) == [("model-uri-pinned", F_ISVC, line(isvc, "storageUri"))]


def test_parse_image() -> None:
    assert parse_image("nginx").full == "docker.io/library/nginx"
    ref = parse_image("localhost:5000/a/b:1@sha256:ab")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == ("localhost:5000", "a/b", "1",
                                                                     "sha256:ab")


def test_framework_predictor_is_checked_like_model(tmp_path: Path) -> None:
    text = """
    apiVersion: serving.kserve.io/v1beta1
    kind: InferenceService
    metadata: {name: iris, namespace: llm-dev}
    spec:
      predictor:
        sklearn:
          storageUri: oci://quay.io/org/iris:latest
          resources: {requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, memory: 1Gi}}
    """
    found = run_policy(tmp_path, {"overlays/dev/isvc.yaml": text})
    assert where(found) == [("model-uri-pinned", "overlays/dev/isvc.yaml",
                             line(text, "storageUri"))]


def test_runtime_container_without_image(tmp_path: Path) -> None:
    runtime = RUNTIME.replace("      image: quay.io/modh/vllm:rhoai-2.22-cuda\n", "")
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [("image-required", F_RT, line(runtime, "- name: kserve-container"))]
    assert found[0].container == "kserve-container"


def test_model_container_needs_no_image(tmp_path: Path) -> None:
    # The InferenceService's `model` takes its image from the runtime: nothing to report.
    assert where(run_policy(tmp_path, model_files()), "image-required") == []


def test_patch_replacing_the_runtime_containers_is_caught_where_it_is_written(
        example_repo: Path) -> None:
    """The trap upstream avoided with JSON 6902: a strategic-merge patch of a ServingRuntime's
    `containers` replaces the whole list (custom resources have no merge keys), dropping the
    image."""
    dev = example_repo / "deploy_model/overlays/dev"
    (dev / "runtime.yaml").write_text(
        "apiVersion: serving.kserve.io/v1alpha1\nkind: ServingRuntime\nmetadata:\n"
        "  name: qwen25-05b-instruct\nspec:\n  containers:\n    - name: kserve-container\n"
        "      args: [--port=8080, --model=/mnt/models, --enable-auto-tool-choice]\n")
    kfile = dev / "kustomization.yaml"
    kfile.write_text(kfile.read_text() + "  - path: runtime.yaml\n")
    result = run_cli("validate", example_repo, "--only", "build,policy", "--format", "json")
    assert result.code == 1
    found = [(f["rule"], f["file"], f["overlay"]) for f in result.json()["findings"]]
    assert found == [("image-required", "deploy_model/overlays/dev/runtime.yaml",
                      "deploy_model/overlays/dev")]


def test_image_set_by_an_overlay_images_entry_points_at_that_entry(example_repo: Path) -> None:
    """The base pins the runtime image by digest; dev's `images:` swaps in `:latest`. The
    finding names the `images:` item that did it, not the base's `image:` line."""
    kfile = example_repo / "deploy_model/overlays/dev/kustomization.yaml"
    text = kfile.read_text() + (
        "images:\n"
        "  - name: quay.io/org/sidecar  # matches no container of this overlay\n"
        "    newTag: latest\n"
        "  - name: registry.redhat.io/rhaii/vllm-cuda-rhel9\n"
        "    newName: quay.io/vllm/vllm-openai\n"
        "    newTag: latest\n")
    kfile.write_text(text)
    result = run_cli("validate", example_repo, "--only", "policy", "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    found = [(f["rule"], f["file"], f["line"], f["environment"])
             for f in result.json()["findings"] if f["rule"] == "image-tag-pinned"]
    entry = text.splitlines().index("  - name: registry.redhat.io/rhaii/vllm-cuda-rhel9") + 1
    assert found == [("image-tag-pinned", "deploy_model/overlays/dev/kustomization.yaml", entry,
                      "dev")]
