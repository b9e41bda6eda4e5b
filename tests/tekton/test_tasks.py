"""The plan, promote, summary and GitHub status Tasks, executed by the harness with the real
CLI, real Git (a bare remote) and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from llmops_gate.commands import LAZY_COMMANDS
from tests.conftest import EXAMPLE, copy_tree, git, init_git_repo, run_cli
from tests.tekton.conftest import TEKTON
from tests.tekton.harness import load_task, run_task

PLAN = load_task(TEKTON / "tasks/llmops-gate-plan.yaml")
PROMOTE = load_task(TEKTON / "tasks/llmops-gate-promote.yaml")
SUMMARY = load_task(TEKTON / "tasks/llmops-gate-summary.yaml")
STATUS = load_task(TEKTON / "tasks/llmops-gate-github-status.yaml")

NEW_DIGEST = "sha256:" + "1" * 64


def need_command(name: str) -> None:
    if name not in LAZY_COMMANDS:
        pytest.skip(f"`llmops-gate {name}` is not in this build (cli.LAZY_COMMANDS lacks it); "
                    "this test runs once that command is merged")


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def with_remote(tmp_path: Path) -> tuple[Path, Path]:
    """The example as a clone with an `origin` bare remote, main pushed and tracked."""
    repo = init_git_repo(copy_tree(EXAMPLE, tmp_path / "repo"))
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    return repo, remote


def change_dev_runtime_image(repo: Path) -> None:
    kustomization = repo / "deploy_model/overlays/dev/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + (
        "\nimages:\n  - name: registry.redhat.io/rhaii/vllm-cuda-rhel9\n"
        f"    digest: {NEW_DIGEST}\n"))


# --- plan ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "expected"), [
    ("deploy_model/overlays/dev/size.yaml", ["dev"]),
    ("deploy_model/base/servingruntime.yaml", ["dev", "production", "staging"]),
    ("argocd-apps/staging-application.yaml", ["staging"]),
    ("README.md", []),
])
def test_plan_turns_a_change_into_the_matrix_of_environments(
        tmp_path: Path, image_path: str, change: str, expected: list[str]) -> None:
    need_command("plan")
    repo = init_git_repo(copy_tree(EXAMPLE, tmp_path / "repo"))
    base = git(repo, "rev-parse", "HEAD").strip()
    target = repo / change
    target.write_text(target.read_text() + "\n# touched\n")
    commit_all(repo, "change " + change)
    run = run_task(PLAN, {"changed-since": base}, {"source": repo}, work=tmp_path / "work",
                   path=image_path)
    assert run.succeeded, run.log
    assert run.results["environments"] == expected
    assert run.results["all"] == "false"


# --- promote ------------------------------------------------------------------------------

def test_promote_commits_pushes_and_reports_the_commit(tmp_path: Path, image_path: str) -> None:
    need_command("promote")
    repo, remote = with_remote(tmp_path)
    change_dev_runtime_image(repo)
    before = commit_all(repo, "dev: new runtime image")
    git(repo, "push", "-q", "origin", "main")
    run = run_task(PROMOTE, {"from": "dev", "to": "staging,production"}, {"source": repo},
                   work=tmp_path / "work", path=image_path)
    assert run.succeeded, run.log
    commit = run.results["commit"]
    assert commit != before
    assert git(remote, "rev-parse", "main").strip() == commit
    assert run.results["branch"] == "main"
    assert run.results["pr-url"] == ""
    touched = git(repo, "show", "--name-only", "--format=", commit).split()
    assert touched and all(f.startswith(("deploy_model/overlays/staging/",
                                         "deploy_model/overlays/production/"))
                           for f in touched)
    assert git(repo, "log", "-1", "--format=%an <%ae>", commit).strip() == \
        "llmops-gate <llmops-gate@noreply.example.com>"


def test_promote_on_a_new_branch_through_basic_auth_config(tmp_path: Path,
                                                          image_path: str) -> None:
    need_command("promote")
    repo, remote = with_remote(tmp_path)
    # The remote is known only by an https URL that the credentials' .gitconfig rewrites:
    # the push works only if the Task put git-clone's basic-auth files where git reads them.
    url = "https://git.example.com/org/gitops.git"
    git(repo, "remote", "set-url", "origin", url)
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / ".gitconfig").write_text(f'[url "{remote}"]\n\tinsteadOf = {url}\n')
    (creds / ".git-credentials").write_text("https://bot:t0ken@git.example.com\n")
    change_dev_runtime_image(repo)
    commit_all(repo, "dev: new runtime image")
    run = run_task(PROMOTE, {"to": "staging", "branch": "promote/dev-to-staging"},
                   {"source": repo, "git-credentials": creds}, work=tmp_path / "work",
                   path=image_path)
    assert run.succeeded, run.log
    assert run.results["branch"] == "promote/dev-to-staging"
    assert git(remote, "rev-parse", "promote/dev-to-staging").strip() == run.results["commit"]


def test_promote_installs_git_clone_style_credentials_before_running(
        tmp_path: Path, image_path: str) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / ".gitconfig").write_text("[user]\n\tname = Bot\n")
    (creds / ".git-credentials").write_text("https://bot:t0ken@git.example.com\n")
    (creds / "id_ed25519").write_text("not a real key\n")
    (creds / "known_hosts").write_text("git.example.com ssh-ed25519 AAAA\n")
    repo = init_git_repo(copy_tree(EXAMPLE, tmp_path / "repo"))
    # An environment no config names: promote (or, before it exists, the CLI) refuses, exit 2.
    run = run_task(PROMOTE, {"from": "no-such-env"}, {"source": repo, "git-credentials": creds},
                   work=tmp_path / "work", path=image_path)
    assert not run.succeeded
    assert run.step("promote").exit_code == 2
    home = tmp_path / "work/home"
    assert (home / ".git-credentials").read_text() == "https://bot:t0ken@git.example.com\n"
    assert "name = Bot" in (home / ".gitconfig").read_text()
    assert (home / ".ssh/id_ed25519").stat().st_mode & 0o777 == 0o600
    assert (home / ".ssh/known_hosts").is_file()
    assert "t0ken" not in run.log


# --- summary ------------------------------------------------------------------------------

def test_summary_adds_up_this_runs_reports_only(tmp_path: Path, image_path: str) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    broken = copy_tree(EXAMPLE, tmp_path / "broken")
    (broken / "deploy_model/overlays/staging/size.yaml").unlink()
    for name, repo, args in (("pr-7-validate-0.json", EXAMPLE, ["--env", "dev"]),
                             ("pr-7-validate-1.json", broken, ["--env", "staging"]),
                             ("pr-6-validate-0.json", broken, [])):
        run_cli("validate", repo, "--only", "build", *args, "--format", "json",
                "-o", reports / name)
    run = run_task(SUMMARY, {"prefix": "pr-7", "status": "Failed"}, {"reports": reports},
                   work=tmp_path / "work", path=image_path)
    assert run.succeeded, run.log
    assert run.results["passed"] == "false"
    assert run.results["errors"] == "1"
    lines = run.step("summary").stdout.splitlines()
    assert lines[0].startswith("pr-7-validate-0.json: build on dev: 0 errors")
    assert lines[1].startswith("pr-7-validate-1.json: build on staging: 1 errors")
    assert lines[2] == "2 reports: 1 errors, 0 warnings (tasks: Failed)"


def test_summary_of_a_change_that_reaches_nothing(tmp_path: Path, image_path: str) -> None:
    (tmp_path / "reports").mkdir()
    run = run_task(SUMMARY, {"prefix": "pr-8"}, {"reports": tmp_path / "reports"},
                   work=tmp_path / "work", path=image_path)
    assert run.succeeded
    assert run.results["passed"] == "true"
    assert "nothing was validated" in run.results["summary"]


# --- GitHub commit status -----------------------------------------------------------------

@pytest.fixture
def github() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({"path": self.path, "auth": self.headers["Authorization"],
                         "body": json.loads(body)})
            self.send_response(201)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_github_status_posts_the_state_with_the_token(
        tmp_path: Path, image_path: str, github: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = github
    sha = "a" * 40
    run = run_task(STATUS, {"repo": "org/gitops", "sha": sha, "state": "failure",
                            "description": "x" * 200, "github-api-url": url},
                   {}, work=tmp_path / "work", path=image_path,
                   secrets={"llmops-gate-forge": {"GITHUB_TOKEN": "t0ken"}})
    assert run.succeeded, run.log
    assert seen == [{"path": f"/repos/org/gitops/statuses/{sha}", "auth": "Bearer t0ken",
                     "body": {"state": "failure", "context": "llmops-gate",
                              "description": "x" * 140}}]
    assert "t0ken" not in run.log
