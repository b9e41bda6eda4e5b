"""Shared helpers for the promotion tests: a dev change on the example repo, renders, git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import EXAMPLE, copy_tree, git, init_git_repo

OVERLAYS = "deploy_model/overlays"

# The config upstream's seed repo (which has none) is given where a test needs its prefixes.
SEED_CONFIG = """\
version: 1
environments:
  - name: dev
    overlay: deploy_model/overlays/dev
    prefix: dev-
  - name: staging
    overlay: deploy_model/overlays/staging
    prefix: staging-
  - name: production
    overlay: deploy_model/overlays/production
    prefix: prod-
"""
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


def clone_with_forge(tmp_path: Path, api_url: str) -> Path:
    """The example with dev changed and a GitHub forge at `api_url` in its config, pushed to a
    bare remote and cloned: the clone a `promote --open-pr` runs in."""
    work = example_git(tmp_path / "seed")
    cfg = work / ".llmops-gate.yaml"
    cfg.write_text(cfg.read_text() + f"promotion:\n  forge:\n    provider: github\n"
                   f"    api_url: {api_url}\n    repository: acme/gitops\n")
    git(work, "commit", "-q", "-am", "forge config")
    change_dev(work)
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    git(clone, "config", "user.name", "Clone")
    git(clone, "config", "user.email", "clone@example.com")
    return clone
