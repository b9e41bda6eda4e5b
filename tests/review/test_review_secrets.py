"""A Secret whose value changed is reported as changed, and neither value leaves the tool in
any format (text, JSON, Markdown comment, full report)."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.conftest import run_cli
from tests.gitops.helpers import example_git
from tests.review.helpers import changed, commit_all, review_json

OLD = "oci-pull-s3cr3t-0ld-value"
NEW = "oci-pull-s3cr3t-n3w-value"
OLD_DATA = "t0ken-before-Zq81"
NEW_DATA = "t0ken-after-Pw27x"


def _secret(repo: Path, host: str, token: str) -> None:
    path = repo / "deploy_model" / "base" / "model-connection.yaml"
    text = path.read_text()
    head = text[: text.index("stringData:")]
    encoded = base64.b64encode(token.encode()).decode()
    path.write_text(head + f'stringData:\n  OCI_HOST: "{host}"\n  ACCESS_TYPE: ""\n'
                    f"data:\n  TOKEN: {encoded}\n")


def test_changed_secret_value_is_named_but_never_shown(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    _secret(repo, OLD, OLD_DATA)
    commit_all(repo, "a secret (do not do this)")
    _secret(repo, NEW, NEW_DATA)
    commit_all(repo, "rotate it")
    data = review_json(repo, "--base", "HEAD~1", "--head", "HEAD")
    units = changed(data)
    assert [u["environment"] for u in units.values()] == ["dev", "staging", "production"]
    for unit in units.values():
        texts = {f["field"]: f["text"] for f in unit["release"]}
        assert texts == {"data.TOKEN": "Secret data.TOKEN: changed (value hidden)",
                         "stringData.OCI_HOST": "Secret stringData.OCI_HOST: changed "
                                                "(value hidden)"}
        [res] = unit["resources"]
        assert res["resource"]["kind"] == "Secret"
        assert "+  OCI_HOST: changed (value hidden)" in res["diff"]
        assert "-  OCI_HOST: (value hidden)" in res["diff"]
    out = {}
    for fmt in ("text", "json", "markdown"):
        result = run_cli("review", repo, "--base", "HEAD~1", "--head", "HEAD", "--format", fmt,
                         "--full-report", tmp_path / f"full-{fmt}.md")
        assert result.code == 0, result.stderr
        out[fmt] = result.stdout + result.stderr + (tmp_path / f"full-{fmt}.md").read_text()
    assert "changed (value hidden)" in out["markdown"]
    for fmt, text in out.items():
        for value in (OLD, NEW, OLD_DATA, NEW_DATA):
            for form in (value, base64.b64encode(value.encode()).decode()):
                assert form not in text, (fmt, form)
