"""Verdict parity with kubeconform's own acceptance fixtures (shared kubeconform-fixtures).

Every row of EXPECTED.tsv is run: its kubeconform arguments are mapped to ours (kubeconform is
non-strict by default, we are strict: a row without `-strict` runs with `--no-strict`); the
exit code must be kubeconform's, and so must the kind of verdict: invalid (a schema violation),
missing schema (error, or a warning with --ignore-missing-schemas), missing kind, rejected,
unreadable, duplicate key (FAILURE), and kubeconform's resource count where it prints one.
Rows that cannot apply offline are listed in EXCEPTIONS with the reason. Rows run in-process
through `validate_files` (the `schema` command's library function); a few run through the real
CLI to cover stdin and the exit codes end to end.
"""

from __future__ import annotations

import csv
import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import cli_env, need_shared, run_cli

FIXTURES = ("corpus", "kubeconform-fixtures")

# Rows kubeconform's tests do not assert (`observed`): the verdict kubeconform gives, as the
# row's description states it.
OBSERVED_EXIT = {
    "obs:crd_schema.yaml": 1,  # apiextensions.k8s.io/v1beta1 CRD: no such schema any more
    "obs:duplicates.yaml": 0,
    "obs:duplicates-non-namespaced.yaml": 0,
    "obs:duplicates-skipped-kinds.yaml": 1,  # SkipThisKind has no schema
    "obs:duplicates-with-namespace.yaml": 0,
    "obs:duplicates-with-namespace-default.yaml": 0,
    "obs:same-kind-different-api.yaml": 1,  # apps/v1beta1 Deployment: no schema
    "obs:same-object-different-namespace.yaml": 0,
    "obs:same-object-different-namespace-default.yaml": 0,
    "obs:full_domain_group.yaml": 0,
    "obs:multi_invalid_resources.yaml": 1,  # 5 documents with `kind:` null
    "obs:multi_valid_source.yaml": 0,
    "obs:null_array.yaml": 0,
    "obs:unconventional_keys.yaml": 0,
    "obs:valid_version.yaml": 0,
    "obs:grafana-alert-rule-group-sample.yaml": 1,  # no schema unless given
    "obs:httpproxy.yaml": 1,
    "obs:registry/sagemaker.aws.amazon.com_trainingjobs.yaml": 1,  # v1beta1 CRD
    "obs:duplicates-skipped-kinds.yaml(-skip SkipThisKind)": 0,
    "obs:list_invalid.yaml(-output json)": 1,
    "obs:invalid.yaml(-strict)": 1,
    "obs:test_crd.yaml(kv+local registry)": 0,
}

# Which kind of failure kubeconform reports, for the failing rows: "invalid" (the document
# breaks its schema), or the rule of the error (no schema, no kind, rejected, unreadable, ...).
INVALID_RULES = {"unknown-field", "wrong-type", "invalid-value", "required-field",
                 "schema-violation"}
FAILURE = {
    "multi_invalid": "invalid", "invalid": "invalid", "list_invalid": "invalid",
    "list_invalid_stdin": "invalid", "stdin_invalid_dash": "invalid",
    "extra_property_strict": "invalid", "obs:list_invalid.yaml(-output json)": "invalid",
    "obs:invalid.yaml(-strict)": "invalid",
    "not_here": "unreadable-file",
    "missing_kind": "missing-kind", "missing_apiversion": "missing-kind",
    "missing_kind_value": "missing-kind", "obs:multi_invalid_resources.yaml": "missing-kind",
    "test_crd": "missing-schema", "obs:crd_schema.yaml": "missing-schema",
    "obs:duplicates-skipped-kinds.yaml": "missing-schema",
    "obs:same-kind-different-api.yaml": "missing-schema",
    "obs:grafana-alert-rule-group-sample.yaml": "missing-schema",
    "obs:httpproxy.yaml": "missing-schema",
    "obs:registry/sagemaker.aws.amazon.com_trainingjobs.yaml": "missing-schema",
    "reject_kind": "rejected-kind",
    "duplicate_property_strict": "duplicate-key",
}

