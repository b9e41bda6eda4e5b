"""The engine says a problem two validators both see once, whichever of them run
(`validators.SUPERSEDED`), so no validator needs to know its siblings."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate import validators
from llmops_gate.engine import Options, validate_repo
from llmops_gate.model import Finding, Severity
from tests.conftest import EXAMPLE, copy_tree


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_tree(EXAMPLE, tmp_path_factory.mktemp("merge") / "repo")
    (root / "dupes.yaml").write_text("a: 1\nb: 2\na: 3\n")
    (root / "tabs.yaml").write_text("a:\n\tb: 1\n")
    return root


def seen(repo: Path, only: list[str]) -> set[tuple[str, str, str | None, int | None]]:
    report = validate_repo(repo, Options(only=only, jobs=2))
    return {(f.validator, f.rule, f.file, f.line) for f in report.findings
            if f.file in ("dupes.yaml", "tabs.yaml")}


def test_parse_and_lint_together_say_each_problem_once(repo: Path) -> None:
    found = seen(repo, ["lint", "parse"])
    assert ("parse", "yaml-key-duplicates", "dupes.yaml", 3) in found
    assert not any(v == "lint" and r == "yaml-key-duplicates" for v, r, _, _ in found)
    assert ("lint", "yaml-syntax", "tabs.yaml", 2) in found
    assert not any(v == "parse" and r == "yaml-syntax" for v, r, _, _ in found)


def test_alone_each_reports_what_the_other_would(repo: Path) -> None:
    assert ("lint", "yaml-key-duplicates", "dupes.yaml", 3) in seen(repo, ["lint"])
    assert ("parse", "yaml-syntax", "tabs.yaml", 2) in seen(repo, ["parse"])


def test_merge_keeps_builds_parse_error_only_without_lint_and_parse() -> None:
    f = Finding(validator="build", rule="parse-error", severity=Severity.ERROR, message="x")
    assert validators.merge([f], ["build"]) == [f]
    assert validators.merge([f], ["build", "lint"]) == []
    assert validators.merge([f], ["build", "parse"]) == []
