"""The pre-commit hooks, run by real pre-commit from a Git checkout of this project.

pre-commit installs the project (and its dependencies, from PyPI) into an environment of its
own. `try-repo` does that in a fresh temporary store on every call, so it is used once; the
other runs go the way users run the hooks (a `.pre-commit-config.yaml` naming the checkout,
`pre-commit run`), in one test so that environment is installed once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, ROOT, copy_tree, git, init_git_repo, run_cli

NETWORK_TROUBLE = ("Could not find a version", "NewConnectionError", "Failed to establish",
                   "Temporary failure in name resolution", "No matching distribution",
                   "ProxyError", "Network is unreachable")


def project_files() -> list[str]:
    """The project's files as Git sees them (tracked or new, not ignored), else every file."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True,
                             timeout=60).stdout.decode()
        return sorted(f for f in set(out.split("\0")) if f and (ROOT / f).is_file())
    except (subprocess.CalledProcessError, FileNotFoundError):
        skip = {".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
        return sorted(p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
                      if p.is_file() and not skip & set(p.relative_to(ROOT).parts))


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Git repo holding this project as it is now: what `repo:` points pre-commit at."""
    dst = tmp_path_factory.mktemp("project") / "llmops-gate"
    for rel in project_files():
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    return init_git_repo(dst, "the project under test")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


class PreCommit:
    def __init__(self, checkout: Path, home: Path) -> None:
        self.checkout = checkout
        self.env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1",
                    "PRE_COMMIT_COLOR": "never", "GIT_AUTHOR_NAME": "Test",
                    "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
                    "GIT_COMMITTER_EMAIL": "test@example.com"}
        self.env.pop("PYTHONPATH", None)  # the hooks must run the installed copy, not ours

    def try_repo(self, repo: Path, hook: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run(repo, "try-repo", str(self.checkout), hook, "--verbose", *args)

    def configure(self, repo: Path, *hooks: str) -> None:
        """A `.pre-commit-config.yaml` naming the checkout at its commit, as users write it."""
        rev = git(self.checkout, "rev-parse", "HEAD").strip()
        config = {"repos": [{"repo": str(self.checkout), "rev": rev,
                             "hooks": [{"id": hook} for hook in hooks]}]}
        (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))

    def run(self, repo: Path, hook: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run(repo, "run", hook, "--verbose", *args)

    def _run(self, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "pre_commit", *args],
            cwd=repo, env=self.env, capture_output=True, text=True, timeout=900, check=False)
        output = proc.stdout + proc.stderr
        if proc.returncode not in (0, 1) and any(s in output for s in NETWORK_TROUBLE):
            pytest.skip("pre-commit could not install llmops-gate's dependencies from PyPI "
                        "(no network?)")
        assert "An unexpected error has occurred" not in output, output
        return proc


@pytest.fixture(scope="module")
def pre_commit(checkout: Path, pre_commit_home: Path) -> PreCommit:
    return PreCommit(checkout, pre_commit_home)


@pytest.fixture
def gitops(tmp_path: Path) -> Iterator[Path]:
    yield init_git_repo(copy_tree(EXAMPLE, tmp_path / "gitops"))


def test_hooks_file_declares_the_four_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"llmops-gate-validate", "llmops-gate-lint", "llmops-gate-schema",
                          "llmops-gate-policy"}
    assert all(h["language"] == "python" for h in hooks.values())
    assert hooks["llmops-gate-validate"]["pass_filenames"] is False
    assert hooks["llmops-gate-lint"].get("pass_filenames", True) is True
    assert hooks["llmops-gate-schema"]["entry"].endswith("--only schema")
    assert hooks["llmops-gate-policy"]["entry"].endswith("--only policy")
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest",
                           str(ROOT / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_try_repo_validate_passes_on_the_example(pre_commit: PreCommit, gitops: Path) -> None:
    ok = pre_commit.try_repo(gitops, "llmops-gate-validate", "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "llmops-gate validate" in ok.stdout and "Passed" in ok.stdout


@pytest.mark.slow
def test_configured_hooks_catch_a_broken_overlay_and_lint_only_changed_files(
        pre_commit: PreCommit, gitops: Path) -> None:
    # One test, so pre-commit installs the hook environment once whatever xdist does.
    # A committed file with an error: never staged again, so the lint hook must not see it.
    (gitops / "argocd-apps/old.yaml").write_text("a: 1\na: 2\n")
    pre_commit.configure(gitops, "llmops-gate-lint", "llmops-gate-validate")
    git(gitops, "add", "-A")
    git(gitops, "commit", "-q", "-m", "an old mistake")

    staging = gitops / "deploy_model/overlays/staging/size.yaml"
    staging.unlink()
    bad = pre_commit.run(gitops, "llmops-gate-validate", "--all-files")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "deploy_model/overlays/staging" in bad.stdout
    assert "kustomize-build" in bad.stdout and "size.yaml" in bad.stdout
    git(gitops, "checkout", "HEAD", "--", str(staging))

    dev = gitops / "deploy_model/overlays/dev/size.yaml"
    dev.write_text(dev.read_text().replace("minReplicas: 1", "minReplicas: 1\n    minReplicas: 2"))
    git(gitops, "add", str(dev))
    bad = pre_commit.run(gitops, "llmops-gate-lint")
    out = bad.stdout + bad.stderr
    assert bad.returncode == 1, out
    assert "deploy_model/overlays/dev/size.yaml:10:5: error yaml-key-duplicates" in out
    assert "old.yaml" not in out
    assert "lint: 1 file:" in out

    git(gitops, "checkout", "HEAD", "--", str(dev))
    dev.write_text(dev.read_text().replace("memory: 6Gi", "memory: 7Gi"))
    git(gitops, "add", str(dev))
    ok = pre_commit.run(gitops, "llmops-gate-lint")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "lint: 1 file: 0 errors" in ok.stdout + ok.stderr

    # The GitOps repo as a folder of a bigger repository, hooked up as the README says: the
    # finding names the file from the Git root, where pre-commit runs (same hook environment).
    outer = gitops.parent / "monorepo"
    copy_tree(EXAMPLE, outer / "gitops")
    (outer / "gitops/argocd-apps/old.yaml").write_text("a: 1\na: 2\n")
    init_git_repo(outer)
    pre_commit.configure(outer, "llmops-gate-lint")
    config = yaml.safe_load((outer / ".pre-commit-config.yaml").read_text())
    config["repos"][0]["hooks"][0].update({"args": ["--repo", "gitops"], "files": "^gitops/"})
    (outer / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    inner = outer / "gitops/deploy_model/overlays/dev/size.yaml"
    inner.write_text(inner.read_text().replace("minReplicas: 1",
                                               "minReplicas: 1\n    minReplicas: 2"))
    git(outer, "add", str(inner))
    bad = pre_commit.run(outer, "llmops-gate-lint")
    out = bad.stdout + bad.stderr
    assert bad.returncode == 1, out
    assert "\ngitops/deploy_model/overlays/dev/size.yaml:10:5: error yaml-key-duplicates" in out
    assert "old.yaml" not in out and "lint: 1 file:" in out


def test_lint_command_lints_only_the_named_files(example_repo: Path) -> None:
    (example_repo / "broken.yaml").write_text("a: [1\n")
    (example_repo / "dupes.yaml").write_text("a: 1\na: 2\n")
    result = run_cli("lint", "dupes.yaml", cwd=example_repo)
    assert result.code == 1
    assert result.stdout.splitlines() == [
        'dupes.yaml:2:1: error yaml-key-duplicates: duplication of key "a" in mapping '
        "(key-duplicates)"]
    assert run_cli("lint", "deploy_model/base/kustomization.yaml", cwd=example_repo).code == 0
    (example_repo / "latin1.yaml").write_bytes(b"a: 1\nb: caf\xe9\n")
    result = run_cli("lint", "latin1.yaml", cwd=example_repo)
    assert result.code == 1
    assert result.stdout == "latin1.yaml:2: error yaml-encoding: file is not UTF-8 text\n"


def test_lint_command_names_files_as_given_from_a_bigger_repo(tmp_path: Path) -> None:
    """Run from the root of a repository whose GitOps repo is the folder `gitops/` (as
    pre-commit runs it there): paths as named on the command line, the folder's config used."""
    outer = tmp_path / "monorepo"
    repo = copy_tree(EXAMPLE, outer / "gitops")
    (repo / "dupes.yaml").write_text("a: 1\na: 2\n")
    (repo / "skipped.yaml").write_text("a: 1\na: 2\n")
    cfg = repo / ".llmops-gate.yaml"
    cfg.write_text(cfg.read_text() + "exclude:\n  - skipped.yaml\n")
    result = run_cli("lint", "--repo", "gitops", "gitops/dupes.yaml", "./gitops/skipped.yaml",
                     cwd=outer)
    assert result.code == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        'gitops/dupes.yaml:2:1: error yaml-key-duplicates: duplication of key "a" in mapping '
        "(key-duplicates)"]
    inside = run_cli("lint", "dupes.yaml", cwd=repo)  # from the GitOps folder: as before
    assert inside.stdout.startswith("dupes.yaml:2:1: error yaml-key-duplicates")


