"""The policy sections of `.llmops-gate.yaml`: validated by the schema, layered per environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.config import load_config
from llmops_gate.errors import GateError
from llmops_gate.model import Severity
from llmops_gate.validators.policy.settings import env_policy


def _load(tmp_path: Path, text: str) -> object:
    (tmp_path / ".llmops-gate.yaml").write_text(text)
    return load_config(tmp_path)


@pytest.mark.parametrize(("text", "message"), [
    ("policy: {replicas: {minimum: 2}}\n", "unknown key 'policy.replicas.minimum'"),
    ("environments: [{name: dev, policy: {custom-rules: []}}]\n",
     "unknown key 'environments[0].policy.custom-rules'"),
    ("policy: {require-digest: yes please}\n", "key 'policy.require-digest'"),
    ("policy: {limits: {gpu: {max: 1}}}\n", "unknown key 'policy.limits.gpu'"),
])
def test_schema_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GateError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _load(tmp_path, text)


def test_layers(tmp_path: Path) -> None:
    (tmp_path / ".llmops-gate.yaml").write_text("""
policy:
  limits: {cpu: {min: 1, max: "4"}}
  rules: {host-path: warning, vllm-args: {version: "0.8.0"}}
environments:
  - name: dev
  - name: production
    policy:
      limits: {cpu: {max: "8"}}
      rules: {vllm-args: {extra-flags: [--x]}}
      waivers: {refuse: ["*"]}
""")
    config = load_config(tmp_path)
    dev, prod = env_policy(config, "dev", first=True), env_policy(config, "production")
    assert (dev.replicas_min, prod.replicas_min) == (None, 2)
    assert (dev.allow_auto_sync, prod.allow_auto_sync) == (True, False)
    assert str(prod.limits["cpu"].min) == "1" and prod.limits["cpu"].max_text == "8"
    assert prod.rules["vllm-args"].options == {"version": "0.8.0", "extra-flags": ["--x"]}
    assert prod.rules["host-path"].severity is Severity.WARNING
    assert prod.refuses_waiver("image-tag-pinned") and not dev.refuses_waiver("image-tag-pinned")


def test_rule_off_at_top_and_on_again_for_one_environment(tmp_path: Path) -> None:
    (tmp_path / ".llmops-gate.yaml").write_text(
        "policy: {rules: {host-path: {severity: off, x: 1}}}\n"
        "environments: [{name: dev}, {name: production, policy: {rules: {host-path: true}}}]\n")
    config = load_config(tmp_path)
    assert env_policy(config, "dev").rules["host-path"].off
    prod = env_policy(config, "production").rules["host-path"]
    assert not prod.off and prod.options == {"x": 1}
