"""The four places where PyYAML and the cluster read YAML differently, caught through the CLI.

issue 14's Why: in a plain manifest an unquoted `N`/`y`/`Y`/`n` is a boolean to Kubernetes,
`1e3` a number, `12:30:00` a string (PyYAML made it the integer 45000: a false error), and a
date in an overlay's source comes out of Kustomize as an RFC 3339 timestamp, which is no
valid label value. Each is checked with `validate` (plain manifests in argocd-apps/ and an
overlay rendered by the real Kustomize) and with `schema` on a file, by exact (rule, file,
line) and message.

A plain manifest's date is left alone: sigs.k8s.io/yaml hands go-yaml v2's timestamps on as
the text written (tests/test_yaml_reading.py checks that against kubectl and kubeconform), so
`kubectl apply` sends the label value "2024-01-01" unchanged; only Kustomize rewrites it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE, copy_tree, findings, run_cli

SETTINGS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: regional-settings
  namespace: openshift-gitops
  labels:
    release: 2024-01-01
data:
  country: N
  answer: y
  short: Y
  nope: n
  window: 12:30:00
  budget: 1e3
  quoted: "N"
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: openshift-gitops
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: main
              image: registry.example.com/tool@sha256:{digest}
              env:
                - name: WINDOW
                  value: 12:30:00
""".format(digest="0" * 64)

# (rule, line, message) for SETTINGS, as Kubernetes reads it; lines 7 (the date), 13
# (12:30:00) and 15 (quoted) have none.
PLAIN_EXPECTED = [
    ("wrong-type", 9, 'data.country: Kubernetes reads the unquoted N as the boolean false; '
                      'quote it: "N"'),
    ("wrong-type", 10, 'data.answer: Kubernetes reads the unquoted y as the boolean true; '
                       'quote it: "y"'),
    ("wrong-type", 11, 'data.short: Kubernetes reads the unquoted Y as the boolean true; '
                       'quote it: "Y"'),
    ("wrong-type", 12, 'data.nope: Kubernetes reads the unquoted n as the boolean false; '
                       'quote it: "n"'),
    ("wrong-type", 14, 'data.budget: Kubernetes reads the unquoted 1e3 as the number 1000; '
                       'quote it: "1e3"'),
]


def _rows(found: list[dict[str, Any]], file: str) -> list[tuple[str, int, str]]:
    return sorted((f["rule"], f["line"], f["message"]) for f in found if f["file"] == file)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_tree(EXAMPLE, tmp_path_factory.mktemp("reading") / "repo")
    (repo / "argocd-apps/settings.yaml").write_text(SETTINGS, encoding="utf-8")
    (repo / "argocd-apps/nightly.yaml").write_text(CRONJOB, encoding="utf-8")
    base = repo / "deploy_model/base/model-connection.yaml"
    text = base.read_text(encoding="utf-8")
    text = text.replace('    opendatahub.io/managed: "true"\n',
                        '    opendatahub.io/managed: "true"\n    released: 2024-01-01\n', 1)
    text = text.replace('  ACCESS_TYPE: ""\n', '  ACCESS_TYPE: ""\n  MODE: 0755\n', 1)
    base.write_text(text, encoding="utf-8")
    return repo


@pytest.fixture(scope="module")
def validated(repo: Path) -> list[dict[str, Any]]:
    result = run_cli("validate", repo, "--only", "schema", "--format", "json", "-q")
    assert result.code == 1, result.stdout + result.stderr
    return findings(result)


def test_plain_manifest_read_as_kubernetes_reads_it(validated: list[dict[str, Any]]) -> None:
    assert _rows(validated, "argocd-apps/settings.yaml") == PLAIN_EXPECTED
    hint = next(f["hint"] for f in validated if f["file"] == "argocd-apps/settings.yaml")
    assert hint == "expected string; quoted, the value stays the text written"


def test_sexagesimal_false_error_is_gone(validated: list[dict[str, Any]]) -> None:
    """PyYAML read `value: 12:30:00` as 45000 and reported `expected string, got integer`."""
    assert _rows(validated, "argocd-apps/nightly.yaml") == []


def test_kustomize_rewrites_are_named_at_the_source_line(
        repo: Path, validated: list[dict[str, Any]]) -> None:
    file = "deploy_model/base/model-connection.yaml"
    lines = (repo / file).read_text(encoding="utf-8").splitlines()
    date_line = lines.index("    released: 2024-01-01") + 1
    mode_line = lines.index("  MODE: 0755") + 1
    hits = [(f["overlay"], f["rule"], f["line"], f["message"]) for f in validated
            if f["file"] == file]
    overlays = ("deploy_model/overlays/dev", "deploy_model/overlays/production",
                "deploy_model/overlays/staging")
    assert sorted(hits) == sorted(
        [(o, "rewritten-value", date_line,
          'metadata.labels.released: Kustomize reads the unquoted 2024-01-01 as a timestamp '
          'and writes it as "2024-01-01T00:00:00Z"; quote it: "2024-01-01" (a label value '
          "may not contain ':'; the API server refuses it)") for o in overlays]
        + [(o, "wrong-type", mode_line,
            'stringData.MODE: Kustomize reads the unquoted 0755 as the number 493; quote it: '
            '"0755"') for o in overlays])


def test_quoting_fixes_every_finding(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    fixed = SETTINGS
    for raw in ("2024-01-01", "N", "y", "Y", "n", "12:30:00", "1e3"):
        fixed = fixed.replace(f": {raw}\n", f': "{raw}"\n')
    (repo / "argocd-apps/settings.yaml").write_text(fixed, encoding="utf-8")
    result = run_cli("validate", repo, "--only", "schema", "--format", "json", "-q")
    assert result.code == 0, result.stdout + result.stderr


def test_schema_command_reads_a_file_as_kubernetes_does(repo: Path) -> None:
    result = run_cli("schema", "--format", "json", "argocd-apps/settings.yaml",
                     "argocd-apps/nightly.yaml", cwd=repo)
    assert result.code == 1, result.stdout + result.stderr
    found = findings(result)
    assert _rows(found, "argocd-apps/settings.yaml") == PLAIN_EXPECTED
    assert _rows(found, "argocd-apps/nightly.yaml") == []


def test_schema_command_on_stdin(repo: Path) -> None:
    result = run_cli("schema", "--format", "json", "-", cwd=repo, input=SETTINGS)
    assert result.code == 1, result.stdout + result.stderr
    assert _rows(findings(result), "stdin") == PLAIN_EXPECTED


def test_rendered_stream_piped_to_schema_is_already_explicit(repo: Path) -> None:
    """`kubectl kustomize | llmops-gate schema -`: Kustomize has written the date as a quoted
    timestamp and the octal as 493, so the stream holds no unquoted scalar to explain; the
    number in a string place is a plain wrong-type finding."""
    import subprocess

    out = subprocess.run(["kubectl", "kustomize", str(repo / "deploy_model/overlays/dev")],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert 'released: "2024-01-01T00:00:00Z"' in out and "MODE: 493" in out
    result = run_cli("schema", "--format", "json", "-", cwd=repo, input=out)
    rows = [(f["rule"], f["message"]) for f in findings(result)]
    assert rows == [("wrong-type", "stringData.MODE: expected string, got integer 493")]
