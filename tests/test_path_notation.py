"""One notation for the field `path` of every validator's findings (README: JSON report)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from llmops_gate.report.json_report import schema
from llmops_gate.yamlio.sourcemap import field_path
from tests.validators.policy.conftest import ISVC, model_files, run_policy
from tests.validators.test_tekton import TASK, make_repo, tekton_findings


@pytest.mark.parametrize(("parts", "shown"), [
    (("spec", "replicas"), "spec.replicas"),
    (("spec", "containers", 0, "image"), "spec.containers[0].image"),
    (("spec", "limits", "nvidia.com/gpu"), 'spec.limits["nvidia.com/gpu"]'),
    (("metadata", "annotations", "a b"), 'metadata.annotations["a b"]'),
    (("weird key", "x"), '["weird key"].x'),
    ((0, "kind"), "[0].kind"),
    ((), None),
])
def test_field_path(parts: tuple[str | int, ...], shown: str | None) -> None:
    assert field_path(parts) == shown


def test_the_report_schema_states_the_notation() -> None:
    finding = schema()["$defs"]["finding"]["properties"]["path"]["description"]
    assert "list indices in brackets" in finding and "JSON string in brackets" in finding
    jsonschema.Draft202012Validator.check_schema(schema())


def test_policy_quotes_keys_that_are_not_plain(tmp_path: Path) -> None:
    isvc = ISVC.replace('nvidia.com/gpu: "1"\n    tolerations', 'nvidia.com/gpu: "2"\n    '
                        'tolerations')
    found = [f for f in run_policy(tmp_path, model_files(isvc)) if f.rule == "gpu-limits"]
    assert [f.path for f in found] == ['spec.predictor.model.resources.limits["nvidia.com/gpu"]']


def test_tekton_writes_list_indices_in_brackets(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"tekton/task.yaml": TASK.replace(
        "registry.example.com/tools/shell:1.2", "registry.example.com/tools/shell")})
    found = [f for f in tekton_findings(repo) if f.rule == "tekton-image-unpinned"]
    assert [f.path for f in found] == ["spec.steps[0].image"]
