"""Git on its command line, for the parts of the tool that read a repository's history: one
runner (argument list, a timeout, Git's own message on failure) and one export of a commit's
tree, used by `--changed-since` and `plan` (repo/changes) and by promotion and rollback
(gitops), so all of them see the same files of a commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from llmops_gate.errors import GateError
from llmops_gate.yamlio import fsutil

GIT_TIMEOUT = 120.0


def git(repo: Path, *args: str, env: dict[str, str] | None = None,
        needed_for: str = "this command") -> bytes:
    """`git -C repo ARGS`'s standard output; a GateError with Git's last line on failure."""
    program = shutil.which("git")
    if program is None:
        raise GateError(f"{needed_for} needs Git, and 'git' is not on PATH")
    try:
        proc = subprocess.run(  # argv list, no shell
            [program, "-C", str(repo), *args], capture_output=True, timeout=GIT_TIMEOUT,
            stdin=subprocess.DEVNULL, check=False, env=env,
        )
    except subprocess.TimeoutExpired:
        raise GateError(f"git {args[0]} timed out after {GIT_TIMEOUT:g}s in {repo}") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GateError(f"git {args[0]} failed in {repo}: {err[-1] if err else 'no message'}")
    return proc.stdout


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
