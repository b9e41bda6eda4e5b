"""Pull/merge requests against a real HTTP server on 127.0.0.1 that checks each request the
way GitHub's and GitLab's REST APIs expect it. (No real forge is contacted.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from llmops_gate.errors import GateError
from llmops_gate.gitops import forge
from tests.conftest import cli_env, git, run_cli
from tests.gitops.helpers import change_dev, clone_with_forge, example_git

TOKEN = "ghp_s3cr3t-token-value-123"


class Recorder(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    status = 201

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        type(self).requests.append({"path": self.path, "headers": dict(self.headers),
                                    "body": body})
        if type(self).status != 201:
            payload = {"message": f"Validation Failed for {TOKEN}"}
        elif self.path.startswith("/repos/"):
            payload = {"html_url": f"https://github.example/pull/{len(self.requests)}"}
        else:
            payload = {"web_url": f"https://gitlab.example/mr/{len(self.requests)}"}
        data = json.dumps(payload).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.requests = []
    Recorder.status = 201
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_github_pull_request_request(server: str) -> None:
    target = forge.resolve({"provider": "github", "api_url": server,
                            "repository": "acme/gitops"}, None, {"GITHUB_TOKEN": TOKEN})
    url = forge.open_request(target, head="promote/x", base="main", title="promote: t",
                             body="body")
    assert url == "https://github.example/pull/1"
    [req] = Recorder.requests
    assert req["path"] == "/repos/acme/gitops/pulls"
    assert req["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert req["headers"]["Accept"] == "application/vnd.github+json"
    assert req["body"] == {"title": "promote: t", "head": "promote/x", "base": "main",
                           "body": "body"}


def test_gitlab_merge_request_request(server: str) -> None:
    target = forge.resolve({"provider": "gitlab", "api_url": server + "/api/v4",
                            "repository": "group/sub/gitops"}, None, {"GITLAB_TOKEN": TOKEN})
    url = forge.open_request(target, head="promote/x", base="main", title="t", body="b")
    assert url == "https://gitlab.example/mr/1"
    [req] = Recorder.requests
    assert req["path"] == "/api/v4/projects/group%2Fsub%2Fgitops/merge_requests"
    assert req["headers"]["Private-Token"] == TOKEN
    assert req["body"]["source_branch"] == "promote/x"
    assert req["body"]["target_branch"] == "main"


def test_forge_error_never_shows_the_token(server: str) -> None:
    Recorder.status = 422
    target = forge.resolve({"provider": "github", "api_url": server,
                            "repository": "acme/gitops"}, None, {"GITHUB_TOKEN": TOKEN})
    with pytest.raises(GateError) as err:
        forge.open_request(target, head="h", base="main", title="t", body="b")
    assert "422" in str(err.value)
    assert TOKEN not in str(err.value)
    assert "***" in str(err.value)


def test_missing_token_and_unknown_forge_are_refused() -> None:
    with pytest.raises(GateError, match="GITHUB_TOKEN is not set"):
        forge.resolve({}, "https://github.com/acme/gitops.git", {})
    with pytest.raises(GateError, match="cannot tell the forge"):
        forge.resolve({}, "https://git.internal/acme/gitops.git", {"GITHUB_TOKEN": TOKEN})


def test_promote_open_pr_pushes_branch_and_opens_request(server: str, tmp_path: Path) -> None:
    clone = clone_with_forge(tmp_path, server)
    work, bare = tmp_path / "seed", tmp_path / "remote.git"  # where clone_with_forge made them
    result = run_cli("promote", "--repo", clone, "--open-pr", "--no-validate",
                     env=cli_env({"GITHUB_TOKEN": TOKEN}))
    assert result.code == 0, result.stderr
    assert "opened pull request: https://github.example/pull/1" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    [req] = Recorder.requests
    branch = req["body"]["head"]
    assert branch.startswith("promote/dev-to-staging-production-")
    assert req["body"]["base"] == "main"
    assert req["body"]["title"].startswith("promote: dev@")
    assert "Promotion-Id:" in req["body"]["body"]
    assert git(bare, "rev-parse", branch).strip() == git(clone, "rev-parse", "HEAD").strip()
    assert git(bare, "rev-parse", "main").strip() == git(work, "rev-parse", "HEAD").strip()


def test_open_pr_without_a_token_changes_nothing(tmp_path: Path) -> None:
    work = example_git(tmp_path / "seed")
    change_dev(work)
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    head = git(clone, "rev-parse", "HEAD").strip()
    env = cli_env({"GITHUB_TOKEN": "", "GITLAB_TOKEN": ""})
    result = run_cli("promote", "--repo", clone, "--open-pr", "--no-validate", env=env)
    assert result.code == 2
    assert "--open-pr: cannot tell the forge" in result.stderr
    assert git(clone, "rev-parse", "HEAD").strip() == head
    assert git(clone, "branch", "--list", "promote/*").strip() == ""
    assert git(bare, "branch", "--list", "promote/*").strip() == ""
