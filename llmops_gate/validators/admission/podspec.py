"""Where pod specs and containers are in each kind, for the families that check them.

Built-in workloads carry a pod template; KServe's ServingRuntime is a pod spec of its own and
an InferenceService's predictor, transformer and explainer are pod specs whose implementation
(`model:`, `sklearn:`, ...) is one more container. KServe turns both into Deployments (or
Knative Services), so the API server's pod rules apply to them too, only later: the
InferenceService is accepted and its pods never start.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from llmops_gate.kinds import (
    BUILTIN_POD_KINDS,
    EXPLAINERS,
    FRAMEWORKS,
    KSERVE,
    POD_SPEC_PATHS,
    RUNTIME_KINDS,
    Path,
    get,
    group_of,
    items,
)

CORE_GROUPS = {"", "apps", "batch"}
ISVC_COMPONENTS = ("predictor", "transformer", "explainer")
# The implementations of an InferenceService component (KServe v1beta1 PredictorSpec and the
# explainer's); each is one container spec.
IMPLEMENTATIONS = (*FRAMEWORKS, "model", *EXPLAINERS)
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class PodSpec:
    """One pod spec of an object: its path, its data, and whether its volumes are all written
    there (an InferenceService's pods also get the volumes of its ServingRuntime)."""

    path: Path
    spec: Mapping[str, Any]
    volumes_complete: bool = True
    # Does the owner restart its pods always (workloads), never (Jobs), or as the pod says?
    owner: str = "Pod"


def pod_specs(doc: Mapping[str, Any]) -> Iterator[PodSpec]:
    kind, group = str(doc.get("kind") or ""), group_of(doc)
    if group in CORE_GROUPS and kind in BUILTIN_POD_KINDS:
        path = POD_SPEC_PATHS[kind]
        spec = get(doc, *path)
        if isinstance(spec, Mapping):
            yield PodSpec(path, spec, owner=kind)
    elif group == KSERVE and kind in RUNTIME_KINDS:
        spec = doc.get("spec")
        if isinstance(spec, Mapping):
            yield PodSpec(("spec",), spec, owner="ServingRuntime")
            worker = spec.get("workerSpec")
            if isinstance(worker, Mapping):
                yield PodSpec(("spec", "workerSpec"), worker, owner="ServingRuntime")
    elif group == KSERVE and kind == "InferenceService":
        for component in ISVC_COMPONENTS:
            spec = get(doc, "spec", component)
            if isinstance(spec, Mapping):
                yield PodSpec(("spec", component), spec, volumes_complete=False,
                              owner="InferenceService")
        worker = get(doc, "spec", "predictor", "workerSpec")
        if isinstance(worker, Mapping):
            yield PodSpec(("spec", "predictor", "workerSpec"), worker, volumes_complete=False,
                          owner="InferenceService")


@dataclass(frozen=True)
class Container:
    path: Path
    spec: Mapping[str, Any]
    # False for an InferenceService implementation (`model:`): KServe names that container.
    named: bool = True


def containers(pod: PodSpec) -> Iterator[Container]:
    for key in CONTAINER_LISTS:
        for i, c in items(pod.spec.get(key)):
            yield Container((*pod.path, key, i), c)
    if pod.owner == "InferenceService":
        for impl in IMPLEMENTATIONS:
            spec = pod.spec.get(impl)
            if isinstance(spec, Mapping):
                yield Container((*pod.path, impl), spec, named=False)


def label(c: Container) -> str:
    name = c.spec.get("name")
    return f"container '{name}'" if isinstance(name, str) and name else \
        f"container {'.'.join(str(p) for p in c.path[-2:])}"
