"""CPU and memory requests and limits: present, consistent, within the environment's bounds.

An InferenceService's `model` resources are merged by KServe over its ServingRuntime's
`kserve-container` resources, so the check looks at the merge; a ServingRuntime's serving
container is checked on its own only when no InferenceService of the overlay uses it.

Passing (dev bounds `limits.cpu.max: 2`):

    model: {resources: {requests: {cpu: 500m, memory: 4Gi}, limits: {cpu: "2", memory: 6Gi}}}

Failing: no `limits.memory` (resources-required); `requests.cpu: "3"` over `limits.cpu: "2"`
(limits-cover-requests); `limits.cpu: "4"` in dev (resources-within-bounds).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from llmops_gate.kinds import RUNTIME_KINDS
from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Option, Path, Rule, RuleContext, Violation, get
from llmops_gate.validators.policy.pods import (
    POD_KINDS,
    Container,
    containers,
    isvcs_using,
    runtime_container,
    runtime_of,
)
from llmops_gate.validators.policy.quantity import parse_quantity

SECTIONS = ("requests", "limits")
_LABEL = {("requests", "cpu"): "CPU request", ("requests", "memory"): "memory request",
          ("limits", "cpu"): "CPU limit", ("limits", "memory"): "memory limit"}


@dataclass(frozen=True)
class Value:
    raw: Any
    path: Path
    exact: bool  # False: the value comes from the ServingRuntime, `path` is the model's parent
    origin: str | None = None


def effective(res: Resource, c: Container, ctx: RuleContext) -> dict[tuple[str, str], Value]:
    """(section, resource name) -> value, for `c` as the cluster will run it."""
    out: dict[tuple[str, str], Value] = {}
    base = (*c.path, "resources")
    if c.model:
        runtime = runtime_of(res, ctx.resources)
        rc = runtime_container(runtime) if runtime else None
        if runtime is not None and rc is not None:
            for section in SECTIONS:
                values = get(rc.spec, "resources", section)
                if isinstance(values, Mapping):
                    for name, raw in values.items():
                        out[(section, str(name))] = Value(raw, base, False,
                                                          f"{runtime.kind} {runtime.name}")
    for section in SECTIONS:
        values = get(c.spec, "resources", section)
        if isinstance(values, Mapping):
            for name, raw in values.items():
                out[(section, str(name))] = Value(raw, (*base, section, str(name)), True)
    return out


def checked_containers(res: Resource, ctx: RuleContext) -> Iterator[Container]:
    """Containers whose resources this overlay decides (not a runtime's serving container that
    an InferenceService here overrides)."""
    skip: Container | None = None
    if res.kind in RUNTIME_KINDS and isvcs_using(res, ctx.resources):
        skip = runtime_container(res)
    for c in containers(res, init=False):
        if skip is None or c.path != skip.path:
            yield c


def _where(v: Value) -> str:
    return f" (from {v.origin})" if v.origin else ""


def check_required(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    wanted = [str(r) for r in ctx.options.get("resources", ("cpu", "memory"))]
    for c in checked_containers(res, ctx):
        eff = effective(res, c, ctx)
        missing = [_LABEL.get((s, r), f"{r} {s[:-1]}") for s in SECTIONS for r in wanted
                   if (s, r) not in eff]
        if missing:
            yield Violation(f"container {c.name} sets no {', '.join(missing)}",
                            path=(*c.path, "resources"), container=c.name)


def check_limits_cover_requests(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    for c in checked_containers(res, ctx):
        eff = effective(res, c, ctx)
        for (section, name), req in sorted(eff.items()):
            if section != "requests" or ("limits", name) not in eff:
                continue
            lim = eff[("limits", name)]
            rq, lq = parse_quantity(req.raw), parse_quantity(lim.raw)
            if rq is not None and lq is not None and lq < rq:
                yield Violation(f"container {c.name}: {name} limit {lim.raw}{_where(lim)} is "
                                f"below its request {req.raw}{_where(req)}",
                                path=lim.path if lim.exact else req.path, container=c.name)


def _outside(value: Fraction, lo: Fraction | None, hi: Fraction | None) -> bool:
    return (lo is not None and value < lo) or (hi is not None and value > hi)


def check_bounds(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    env = ctx.environment or "this environment"
    for c in checked_containers(res, ctx):
        eff = effective(res, c, ctx)
        for section in SECTIONS:
            bounds = ctx.policy.requests if section == "requests" else ctx.policy.limits
            for name in ("cpu", "memory"):
                bound = bounds.get(name)
                value = eff.get((section, name))
                if bound is None or value is None:
                    continue
                q = parse_quantity(value.raw)
                if q is None:
                    yield Violation(f"container {c.name}: {_LABEL[(section, name)]} "
                                    f"'{value.raw}' is not a Kubernetes quantity",
                                    path=value.path, container=c.name)
                    continue
                if _outside(q, bound.min, bound.max):
                    allowed = " to ".join(t for t in (bound.min_text or "0",
                                                      bound.max_text or "any") if t)
                    yield Violation(f"container {c.name}: {_LABEL[(section, name)]} "
                                    f"{value.raw}{_where(value)} is outside {env}'s bounds "
                                    f"({allowed})", path=value.path, container=c.name)


_KINDS = POD_KINDS

RULES = (
    Rule(
        id="resources-required",
        description="Every container (workloads, InferenceService predictors, ServingRuntimes "
                    "not overridden by an InferenceService) sets CPU and memory requests and "
                    "limits.",
        why="Without requests the scheduler can pack a model server onto a full node; without "
            "limits one model can starve its neighbours or be OOM-killed unpredictably.",
        fix="set resources.requests and resources.limits for cpu and memory (in the "
            "InferenceService `model`, or in the overlay's size patch)",
        check=check_required,
        kinds=_KINDS,
        options=(Option("resources", ["cpu", "memory"], "Resources that must be requested "
                                                        "and limited."),),
        equivalents={"kube-linter": "unset-cpu-requirements, unset-memory-requirements",
                     "Polaris": "cpuRequestsMissing, cpuLimitsMissing, memoryRequestsMissing, "
                                "memoryLimitsMissing",
                     "checkov": "CKV_K8S_10, CKV_K8S_11, CKV_K8S_12, CKV_K8S_13"},
    ),
    Rule(
        id="limits-cover-requests",
        description="No limit is below its request.",
        why="The API server rejects a pod whose limit is below its request: the rollout fails "
            "on the cluster, not in review.",
        fix="raise the limit to at least the request, or lower the request",
        check=check_limits_cover_requests,
        kinds=_KINDS,
    ),
    Rule(
        id="resources-within-bounds",
        description="CPU and memory requests and limits are within the environment's bounds "
                    "(`requests`/`limits` in the config), compared as quantities.",
        why="A dev-sized model in production falls over under load; a production-sized one in "
            "dev wastes GPU nodes others need.",
        fix="size the container within the environment's bounds, or change the bounds in "
            ".llmops-gate.yaml",
        check=check_bounds,
        kinds=_KINDS,
    ),
)
