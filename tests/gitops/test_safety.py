"""Promotion refuses unsafe states with exit 2 (or exit 1 for a failing check) and leaves the
repository exactly as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmops_gate import validators
from llmops_gate.gitops import promote
from llmops_gate.gitops.promote import Refused
from llmops_gate.model import Finding, Severity
from llmops_gate.validators.context import Context
from tests.conftest import git, run_cli
from tests.gitops.helpers import OVERLAYS, change_dev, clone_tree, example_git, head, snapshot


@pytest.fixture(scope="module")
def dev_changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = example_git(tmp_path_factory.mktemp("template") / "repo")
    change_dev(repo)
    return repo


@pytest.fixture
def repo(dev_changed: Path, tmp_path: Path) -> Path:
    return clone_tree(dev_changed, tmp_path / "repo")


def _refused_unchanged(repo: Path, *args: str, code: int = 2) -> str:
    files, before = snapshot(repo), head(repo)
    index = git(repo, "ls-files", "--stage")
    result = run_cli("promote", "--repo", repo, *args)
    assert result.code == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(repo) == files
    assert head(repo) == before
    assert git(repo, "ls-files", "--stage") == index
    return result.stderr


def test_dirty_target_overlay_is_refused(repo: Path) -> None:
    size = repo / OVERLAYS / "staging" / "size.yaml"
    size.write_text(size.read_text().replace("maxReplicas: 2", "maxReplicas: 4"))
    err = _refused_unchanged(repo)
    assert "uncommitted changes" in err
    assert f"{OVERLAYS}/staging/size.yaml" in err


def test_untracked_file_in_target_overlay_is_refused(repo: Path) -> None:
    (repo / OVERLAYS / "production" / "notes.yaml").write_text("a: 1\n")
    assert "uncommitted changes" in _refused_unchanged(repo)


def test_dirty_file_outside_targets_is_fine(repo: Path) -> None:
    (repo / "README.md").write_text("local notes\n")
    result = run_cli("promote", "--repo", repo, "--no-validate")
    assert result.code == 0, result.stderr
    assert (repo / "README.md").read_text() == "local notes\n"
    assert "README.md" not in git(repo, "show", "--name-only", "--format=", "HEAD")


def test_detached_head_is_refused(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    assert "detached" in _refused_unchanged(repo)


def test_merge_in_progress_is_refused(repo: Path) -> None:
    (repo / ".git" / "MERGE_HEAD").write_text(head(repo) + "\n")
    assert "merge is in progress" in _refused_unchanged(repo)


def test_unknown_environment_is_refused(repo: Path) -> None:
    err = _refused_unchanged(repo, "--to", "qa")
    assert "unknown environment 'qa'" in err


def test_source_that_does_not_build_is_refused(repo: Path) -> None:
    (repo / OVERLAYS / "dev" / "model.yaml").unlink()
    git(repo, "commit", "-q", "-am", "break dev")
    err = _refused_unchanged(repo)
    assert "source environment 'dev' does not build" in err


def test_not_a_git_repo_is_refused(tmp_path: Path) -> None:
    result = run_cli("promote", "--repo", tmp_path)
    assert result.code == 2
    assert "not a Git repository" in result.stderr


def test_failing_verify_writes_nothing(repo: Path) -> None:
    # staging's own replacement overwrites an argument after every patch: the promoted
    # arguments cannot come through, so the verify step must refuse.
    k = repo / OVERLAYS / "staging" / "kustomization.yaml"
    k.write_text(k.read_text() + """
replacements:
  - source:
      kind: InferenceService
      fieldPath: metadata.annotations.[openshift.io/display-name]
    targets:
      - select:
          kind: ServingRuntime
        fieldPaths:
          - spec.containers.[name=kserve-container].args.3
""")
    git(repo, "commit", "-q", "-am", "staging: replacement")
    err = _refused_unchanged(repo, code=1)
    assert "do not render as planned" in err
    assert "promote-verify" in err
    assert "container.kserve-container.args" in err
    assert not (repo / ".git" / "llmops-gate" / "journal.json").exists()


def test_hooks_do_not_run_unless_asked(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    marker = repo.parent / "hook-ran"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    hook.chmod(0o755)
    result = run_cli("promote", "--repo", repo, "--to", "staging", "--no-validate")
    assert result.code == 0, result.stderr
    assert not marker.exists()
    result = run_cli("promote", "--repo", repo, "--to", "production", "--run-hooks",
                     "--no-validate")
    assert result.code == 2
    assert marker.exists()
    assert "git commit failed" in result.stderr
    assert git(repo, "status", "--porcelain") == ""


def refuse_staging(ctx: Context) -> Iterator[Finding]:
    """A validator for the test below: an error on every staging overlay it sees."""
    for result in ctx.results:
        if result.unit.environment == "staging":
            yield Finding(validator="test", rule="always-refuse", severity=Severity.ERROR,
                          message="staging refused by the test validator",
                          overlay=result.unit.path, environment="staging")


def test_validator_errors_on_targets_block_the_commit(repo: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(validators.REGISTRY, "test", f"{__name__}:refuse_staging")
    files, before = snapshot(repo), head(repo)
    with pytest.raises(Refused) as refused:
        promote.run(promote.Request(repo=repo), lambda _msg: None)
    assert "validators found errors" in str(refused.value)
    assert {f.rule for f in refused.value.findings} == {"always-refuse"}
    assert snapshot(repo) == files and head(repo) == before


def test_target_with_a_remote_base_is_refused_without_running_kustomize(repo: Path) -> None:
    # The same guard as `validate`: a promotion never lets Kustomize fetch a remote base.
    kfile = repo / OVERLAYS / "staging" / "kustomization.yaml"
    kfile.write_text(kfile.read_text().replace(
        "  - ../../base\n",
        "  - ../../base\n  - https://github.com/example-org/evil//base?ref=main\n"))
    git(repo, "commit", "-qam", "staging: remote base")
    err = _refused_unchanged(repo)
    assert "cannot be built safely" in err
    assert f"{OVERLAYS}/staging/kustomization.yaml" in err
