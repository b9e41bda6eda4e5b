"""`status` on the example: what runs where after a promotion, and after a dev-only change."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from tests.conftest import git, run_cli
from tests.gitops.helpers import NEW_ARG, NEW_IMAGE_DIGEST, NEW_STORAGE, change_dev, example_git

OLD_STORAGE = "oci://quay.io/redhat-ai-services/modelcar-catalog:qwen2.5-0.5b-instruct"


def _status(repo: Path) -> dict[str, Any]:
    result = run_cli("status", repo, "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    return {e["name"]: e for e in data["environments"]} | {"_": data}


def test_status_after_a_promotion(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    change_dev(repo)
    result = run_cli("promote", "--repo", repo, "--no-validate")
    assert result.code == 0, result.stderr
    pid = re.search(r"Promotion-Id: (\w+)", git(repo, "log", "-1", "--format=%B")).group(1)
    data = _status(repo)
    for env in ("dev", "staging", "production"):
        assert data[env]["model"] == NEW_STORAGE
        assert data[env]["image"].endswith(f"@{NEW_IMAGE_DIGEST}")
        assert NEW_ARG in data[env]["args"]
        assert data[env]["differsFromPrevious"] == []
        assert data[env]["gpus"] == "1"
    assert data["dev"]["promotion"] is None
    for env in ("staging", "production"):
        assert data[env]["promotion"]["promotionId"] == pid
        assert data[env]["promotion"]["ageSeconds"] >= 0
    assert [data[e]["replicas"] for e in ("dev", "staging", "production")] == ["1", "1-2", "2-3"]
    assert [data[e]["sync"] for e in ("dev", "staging", "production")] == [
        "automated (prune, selfHeal)", "manual", "manual"]
    assert data["_"]["lastRunsWhatPreviousTested"] == {
        "environment": "production", "previous": "staging", "same": True, "differs": []}
    text = run_cli("status", repo)
    assert text.code == 0
    assert "production runs what staging tested." in text.stdout
    assert f"   last promotion  {pid} (" in text.stdout


def test_status_after_a_dev_only_change(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    change_dev(repo)
    data = _status(repo)
    assert data["dev"]["model"] == NEW_STORAGE
    assert data["staging"]["model"] == data["production"]["model"] == OLD_STORAGE
    assert data["dev"]["differsFromPrevious"] == []
    assert data["staging"]["differsFromPrevious"] == ["model", "image", "args"]
    assert data["production"]["differsFromPrevious"] == []
    assert data["_"]["lastRunsWhatPreviousTested"]["same"] is True
    text = run_cli("status", repo).stdout
    staging = text[text.index("staging ("):text.index("production (")]
    assert " * model           " + OLD_STORAGE in staging
    assert " * runtime image   " in staging
    assert "   GPUs            1" in staging
    md = run_cli("status", repo, "--format", "markdown").stdout
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    assert any(t.type == "table_open" for t in tokens)
    assert f"| model | `{NEW_STORAGE}` | `{OLD_STORAGE}` ≠ | `{OLD_STORAGE}` |" in md
    assert "**production runs what staging tested.**" in md
