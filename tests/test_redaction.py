"""Secrets stay secret: planted values never appear in any report format or error message.

Kustomize's error messages echo the documents they fail on, so each planted value is made to
reach a report through a real Kustomize error (a malformed patch quoting it): the test checks
both that the echo happened (a masked `***` in the message) and that the value is gone.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from llmops_gate.report import FORMATS
from llmops_gate.yamlio import redact
from tests.conftest import EXAMPLE, cli_env, copy_tree, findings, run_cli

DEV = "deploy_model/overlays/dev"
STAGING = "deploy_model/overlays/staging"
PROD = "deploy_model/overlays/production"

SECRET = "Pl4nted-Secret-Value-7f3a9c"  # stringData of a Secret, and in a ConfigMap
DATA_SECRET = "Base64-Planted-Value-11aa22"  # data of a Secret (base64 in the file)
DATA_B64 = base64.b64encode(DATA_SECRET.encode()).decode()
GENERATED = "Generator-Literal-5e6f7a"  # secretGenerator literal
TOKEN = "ghp_" + "Zx9" * 12  # credential-shaped, in a ConfigMap only
ENV_TOKEN = "Env-Planted-Token-9b8c7d6e"  # in the environment of the run, and in a container env
PLANTED = (SECRET, DATA_SECRET, DATA_B64, GENERATED, TOKEN, ENV_TOKEN)


def _add(repo: Path, overlay: str, resources: list[str], patches: list[str]) -> None:
    path = repo / overlay / "kustomization.yaml"
    text = path.read_text(encoding="utf-8")
    extra = "".join(f"  - {r}\n" for r in resources)
    text = text.replace("  - ../../base\n", "  - ../../base\n" + extra)
    text += "".join(f"  - path: {p}\n" for p in patches)
    path.write_text(text, encoding="utf-8")


def _doc(kind: str, name: str, body: str) -> str:
    return f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n{body}"


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_tree(EXAMPLE, tmp_path_factory.mktemp("redact") / "repo")
    dev = repo / DEV
    # dev: a Secret, and a patch whose malformed stringData makes Kustomize quote the values.
    (dev / "secret.yaml").write_text(_doc(
        "Secret", "db", f"stringData:\n  password: {SECRET}\ndata:\n  token: {DATA_B64}\n"))
    (dev / "leak.yaml").write_text(_doc(
        "Secret", "db", f"stringData: [{SECRET}, {DATA_B64}, {DATA_SECRET}]\n"))
    _add(repo, DEV, ["secret.yaml"], ["leak.yaml"])
    # staging: a ConfigMap holding a token and the Secret's value, a generated Secret, and a
    # malformed patch quoting all three.
    staging = repo / STAGING
    (staging / "config.yaml").write_text(_doc(
        "ConfigMap", "settings", f"data:\n  token: {TOKEN}\n  copied: {SECRET}\n"))
    (staging / "leak.yaml").write_text(_doc(
        "ConfigMap", "settings", f"data: [{TOKEN}, {SECRET}, {GENERATED}]\n"))
    _add(repo, STAGING, ["config.yaml"], ["leak.yaml"])
    with (staging / "kustomization.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"secretGenerator:\n  - name: generated\n    literals:\n"
                 f"      - api-key={GENERATED}\n")
    # production: a value that is a token of the run's environment, in a container's env and
    # quoted by a malformed ConfigMap patch.
    prod = repo / PROD
    (prod / "config.yaml").write_text(_doc("ConfigMap", "settings", "data:\n  a: b\n"))
    (prod / "env.yaml").write_text(
        "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n"
        "  name: qwen25-05b-instruct\nspec:\n  predictor:\n    model:\n"
        f"      env:\n        - name: API_TOKEN\n          value: {ENV_TOKEN}\n")
    (prod / "leak.yaml").write_text(_doc("ConfigMap", "settings", f"data: [{ENV_TOKEN}]\n"))
    _add(repo, PROD, ["config.yaml"], ["env.yaml", "leak.yaml"])
    # A plain manifest with the value, made to fail so its file is in the report too.
    (repo / "argocd-apps" / "leaky.yaml").write_text(_doc(
        "ConfigMap", "leaky", f"data:\n  a: {SECRET}\n  a: {ENV_TOKEN}\n"))
    return repo


def _env() -> dict[str, str]:
    return cli_env({"MODEL_API_TOKEN": ENV_TOKEN})


def test_planted_values_reach_kustomize_errors_masked(planted: Path) -> None:
    result = run_cli("validate", planted, "--format", "json", env=_env(), timeout=120)
    assert result.code == 1, result.stderr
    build = {f["overlay"]: f["message"] for f in findings(result)
             if f["rule"] == "kustomize-build"}
    assert sorted(build) == [DEV, PROD, STAGING]
    for message in build.values():
        assert "***" in message, message  # Kustomize quoted the values; they were masked
    text = result.stdout + result.stderr
    assert [v for v in PLANTED if v in text] == []


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_planted_value_in_any_format(planted: Path, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"report.{fmt}"
    printed = run_cli("validate", planted, "--format", fmt, env=_env(), timeout=120)
    written = run_cli("validate", planted, "--format", fmt, "-o", out, env=_env(), timeout=120)
    assert printed.code == written.code == 1, printed.stderr
    assert "***" in printed.stdout
    everything = printed.stdout + printed.stderr + written.stderr + out.read_text()
    assert [v for v in PLANTED if v in everything] == []


def test_error_messages_of_the_cli_are_masked(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    (repo / ".llmops-gate.yaml").write_text(
        "environments:\n  - name: dev\n"
        "    overlay: https://deployer:Hunter2-Password@git.example.com/x\n")
    result = run_cli("validate", repo, env=_env(), timeout=60)
    assert result.code == 2
    assert "https://***@git.example.com/x" in result.stderr
    assert "Hunter2-Password" not in result.stderr
    (repo / ".llmops-gate.yaml").unlink()
    missing = run_cli("validate", repo, "--kustomize", f"/nonexistent/{ENV_TOKEN}", env=_env(),
                      timeout=60)
    assert missing.code == 2
    assert ENV_TOKEN not in missing.stderr
    assert "/nonexistent/***" in missing.stderr


AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nq83vbQ==\n-----END RSA PRIVATE KEY-----"
DOCKER = json.dumps({"auths": {"registry.example.com": {"auth": "dXNlcjpwYXNzd29yZA=="}}})

SHAPES = [
    ("aws-access-key", "key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
    ("aws-secret-key", f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    ("aws-secret-key-json", f'{{"SecretAccessKey": "{AWS_SECRET}"}}', AWS_SECRET),
    ("github", "token ghp_" + "a1B2" * 9, "a1B2" * 9),
    ("github-pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "11ABCDEFG0123"),
    ("gitlab", "glpat-abcdefghij0123456789", "abcdefghij0123456789"),
    ("slack", "xoxb-123456789012-abcdefABCDEF", "123456789012-abcdef"),
    ("pem", f"key: {PEM} end", "MIIEowIBAAKCAQEA"),
    ("pem-cut-short", PEM[:60], "MIIEowIBAAKCAQEA"),
    ("dockerconfigjson", DOCKER, "dXNlcjpwYXNzd29yZA=="),
    ("dockerconfigjson-escaped", json.dumps(DOCKER), "dXNlcjpwYXNzd29yZA=="),
    ("bearer", "Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.sig_123", "eyJhbGciOi"),
    ("url-userinfo", "fetch https://user:s3cr3t-pass@git.example.com/repo", "s3cr3t-pass"),
    ("git-url-token", "git::https://oauth2:tok123456@gitlab.example.com/x.git", "tok123456"),
]


@pytest.mark.parametrize(("text", "secret"), [(t, s) for _, t, s in SHAPES],
                         ids=[n for n, _, _ in SHAPES])
def test_credential_shaped_strings_are_masked(text: str, secret: str) -> None:
    masked = redact.Redactor(environ={}).text(text)
    assert secret not in masked
    assert "***" in masked


def test_environment_tokens_and_secret_values_are_masked_with_their_escaped_forms() -> None:
    environ = {"GITHUB_TOKEN": "plain-github-token-value", "MY_DB_PASSWORD": "db-pass-1234",
               "SHORT_TOKEN": "abc", "HOME": "/home/someone-long"}
    doc = {"kind": "Secret", "stringData": {"multi": 'line one "quoted"\nsecond line here'},
           "data": {"b": base64.b64encode(b"decoded-secret-value").decode()}}
    r = redact.Redactor(redact.secret_values(doc), environ=environ)
    text = ("plain-github-token-value db-pass-1234 abc /home/someone-long "
            + json.dumps('line one "quoted"\nsecond line here') + " decoded-secret-value "
            + "second line here")
    masked = r.text(text)
    for secret in ("plain-github-token-value", "db-pass-1234", "quoted", "decoded-secret-value",
                   "second line here"):
        assert secret not in masked
    assert "abc" in masked and "/home/someone-long" in masked  # short or not a credential
