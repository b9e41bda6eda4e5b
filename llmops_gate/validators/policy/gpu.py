"""Accelerators: a GPU is asked for in limits (requests equal when given), the pod tolerates the
GPU nodes' taint, and vLLM's `--tensor-parallel-size` (times `--pipeline-parallel-size`) does
not exceed the GPUs the container gets.

Accelerators are the extended resources in the environment's `accelerators` (default
`nvidia.com/gpu`, `amd.com/gpu`, `habana.ai/gaudi`). An InferenceService's resources are merged
over its ServingRuntime's, as KServe does.

Passing: `limits: {nvidia.com/gpu: 1}` with a `nvidia.com/gpu` toleration and
`--tensor-parallel-size=1`. Failing: GPU only in requests; requests 1 / limits 2; no toleration;
`--tensor-parallel-size=2` with one GPU.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any

from llmops_gate.kinds import ISVC, RUNTIME_KINDS
from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Option, Rule, RuleContext, Violation, get
from llmops_gate.validators.policy.pods import (
    POD_KINDS,
    Container,
    is_vllm,
    isvcs_using,
    pod_spec,
    runtime_container,
    runtime_of,
)
from llmops_gate.validators.policy.quantity import parse_quantity
from llmops_gate.validators.policy.resources import checked_containers, effective


def check_limits(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    for c in checked_containers(res, ctx):
        eff = effective(res, c, ctx)
        for acc in ctx.policy.accelerators:
            req, lim = eff.get(("requests", acc)), eff.get(("limits", acc))
            if req is not None and lim is None:
                yield Violation(f"container {c.name} requests {acc} {req.raw} but sets no limit "
                                f"for it", path=req.path, container=c.name)
            elif req is not None and lim is not None:
                rq, lq = parse_quantity(req.raw), parse_quantity(lim.raw)
                if rq is not None and lq is not None and rq != lq:
                    yield Violation(f"container {c.name}: {acc} request {req.raw} differs from "
                                    f"its limit {lim.raw}", path=lim.path, container=c.name)


def gpus(res: Resource, c: Container, ctx: RuleContext) -> tuple[Fraction, list[str]]:
    """How many accelerators `c` gets (limits, else requests) and which resources."""
    eff = effective(res, c, ctx)
    total = Fraction(0)
    used: list[str] = []
    for acc in ctx.policy.accelerators:
        value = eff.get(("limits", acc)) or eff.get(("requests", acc))
        q = parse_quantity(value.raw) if value is not None else None
        if q:
            total += q
            used.append(acc)
    return total, used


def _tolerates(tolerations: Any, keys: Sequence[str]) -> bool:
    if not isinstance(tolerations, list):
        return False
    for t in tolerations:
        if not isinstance(t, Mapping):
            continue
        if t.get("operator") == "Exists" and not t.get("key"):
            return True
        if t.get("key") in keys:
            return True
    return False


def check_toleration(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    found = pod_spec(res)
    if found is None:
        return
    spec, path = found
    extra: Any = None
    if res.kind == ISVC:
        runtime = runtime_of(res, ctx.resources)
        extra = get(runtime.doc, "spec", "tolerations") if runtime else None
    keys_opt: Mapping[str, Any] = ctx.options.get("keys") or {}
    for c in checked_containers(res, ctx):
        _, used = gpus(res, c, ctx)
        if not used:
            continue
        keys = [str(keys_opt.get(a, a)) for a in used]
        if not (_tolerates(spec.get("tolerations"), keys) or _tolerates(extra, keys)):
            where = (*path, "tolerations") if "tolerations" in spec else path
            yield Violation(f"container {c.name} asks for {', '.join(used)} but the pod has no "
                            f"toleration for {', '.join(keys)}; it will not schedule on tainted "
                            "GPU nodes", path=where, container=c.name)
        return


def _flag(args: Sequence[str], names: Sequence[str]) -> tuple[int, str] | None:
    """(index, value) of the last occurrence of a `--flag=value` / `--flag value` argument."""
    hit: tuple[int, str] | None = None
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                hit = (i, args[i + 1])
            elif arg.startswith(name + "="):
                hit = (i, arg.split("=", 1)[1])
    return hit


_TP = ("--tensor-parallel-size", "-tp")
_PP = ("--pipeline-parallel-size", "-pp")


def _args(c: Container) -> list[str]:
    raw = c.spec.get("args")
    return [str(a) for a in raw] if isinstance(raw, list) else []


def _int(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def check_tensor_parallel(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    if res.kind in RUNTIME_KINDS:
        rc = runtime_container(res)
        if rc is None or not is_vllm(rc.spec):
            return
        tp = _flag(_args(rc), _TP)
        if tp is None:
            return
        pp = _flag(_args(rc), _PP)
        need = (_int(tp[1]) or 1) * ((_int(pp[1]) or 1) if pp else 1)
        users: list[Resource | None] = list(isvcs_using(res, ctx.resources)) or [None]
        for isvc in users:
            if isvc is not None:
                model = next((c for c in _model(isvc)), None)
                if model is None or _flag(_args(model), _TP) is not None:
                    continue
                have, _ = gpus(isvc, model, ctx)
                who = f" ({isvc.kind} {isvc.name})"
            else:
                have, _ = gpus(res, rc, ctx)
                who = ""
            if need > have:
                yield Violation(f"vLLM needs {need} GPUs for --tensor-parallel-size={tp[1]}"
                                f"{f' x --pipeline-parallel-size={pp[1]}' if pp else ''} but the "
                                f"container gets {have}{who}",
                                path=(*rc.path, "args", tp[0]), container=rc.name)
        return
    for c in _model(res) if res.kind == ISVC else []:
        tp = _flag(_args(c), _TP)
        if tp is None:
            continue
        runtime = runtime_of(res, ctx.resources)
        rc = runtime_container(runtime) if runtime else None
        if rc is not None and not is_vllm(rc.spec):
            continue
        need = _int(tp[1]) or 1
        have, _ = gpus(res, c, ctx)
        if need > have:
            yield Violation(f"vLLM needs {need} GPUs for --tensor-parallel-size={tp[1]} but the "
                            f"container gets {have}", path=(*c.path, "args", tp[0]),
                            container=c.name)


def _model(isvc: Resource) -> list[Container]:
    model = get(isvc.doc, "spec", "predictor", "model")
    if not isinstance(model, Mapping):
        return []
    return [Container("kserve-container", model, ("spec", "predictor", "model"), model=True)]


RULES = (
    Rule(
        id="gpu-limits",
        description="A container that asks for an accelerator (nvidia.com/gpu, ...) sets it in "
                    "limits, and requests equal limits when both are given.",
        why="Extended resources are not overcommitted: Kubernetes rejects a GPU request "
            "without an equal limit, and the pod never starts.",
        fix="put the GPU count in resources.limits (and the same number in requests, or "
            "leave requests out)",
        check=check_limits,
        kinds=POD_KINDS,
    ),
    Rule(
        id="gpu-toleration",
        description="A pod that asks for an accelerator tolerates the accelerator nodes' taint "
                    "(key = the resource name unless configured).",
        why="GPU nodes are usually tainted; without a toleration the model server stays "
            "Pending forever.",
        fix="add tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}] to "
            "the predictor (or the runtime)",
        check=check_toleration,
        kinds=POD_KINDS,
        options=(Option("keys", {}, "Accelerator resource -> taint key when they differ."),),
    ),
    Rule(
        id="vllm-tensor-parallel",
        description="vLLM's --tensor-parallel-size (times --pipeline-parallel-size) does not "
                    "exceed the GPUs the container gets.",
        why="vLLM fails at start-up when it cannot place every shard on a GPU: the rollout "
            "crash-loops.",
        fix="lower --tensor-parallel-size or raise the GPU limit of the predictor to match",
        check=check_tensor_parallel,
        kinds=RUNTIME_KINDS | {ISVC},
    ),
)
