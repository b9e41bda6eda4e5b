"""Shared helpers for the promotion tests: a dev change on the example repo, renders, git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import EXAMPLE, copy_tree, git, init_git_repo

OVERLAYS = "deploy_model/overlays"
NEW_IMAGE_DIGEST = "sha256:" + "4f1c" * 16
NEW_STORAGE = "oci://quay.io/redhat-ai-services/modelcar-catalog:qwen2.5-1.5b-instruct"
NEW_ARG = "--gpu-memory-utilization=0.75"

DEV_KUSTOMIZATION_TAIL = f"""\
  - path: model.yaml
  # A vLLM argument added the way upstream does it: by list position.
  - target:
      kind: ServingRuntime
      name: qwen25-05b-instruct
    patch: |-
      - op: add
        path: /spec/containers/0/args/-
        value: "{NEW_ARG}"

images:
  - name: registry.redhat.io/rhaii/vllm-cuda-rhel9
    digest: "{NEW_IMAGE_DIGEST}"
"""

DEV_MODEL_PATCH = f"""\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: qwen25-05b-instruct
spec:
  predictor:
    model:
      storageUri: {NEW_STORAGE}
"""


def example_git(dest: Path) -> Path:
    repo = copy_tree(EXAMPLE, dest)
    return init_git_repo(repo)


def change_dev(repo: Path) -> None:
    """dev gets a new runtime image, model storageUri and a vLLM argument, committed."""
    k = repo / OVERLAYS / "dev" / "kustomization.yaml"
    k.write_text(k.read_text() + DEV_KUSTOMIZATION_TAIL)
    (repo / OVERLAYS / "dev" / "model.yaml").write_text(DEV_MODEL_PATCH)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "dev: qwen2.5 1.5b, vllm 3.2.1")


def clone_tree(src: Path, dest: Path) -> Path:
    """A full copy of a repo (work tree and .git)."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


def render(repo: Path, overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run(["kubectl", "kustomize", str(repo / overlay)], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def obj(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind]
    assert len(matches) == 1, kind
    return matches[0]


def runtime_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    c: dict[str, Any] = obj(docs, "ServingRuntime")["spec"]["containers"][0]
    return c


def model(docs: list[dict[str, Any]]) -> dict[str, Any]:
    m: dict[str, Any] = obj(docs, "InferenceService")["spec"]["predictor"]["model"]
    return m


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--untracked-files=all")


def snapshot(repo: Path) -> dict[str, bytes]:
    """Every file of the work tree (not .git) with its bytes."""
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(repo).parts}
