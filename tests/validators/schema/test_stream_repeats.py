"""A stream that repeats documents is parsed once per distinct document, and every copy is
still reported at its own lines (the `schema` command on concatenated renders)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import findings, run_cli
from tests.manifests import deployment

BAD = deployment(replicas="two", image="nginx:1.27")

DUPE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  a: "1"
  a: "2"
"""


def test_each_copy_of_a_repeated_document_is_reported_at_its_own_line(tmp_path: Path) -> None:
    stream = tmp_path / "stream.yaml"
    stream.write_text("---\n".join([BAD, DUPE, BAD, DUPE, BAD]), encoding="utf-8")
    result = run_cli("schema", stream, "--format", "json")
    assert result.code == 1
    found = sorted((f["rule"], f["line"]) for f in findings(result))
    bad_lines = BAD.count("\n") + 1  # each document plus its `---` line
    dupe_lines = DUPE.count("\n") + 1
    starts = [1, 1 + bad_lines, 1 + bad_lines + dupe_lines,
              1 + 2 * bad_lines + dupe_lines, 1 + 2 * bad_lines + 2 * dupe_lines]
    replicas = BAD.splitlines().index("  replicas: two")
    dupe_key = DUPE.splitlines().index('  a: "2"')
    expected = sorted([("wrong-type", starts[0] + replicas),
                       ("duplicate-key", starts[1] + dupe_key),
                       ("wrong-type", starts[2] + replicas),
                       ("duplicate-key", starts[3] + dupe_key),
                       ("wrong-type", starts[4] + replicas)])
    assert found == expected


def test_a_syntax_error_after_repeats_keeps_the_stream_line(tmp_path: Path) -> None:
    stream = tmp_path / "stream.yaml"
    broken = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n"
    stream.write_text("---\n".join([DUPE, DUPE, broken]), encoding="utf-8")
    result = run_cli("schema", stream, "--format", "json")
    assert result.code == 1
    [f] = [f for f in findings(result) if f["rule"] == "parse-error"]
    # The error is found at the end of the unclosed flow mapping: past the third document's
    # third line, counted from the start of the file.
    assert f["line"] > 2 * (DUPE.count("\n") + 1) + 2
