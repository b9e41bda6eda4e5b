"""Input meant to exhaust Kustomize is screened before Kustomize sees it.

Each case plants one class of resource-exhaustion input where an overlay's build would read it
(issue 12: a "billion laughs" alias bomb in a resource, in a strategic-merge patch, in a
generator's source file and in a component; a very deep document; a kustomization tree with
thousands of entries; a single huge scalar) and runs the real CLI with real Kustomize, bounded
(tests/bounded.py: an address-space rlimit, a kill at the timeout). Each must give a finding
naming the file within 10 s, leave no process behind, and keep the whole process tree under
500 MB, measured while it runs. The overlays the input does not reach are still built.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bounded import run_bounded
from tests.conftest import EXAMPLE, copy_tree

DEV = "deploy_model/overlays/dev"
BASE = "deploy_model/base"
MB = 1000 * 1000
BOUND_SECONDS = 10  # the bound on one run; the run is killed there
HEADER = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n"


def billion_laughs(key: str = "extra") -> str:
    """Nine nested anchors: 387 million nodes after expansion, under 1 KB as text."""
    text = f"{key}:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    prev = "a"
    for name in "bcdefghi":
        text += f"  {name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


def _write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _append(repo: Path, rel: str, text: str) -> None:
    with (repo / rel).open("a", encoding="utf-8") as fh:
        fh.write(text)


def _add_resource(repo: Path, kustomization: str, ref: str) -> None:
    path = repo / kustomization
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("resources:\n", f"resources:\n  - {ref}\n", 1),
                    encoding="utf-8")


def bomb_in_resource(repo: Path) -> None:
    _write(repo, f"{BASE}/bomb.yaml", HEADER + billion_laughs())
    _add_resource(repo, f"{BASE}/kustomization.yaml", "bomb.yaml")


def bomb_in_strategic_merge_patch(repo: Path) -> None:
    _write(repo, f"{DEV}/bomb-patch.yaml", HEADER + billion_laughs())
    _append(repo, f"{DEV}/kustomization.yaml", "patchesStrategicMerge:\n  - bomb-patch.yaml\n")


def bomb_in_generator_source(repo: Path) -> None:
    _write(repo, f"{DEV}/model-config.yaml", billion_laughs())
    _append(repo, f"{DEV}/kustomization.yaml",
            "configMapGenerator:\n  - name: model-config\n    files:\n"
            "      - model-config.yaml\n")


def bomb_in_component(repo: Path) -> None:
    _write(repo, "components/tuning/kustomization.yaml",
           "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
           "resources:\n  - bomb.yaml\n")
    _write(repo, "components/tuning/bomb.yaml", HEADER + billion_laughs())
    _append(repo, f"{DEV}/kustomization.yaml", "components:\n  - ../../../components/tuning\n")


def deep_document(repo: Path) -> None:
    _write(repo, f"{DEV}/deep.yaml", HEADER + "data:\n  x: " + "[" * 10_000 + "]" * 10_000
           + "\n")
    _add_resource(repo, f"{DEV}/kustomization.yaml", "deep.yaml")


def thousands_of_inclusions(repo: Path) -> None:
    # Thirteen levels of two bases that both include both bases of the next level: 25 small
    # kustomizations, but Kustomize builds the last level 2^12 = 4096 times.
    levels = 13
    for level in range(levels):
        for side in "ab" if level else "a":
            refs = [f"../{level + 1}{s}" for s in "ab"] if level + 1 < levels else ["cm.yaml"]
            _write(repo, f"fanout/{level}{side}/kustomization.yaml",
                   "resources:\n" + "".join(f"  - {r}\n" for r in refs))
            if level + 1 == levels:
                _write(repo, f"fanout/{level}{side}/cm.yaml",
                       f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{side}\n")
    _add_resource(repo, f"{DEV}/kustomization.yaml", "../../../fanout/0a")


def thousands_of_entries(repo: Path) -> None:
    # One kustomization with 6000 entries (the same few files: the count is of what the build
    # reads, and a repository of 6000 files would time the rest of the tool, not the screen).
    for i in range(6):
        _write(repo, f"many/cm-{i}.yaml",
               f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n")
    _write(repo, "many/kustomization.yaml",
           "resources:\n" + "".join(f"  - cm-{i % 6}.yaml\n" for i in range(6000)))
    _add_resource(repo, f"{DEV}/kustomization.yaml", "../../../many")


def huge_scalar(repo: Path) -> None:
    # One 9 MB string: over limits.max_file_bytes (8 MiB), refused from the file's size.
    _write(repo, f"{DEV}/huge.yaml", HEADER + "data:\n  x: " + "a" * (9 * MB) + "\n")
    _add_resource(repo, f"{DEV}/kustomization.yaml", "huge.yaml")


@dataclass(frozen=True)
class Case:
    id: str
    plant: Callable[[Path], None]
    rule: str
    file: str
    line: int | None
    overlays: tuple[str, ...] = (DEV,)  # the overlays the input reaches (none of them built)


CASES = [
    Case("alias-bomb-in-resource", bomb_in_resource, "build-input-unsafe",
         f"{BASE}/bomb.yaml", 11, ("deploy_model/overlays/dev", "deploy_model/overlays/staging",
                                   "deploy_model/overlays/production")),
    Case("alias-bomb-in-strategic-merge-patch", bomb_in_strategic_merge_patch,
         "build-input-unsafe", f"{DEV}/bomb-patch.yaml", 11),
    Case("alias-bomb-in-generator-source", bomb_in_generator_source, "build-input-unsafe",
         f"{DEV}/model-config.yaml", 7),
    Case("alias-bomb-in-component", bomb_in_component, "build-input-unsafe",
         "components/tuning/bomb.yaml", 11),
    Case("deep-document", deep_document, "build-input-unsafe", f"{DEV}/deep.yaml", 6),
    Case("thousands-of-inclusions", thousands_of_inclusions, "build-too-large",
         f"{DEV}/kustomization.yaml", 1),
    Case("thousands-of-entries", thousands_of_entries, "build-too-large",
         f"{DEV}/kustomization.yaml", 1),
    Case("huge-scalar", huge_scalar, "build-input-unsafe", f"{DEV}/huge.yaml", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_exhausting_input_is_a_finding_within_bounds(case: Case, tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    case.plant(repo)
    marker = f"llmops-gate-test-{uuid.uuid4().hex}"
    tmp = tmp_path / marker
    run = run_bounded("validate", repo, "--format", "json", "--only", "build,parse",
                      tmpdir=tmp, marker=marker, timeout=BOUND_SECONDS)
    assert run.code == 1, run.stderr
    assert "Traceback" not in run.stderr
    report = json.loads(run.stdout)
    got = {(f["rule"], f["file"], f["line"], f["overlay"]) for f in report["findings"]
           if f["validator"] == "build"}
    assert {(case.rule, case.file, case.line, o) for o in case.overlays} <= got, got
    # The overlays the input does not reach are built as usual; the others are not built.
    passed = {o["path"]: o["passed"] for o in report["overlays"]}
    assert passed == {p: p not in case.overlays for p in passed}, passed
    assert run.left == [], "processes of the run outlived it"
    assert list(tmp.iterdir()) == [], "temporary folders left behind"
    assert run.peak_tree_bytes < 500 * MB, run.peak_tree_bytes
    assert run.peak_child_bytes < 500 * MB, run.peak_child_bytes


def test_schema_refuses_an_alias_bomb_before_expanding_it(tmp_path: Path) -> None:
    # `llmops-gate schema` reads plain files and stdin itself (no Kustomize): the same limits
    # stop the expansion there, with the file and the line of the alias that goes over them.
    bomb = tmp_path / "bomb.yaml"
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: laughs}", "data:",
             '  a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb.write_text("\n".join(lines) + "\n")
    marker = f"llmops-gate-test-{uuid.uuid4().hex}"
    run = run_bounded("schema", bomb, "--format", "json", tmpdir=tmp_path / marker,
                      marker=marker, timeout=BOUND_SECONDS)
    assert run.code == 1, run.stderr
    found = [(f["rule"], f["file"]) for f in json.loads(run.stdout)["findings"]]
    assert found == [("parse-error", str(bomb))]
    assert "alias" in json.loads(run.stdout)["findings"][0]["message"]
    assert run.peak_tree_bytes < 500 * 1024 * 1024
    assert run.left == [], "processes of the run outlived it"
