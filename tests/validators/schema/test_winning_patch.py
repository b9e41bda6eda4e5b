"""When several patches set the same field, a finding points at the one whose value the
rendered object holds: the last applied, in Kustomize's order (a kustomization's bases
first; within one, `patchesStrategicMerge`, then `patches`, then `patchesJson6902`, each
list in its order). For both engines; real Kustomize renders, the real kubeconform."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.engine import Options, validate_repo
from llmops_gate.validators.context import SchemaFlags
from tests.conftest import real_kubeconform
from tests.manifests import deployment

DEPLOYMENT = deployment()


def smp(value: str) -> str:
    return ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
            f"  replicas: {value}\n")


JSON6902 = """\
- op: replace
  path: /spec/replicas
  value: three
- op: replace
  path: /spec/replicas
  value: four
"""

# (kustomization of the overlay, its files, the file and line the finding must name)
CASES = {
    "two-patches": (
        "resources:\n  - ../base\npatches:\n  - path: one.yaml\n  - path: two.yaml\n",
        {"one.yaml": smp("one"), "two.yaml": smp("two")}, ("overlay/two.yaml", 6)),
    "json6902-after-patches": (
        "resources:\n  - ../base\npatchesJson6902:\n  - path: ops.yaml\n    target:\n"
        "      group: apps\n      version: v1\n      kind: Deployment\n      name: web\n"
        "patches:\n  - path: one.yaml\n",
        {"one.yaml": smp("one"), "ops.yaml": JSON6902}, ("overlay/ops.yaml", 5)),
    "patches-after-strategic-merge": (
        "resources:\n  - ../base\npatches:\n  - path: two.yaml\n"
        "patchesStrategicMerge:\n  - one.yaml\n",
        {"one.yaml": smp("one"), "two.yaml": smp("two")}, ("overlay/two.yaml", 6)),
    "overlay-after-base": (
        "resources:\n  - ../base\npatches:\n  - path: two.yaml\n",
        {"two.yaml": smp("two")}, ("overlay/two.yaml", 6)),
}


def make_repo(root: Path, kustomization: str, files: dict[str, str]) -> Path:
    base, overlay = root / "base", root / "overlay"
    base.mkdir(parents=True)
    overlay.mkdir()
    (base / "deployment.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (base / "one.yaml").write_text(smp("zero"), encoding="utf-8")
    (base / "kustomization.yaml").write_text(
        "resources:\n  - deployment.yaml\npatches:\n  - path: one.yaml\n", encoding="utf-8")
    (overlay / "kustomization.yaml").write_text(kustomization, encoding="utf-8")
    for name, text in files.items():
        (overlay / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("engine", ["embedded", "kubeconform"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_finding_points_at_the_patch_that_wins(case: str, engine: str, tmp_path: Path) -> None:
    kustomization, files, want = CASES[case]
    repo = make_repo(tmp_path / "repo", kustomization, files)
    flags = SchemaFlags(schema_engine=engine,
                        kubeconform=real_kubeconform() if engine == "kubeconform" else None)
    report = validate_repo(repo, Options(only=["schema"], schema=flags, jobs=1))
    found = [(f.rule, f.overlay, f.path, f.file, f.line) for f in report.findings
             if f.validator == "schema"]
    assert found == [("wrong-type", "overlay", "spec.replicas", *want)], found
