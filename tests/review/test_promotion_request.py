"""`promote --open-pr` puts the release summary and the rendered diffs into the request's
description, within the forge's limit (request recorded by the 127.0.0.1 server of
tests/gitops/test_forge.py)."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from tests.conftest import cli_env, run_cli
from tests.gitops.helpers import NEW_IMAGE_DIGEST, NEW_STORAGE, clone_with_forge
from tests.gitops.test_forge import TOKEN, Recorder, server  # noqa: F401 (the fixture)


def test_promotion_request_carries_the_review(server: str, tmp_path: Path) -> None:  # noqa: F811
    clone = clone_with_forge(tmp_path, server)
    result = run_cli("promote", "--repo", clone, "--open-pr", "--no-validate",
                     env=cli_env({"GITHUB_TOKEN": TOKEN}))
    assert result.code == 0, result.stderr
    [req] = Recorder.requests
    body = req["body"]["body"]
    assert len(body) <= 65536
    assert body.index("Promotion-Id:") < body.index("**Release summary**")
    assert "llmops-gate:review:" not in body
    summary = body[body.index("**Release summary**"):body.index("<details>")]
    for env in ("staging", "production"):
        assert f"- **{env}** `deploy_model/overlays/{env}`" in summary
    assert summary.count(f"model storageUri: oci://quay.io/redhat-ai-services/modelcar-catalog:"
                         f"qwen2.5-0.5b-instruct -\\> {NEW_STORAGE.replace(':', ':')}") == 2
    assert summary.count(NEW_IMAGE_DIGEST) == 2
    assert "| dev |" not in body
    fences = [t for t in MarkdownIt("commonmark").parse(body) if t.type == "fence"]
    assert fences and all(t.info == "diff" for t in fences)
    assert any(f"+      storageUri: {NEW_STORAGE}" in t.content for t in fences)
