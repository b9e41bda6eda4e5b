"""`promote` renders each (state of the tree, environment) once: before, without the tool's
patch file, promoted; verify and the validators share the promoted render.

Counted through a real Kustomize: a `kustomize` on the command line that logs each overlay it
is asked to build with a digest of that overlay's files (its state), then execs the real
`kubectl kustomize`. It is not a stand-in: every build still happens, for real.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from llmops_gate.engine import Options, validate_repo
from llmops_gate.gitops.snapshot import Tree
from llmops_gate.report.json_report import render
from tests.conftest import EXAMPLE, cli_env, copy_tree, git, run_cli
from tests.gitops.helpers import OVERLAYS, change_dev, example_git

LOGGING_KUSTOMIZE = f"""#!{sys.executable}
import hashlib
import os
import sys
from pathlib import Path

import yaml

wrapper = Path(sys.argv[-1])  # llmops-gate's wrapper kustomization, listing the overlay(s)
data = yaml.safe_load((wrapper / "kustomization.yaml").read_text(encoding="utf-8"))
with open(os.environ["RENDER_LOG"], "a", encoding="utf-8") as log:
    for rel in data.get("resources") or []:
        folder = (wrapper / rel).resolve()
        digest = hashlib.sha256()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(path.name.encode() + b"\\0" + path.read_bytes() + b"\\0")
        log.write(f"{{folder}}\\t{{digest.hexdigest()}}\\n")
os.execvp("kubectl", ["kubectl", "kustomize", *sys.argv[2:]])
"""


def _logging_kustomize(tmp_path: Path) -> Path:
    kustomize = tmp_path / "bin" / "kustomize"
    kustomize.parent.mkdir()
    kustomize.write_text(LOGGING_KUSTOMIZE, encoding="utf-8")
    kustomize.chmod(0o755)
    return kustomize


def _promote_counting(repo: Path, tmp_path: Path) -> Counter[tuple[str, str]]:
    """Promote dev to staging and production (validators on); (overlay, state) -> builds."""
    kustomize = _logging_kustomize(tmp_path)
    log = tmp_path / "builds.log"
    result = run_cli("promote", "--repo", repo, "--kustomize", kustomize,
                     env=cli_env({"RENDER_LOG": str(log)}))
    assert result.code == 0, result.stdout + result.stderr
    assert "promoted dev@" in result.stdout
    builds: Counter[tuple[str, str]] = Counter()
    for line in log.read_text(encoding="utf-8").splitlines():
        folder, state = line.split("\t")
        overlay = folder.split("/tree/", 1)[1]  # inside the promotion's private export
        builds[(overlay, state)] += 1
    return builds


def _states(builds: Counter[tuple[str, str]]) -> dict[str, int]:
    """Overlay -> how many different states of it were built."""
    return dict(Counter(overlay for overlay, _ in builds))


def test_promote_renders_each_state_of_each_environment_once(tmp_path: Path) -> None:
    repo = example_git(tmp_path / "repo")
    change_dev(repo)
    # A first promotion gives the targets the tool's patch file, so the counted one below has
    # every state there is: a target before, without that file, and promoted.
    assert run_cli("promote", "--repo", repo, "--no-validate").code == 0
    dev = repo / OVERLAYS / "dev" / "kustomization.yaml"
    dev.write_text(dev.read_text().replace("--gpu-memory-utilization=0.75",
                                           "--gpu-memory-utilization=0.8"))
    git(repo, "commit", "-qam", "dev: 0.8")
    builds = _promote_counting(repo, tmp_path)
    assert set(builds.values()) == {1}, builds
    # dev as it is; each target before, without the patch file, and promoted: verify and the
    # validators of the promoted targets (on, as by default) share that last build.
    assert _states(builds) == {f"{OVERLAYS}/dev": 1, f"{OVERLAYS}/staging": 3,
                               f"{OVERLAYS}/production": 3}


def test_validators_given_the_renders_report_as_if_they_built_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The seam promote uses: `validate_repo` given a tree's renders builds nothing and
    reports exactly what it reports when it builds the overlays itself."""
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    size = repo / OVERLAYS / "production" / "size.yaml"
    size.write_text(size.read_text().replace("minReplicas: 2", "minReplicas: 1"))
    kustomize = str(_logging_kustomize(tmp_path))
    log = tmp_path / "builds.log"
    monkeypatch.setenv("RENDER_LOG", str(log))
    fresh = validate_repo(repo, Options(kustomize=kustomize))
    tree = Tree.open(repo, kustomize)
    prebuilt = {r.unit.path: r for env in tree.chain.names for r in tree.render(env).results}
    built = len(log.read_text(encoding="utf-8").splitlines())
    given = validate_repo(repo, Options(kustomize=kustomize, prebuilt=prebuilt))
    assert len(log.read_text(encoding="utf-8").splitlines()) == built  # nothing built again
    assert render(given) == render(fresh)
    assert ("replicas-within-bounds", f"{OVERLAYS}/production/size.yaml", 9) in {
        (f.rule, f.file, f.line) for f in given.findings}
