"""The few Git operations a promotion needs, through the one Git runner (`repo.git.git`).

Commits and pushes run with `core.hooksPath` pointed at an empty folder, so no hook from the
repository runs (pre-commit, commit-msg, prepare-commit-msg, post-commit, pre-push) unless the
caller asks for them.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmops_gate.errors import GateError
from llmops_gate.repo.git import GitFailed, export_tree, git_text
from llmops_gate.yamlio import fsutil

TRAILER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.*)$")
NEEDED_FOR = "promotion"


class Repo:
    """A Git work tree opened for a promotion (`path` is its top folder)."""

    def __init__(self, path: Path) -> None:
        not_a_repo = GateError(f"{path}: not a Git repository (promotion commits; run it in "
                               "the root of a Git work tree)")
        if not path.is_dir():
            raise not_a_repo
        try:
            bare, git_dir = git_text(path, "rev-parse", "--is-bare-repository",
                                     "--absolute-git-dir", needed_for=NEEDED_FOR).splitlines()
        except GitFailed:
            raise not_a_repo from None
        if bare == "true":
            raise GateError(f"{path}: a bare repository has no work tree to promote in")
        top = git_text(path, "rev-parse", "--show-toplevel", needed_for=NEEDED_FOR).strip()
        if Path(top).resolve() != path.resolve():
            raise not_a_repo  # a folder inside a work tree: its top is where promotion runs
        self.root = Path(top).resolve()
        self.git_dir = Path(git_dir).resolve()
        self._empty_hooks = tempfile.mkdtemp(prefix="llmops-gate-nohooks-")
        fsutil.track_temp(self._empty_hooks)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.rmdir(self._empty_hooks)
        fsutil.untrack_temp(self._empty_hooks)

    def run(self, *args: str, hooks: bool = False,
            env: dict[str, str] | None = None) -> str:
        """`git ARGS` in the work tree (its output without the last newline); GitFailed with
        Git's message on failure. The repository's hooks run only with `hooks=True`."""
        options = () if hooks else ("-c", f"core.hooksPath={self._empty_hooks}")
        out = git_text(self.root, *args, options=options, env=env, needed_for=NEEDED_FOR)
        return out.removesuffix("\n")

    # --- state -----------------------------------------------------------------------------

    def head_sha(self) -> str:
        return self.run("rev-parse", "HEAD").strip()

    def branch(self) -> str | None:
        """The current branch name, or None when HEAD is detached."""
        try:
            name = self.run("symbolic-ref", "-q", "--short", "HEAD").strip()
        except GitFailed:
            return None
        return name or None

    def operation_in_progress(self) -> str | None:
        checks = {"MERGE_HEAD": "a merge", "rebase-merge": "a rebase", "rebase-apply":
                  "a rebase or am", "CHERRY_PICK_HEAD": "a cherry-pick",
                  "REVERT_HEAD": "a revert", "BISECT_LOG": "a bisect"}
        for name, what in checks.items():
            if (self.git_dir / name).exists():
                return what
        return None

    def dirty(self, paths: Sequence[str]) -> list[str]:
        """Files under `paths` with staged, unstaged or untracked changes."""
        if not paths:
            return []
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--",
                       *paths)
        files = []
        entries = out.split("\0")
        i = 0
        while i < len(entries):
            entry = entries[i]
            if len(entry) > 3:
                files.append(entry[3:])
                if entry[0] in "RC":
                    i += 1
            i += 1
        return sorted(files)

    def export(self, commit: str, dest: Path) -> None:
        """Write the tree of `commit` into `dest` (no .git): the one export every reader of
        a commit uses (`repo.git.export_tree`)."""
        export_tree(self.root, commit, dest)

    def is_ancestor(self, older: str, newer: str) -> bool:
        try:
            self.run("merge-base", "--is-ancestor", older, newer)
        except GitFailed:
            return False
        return True

    def config_value(self, key: str) -> str | None:
        try:
            return self.run("config", "--get", key).strip() or None
        except GitFailed:
            return None

    # --- changes ---------------------------------------------------------------------------

    def commit_paths(self, paths: Sequence[str], message: str, author: str | None,
                     run_hooks: bool) -> str:
        """Commit exactly `paths` (other staged changes stay staged, uncommitted)."""
        self.run("add", "--", *paths)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False,
                                         encoding="utf-8") as fh:
            fh.write(message)
        argv = ["commit", "-q", "--only", "--cleanup=strip", "-F", fh.name]
        if not run_hooks:
            argv.append("--no-verify")
        if author:
            argv += ["--author", author]
        try:
            self.run(*argv, "--", *paths, hooks=run_hooks)
        finally:
            os.unlink(fh.name)
        return self.head_sha()

    def reset_paths(self, paths: Sequence[str]) -> None:
        """Unstage `paths` (index back to HEAD for them)."""
        if paths:
            self.run("reset", "-q", "--", *paths)

    def log_messages(self, rev: str = "HEAD",
                     max_count: int = 2000) -> Iterator[tuple[str, str, int, str]]:
        """(sha, author, unix time, message) from `rev` back."""
        out = self.run("log", f"--max-count={max_count}", "--format=%H%x1f%an <%ae>%x1f%at"
                       "%x1f%B%x1e", rev)
        for record in out.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            sha, author, when, body = record.split("\x1f", 3)
            yield sha, author, int(when), body


@dataclass(frozen=True)
class Trailers:
    items: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        for k, v in self.items:
            if k.lower() == key.lower():
                return v
        return None


def parse_trailers(message: str) -> Trailers:
    """The `Key: value` lines of a commit message's last paragraph."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return Trailers(())
    items = []
    for line in paragraphs[-1].splitlines():
        m = TRAILER_RE.match(line.strip())
        if not m:
            return Trailers(())
        items.append((m.group(1), m.group(2).strip()))
    return Trailers(tuple(items))