# Rows that cannot apply here, and why.
EXCEPTIONS = {
    "httpproxy_datree": "needs the network: its schema location is an https:// URL of the "
                        "datreeio CRDs-catalog; runs are offline and remote locations are "
                        "refused with exit 2",
    "nonet_default": "asserts kubeconform FAILS without network because its default schemas "
                     "are downloaded; ours are bundled, so the same file is valid offline "
                     "(the point of the embedded engine)",
    "nonet_cache": "uses kubeconform's -cache (its HTTP download cache, file names = sha256 "
                   "of URLs); we download nothing, so there is no such cache to read",
    "nonet_cache_refs": "same -cache mechanism, with an https:// schema-location template",
}


def rows() -> list[dict[str, str]]:
    path = need_shared(*FIXTURES, "EXPECTED.tsv")
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _rows_or_empty() -> list[Any]:
    try:
        return [pytest.param(r, id=r["case_id"]) for r in rows()]
    except pytest.skip.Exception:
        return [pytest.param(None, id="shared-absent")]


def map_args(upstream: str) -> tuple[list[str], dict[str, Any], list[str], bool]:
    """kubeconform arguments -> (files, our flags, ignore patterns, stdin?)."""
    stdin = upstream.startswith("<stdin ")
    if stdin:
        upstream = upstream.split(">", 1)[1]
    tokens = shlex.split(upstream)
    flags: dict[str, Any] = {"strict": False, "schema_locations": [], "skip_kinds": [],
                             "reject_kinds": [], "schema_engine": "embedded"}
    files: list[str] = []
    ignore: list[str] = []
    it = iter(tokens)
    for tok in it:
        if tok in ("-summary", "-verbose"):
            continue
        if tok == "-output":
            next(it)  # report format only; the verdict is what is compared
        elif tok == "-strict":
            flags["strict"] = True
        elif tok == "-ignore-missing-schemas":
            flags["ignore_missing_schemas"] = True
        elif tok == "-skip":
            flags["skip_kinds"].append(next(it))
        elif tok == "-reject":
            flags["reject_kinds"].append(next(it))
        elif tok == "-schema-location":
            loc = next(it)
            while loc.count("{{") > loc.count("}}"):  # the TSV does not quote templates
                loc += " " + next(it)
            flags["schema_locations"].append(loc)
        elif tok == "-kubernetes-version":
            flags["kubernetes_version"] = next(it)
        elif tok == "--ignore-filename-pattern":
            ignore.append(next(it))
        elif tok.startswith("-") and tok != "-":
            raise AssertionError(f"unmapped kubeconform flag {tok}")
        else:
            files.append(tok)
    if stdin:
        files = [f for f in files if f != "-"]
    return files, flags, ignore, stdin


