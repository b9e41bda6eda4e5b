"""Custom rules declared in the config, without code."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_gate.errors import GateError
from llmops_gate.validators.policy.custom import parse_field
from tests.validators.policy.conftest import ISVC, RUNTIME, line, model_files, run_policy, where

F_ISVC = "overlays/dev/inferenceservice.yaml"


def _config(assertion: str, field: str, match: str = "{kinds: [InferenceService]}") -> str:
    return f"""
    policy:
      custom-rules:
        - id: team-check
          description: team rule
          severity: warning
          match: {match}
          field: '{field}'
          assert: {assertion}
    """


@pytest.mark.parametrize(("assertion", "field", "passes"), [
    ("{exists: true}", "spec.predictor.model.storageUri", True),
    ("{exists: true}", "metadata.labels.team", False),
    ("{exists: false}", "spec.predictor.model.args", True),
    ("{equals: vLLM}", "spec.predictor.model.modelFormat.name", True),
    ("{equals: pytorch}", "spec.predictor.model.modelFormat.name", False),
    ("{in: [1, 2]}", "spec.predictor.minReplicas", True),
    ("{in: [2, 3]}", "spec.predictor.minReplicas", False),
    ("{matches: '^oci://quay\\.io/'}", "spec.predictor.model.storageUri", True),
    ("{matches: '@sha256:'}", "spec.predictor.model.storageUri", False),
    ("{'<=': 8Gi}", "spec.predictor.model.resources.limits.memory", True),
    ("{'<=': 6G}", "spec.predictor.model.resources.limits.memory", False),
    ("{'>=': 500m}", "spec.predictor.model.resources.requests.cpu", True),
    ("{'>=': 1}", "spec.predictor.model.resources.requests.cpu", False),
    ("{'<=': 1}", 'spec.predictor.model.resources.limits["nvidia.com/gpu"]', True),
    ("{equals: NoSchedule}", "spec.predictor.tolerations[*].effect", True),
    ("{equals: nvidia.com/gpu}", "spec.predictor.tolerations[0].key", True),
])
def test_assertions(tmp_path: Path, assertion: str, field: str, passes: bool) -> None:
    found = where(run_policy(tmp_path, model_files(), config=_config(assertion, field)))
    if passes:
        assert found == []
    else:
        assert [(r, f) for r, f, _ in found] == [("team-check", F_ISVC)]


def test_line_of_the_failing_field(tmp_path: Path) -> None:
    config = _config("{'<=': 4Gi}", "spec.predictor.model.resources.limits.memory")
    found = run_policy(tmp_path, model_files(), config=config)
    assert where(found) == [("team-check", F_ISVC, line(ISVC, "memory: 6Gi"))]
    assert found[0].severity.value == "warning"
    assert "is '6Gi', expected to be <= 4Gi" in found[0].message


def test_match_by_kind_env_and_name(tmp_path: Path) -> None:
    other_env = _config("{exists: true}", "metadata.labels.team",
                        "{kinds: [InferenceService], environments: [production]}")
    assert where(run_policy(tmp_path, model_files(), config=other_env)) == []
    other_name = _config("{exists: true}", "metadata.labels.team", "{names: ['prod-*']}")
    assert where(run_policy(tmp_path, model_files(), config=other_name)) == []
    runtime_too = _config("{exists: true}", "metadata.labels.team", "{names: ['dev-*']}")
    assert [r[1] for r in where(run_policy(tmp_path, model_files(), config=runtime_too))] == [
        F_ISVC, "overlays/dev/servingruntime.yaml"]
    assert RUNTIME


def test_field_paths() -> None:
    assert parse_field('a.b[0].c["x.y/z"][*]') == ["a", "b", 0, "c", "x.y/z", "*"]
    with pytest.raises(ValueError):
        parse_field("a..b]")


def test_bad_custom_rules_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(GateError, match="custom rule 'team-check'"):
        run_policy(tmp_path, model_files(), config=_config("{'<=': lots}", "spec"))
    with pytest.raises(GateError, match="has the id of another rule"):
        run_policy(tmp_path, model_files(),
                   config=_config("{exists: true}", "spec").replace("team-check",
                                                                    "image-tag-pinned"))
    with pytest.raises(GateError, match=r"unknown key 'policy\.custom-rules\[0\]\.bogus'"):
        run_policy(tmp_path, model_files(),
                   config=_config("{exists: true}", "spec") + "      bogus: 1\n")