def test_lint_command_warnings_fail_only_with_strict(example_repo: Path) -> None:
    (example_repo / "spaces.yaml").write_text("a: 1   \n")
    relaxed = run_cli("lint", "spaces.yaml", cwd=example_repo)
    assert relaxed.code == 0
    assert "spaces.yaml:1:5: warning yaml-trailing-spaces" in relaxed.stdout
    assert run_cli("lint", "--strict", "spaces.yaml", cwd=example_repo).code == 1


def test_lint_command_uses_the_repo_config_and_excludes(example_repo: Path) -> None:
    (example_repo / ".yamllint").write_text("extends: default\nrules:\n  key-duplicates: "
                                            "disable\n  document-start: disable\n")
    (example_repo / "dupes.yaml").write_text("a: 1\na: 2\n")
    assert run_cli("lint", "dupes.yaml", cwd=example_repo).code == 0
    (example_repo / ".yamllint").unlink()
    cfg = example_repo / ".llmops-gate.yaml"
    cfg.write_text(cfg.read_text() + "exclude:\n  - dupes.yaml\n")
    assert run_cli("lint", "dupes.yaml", cwd=example_repo).code == 0
    outside = run_cli("lint", str(EXAMPLE / "README.md"), cwd=example_repo)
    assert outside.code == 2 and "not inside the repo" in outside.stderr