@pytest.mark.parametrize("row", _rows_or_empty())
def test_same_verdict_as_kubeconform(row: dict[str, str] | None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops_gate.commands.schema import validate_files

    if row is None:
        need_shared(*FIXTURES)
        return
    case = row["case_id"]
    if case in EXCEPTIONS:
        pytest.skip(f"cannot apply offline: {EXCEPTIONS[case]}")
    base = need_shared(*FIXTURES)
    monkeypatch.chdir(base)
    files, flags, ignore, stdin = map_args(row["upstream_args"])
    text = None
    if stdin:
        text = (base / row["fixture_files"].split("<", 1)[1]).read_text(encoding="utf-8")
        files = ["-"]
    # kubeconform's verdict is the schema's alone: the admission rules are compared with the
    # same fixtures in tests/validators/admission/test_fixtures.py.
    report = validate_files(files, flags, stdin_text=text, ignore_patterns=ignore,
                            admission=False)
    want = int(row["expected_exit"]) if row["expected_exit"] else OBSERVED_EXIT[case]
    got = 0 if report.passed else 1
    detail = [f"{f.file}:{f.line} {f.rule} {f.message}" for f in report.findings]
    assert got == want, f"{case}: {row['expected_result']}: {detail}"
    errors = {f.rule for f in report.findings if f.severity.value == "error"}
    if want:
        kind = FAILURE[case]
        assert errors & (INVALID_RULES if kind == "invalid" else {kind}), (case, detail)
        if kind != "invalid":
            assert not errors & INVALID_RULES, (case, detail)
    if "skipped (missing schema ignored)" in row["expected_result"]:
        assert [f.rule for f in report.findings] == ["missing-schema"]
        assert report.findings[0].severity.value == "warning"
    # The resource counts kubeconform prints in its summary (`N resources found`).
    if row["check"] == "eq" and "resource" in row["expected_output"] and "found" in \
            row["expected_output"]:
        count = int(row["expected_output"].split("Summary: ")[1].split(" ")[0])
        assert report.resources == count, case


def test_every_row_is_run_or_explained() -> None:
    ids = {r["case_id"] for r in rows()}
    for case in ids:
        assert case in EXCEPTIONS or not case.startswith("obs:") or case in OBSERVED_EXIT, case
    failing = {r["case_id"] for r in rows()
               if (r["expected_exit"] or str(OBSERVED_EXIT.get(r["case_id"], 0))) == "1"}
    assert failing - set(EXCEPTIONS) == set(FAILURE), failing ^ set(FAILURE)
    assert set(EXCEPTIONS) <= ids


def test_cli_stdin_list_and_exit_codes() -> None:
    base = need_shared(*FIXTURES)
    text = (base / "fixtures/list_invalid.yaml").read_text(encoding="utf-8")
    result = run_cli("schema", "-", "--format", "json", input=text, cwd=base, env=cli_env())
    assert result.code == 1, result.stderr
    found = [(f["rule"], f["path"], f["file"], f["line"]) for f in result.json()["findings"]]
    assert ("wrong-type", "spec.replicas", "stdin", 26) in found
    assert ("unknown-field", "spec.templates", "stdin", 29) in found
    ok = run_cli("schema", "fixtures/valid.yaml", "fixtures/folder", cwd=base)
    assert ok.code == 0, ok.stdout
    assert "7 resources" not in ok.stdout  # 1 + 7 resources in total
    assert "8 resources" in ok.stdout


def test_reject_and_skip_messages() -> None:
    from llmops_gate.commands.schema import validate_files

    base = need_shared(*FIXTURES)
    report = validate_files([str(base / "fixtures/valid.yaml")],
                            {"reject_kinds": ["ReplicationController"]})
    assert [(f.rule, f.message) for f in report.findings] == [
        ("rejected-kind", "prohibited resource kind ReplicationController")]
    report = validate_files([str(base / "fixtures/missing_kind_value.yaml")], {})
    assert [f.message for f in report.findings] == ["missing 'kind' key"]


def test_duplicate_key_is_an_error_only_in_strict_mode() -> None:
    from llmops_gate.commands.schema import validate_files

    base = need_shared(*FIXTURES)
    path = str(base / "fixtures/duplicate_property.yaml")
    strict = validate_files([path], {})
    assert [(f.rule, f.path, f.line) for f in strict.findings] == [
        ("duplicate-key", "spec.template.spec.containers", 16)]
    assert validate_files([path], {"strict": False}, admission=False).passed


def test_remote_location_is_refused_with_exit_2() -> None:
    base = need_shared(*FIXTURES)
    result = run_cli("schema", "--schema-location",
                     "https://example.com/{{ .ResourceKind }}.json", "fixtures/valid.yaml",
                     cwd=base)
    assert result.code == 2
    assert "offline" in result.stderr
    assert "--schema-engine kubeconform" not in result.stderr  # refused with kubeconform too


def test_no_kubeconform_binary_exits_2_with_install_advice(tmp_path: Path) -> None:
    base = need_shared(*FIXTURES)
    result = run_cli("schema", "--schema-engine", "kubeconform", "fixtures/valid.yaml",
                     cwd=base, env=cli_env({"PATH": str(tmp_path)}))
    assert result.code == 2
    assert "kubeconform" in result.stderr and "install" in result.stderr
