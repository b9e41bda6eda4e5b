"""One export of a commit's tree for every reader of history (`--changed-since`, `plan`,
promotion, rollback): the same files, `export-ignore` or not, the user's index untouched."""

from __future__ import annotations

from pathlib import Path

from llmops_gate.gitops.git import Repo
from llmops_gate.repo.changes import export_revision
from llmops_gate.repo.git import export_tree
from tests.conftest import git, init_git_repo


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file()}


def make(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    (repo / "app" / "base").mkdir(parents=True)
    (repo / "app" / "base" / "kustomization.yaml").write_text("resources:\n  - cm.yaml\n")
    (repo / "app" / "base" / "cm.yaml").write_text("kind: ConfigMap\n")
    # `git archive` would leave this file out; Kustomize reads it all the same.
    (repo / ".gitattributes").write_text("app/base/cm.yaml export-ignore\n")
    init_git_repo(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "app" / "base" / "cm.yaml").write_text("kind: Secret\n")  # a work-tree edit
    git(repo, "add", "-A")  # ... and a staged one: neither reaches an export of HEAD
    return repo, head


def test_the_export_holds_what_the_commit_holds(tmp_path: Path) -> None:
    repo, head = make(tmp_path)
    status = git(repo, "status", "--porcelain")
    out = tmp_path / "a"
    export_tree(repo, head, out)
    assert files(out) == {".gitattributes": "app/base/cm.yaml export-ignore\n",
                          "app/base/cm.yaml": "kind: ConfigMap\n",
                          "app/base/kustomization.yaml": "resources:\n  - cm.yaml\n"}
    assert git(repo, "status", "--porcelain") == status  # the user's index as it was


def test_promotion_and_changed_since_read_the_same_tree(tmp_path: Path) -> None:
    repo, head = make(tmp_path)
    promoted, changed, sub = tmp_path / "p", tmp_path / "c", tmp_path / "s"
    r = Repo(repo)
    try:
        r.export(head, promoted)
    finally:
        r.close()
    changed.mkdir()
    export_revision(repo, head, changed)
    assert files(promoted) == files(changed)
    assert files(changed)["app/base/cm.yaml"] == "kind: ConfigMap\n"
    # Run from a folder inside the work tree, the export is that folder's tree.
    sub.mkdir()
    export_revision(repo / "app", head, sub)
    assert files(sub) == {"base/cm.yaml": "kind: ConfigMap\n",
                          "base/kustomization.yaml": "resources:\n  - cm.yaml\n"}
