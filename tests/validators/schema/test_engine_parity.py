"""The embedded engine and the real kubeconform give the same findings.

Same verdicts and the same (rule, file, line, field path) on the example and on its copy with
planted defects (patched fields, built-in and CRD kinds, several errors under one field). The
renders of the corpus repos are compared in test_repos.py (on the renders it makes anyway),
kubeconform's own fixtures in test_kubeconform_parity.py. kubeconform is the real v0.7.0
binary built from ../shared (tests.conftest.real_kubeconform); nothing stands in for it.
"""

from __future__ import annotations

from pathlib import Path

from llmops_gate.engine import Options, validate_repo
from llmops_gate.model import Finding
from llmops_gate.validators.context import SchemaFlags
from tests.conftest import EXAMPLE, copy_tree, real_kubeconform

Key = tuple[str, str | None, int | None, str | None, str]


def keys(found: list[Finding]) -> list[Key]:
    return sorted((f.rule, f.file, f.line, f.path, f.severity.value) for f in found
                  if f.validator == "schema")


def both_engines(repo: Path) -> tuple[list[Key], list[Key]]:
    out = []
    for flags in (SchemaFlags(schema_engine="embedded"),
                  SchemaFlags(schema_engine="kubeconform", kubeconform=real_kubeconform())):
        report = validate_repo(repo, Options(only=["schema"], schema=flags, jobs=2))
        out.append(keys(report.findings))
    return out[0], out[1]


def test_example_same_findings() -> None:
    embedded, kubeconform = both_engines(EXAMPLE)
    assert embedded == kubeconform == []


def _plant(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line(path: Path, text: str) -> int:
    """The 1-based line of `text` (a whole line) in `path`."""
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def test_planted_defects_same_findings(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    dev = "deploy_model/overlays/dev/size.yaml"
    staging = "deploy_model/overlays/staging/size.yaml"
    secret = "deploy_model/base/model-connection.yaml"
    isvc = "deploy_model/base/inferenceservice.yaml"
    # a typo in a patch (a CRD kind: the field is set by the patch, found at its line)
    _plant(repo / dev, "      resources:\n", "      resoures:\n")
    # a string where an integer goes
    _plant(repo / staging, "    minReplicas: 1\n", "    minReplicas: two\n")
    # a built-in kind with two errors under one field (kubeconform groups them)
    _plant(repo / secret, "  labels:\n", "  labelz: {}\n  generation: one\n  labels:\n")
    # a list item without its required field (written in a patch)
    _plant(repo / dev, "    model:\n", "    model:\n      env:\n        - value: x\n")
    embedded, kubeconform = both_engines(repo)
    assert embedded == kubeconform
    found = {(rule, file, line, path) for rule, file, line, path, _ in embedded}
    assert found == {
        ("unknown-field", dev, _line(repo / dev, "      resoures:"),
         "spec.predictor.model.resoures"),
        ("wrong-type", staging, _line(repo / staging, "    minReplicas: two"),
         "spec.predictor.minReplicas"),
        ("unknown-field", secret, _line(repo / secret, "  labelz: {}"), "metadata.labelz"),
        ("wrong-type", secret, _line(repo / secret, "  generation: one"),
         "metadata.generation"),
        # a field that is missing has no line of its own: its resource's
        ("required-field", isvc, _line(repo / isvc, "kind: InferenceService") - 1,
         "spec.predictor.model.env[0].name"),
    }, found
