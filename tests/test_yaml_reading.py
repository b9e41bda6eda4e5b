"""The YAML readers of llmops_gate.yamlio.reading against the Go readers they stand for.

One row per spelling: the value Kubernetes' reader (sigs.k8s.io/yaml over go-yaml v2) gives a
plain scalar, and the value Kustomize (go-yaml v3, timestamps written as RFC 3339) gives it. The
expectations are the published rules (see the module's docstring); three more tests ask the real
programs: every row through kubectl itself (`kubectl label --local -o json`, which prints what
`kubectl apply` would send), through the real kubeconform (a Go program reading YAML with
sigs.k8s.io/yaml; run where its binary is found) and through the real `kubectl kustomize`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmops_gate.yamlio import reading as yaml_reading
from llmops_gate.yamlio.reading import KUBERNETES, KUSTOMIZE, KubeLoader, KustomizeLoader
from tests.conftest import ROOT

NAN = float("nan")
INF = float("inf")
SAME = object()  # Kustomize reads it as Kubernetes does

# (plain scalar, Kubernetes' value, Kustomize's value)
ROWS: list[tuple[str, Any, Any]] = [
    # booleans: YAML 1.1 (yaml.org/type/bool) in go-yaml v2; only true/false in v3
    *[(s, True, s) for s in ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON")],
    *[(s, True, True) for s in ("true", "True", "TRUE")],
    *[(s, False, s) for s in ("n", "N", "no", "No", "NO", "off", "Off", "OFF")],
    *[(s, False, False) for s in ("false", "False", "FALSE")],
    ("yES", "yES", SAME), ("tRUE", "tRUE", SAME), ("nO", "nO", SAME),
    # null (yaml.org/type/null)
    ("~", None, SAME), ("null", None, SAME), ("Null", None, SAME), ("NULL", None, SAME),
    ("", None, SAME), ("nULL", "nULL", SAME),
    # ints (yaml.org/type/int, Go's ParseInt with base 0 after removing `_`)
    ("0", 0, SAME), ("-0", 0, SAME), ("42", 42, SAME), ("+12", 12, SAME), ("-17", -17, SAME),
    ("0x1F", 31, SAME), ("0X1f", 31, SAME), ("-0x1F", -31, SAME), ("0b101", 5, SAME),
    ("-0b101", -5, SAME), ("0o17", 15, SAME), ("0755", 493, SAME), ("010", 8, SAME),
    ("-0755", -493, SAME), ("00", 0, SAME), ("1_000", 1000, SAME), ("0x_ff", 255, SAME),
    ("1_0_0", 100, SAME), ("9223372036854775807", 9223372036854775807, SAME),
    ("18446744073709551615", 18446744073709551615, SAME),
    ("0x", "0x", SAME), ("0b102", "0b102", SAME), ("0xFFFFFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFFFF",
                                                 SAME),
    # floats (yaml.org/type/float as go-yaml's yamlStyleFloat admits them)
    ("1e3", 1000.0, SAME), ("1E3", 1000.0, SAME), ("1.5e3", 1500.0, SAME), ("1e-3", 0.001, SAME),
    ("1e+3", 1000.0, SAME), ("-1.5", -1.5, SAME), ("+.5", 0.5, SAME), (".5", 0.5, SAME),
    ("1.", 1.0, SAME), ("3.14", 3.14, SAME), ("1_0.5", 10.5, SAME), ("08", 8.0, SAME),
    ("09.5", 9.5, SAME), ("99999999999999999999", 1e20, SAME),
    (".inf", INF, SAME), (".Inf", INF, SAME), (".INF", INF, SAME), ("+.inf", INF, SAME),
    ("-.inf", -INF, SAME), ("-.Inf", -INF, SAME), ("-.INF", -INF, SAME),
    (".nan", NAN, SAME), (".NaN", NAN, SAME), (".NAN", NAN, SAME),
    ("1e400", "1e400", SAME), (".5_0", 0.5, SAME), (".5__0", ".5__0", SAME),
    ("._5", "._5", SAME), ("1.2.3", "1.2.3", SAME),
    ("0x1p-2", "0x1p-2", SAME), (".", ".", SAME), ("-a", "-a", SAME), ("+", "+", SAME),
    ("1e", "1e", SAME), ("e3", "e3", SAME),
    # no sexagesimal (PyYAML: 45000, 80, 4500.0)
    ("12:30:00", "12:30:00", SAME), ("1:20", "1:20", SAME), ("1:15.0", "1:15.0", SAME),
    # timestamps (yaml.org/type/timestamp, the layouts go-yaml's parseTimestamp tries): kept
    # as written by sigs.k8s.io/yaml, RFC 3339 by Kustomize
    ("2024-01-01", "2024-01-01", "2024-01-01T00:00:00Z"),
    ("2024-1-2", "2024-1-2", "2024-01-02T00:00:00Z"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00",
     "2001-12-14T21:59:43.1-05:00"),
    ("2001-12-14T21:59:43.10Z", "2001-12-14T21:59:43.10Z", "2001-12-14T21:59:43.1Z"),
    ("2001-12-14T21:59:43+00:00", "2001-12-14T21:59:43+00:00", "2001-12-14T21:59:43Z"),
    ("2001-12-14 21:59:43.10", "2001-12-14 21:59:43.10", "2001-12-14T21:59:43.1Z"),
    ("2024-01-01 10:00:00", "2024-01-01 10:00:00", "2024-01-01T10:00:00Z"),
    ("2002-12-14T01:02:03.123456789Z", "2002-12-14T01:02:03.123456789Z",
     "2002-12-14T01:02:03.123456789Z"),
    # forms go-yaml's time.Parse layouts do not take stay strings for both readers
    ("2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5", SAME),
    ("2024-01-01T10:00:00", "2024-01-01T10:00:00", SAME),
    ("2023-02-30", "2023-02-30", SAME), ("2024-13-01", "2024-13-01", SAME),
    ("2024-01-01T25:00:00Z", "2024-01-01T25:00:00Z", SAME),
    ("20240101", 20240101, SAME), ("2024-01", "2024-01", SAME),
    # strings
    ("abc", "abc", SAME), ("=", "=", SAME), ("v1.2", "v1.2", SAME),
    ("1.2.3-rc1", "1.2.3-rc1", SAME),
    ("500Mi", "500Mi", SAME), ("0.5Gi", "0.5Gi", SAME), ("1_", 1, SAME), ("_1", "_1", SAME),
]


def _kustomize_value(row: tuple[str, Any, Any]) -> Any:
    return row[1] if row[2] is SAME else row[2]


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return type(got) is type(want) and got == want


def _ids(rows: list[tuple[str, Any, Any]]) -> list[str]:
    return [repr(r[0]) for r in rows]


@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_kubernetes_reading(row: tuple[str, Any, Any]) -> None:
    text, want, _ = row
    got = yaml.load(f"v: {text}\n", Loader=KubeLoader)["v"]
    assert _same(got, want), (text, got, want)
    assert _same(yaml_reading.read(text, KUBERNETES), want)


@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_kustomize_reading(row: tuple[str, Any, Any]) -> None:
    text, _, _ = row
    want = _kustomize_value(row)
    got = yaml.load(f"v: {text}\n", Loader=KustomizeLoader)["v"]
    assert _same(got, want), (text, got, want)


def test_quoted_scalars_stay_strings() -> None:
    doc = yaml.load('a: "N"\nb: \'0755\'\nc: "2024-01-01"\nd: |\n  1e3\n', Loader=KubeLoader)
    assert doc == {"a": "N", "b": "0755", "c": "2024-01-01", "d": "1e3\n"}


def test_keys_are_named_as_sigs_k8s_yaml_names_them() -> None:
    doc = yaml.load("y: a\n1: b\n0x10: c\nN: d\n1.5: e\n", Loader=KubeLoader)
    assert doc == {"true": "a", "1": "b", "16": "c", "false": "d", "1.5": "e"}


def test_explicit_tags_follow_the_same_rules() -> None:
    assert yaml.load("v: !!int 0755\n", Loader=KubeLoader) == {"v": 493}
    assert yaml.load("v: !!float 1\n", Loader=KubeLoader) == {"v": 1.0}
    assert yaml.load("v: !!str 0755\n", Loader=KubeLoader) == {"v": "0755"}
    with pytest.raises(yaml.YAMLError, match="cannot decode str `abc` as a int"):
        yaml.load("v: !!int abc\n", Loader=KubeLoader)


def test_merge_keys_still_merge() -> None:
    doc = yaml.load("a: &x {k: 1}\nb:\n  <<: *x\n  j: 2\n", Loader=KubeLoader)
    assert doc["b"] == {"k": 1, "j": 2}


def test_reading_note_names_the_value_and_the_fix() -> None:
    assert yaml_reading.reading_note("N", KUBERNETES) == \
        'Kubernetes reads the unquoted N as the boolean false; quote it: "N"'
    assert yaml_reading.reading_note("0755", KUSTOMIZE) == \
        'Kustomize reads the unquoted 0755 as the number 493; quote it: "0755"'
    assert yaml_reading.reading_note("2024-01-01", KUSTOMIZE) == (
        'Kustomize reads the unquoted 2024-01-01 as a timestamp and writes it as '
        '"2024-01-01T00:00:00Z"; quote it: "2024-01-01"')
    assert yaml_reading.reading_note("2024-01-01", KUBERNETES) is None
    assert yaml_reading.reading_note("N", KUSTOMIZE) is None
    assert yaml_reading.reading_note("abc", KUBERNETES) is None
    for canonical in ("true", "493", "1.5", "~", "-2"):
        assert yaml_reading.reading_note(canonical, KUBERNETES) is None, canonical


# --- the real Go readers --------------------------------------------------------------------

def _json_rows(rows: list[tuple[str, Any, Any]], value: Any) -> list[tuple[int, str, Any]]:
    """Rows whose value JSON can carry: Go's json.Marshal refuses Inf and NaN, and kubeconform
    reads the JSON back into float64, so integers past 2**53 cannot be compared there."""
    out = []
    for i, row in enumerate(rows):
        want = value(row)
        if isinstance(want, float) and not math.isfinite(want):
            continue
        if isinstance(want, int) and abs(want) > 2**53:
            continue
        out.append((i, row[0], want))
    return out


def _kubeconform() -> str | None:
    for candidate in (os.environ.get("LLMOPS_GATE_KUBECONFORM"), shutil.which("kubeconform"),
                      str(ROOT / ".cache" / "tools" / "kubeconform")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def test_every_row_as_kubeconform_reads_it(tmp_path: Path) -> None:
    """kubeconform decodes with sigs.k8s.io/yaml, as kubectl and ArgoCD do: a schema whose
    every field allows only the expected JSON value must pass, and one that expects PyYAML's
    reading of `N` must fail (so the schema is really applied)."""
    binary = _kubeconform()
    if binary is None:
        pytest.skip("no kubeconform binary (PATH, LLMOPS_GATE_KUBECONFORM or .cache/tools)")
    rows = _json_rows(ROWS, lambda r: r[1])
    doc = "apiVersion: v1\nkind: Probe\n" + "".join(f"f{i}: {text}\n" for i, text, _ in rows)
    (tmp_path / "probe.yaml").write_text(doc, encoding="utf-8")
    schema = {"type": "object", "properties": {f"f{i}": {"enum": [want]}
                                                for i, _, want in rows}}
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "probe_v1.json").write_text(json.dumps(schema), encoding="utf-8")
    argv = [binary, "-output", "json", "-schema-location",
            str(tmp_path / "schemas" / "{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"),
            "probe.yaml"]
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

    control = {"type": "object", "properties": {"f0": {"enum": ["N"]}}}
    (tmp_path / "probe.yaml").write_text("apiVersion: v1\nkind: Probe\nf0: N\n",
                                         encoding="utf-8")
    (tmp_path / "schemas" / "probe_v1.json").write_text(json.dumps(control), encoding="utf-8")
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "/f0" in result.stdout, result.stdout + result.stderr


def test_every_row_as_kubectl_reads_it(tmp_path: Path) -> None:
    """kubectl itself: `kubectl label --local -o json` reads the manifest as `kubectl apply`
    does (sigs.k8s.io/yaml) and prints the JSON it would send, without a cluster."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH")
    rows = _json_rows(ROWS, lambda r: r[1])
    body = "".join(f"  f{i}: {text}\n" for i, text, _ in rows)
    (tmp_path / "probe.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Probe\nmetadata:\n  name: p\nspec:\n" + body,
        encoding="utf-8")
    argv = [kubectl, "label", "--local", "-o", "json", "-f", str(tmp_path / "probe.yaml"),
            "probe=1"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, "KUBECONFIG": str(tmp_path / "none")}).stdout
    spec = json.loads(out)["spec"]
    wrong = {text: (spec.get(f"f{i}"), want) for i, text, want in rows
             if spec.get(f"f{i}") != want or isinstance(spec.get(f"f{i}"), bool)
             != isinstance(want, bool)}
    assert wrong == {}


def test_every_row_as_kubectl_kustomize_renders_it(tmp_path: Path) -> None:
    """The real Kustomize: each row as a field of a resource, rendered and read back."""
    kubectl = shutil.which("kubectl")
    kustomize = shutil.which("kustomize")
    if kubectl is None and kustomize is None:
        pytest.skip("neither kubectl nor kustomize on PATH")
    rows = _json_rows(ROWS, _kustomize_value)
    body = "".join(f"  f{i}: {text}\n" for i, text, _ in rows)
    (tmp_path / "probe.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Probe\nmetadata:\n  name: p\nspec:\n" + body,
        encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text("resources: [probe.yaml]\n", encoding="utf-8")
    argv = [kubectl, "kustomize", str(tmp_path)] if kubectl else [str(kustomize), "build",
                                                                   str(tmp_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True).stdout
    spec = yaml.load(out, Loader=KubeLoader)["spec"]
    wrong = {text: (spec.get(f"f{i}"), want) for i, text, want in rows
             if spec.get(f"f{i}") != want or isinstance(spec.get(f"f{i}"), bool)
             != isinstance(want, bool)}
    assert wrong == {}
