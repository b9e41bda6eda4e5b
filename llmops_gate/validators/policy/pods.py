"""Where pods and containers live in the kinds we check, with their field paths.

Workloads keep a pod template; an InferenceService predictor is itself pod-like (its `model` is
merged by KServe into the runtime's `kserve-container`); a ServingRuntime's `spec` is pod-like.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmops_gate.kinds import (
    FRAMEWORKS,
    ISVC,
    KSERVE_CONTAINER,
    RUNTIME_KINDS,
    WORKLOAD_KINDS,
    get,
    pod_spec_path,
)
from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Path

# Every kind with a pod spec that policy checks: the workloads, the KServe runtimes and
# InferenceServices (llmops_gate.kinds has where each keeps it).
POD_KINDS = WORKLOAD_KINDS | RUNTIME_KINDS | {ISVC}


@dataclass(frozen=True)
class Container:
    name: str
    spec: Mapping[str, Any]
    path: Path
    init: bool = False
    model: bool = False  # an InferenceService's predictor `model`


def pod_spec(res: Resource) -> tuple[Mapping[str, Any], Path] | None:
    path = pod_spec_path(res.kind) if res.kind in POD_KINDS else None
    if path is None:
        return None
    spec = get(res.doc, *path)
    return (spec, path) if isinstance(spec, Mapping) else None


def containers(res: Resource, init: bool = True) -> Iterator[Container]:
    """Every container of a pod-like resource, the InferenceService `model` included."""
    found = pod_spec(res)
    if found is None:
        return
    spec, path = found
    if res.kind == ISVC:
        for key in ("model", *FRAMEWORKS):
            model = spec.get(key)
            if isinstance(model, Mapping):
                yield Container(KSERVE_CONTAINER, model, (*path, key), model=True)
    keys: Sequence[str] = ("containers", "initContainers") if init else ("containers",)
    for key in keys:
        items = spec.get(key)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                yield Container(str(item.get("name") or f"#{i}"), item, (*path, key, i),
                                init=key == "initContainers")


def runtime_of(isvc: Resource, resources: Sequence[Resource]) -> Resource | None:
    """The ServingRuntime (or ClusterServingRuntime) an InferenceService names, if rendered."""
    name = get(isvc.doc, "spec", "predictor", "model", "runtime")
    if not isinstance(name, str) or not name:
        return None
    for res in resources:
        if res.kind in RUNTIME_KINDS and res.name == name:
            return res
    return None


def runtime_container(runtime: Resource) -> Container | None:
    """The runtime's serving container (`kserve-container`, else its first)."""
    items = [c for c in containers(runtime, init=False)]
    for c in items:
        if c.name == KSERVE_CONTAINER:
            return c
    return items[0] if items else None


def isvcs_using(runtime: Resource, resources: Sequence[Resource]) -> list[Resource]:
    return [r for r in resources if r.kind == ISVC and runtime_of(r, resources) is runtime]


def arg_list(spec: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for key in ("command", "args"):
        value = spec.get(key)
        if isinstance(value, list):
            out.extend(str(v) for v in value if isinstance(v, (str, int, float)))
    return out


def is_vllm(container: Mapping[str, Any]) -> bool:
    image = str(container.get("image") or "").lower()
    return "vllm" in image or any("vllm" in a.lower() for a in arg_list(container)[:4])
