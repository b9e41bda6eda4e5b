"""`review --post` against a real HTTP server on 127.0.0.1 that keeps comments the way
GitHub's and GitLab's REST APIs do (the request recorder of tests/gitops/test_forge.py, grown
GET, PATCH and PUT). No real forge is contacted."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import cli_env, git, run_cli
from tests.gitops.helpers import example_git
from tests.gitops.test_forge import TOKEN, Recorder
from tests.review.helpers import OVERLAYS, commit_all


class Comments(Recorder):
    """Issue comments (GitHub) and merge-request notes (GitLab), kept in memory."""

    store: dict[int, dict[str, Any]] = {}
    next_id = 1000

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, method: str) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        type(self).requests.append({"method": method, "path": self.path,
                                    "headers": dict(self.headers), "body": body})
        return body

    def _authorised(self) -> bool:
        ok = self.headers.get("Authorization") == f"Bearer {TOKEN}" or \
            self.headers.get("PRIVATE-TOKEN") == TOKEN
        if not ok:
            self._send(401, {"message": "Bad credentials"})
        return ok

    def do_GET(self) -> None:
        self._record("GET")
        if not self._authorised():
            return
        m = re.match(r"^.*/(?:issues/(\d+)/comments|merge_requests/(\d+)/notes)\?per_page="
                     r"(\d+)&page=(\d+)$", self.path)
        assert m, self.path
        number = int(m.group(1) or m.group(2))
        per_page, page = int(m.group(3)), int(m.group(4))
        items = [c for c in sorted(self.store.values(), key=lambda c: c["id"])
                 if c["number"] == number]
        self._send(200, items[(page - 1) * per_page: page * per_page])

    def do_POST(self) -> None:
        body = self._record("POST")
        if not self._authorised():
            return
        m = re.match(r"^.*/(?:issues/(\d+)/comments|merge_requests/(\d+)/notes)$", self.path)
        assert m, self.path
        cls = type(self)
        cls.next_id += 1
        comment = {"id": cls.next_id, "number": int(m.group(1) or m.group(2)),
                   "body": body["body"]}
        cls.store[cls.next_id] = comment
        self._send(201, comment)

    def _edit(self, method: str) -> None:
        body = self._record(method)
        if not self._authorised():
            return
        comment_id = int(self.path.rstrip("/").rsplit("/", 1)[1])
        self.store[comment_id]["body"] = body["body"]
        self._send(200, self.store[comment_id])

    def do_PATCH(self) -> None:  # GitHub: PATCH /repos/o/r/issues/comments/ID
        self._edit("PATCH")

    def do_PUT(self) -> None:  # GitLab: PUT /projects/P/merge_requests/IID/notes/ID
        self._edit("PUT")


@pytest.fixture
def forge_server() -> Iterator[str]:
    Comments.requests = []
    Comments.store = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Comments)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def _writes() -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in Comments.requests if r["method"] != "GET"]


@pytest.mark.parametrize(("provider", "api", "env", "edit"), [
    ("github", "", "GITHUB_TOKEN", "PATCH"),
    ("gitlab", "/api/v4", "GITLAB_TOKEN", "PUT"),
])
def test_post_creates_then_edits_in_place_then_leaves_alone(
        forge_server: str, tmp_path: Path, provider: str, api: str, env: str,
        edit: str) -> None:
    repo = example_git(tmp_path / "repo")
    cfg = repo / ".llmops-gate.yaml"
    cfg.write_text(cfg.read_text() + f"promotion:\n  forge:\n    provider: {provider}\n"
                   f"    api_url: {forge_server}{api}\n    repository: acme/gitops\n")
    commit_all(repo, "forge config")
    git(repo, "branch", "base")
    size = repo / OVERLAYS / "dev" / "size.yaml"
    size.write_text(size.read_text().replace("cpu: 500m", "cpu: 750m"))
    commit_all(repo, "dev: more cpu")
    # Another comment on the request: it is never touched.
    Comments.next_id += 1
    Comments.store[Comments.next_id] = {"id": Comments.next_id, "number": 7,
                                        "body": "LGTM once the review is green"}
    environ = cli_env({env: TOKEN})

    def post() -> str:
        result = run_cli("review", repo, "--base", "base", "--post", "--pr", "7",
                         "--format", "markdown", env=environ)
        assert result.code == 0, result.stderr
        assert TOKEN not in result.stdout + result.stderr
        return result.stderr

    first = post()
    assert re.search(r"created review comment \d+", first)
    mine = [c for c in Comments.store.values() if "llmops-gate:review:1" in c["body"]]
    assert len(mine) == 1
    assert "CPU requests of the model: 500m -\\> 750m" in mine[0]["body"]
    assert [m for m, _ in _writes()] == ["POST"]

    size.write_text(size.read_text().replace("cpu: 750m", "cpu: 800m"))
    commit_all(repo, "dev: a bit more")
    Comments.requests = []
    second = post()
    assert f"updated review comment {mine[0]['id']}" in second
    assert len(Comments.store) == 2
    assert "500m -\\> 800m" in Comments.store[mine[0]["id"]]["body"]
    assert [m for m, _ in _writes()] == [edit]
    assert _writes()[0][1].endswith(f"/{mine[0]['id']}")

    Comments.requests = []
    third = post()
    assert f"review comment {mine[0]['id']} already up to date" in third
    assert _writes() == []
    assert len(Comments.store) == 2
    assert any(r["method"] == "GET" for r in Comments.requests)
    other = [c for c in Comments.store.values() if c["body"] == "LGTM once the review is green"]
    assert len(other) == 1


def test_post_without_token_or_request_number_fails_before_rendering(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    env = cli_env({"GITHUB_TOKEN": "", "GITLAB_TOKEN": ""})
    result = run_cli("review", repo, "--base", "HEAD", "--post", env=env)
    assert result.code == 2
    assert "--post: cannot tell the forge" in result.stderr
    cfg = repo / ".llmops-gate.yaml"
    cfg.write_text(cfg.read_text() + "promotion:\n  forge:\n    provider: github\n"
                   "    repository: acme/gitops\n")
    result = run_cli("review", repo, "--base", "HEAD", "--post",
                     env=cli_env({"GITHUB_TOKEN": TOKEN, "GITHUB_REF": ""}))
    assert result.code == 2
    assert "--post: which pull/merge request?" in result.stderr
    assert TOKEN not in result.stderr
