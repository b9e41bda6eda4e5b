"""What the tool knows of Kubernetes and KServe kinds, in one place: where each kind keeps its
pod spec, the KServe kinds and predictor implementations, how an image reference splits, and
the few readers of an untyped object (a nested lookup, its API group, the mappings of a
list) every check uses.

The validators (admission, policy), promotion (gitops/values, plan) and the review's release
summary all read these, so a kind added here is one that all of them know. It sits beside
`model.py`, below every layer, and imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PathPart = str | int
Path = tuple[PathPart, ...]

# kind -> where its pod spec is. Every kind that carries one: the built-in workloads (core,
# apps and batch groups), the core PodTemplate, and OpenShift's DeploymentConfig.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "PodTemplate": ("template", "spec"),
    "DeploymentConfig": ("spec", "template", "spec"),  # apps.openshift.io/v1
}
# The kinds the Kubernetes API server itself validates a pod spec of (not OpenShift's).
BUILTIN_POD_KINDS = frozenset(POD_SPEC_PATHS) - {"DeploymentConfig"}
# The kinds that run pods (a PodTemplate only stores one).
WORKLOAD_KINDS = frozenset(POD_SPEC_PATHS) - {"PodTemplate"}
# The kinds whose pod template Kustomize's strategic merge and images transformer know, so a
# promotion can patch their containers.
KUSTOMIZE_POD_KINDS = frozenset({"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                 "Job", "CronJob"})

KSERVE = "serving.kserve.io"
ISVC = "InferenceService"
RUNTIME_KINDS = frozenset({"ServingRuntime", "ClusterServingRuntime"})
KSERVE_CONTAINER = "kserve-container"
# The per-framework implementations of an InferenceService predictor, in the order of
# KServe's v1beta1 PredictorSpec; KServe treats each like `model:`. An explainer's are
# EXPLAINERS.
FRAMEWORKS = ("sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface",
              "pmml", "lightgbm", "paddle")
EXPLAINERS = ("art", "alibi")


def get(doc: Any, *path: PathPart) -> Any:
    """The value at `path` in nested mappings and lists, or None."""
    node = doc
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                return None
        elif not isinstance(node, Mapping):
            return None
        node = node[part] if isinstance(part, int) else node.get(part)
        if node is None:
            return None
    return node


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """(index, item) of the mappings in a list (other items are the schema's business)."""
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, Mapping)]


def group_of(doc: Mapping[str, Any]) -> str:
    """The API group of an object (`apps` of `apps/v1`; "" for the core group's `v1`)."""
    api = str(doc.get("apiVersion") or "")
    return api.rpartition("/")[0] if "/" in api else ""


def pod_spec_path(kind: str) -> tuple[str, ...] | None:
    """Where an object of `kind` keeps its (main) pod spec: a workload's template, a
    ServingRuntime's `spec`, an InferenceService's `predictor`; None for other kinds."""
    if kind in POD_SPEC_PATHS:
        return POD_SPEC_PATHS[kind]
    if kind in RUNTIME_KINDS:
        return ("spec",)
    if kind == ISVC:
        return ("spec", "predictor")
    return None


DEFAULT_REGISTRY = "docker.io"


@dataclass(frozen=True)
class ImageRef:
    """An image reference `[registry/]repository[:tag][@digest]`, split as a container runtime
    reads it: a registry port is not a tag, a first part without a dot, a colon or `localhost`
    is not a registry (Docker Hub's, with `library/` for a one-part name)."""

    name: str  # as written, without tag and digest
    tag: str | None
    digest: str | None

    @property
    def registry(self) -> str:
        first, _, rest = self.name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return first
        return DEFAULT_REGISTRY

    @property
    def repository(self) -> str:
        """Without the registry."""
        first, _, rest = self.name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return rest
        return self.name if "/" in self.name else f"library/{self.name}"

    @property
    def full(self) -> str:
        return f"{self.registry}/{self.repository}"


def parse_image(image: str) -> ImageRef:
    rest, _, digest = image.partition("@")
    name, tag = rest, None
    slash, colon = rest.rfind("/"), rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1:]
    return ImageRef(name, tag or None, digest or None)


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """`repo[:tag][@digest]` -> (repo, tag, digest); a registry port is not a tag."""
    ref = parse_image(image)
    return ref.name, ref.tag, ref.digest
