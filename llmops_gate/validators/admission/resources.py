"""Resource quantities and resource names as the API server reads them.

A quantity is a JSON number or a string in the grammar of k8s.io/apimachinery
`resource.ParseQuantity`: a signed decimal number and an optional suffix, binary (`Ki` ... `Ei`),
decimal (`n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E`) or an exponent (`1e3`), with no spaces.
`500Mi`, `0.5`, `2` and `250m` are quantities; `2 cores`, `1GB`, `500 Mi` and `1.5Gb` are not,
and the API server rejects the whole object when it cannot parse one. Container requests and
limits are also never negative, their names are the standard ones (`cpu`, `memory`,
`ephemeral-storage`, `hugepages-<size>`) or an extended resource with a domain
(`nvidia.com/gpu`), and an extended resource is a whole number.

Passing:

    resources: {requests: {cpu: 500m, memory: 4Gi, nvidia.com/gpu: 1}}

Failing (`quantity-invalid`, `resource-name-invalid`):

    resources: {requests: {cpu: 2 cores, gpu: 1}}
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from llmops_gate.kinds import Path, get, group_of, items, mapping
from llmops_gate.model import Severity
from llmops_gate.validators.admission import grammar
from llmops_gate.validators.admission.base import Rule, Scope, Violation
from llmops_gate.validators.admission.podspec import containers, label, pod_specs
from llmops_gate.validators.policy.quantity import parse_quantity

QUANTITY_SOURCE = ("Kubernetes API reference 'Quantity' (the <quantity> grammar); "
                   "k8s.io/apimachinery/pkg/api/resource ParseQuantity; all supported versions")

RULES = (
    Rule("quantity-invalid", Severity.ERROR,
         "Resource amounts (requests, limits, LimitRange, ResourceQuota, PVC sizes, emptyDir "
         "sizeLimit) are Kubernetes quantities, not negative, and whole numbers for extended "
         "resources.",
         "the API server cannot decode the object and rejects it whole ('quantities must match "
         "the regular expression ...')",
         "write a quantity: 500m, 2, 4Gi, 512Mi (no space, binary suffixes end in 'i')",
         QUANTITY_SOURCE),
    Rule("resource-name-invalid", Severity.ERROR,
         "Container resource names are cpu, memory, ephemeral-storage, hugepages-<size>, or an "
         "extended resource with a domain prefix (nvidia.com/gpu).",
         "the API server rejects the pod: 'must be a standard resource for containers'",
         "use the full name of the resource (e.g. nvidia.com/gpu, not gpu)",
         "k8s.io/kubernetes pkg/apis/core/validation validateContainerResourceName, "
         "Kubernetes 'Resource Management for Pods and Containers'; all supported versions"),
)

STANDARD = {"cpu", "memory", "ephemeral-storage"}


def _is_extended(name: str) -> bool:
    return "/" in name and not name.startswith(("kubernetes.io/", "requests."))


def _quantity(value: Any, path: Path, what: str, extended: bool = False,
              allow_negative: bool = False) -> Iterator[Violation]:
    if value is None:
        return
    if not grammar.is_quantity(value):
        yield Violation("quantity-invalid", f"{what}: '{value}' is not a quantity (e.g. 500m, "
                        "2, 4Gi)", path)
        return
    if isinstance(value, float) and not math.isfinite(value):
        yield Violation("quantity-invalid", f"{what}: {value} is not a finite number", path)
        return
    # parse_quantity clamps huge exponents, so this is cheap even for 1e999999999
    amount = parse_quantity(value)
    if amount is None:
        return
    if amount < 0 and not allow_negative:
        yield Violation("quantity-invalid", f"{what}: {value} must be greater than or equal "
                        "to 0", path)
    elif extended and amount.denominator != 1:
        yield Violation("quantity-invalid", f"{what}: {value} must be an integer (extended "
                        "resources are counted whole)", path)


def _resource_list(value: Any, path: Path, what: str,
                   names: bool = True) -> Iterator[Violation]:
    for key, amount in mapping(value).items():
        name = str(key)
        where: Path = (*path, name)
        extended = _is_extended(name)
        if names and not (name in STANDARD or name.startswith("hugepages-") or extended):
            reason = ("is in the kubernetes.io domain but not a standard resource"
                      if "/" in name else "must be a standard resource for containers")
            yield Violation("resource-name-invalid", f"{what}: resource '{name}' {reason} "
                            "(cpu, memory, ephemeral-storage, hugepages-<size>, or "
                            "<domain>/<name>)", where)
        yield from _quantity(amount, where, f"{what} {name}", extended=extended)


def _containers(doc: Mapping[str, Any]) -> Iterator[Violation]:
    for pod in pod_specs(doc):
        for c in containers(pod):
            res = c.spec.get("resources")
            if not isinstance(res, Mapping):
                continue
            for key in ("requests", "limits"):
                yield from _resource_list(res.get(key), (*c.path, "resources", key),
                                          f"{label(c)} {key}")
        for i, vol in items(pod.spec.get("volumes")):
            size = get(vol, "emptyDir", "sizeLimit")
            yield from _quantity(size, (*pod.path, "volumes", i, "emptyDir", "sizeLimit"),
                                 f"volume '{vol.get('name')}' emptyDir.sizeLimit")
        overhead = pod.spec.get("overhead")
        if overhead is not None:
            yield from _resource_list(overhead, (*pod.path, "overhead"), "overhead", names=False)


def _core_kinds(doc: Mapping[str, Any]) -> Iterator[Violation]:
    kind = doc.get("kind")
    if kind == "PersistentVolumeClaim":
        for key in ("requests", "limits"):
            yield from _resource_list(get(doc, "spec", "resources", key),
                                      ("spec", "resources", key), f"PVC {key}", names=False)
    elif kind == "PersistentVolume":
        yield from _resource_list(get(doc, "spec", "capacity"), ("spec", "capacity"),
                                  "capacity", names=False)
    elif kind == "ResourceQuota":
        yield from _resource_list(get(doc, "spec", "hard"), ("spec", "hard"), "hard",
                                  names=False)
    elif kind == "LimitRange":
        for i, limit in items(get(doc, "spec", "limits")):
            for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
                yield from _resource_list(limit.get(key), ("spec", "limits", i, key),
                                          f"limits[{i}].{key}", names=False)


def check(doc: Mapping[str, Any], scope: Scope) -> Iterator[Violation]:
    yield from _containers(doc)
    if group_of(doc) == "":
        yield from _core_kinds(doc)



