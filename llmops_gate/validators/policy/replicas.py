"""Replicas within the environment's bounds; an InferenceService's min not above its max.

Checks Deployment/StatefulSet/ReplicaSet `spec.replicas` (1 when absent) and InferenceService
predictor `minReplicas` (1 when absent) / `maxReplicas`. Production needs at least 2 by default.

Passing (production): `minReplicas: 2, maxReplicas: 3`. Failing: `minReplicas: 1` in
production (one node drain takes the model down), or `minReplicas: 3, maxReplicas: 2`.
"""

from __future__ import annotations

from collections.abc import Iterator

from llmops_gate.kinds import ISVC
from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Path, Rule, RuleContext, Violation, get

SCALED = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "DeploymentConfig"})


def _num(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _bounds_text(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo} to {hi}" if lo != hi else f"exactly {lo}"
    return f"at least {lo}" if lo is not None else f"at most {hi}"


def check_replicas(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    lo, hi = ctx.policy.replicas_min, ctx.policy.replicas_max
    env = ctx.environment or "this environment"
    if res.kind == ISVC:
        base: Path = ("spec", "predictor")
        raw_min = get(res.doc, *base, "minReplicas")
        raw_max = get(res.doc, *base, "maxReplicas")
        mn = _num(raw_min) if raw_min is not None else 1
        mx = _num(raw_max)
        min_path = (*base, "minReplicas") if raw_min is not None else base
        if mn is not None and mx is not None and mx > 0 and mn > mx:
            yield Violation(f"minReplicas {mn} is above maxReplicas {mx}",
                            path=(*base, "maxReplicas"))
        if mn is not None and lo is not None and mn < lo:
            shown = mn if raw_min is not None else "1 (unset)"
            yield Violation(f"minReplicas {shown} is below {env}'s minimum of {lo} "
                            f"(allowed: {_bounds_text(lo, hi)})", path=min_path)
        if hi is not None:
            if mx is not None and mx > hi:
                yield Violation(f"maxReplicas {mx} is above {env}'s maximum of {hi} "
                                f"(allowed: {_bounds_text(lo, hi)})", path=(*base, "maxReplicas"))
            elif mn is not None and mn > hi:
                yield Violation(f"minReplicas {mn} is above {env}'s maximum of {hi}",
                                path=min_path)
        return
    raw = get(res.doc, "spec", "replicas")
    n = _num(raw) if raw is not None else 1
    if n is None:
        return
    path: Path = ("spec", "replicas") if raw is not None else ("spec",)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        shown = n if raw is not None else "1 (unset)"
        bounds = _bounds_text(lo, hi)
        yield Violation(f"replicas {shown} is outside {env}'s bounds ({bounds})", path=path)


RULES = (
    Rule(
        id="replicas-within-bounds",
        description="Replicas (Deployment `replicas`, InferenceService `minReplicas`/"
                    "`maxReplicas`) are within the environment's bounds and min <= max; "
                    "production needs at least 2 unless configured otherwise.",
        why="One replica in production means every node drain or model reload is an outage; "
            "an unbounded max lets autoscaling claim every GPU in the cluster.",
        fix="set minReplicas/maxReplicas (or replicas) within the environment's bounds in the "
            "overlay's size patch, or change `replicas` in .llmops-gate.yaml",
        check=check_replicas,
        kinds=SCALED | {ISVC},
        equivalents={"kube-linter": "minimum-three-replicas",
                     "Polaris": "multipleReplicasForDeployment"},
    ),
)
