"""secret-values-in-git, credential-in-config; values are masked in every report format."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest

from llmops_gate import report as reports
from llmops_gate.model import Report, Unit
from llmops_gate.report import text
from tests.validators.policy.conftest import RUNTIME, line, model_files, run_policy, where

AWS_ID = "AKIA" + "QX7TL2MZP4WB9RCD"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "Q9ZK4LTM3a"
GH_TOKEN = "ghp_" + "R8b2kQ9xV4mN7pL1sT6wY3zC5dF0gH2jK8aE"
HF_TOKEN = "hf_" + "XyZaBcDeFgHiJkLmNoPqRsTuVwXyZaBcDe"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7r9\n-----END RSA PRIVATE KEY-----"

SECRET = """
apiVersion: v1
kind: Secret
metadata: {name: dev-conn, namespace: llm-dev}
type: Opaque
stringData:
  AWS_ACCESS_KEY_ID: ""
  AWS_SECRET_ACCESS_KEY: "changeme"
  AWS_S3_BUCKET: "<bucket>"
  AWS_DEFAULT_REGION: "${REGION}"
"""
F = "overlays/dev/secret.yaml"


def test_placeholder_secret_passes(tmp_path: Path) -> None:
    assert where(run_policy(tmp_path, {F: SECRET})) == []


def test_secret_with_real_key(tmp_path: Path) -> None:
    text = SECRET.replace('AWS_ACCESS_KEY_ID: ""', f"AWS_ACCESS_KEY_ID: {AWS_ID}")
    found = run_policy(tmp_path, {F: text})
    assert where(found) == [("secret-values-in-git", F, line(text, "AWS_ACCESS_KEY_ID"))]
    assert "an AWS access key id" in found[0].message
    assert AWS_ID not in repr(found[0])


def test_base64_data_is_decoded(tmp_path: Path) -> None:
    placeholder = base64.b64encode(b"changeme").decode()
    real = base64.b64encode(GH_TOKEN.encode()).decode()
    text = f"""
    apiVersion: v1
    kind: Secret
    metadata: {{name: s, namespace: llm-dev}}
    data:
      user: {placeholder}
      token: {real}
    """
    found = run_policy(tmp_path, {F: text})
    assert where(found) == [("secret-values-in-git", F, line(text, "token:"))]
    assert "GitHub token" in found[0].message


@pytest.mark.parametrize(("value", "kind"), [
    (GH_TOKEN, "GitHub token"), (HF_TOKEN, "Hugging Face token"),
    ("glpat-" + "a1B2c3D4e5F6g7H8i9J0", "GitLab token"), (AWS_ID, "AWS access key id"),
])
def test_credential_in_env_value(tmp_path: Path, value: str, kind: str) -> None:
    runtime = RUNTIME + f"      env:\n        - name: SOME_VAR\n          value: {value}\n"
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [("credential-in-config", "overlays/dev/servingruntime.yaml",
                             line(runtime, "value:"))]
    assert kind in found[0].message
    assert value not in repr(found)


def test_secret_named_env_with_literal_value(tmp_path: Path) -> None:
    runtime = RUNTIME + "      env:\n        - {name: API_KEY, value: s3cr3t-v4lue}\n" \
                        "        - {name: DB_PASSWORD, value: changeme}\n"
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [("credential-in-config", "overlays/dev/servingruntime.yaml",
                             line(runtime, "API_KEY"))]


def test_credential_in_args(tmp_path: Path) -> None:
    runtime = RUNTIME + f"        - --hf-token={HF_TOKEN}\n"
    found = run_policy(tmp_path, model_files(runtime=runtime))
    assert where(found) == [("credential-in-config", "overlays/dev/servingruntime.yaml",
                             line(runtime, "--hf-token"))]


def test_configmap_with_private_key_and_dockerconfig(tmp_path: Path) -> None:
    docker = '{"auths": {"quay.io": {"auth": "' + base64.b64encode(b"u:p4ss").decode() + '"}}}'
    key = PRIVATE_KEY.replace("\n", "\\n")
    text = f"""
    apiVersion: v1
    kind: ConfigMap
    metadata: {{name: cm, namespace: llm-dev}}
    data:
      ok: "plain text"
      tls.key: "{key}"
      config.json: '{docker}'
    """
    found = run_policy(tmp_path, {"overlays/dev/cm.yaml": text})
    assert where(found) == [("credential-in-config", "overlays/dev/cm.yaml", line(text, "tls.key")),
                            ("credential-in-config", "overlays/dev/cm.yaml",
                             line(text, "config.json"))]


def test_masked_in_every_report_format(tmp_path: Path) -> None:
    text = SECRET.replace('AWS_SECRET_ACCESS_KEY: "changeme"',
                          f'AWS_SECRET_ACCESS_KEY: "{AWS_SECRET}"')
    found = run_policy(tmp_path, {F: text})
    assert where(found) == [("secret-values-in-git", F, line(text, "AWS_SECRET_ACCESS_KEY"))]
    for field in dataclasses.fields(found[0]):
        assert AWS_SECRET not in str(getattr(found[0], field.name))
    report = Report(repo=str(tmp_path), units=[Unit("overlays/dev", "overlay", "dev")],
                    resources=1, findings=found, validators=["policy"])
    rendered = {"text": text_render(report)}
    rendered.update({name: reports.renderer(name)(report) for name in reports.FORMATS
                     if name != "text"})
    assert set(rendered) >= {"text", "json"}
    for name, out in rendered.items():
        assert "secret-values-in-git" in out, name
        assert AWS_SECRET not in out, name
        assert AWS_SECRET[:12] not in out, name


def text_render(report: Report) -> str:
    return text.render(report)


@pytest.mark.parametrize(("name", "flagged"), [
    ("HF_TOKEN", True), ("DB_PASSWORD", True), ("OPENAI_API_KEY", True), ("apiKey", True),
    ("TOKENIZERS_PARALLELISM", False), ("MAX_TOKENS", False), ("KEY_PREFIX", False),
    ("AWS_SECRET_ACCESS_KEY", True),
])
def test_secret_named_env(name: str, flagged: bool) -> None:
    from llmops_gate.validators.policy.credentials import secret_named

    assert secret_named(name) is flagged


def test_secret_named_env_with_harmless_values(tmp_path: Path) -> None:
    runtime = RUNTIME + "      env:\n        - {name: HF_TOKEN_PATH, value: /var/run/hf/token}\n" \
                        "        - {name: USE_TOKEN, value: 'false'}\n" \
                        "        - {name: TOKENIZERS_PARALLELISM, value: 'true'}\n"
    assert where(run_policy(tmp_path, model_files(runtime=runtime))) == []
