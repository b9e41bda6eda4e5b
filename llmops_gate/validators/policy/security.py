"""Container security: no privileged containers, no privilege escalation, no host namespaces,
no hostPath volumes.

Passing: a container without `securityContext.privileged`. Failing: `privileged: true`,
`allowPrivilegeEscalation: true`, `hostNetwork: true` on the pod, a `hostPath` volume.
"""

from __future__ import annotations

from collections.abc import Iterator

from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Option, Rule, RuleContext, Violation, get
from llmops_gate.validators.policy.pods import POD_KINDS, containers, pod_spec


def check_privileged(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    for c in containers(res):
        if get(c.spec, "securityContext", "privileged") is True:
            yield Violation(f"container {c.name} runs privileged",
                            path=(*c.path, "securityContext", "privileged"), container=c.name)


def check_escalation(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    require_false = bool(ctx.options.get("require-false", False))
    for c in containers(res):
        value = get(c.spec, "securityContext", "allowPrivilegeEscalation")
        if value is True:
            yield Violation(f"container {c.name} allows privilege escalation",
                            path=(*c.path, "securityContext", "allowPrivilegeEscalation"),
                            container=c.name)
        elif value is None and require_false:
            yield Violation(f"container {c.name} does not set "
                            "securityContext.allowPrivilegeEscalation: false",
                            path=c.path, container=c.name)


def check_host_namespaces(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    found = pod_spec(res)
    if found is None:
        return
    spec, path = found
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key) is True:
            yield Violation(f"the pod shares the node's {key[4:]} namespace ({key}: true)",
                            path=(*path, key))


def check_host_path(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    found = pod_spec(res)
    if found is None:
        return
    spec, path = found
    for i, vol in enumerate(spec.get("volumes") or []):
        host = get(vol, "hostPath", "path")
        if host is not None:
            yield Violation(f"volume {get(vol, 'name') or i} mounts the node's {host} "
                            "(hostPath)", path=(*path, "volumes", i, "hostPath"))


RULES = (
    Rule(
        id="container-privileged",
        description="No container runs with securityContext.privileged: true.",
        why="A privileged container is root on the node: one compromised model server owns "
            "the GPU node and every model on it.",
        fix="remove securityContext.privileged (the GPU device plugin gives access to GPUs "
            "without it)",
        check=check_privileged,
        kinds=POD_KINDS,
        equivalents={"kube-linter": "privileged-container", "Polaris": "runAsPrivileged",
                     "checkov": "CKV_K8S_16"},
    ),
    Rule(
        id="privilege-escalation",
        description="No container sets securityContext.allowPrivilegeEscalation: true "
                    "(option `require-false`: it must be set to false).",
        why="Escalation lets a process gain more privileges than its parent (setuid "
            "binaries), undoing a non-root user.",
        fix="set securityContext.allowPrivilegeEscalation: false",
        check=check_escalation,
        kinds=POD_KINDS,
        options=(Option("require-false", False,
                        "Also flag containers that do not set it to false."),),
        equivalents={"kube-linter": "privilege-escalation-container",
                     "Polaris": "privilegeEscalationAllowed", "checkov": "CKV_K8S_20"},
    ),
    Rule(
        id="host-namespaces",
        description="No pod sets hostNetwork, hostPID or hostIPC.",
        why="Host namespaces let a container see and reach every process and port of the "
            "node.",
        fix="remove hostNetwork/hostPID/hostIPC; use a Service for networking and an emptyDir "
            "(medium: Memory) for shared memory",
        check=check_host_namespaces,
        kinds=POD_KINDS,
        equivalents={"kube-linter": "host-network, host-pid, host-ipc",
                     "Polaris": "hostNetworkSet, hostPIDSet, hostIPCSet",
                     "checkov": "CKV_K8S_19, CKV_K8S_17, CKV_K8S_18"},
    ),
    Rule(
        id="host-path",
        description="No pod mounts a hostPath volume.",
        why="A hostPath mount reads or writes the node's file system: other pods' data, the "
            "kubelet's credentials.",
        fix="use a PersistentVolumeClaim, an emptyDir, or the model's storageUri instead",
        check=check_host_path,
        kinds=POD_KINDS,
        equivalents={"kube-linter": "sensitive-host-mounts"},
    ),
)
