"""Namespaces: every namespaced resource of an environment's overlay lands in the environment's
namespace (the config's `namespace`, else the overlay's kustomization `namespace`), and an
overlay renders no cluster-scoped resource unless the environment allows its kind.

Passing (staging, namespace llmops-staging): `metadata.namespace: llmops-staging`.
Failing: a resource rendered into `llmops-dev`, or a `ClusterRole` in the overlay.
"""

from __future__ import annotations

from collections.abc import Iterator

from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Rule, RuleContext, Violation, get

CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "CSIDriver", "CSINode",
    "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "APIService",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "PriorityClass",
    "RuntimeClass", "IngressClass", "VolumeAttachment", "PodSecurityPolicy",
    "ClusterServingRuntime", "ClusterStorageContainer", "ClusterIssuer", "ClusterPolicy",
    "ClusterSecretStore", "ClusterResourceQuota", "SecurityContextConstraints", "Project",
    "ProjectRequest", "ClusterVersion", "ClusterOperator", "Group", "User", "OAuthClient",
    "ConsoleLink", "ConsoleNotification", "ImageContentSourcePolicy", "MachineConfig",
})


def _overlay_env(ctx: RuleContext) -> bool:
    return ctx.unit.kind == "overlay" and ctx.environment is not None


def check_namespace(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    want = ctx.namespace
    if not _overlay_env(ctx) or want is None or res.kind in CLUSTER_SCOPED:
        return
    have = get(res.doc, "metadata", "namespace")
    if have is None:
        yield Violation(f"{res.kind} {res.name} has no namespace; {ctx.environment} deploys "
                        f"into '{want}'", path=("metadata",))
    elif have != want:
        yield Violation(f"{res.kind} {res.name} lands in namespace '{have}', not "
                        f"{ctx.environment}'s '{want}'", path=("metadata", "namespace"))


def check_cluster_scoped(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    if not _overlay_env(ctx) or res.kind not in CLUSTER_SCOPED:
        return
    if res.kind in ctx.policy.allow_cluster_scoped:
        return
    yield Violation(f"cluster-scoped {res.kind} {res.name} in {ctx.environment}'s overlay: it is "
                    "shared by every environment of the cluster", path=("kind",))


RULES = (
    Rule(
        id="namespace-matches-env",
        description="Every namespaced resource of an environment's overlay lands in that "
                    "environment's namespace.",
        why="A resource in another environment's namespace overwrites that environment's "
            "copy: a dev sync can change production.",
        fix="set `namespace:` in the overlay's kustomization (and drop hard-coded "
            "metadata.namespace from the base)",
        check=check_namespace,
        equivalents={"checkov": "CKV_K8S_21 (default namespace)",
                     "kube-linter": "use-namespace"},
    ),
    Rule(
        id="cluster-scoped-resource",
        description="An environment's overlay renders no cluster-scoped resource "
                    "(ClusterRole, CRD, Namespace, ClusterServingRuntime, ...) unless the "
                    "environment's `allow-cluster-scoped` lists its kind.",
        why="Cluster-scoped objects are shared by every environment: dev's copy and "
            "production's fight over one object.",
        fix="move the resource to a cluster-level Application, or allow its kind with "
            "`allow-cluster-scoped`",
        check=check_cluster_scoped,
    ),
)
