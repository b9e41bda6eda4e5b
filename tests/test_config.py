"""`.llmops-gate.yaml`: validated against its JSON Schema before any work; a mistake is one
message naming the key and the file, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.config import CONFIG_SCHEMA, load_config
from llmops_gate.errors import GateError
from tests.conftest import EXAMPLE, run_cli


def test_example_config_maps_each_environment_explicitly() -> None:
    config = load_config(EXAMPLE)
    assert config.path == EXAMPLE / ".llmops-gate.yaml"
    assert config.environment_names == ["dev", "staging", "production"]
    prod = config.environment("production")
    assert prod is not None
    assert (prod.overlays, prod.application, prod.namespace, prod.prefix) == (
        ("deploy_model/overlays/production",), "llmops-production", "llmops-prod", "prod-")


def write_config(repo: Path, text: str) -> Path:
    path = repo / ".llmops-gate.yaml"
    path.write_text(text)
    return path


def test_unknown_key_stops_the_cli_with_one_line_naming_key_and_file(
        example_repo: Path) -> None:
    path = write_config(example_repo, "version: 1\nenvironment:\n  - name: dev\n")
    result = run_cli("validate", example_repo)
    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0]
    assert "unknown key 'environment'" in lines[0]


def test_bad_type_stops_the_cli_with_one_line_naming_key_and_file(example_repo: Path) -> None:
    path = write_config(example_repo, "kustomize:\n  timeout: fast\n")
    result = run_cli("validate", example_repo)
    assert result.code == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(path) in line and "'kustomize.timeout'" in line and "number" in line


@pytest.mark.parametrize(("text", "expected"), [
    ("environments:\n  - name: dev\n    overlays: x\n", "unknown key 'environments[0].overlays'"),
    ("environments:\n  - overlay: x\n", "'name' is a required property"),
    ("environments:\n  - name: Dev Env\n", "key 'environments[0].name'"),
    ("lint:\n  config: [a]\n", "key 'lint.config'"),
    ("kustomize:\n  timeout: 0\n", "key 'kustomize.timeout'"),
    ("version: 2\n", "key 'version'"),
    ("manifests: argocd-apps/*.yaml\n", "key 'manifests'"),
    ("- just\n- a list\n", "config must be a mapping"),
    ("environments: [\n", "config is not valid YAML"),
    ("environments:\n  - name: dev\n  - name: dev\n", "environment 'dev' is defined twice"),
])
def test_config_mistakes_are_one_gate_error(tmp_path: Path, text: str, expected: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(GateError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_no_config_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.path is None and config.environments == () and config.manifests is None


def test_overlay_without_a_kustomization_is_a_usage_error(example_repo: Path) -> None:
    write_config(example_repo,
                 "environments:\n  - name: qa\n    overlay: deploy_model/overlays/qa\n")
    result = run_cli("validate", example_repo)
    assert result.code == 2
    assert "environment 'qa': overlay 'deploy_model/overlays/qa' has no kustomization" in (
        result.stderr)


def test_schema_documents_every_top_level_key() -> None:
    for key, spec in CONFIG_SCHEMA["properties"].items():
        assert spec.get("description"), key
