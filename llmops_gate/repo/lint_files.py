"""`llmops-gate lint FILE...`: yamllint on the named files only, with the repo's lint config.

This is what the `llmops-gate-lint` pre-commit hook runs: pre-commit passes the staged files,
so a commit is checked in the time yamllint takes on those files, not on the whole repo. The
config in force is the one `validate` uses (`lint.config`, the repo's `.yamllint*`, else the
built-in one), and the config's `exclude` globs and yamllint's `ignore` are honoured.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from yamllint.config import YamlLintConfig

from llmops_gate.config import Config, load_config
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Severity
from llmops_gate.repo.discover import RepoScan, _excluded
from llmops_gate.validators.context import Context
from llmops_gate.validators.lint import lint_text, load_lint_config
from llmops_gate.yamlio.sourcemap import SourceMap


def repo_relative(repo: Path, name: str) -> str:
    """`name` (relative to the working folder, or absolute) as a POSIX path inside `repo`."""
    path = Path(os.path.abspath(name))
    try:
        return path.relative_to(repo).as_posix()
    except ValueError:
        raise GateError(f"{name}: not inside the repo {repo}") from None


def lint_file(repo: Path, file: str, conf: YamlLintConfig) -> Iterator[Finding]:
    """yamllint findings for one repo-relative file; an unreadable or non-UTF-8 file is one
    finding, with the rule ids the `lint` validator uses for them."""
    try:
        raw = (repo / file).read_bytes()
    except OSError as exc:
        yield Finding(validator="lint", rule="yaml-unreadable", severity=Severity.ERROR,
                      message=f"cannot read file: {exc.strerror or exc}", file=file)
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield Finding(validator="lint", rule="yaml-encoding", severity=Severity.ERROR,
                      message="file is not UTF-8 text", file=file,
                      line=raw[: exc.start].count(b"\n") + 1)
        return
    yield from lint_text(text, file, conf)


def lint_files(repo: Path, files: Sequence[str], config: Config | None = None) -> Iterator[Finding]:
    """Lint `files` (repo-relative) with the repo's yamllint config."""
    config = config if config is not None else load_config(repo)
    ctx = Context(repo=repo, config=config, scan=RepoScan(repo=repo, yaml_files=[],
                                                          kustomizations={}),
                  results=[], sources=SourceMap(repo))
    conf, _ = load_lint_config(ctx)
    for file in dict.fromkeys(files):
        if _excluded(file, config.exclude) or conf.is_file_ignored(file):
            continue
        yield from lint_file(repo, file, conf)


