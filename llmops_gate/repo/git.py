"""Git on its command line: the one runner every part of the tool that touches Git goes through
(`--changed-since` and `plan` in repo/changes, promotion, rollback and status in gitops, the
forge's remote in review/post), and the one export of a commit's tree they all read.

The runner: an argument list (never a shell), stdin closed, one timeout (`GIT_TIMEOUT`), and on
failure one message form, `git SUBCOMMAND failed in REPO: <what Git said>` (its stderr on one
line, credentials in URLs masked), raised as `GitFailed`, a GateError. `options` are Git's own
options before the subcommand: promotion passes `-c core.hooksPath=<empty folder>` there so no
hook of the repository runs (gitops/git.py).

Why the command line and not GitPython: every call here was already a Git command line
(GitPython's `execute` only starts `git` itself, with a watchdog thread for the timeout), the
export has to be `read-tree` and `checkout-index` either way, and one `subprocess.run` gives
the same argument list, timeout and message to all callers without a dependency.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from llmops_gate.errors import GateError
from llmops_gate.yamlio import fsutil

GIT_TIMEOUT = 120.0

URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)


class GitFailed(GateError):
    """A git command failed (or timed out); its message is Git's own."""


def mask_url_secrets(text: str) -> str:
    """`https://user:token@host/...` -> `https://***@host/...`."""
    return URL_USERINFO.sub(r"\1***@", text)


def _said(stderr: bytes, stdout: bytes) -> str:
    """What Git said about a failure, on one line: stderr (else stdout) without its hints."""
    for stream in (stderr, stdout):
        lines = [line.strip() for line in stream.decode("utf-8", "replace").splitlines()]
        kept = [line for line in lines if line and not line.startswith("hint:")]
        if kept:
            return mask_url_secrets("; ".join(kept))
    return "no message"


def git(repo: Path, *args: str, options: Sequence[str] = (), env: dict[str, str] | None = None,
        needed_for: str = "this command") -> bytes:
    """`git -C repo [options] ARGS`'s standard output; GitFailed on failure or timeout, and a
    GateError naming `needed_for` when Git is not installed."""
    program = shutil.which("git")
    if program is None:
        raise GateError(f"{needed_for} needs Git, and 'git' is not on PATH")
    # Git's messages in English whatever the user's locale: callers read them (a rejected push
    # is told by its words, gitops/push.py).
    run_env = {**(os.environ if env is None else env), "LANGUAGE": "C", "LC_ALL": "C"}
    try:
        proc = subprocess.run(  # argv list, no shell
            [program, "-C", str(repo), *options, *args], capture_output=True,
            timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL, check=False, env=run_env,
        )
    except subprocess.TimeoutExpired:
        raise GitFailed(f"git {args[0]} timed out after {GIT_TIMEOUT:g}s in {repo}") from None
    if proc.returncode != 0:
        raise GitFailed(f"git {args[0]} failed in {repo}: {_said(proc.stderr, proc.stdout)}")
    return proc.stdout


def git_text(repo: Path, *args: str, options: Sequence[str] = (),
             env: dict[str, str] | None = None, needed_for: str = "this command") -> str:
    """`git` decoded as UTF-8 (a byte Git passes through undecodable is replaced)."""
    return git(repo, *args, options=options, env=env,
               needed_for=needed_for).decode("utf-8", "replace")


def export_tree(repo: Path, treeish: str, dest: Path) -> None:
    """Write the tree `treeish` (a commit, or `commit:folder`) into `dest`, without `.git`.

    Through a private index, so the user's index is untouched, and not with `git archive`,
    whose `export-ignore` attributes would drop files the commit holds (and Kustomize reads).
    """
    # From the top of the work tree: in a subfolder, checkout-index writes only the entries
    # under it, though the private index holds `treeish` from its root.
    top = Path(git(repo, "rev-parse", "--show-toplevel").decode("utf-8").strip())
    with fsutil.temp_dir("llmops-gate-index-") as tmp:
        index = str(Path(tmp) / "index")
        git(top, "read-tree", f"--index-output={index}", treeish)
        git(top, "checkout-index", "-a", "-f", f"--prefix={dest.resolve()}/",
            env={**os.environ, "GIT_INDEX_FILE": index})
