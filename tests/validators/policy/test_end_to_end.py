"""The policy validator through the CLI with real Kustomize: the example, the upstream seed repo,
patch-set fields mapped to their patch lines, masking in every format, waivers refused in
production by the example's own config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmops_gate.report import FORMATS
from tests.conftest import EXAMPLE, copy_tree, findings, need_shared, run_cli, summary

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "Q9ZK4LTM3a"

Row = tuple[str, str | None, int | None, str | None, bool]


def rows(result: Any) -> list[Row]:
    return sorted((f["rule"], f["file"], f["line"], f["environment"], f["waived"])
                  for f in findings(result) if f["validator"] == "policy")


def test_example_passes_with_zero_errors() -> None:
    result = run_cli("validate", EXAMPLE, "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    assert "policy" in result.json()["validators"]
    assert summary(result)["errors"] == 0
    assert rows(result) == []


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = need_shared("corpus", "seed-repo", "llmops-via-argocd")
    return copy_tree(src, tmp_path_factory.mktemp("seed") / "llmops-via-argocd")


def test_seed_repo_default_policy(seed: Path) -> None:
    # Its Secret holds only empty placeholders, its runtime references are re-patched by hand
    # to the prefixed names, and only dev auto-syncs: nothing to report by default.
    result = run_cli("validate", seed, "--only", "policy", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    assert rows(result) == []


SEED_STRICT = """
environments:
  - name: dev
    overlay: deploy_model/overlays/dev
  - name: staging
    overlay: deploy_model/overlays/staging
  - name: production
    overlay: deploy_model/overlays/production
    policy:
      require-pinned-revision: true
      require-digest: true
      limits: {memory: {max: 8Gi}}
"""


def test_seed_repo_strict_production(seed: Path, tmp_path: Path) -> None:
    config = tmp_path / "strict.yaml"
    config.write_text(SEED_STRICT)
    result = run_cli("validate", seed, "--only", "policy", "--config", config, "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    prod = "production"
    assert rows(result) == [
        # production follows `main`
        ("argocd-revision-pinned", "argocd-apps/production-application.yaml", 15, prod, False),
        # the vLLM image is pinned by tag only
        ("image-digest-required", "deploy_model/base/servingruntime.yaml", 31, prod, False),
        # 12Gi is set by the JSON6902 op in production's kustomization, not in the base
        ("resources-within-bounds", "deploy_model/overlays/production/kustomization.yaml", 33,
         prod, False),
    ]


POSITIONAL = """
  - target:
      kind: ServingRuntime
      name: qwen25-05b-instruct
    patch: |-
      - op: replace
        path: /spec/containers/0/args/3
        value: --max-model-len=16384
"""


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_tree(EXAMPLE, tmp_path_factory.mktemp("edited") / "repo")
    conn = repo / "deploy_model/base/model-connection.yaml"
    conn.write_text(conn.read_text()
                    .replace('ACCESS_TYPE: ""', f'AWS_SECRET_ACCESS_KEY: "{AWS_SECRET}"')
                    .replace("  annotations:\n", "  annotations:\n"
                             "    llmops-gate.io/ignore: secret-values-in-git\n"
                             "    llmops-gate.io/ignore-reason: test key, rotated\n"))
    kust = repo / "deploy_model/overlays/staging/kustomization.yaml"
    kust.write_text(kust.read_text() + POSITIONAL)
    prod = repo / "deploy_model/overlays/production"
    (prod / "kustomization.yaml").write_text((prod / "kustomization.yaml").read_text() + """
  - path: runtime-args.yaml
    target: {kind: ServingRuntime}
""")
    (prod / "runtime-args.yaml").write_text("# one more op\n- op: add\n  path: /spec/containers/0"
                                            "/args/-\n  value: --enable-prefix-caching\n"
                                            "- op: remove\n  path: /spec/containers/0/args/2\n")
    return repo


def test_waiver_refused_in_production_and_positional_patch(edited: Path) -> None:
    result = run_cli("validate", edited, "--only", "policy", "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    conn = "deploy_model/base/model-connection.yaml"
    key_line = 1 + next(i for i, text in enumerate((edited / conn).read_text().splitlines())
                        if "AWS_SECRET_ACCESS_KEY" in text)
    assert rows(result) == [
        ("secret-values-in-git", conn, key_line, "dev", True),
        ("secret-values-in-git", conn, key_line, "production", False),
        ("secret-values-in-git", conn, key_line, "staging", True),
        ("vllm-args-by-position", "deploy_model/overlays/production/runtime-args.yaml", 6,
         "production", False),
        ("vllm-args-by-position", "deploy_model/overlays/staging/kustomization.yaml", 20,
         "staging", False),
    ]
    assert summary(result)["waived"] == 2
    refused = [f for f in findings(result) if f["environment"] == "production"]
    assert "waiver refused" in refused[0]["message"]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_secret_value_masked_in_every_format(edited: Path, fmt: str) -> None:
    result = run_cli("validate", edited, "--only", "policy", "--format", fmt)
    assert result.code == 1
    assert "secret-values-in-git" in result.stdout
    assert AWS_SECRET not in result.stdout + result.stderr
    assert AWS_SECRET[:10] not in result.stdout + result.stderr


def test_field_set_by_patch_file_points_at_the_patch(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    size = repo / "deploy_model/overlays/dev/size.yaml"
    size.write_text(size.read_text().replace('cpu: "2"', 'cpu: "3"'))
    result = run_cli("validate", repo, "--env", "dev", "--only", "policy", "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    assert rows(result) == [("resources-within-bounds", "deploy_model/overlays/dev/size.yaml", 17,
                             "dev", False)]
    found = findings(result)[0]
    assert found["container"] == "kserve-container"
    assert found["resource"]["kind"] == "InferenceService"
    assert found["resource"]["name"] == "dev-qwen25-05b-instruct"
    assert found["path"] == "spec.predictor.model.resources.limits.cpu"
    assert "CPU limit 3 is outside dev's bounds (0 to 2)" in found["message"]


def test_generated_secret_points_at_its_literal_and_env_file(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    kust = repo / "deploy_model/overlays/dev/kustomization.yaml"
    kust.write_text(kust.read_text() + """
secretGenerator:
  - name: registry
    literals:
      - USER=robot
      - PLACEHOLDER=changeme
  - name: storage
    envs: [storage.env]
""")
    (repo / "deploy_model/overlays/dev/storage.env").write_text(
        f"REGION=\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n")
    result = run_cli("validate", repo, "--env", "dev", "--only", "policy", "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    assert rows(result) == [
        ("secret-values-in-git", "deploy_model/overlays/dev/kustomization.yaml", 18, "dev", False),
        ("secret-values-in-git", "deploy_model/overlays/dev/storage.env", 2, "dev", False),
    ]
    assert AWS_SECRET not in result.stdout
