"""Pod specs as the API server checks them (`ValidatePodSpec` in k8s.io/kubernetes
pkg/apis/core/validation): container names, ports, env var names, probe handlers, volumes and
volume mounts, and the restart policy each owner allows.

KServe's ServingRuntime and InferenceService pod specs get the same checks: KServe copies them
into the Deployments it creates, which the API server then refuses (the InferenceService never
becomes Ready, and the reason is only in KServe's controller log).

Passing:

    containers:
      - name: kserve-container
        ports: [{name: http, containerPort: 8080, protocol: TCP}]
        volumeMounts: [{name: shm, mountPath: /dev/shm}]
    volumes: [{name: shm, emptyDir: {medium: Memory}}]

Failing (`container-name-invalid`, `port-name-invalid`, `container-port-invalid`,
`volume-mount-unknown`):

    containers:
      - name: Main_Container
        ports: [{name: http_port, containerPort: 99999}]
        volumeMounts: [{name: cache, mountPath: /cache}]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from llmops_gate.kinds import Path, items
from llmops_gate.model import Severity
from llmops_gate.validators.admission import grammar
from llmops_gate.validators.admission.base import Rule, Scope, Violation, each
from llmops_gate.validators.admission.podspec import (
    Container,
    PodSpec,
    containers,
    label,
    pod_specs,
)

POD_VALIDATION = ("k8s.io/kubernetes pkg/apis/core/validation ValidatePodSpec, "
                  "Kubernetes API reference 'Container' and 'Pod'")
EVERY_VERSION = "all supported versions"


def _pod_rule(rule: str, summary: str, why: str, fix: str, where: str,
              since: str = EVERY_VERSION) -> Rule:
    """A rule of ValidatePodSpec: an error, its source the function `where` of it."""
    return Rule(rule, Severity.ERROR, summary, why, fix, f"{POD_VALIDATION} ({where}); {since}")


RULES = (
    _pod_rule("container-name-invalid",
              "Every container (and init container) has a name that is a DNS-1123 label.",
              "the API server rejects the pod (for KServe: the Deployment it creates)",
              "name containers with lower case letters, digits and '-', at most 63 characters",
              "validateContainers"),
    _pod_rule("container-name-duplicate",
              "Container names are unique across containers, initContainers and "
              "ephemeralContainers of a pod.",
              "the API server rejects the pod: 'Duplicate value'",
              "rename one of the containers", "validateContainers"),
    _pod_rule("container-port-invalid",
              "containerPort (required) and hostPort (when set) are between 1 and 65535.",
              "the API server rejects the pod", "use a port number from 1 to 65535",
              "validateContainerPorts"),
    Rule("port-name-invalid", Severity.ERROR,
         "Container port names are IANA_SVC_NAMEs (at most 15 lower case letters, digits and "
         "'-', at least one letter, no '--', no leading or trailing '-') and unique in the "
         "container.",
         "the API server rejects the pod", "rename the port, e.g. 'http' or 'grpc-metrics'",
         "RFC 6335 section 5.1; k8s.io/apimachinery IsValidPortName, "
         f"{POD_VALIDATION} (validateContainerPorts); all supported versions"),
    _pod_rule("port-protocol-invalid", "Port protocols are TCP, UDP or SCTP (upper case).",
              "the API server rejects the object: 'supported values: \"SCTP\", \"TCP\", "
              "\"UDP\"'", "write TCP, UDP or SCTP", "validateContainerPorts",
              since="SCTP since 1.20 (GA)"),
    Rule("env-name-invalid", Severity.ERROR,
         "Container env var names are valid for the Kubernetes version: before 1.32 "
         "`[-._a-zA-Z][-._a-zA-Z0-9]*`; from 1.32 (RelaxedEnvironmentVariableValidation on by "
         "default; GA in 1.34) any printable ASCII except '='.",
         "the API server rejects the pod",
         "rename the variable (letters, digits, '_', '-', '.', not starting with a digit "
         "works on every version)",
         "k8s.io/apimachinery IsEnvVarName (since 1.8) and IsRelaxedEnvVarName "
         f"(KEP-4369: alpha 1.30, beta 1.32, GA 1.34); {POD_VALIDATION} (ValidateEnv)"),
    _pod_rule("probe-handler-invalid",
              "Each probe has exactly one of exec, httpGet, tcpSocket, grpc (each lifecycle "
              "hook exactly one of exec, httpGet, tcpSocket, sleep), and its port is 1-65535 "
              "or an IANA_SVC_NAME.",
              "the API server rejects the pod: 'must specify a handler type' or 'may not "
              "specify more than 1 handler type'",
              "keep exactly one handler in the probe", "validateProbe, validateHandler",
              since="grpc since 1.24 (beta), sleep since 1.29"),
    _pod_rule("volume-name-invalid", "Volume names are DNS-1123 labels, unique in the pod.",
              "the API server rejects the pod", "rename the volume", "ValidateVolumes"),
    _pod_rule("volume-mount-unknown",
              "Every volumeMount (and volumeDevice) names a volume of the pod, and mount "
              "paths are unique in a container.",
              "the API server rejects the pod: 'volumeMounts[0].name: Not found'",
              "add the volume to `volumes:`, or fix the mount's name", "ValidateVolumeMounts"),
    Rule("restart-policy-invalid", Severity.ERROR,
         "restartPolicy is one the owner allows: Always, OnFailure or Never for a Pod; Always "
         "for Deployments, StatefulSets, DaemonSets, ReplicaSets; OnFailure or Never for Jobs "
         "and CronJobs (which must set it: the default, Always, is refused).",
         "the API server rejects the object",
         "set restartPolicy: Never (or OnFailure) in a Job's template; remove it elsewhere",
         "k8s.io/kubernetes pkg/apis/apps/validation and pkg/apis/batch/validation "
         "(ValidatePodTemplateSpecForReplicaSet, validateJobSpec); all supported versions"),
)

PROTOCOLS = ("TCP", "UDP", "SCTP")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
HOOK_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
RESTART_POLICIES: dict[str, tuple[str, ...]] = {
    "Pod": ("Always", "OnFailure", "Never"),
    "Deployment": ("Always",), "StatefulSet": ("Always",), "DaemonSet": ("Always",),
    "ReplicaSet": ("Always",), "ReplicationController": ("Always",),
    "Job": ("OnFailure", "Never"), "CronJob": ("OnFailure", "Never"),
}


def _ports(c: Container) -> Iterator[Violation]:
    seen: set[str] = set()
    for i, port in items(c.spec.get("ports")):
        path: Path = (*c.path, "ports", i)
        number = port.get("containerPort")
        if number is None:
            yield Violation("container-port-invalid",
                            f"{label(c)}: ports[{i}].containerPort is required", path)
        elif not grammar.port_number(number) and isinstance(number, int):
            yield Violation("container-port-invalid", f"{label(c)}: containerPort {number}: "
                            "must be between 1 and 65535, inclusive", (*path, "containerPort"))
        host = port.get("hostPort")
        if isinstance(host, int) and host != 0 and not grammar.port_number(host):
            yield Violation("container-port-invalid", f"{label(c)}: hostPort {host}: must be "
                            "between 1 and 65535, inclusive", (*path, "hostPort"))
        name = port.get("name")
        if isinstance(name, str) and name:
            yield from each(grammar.iana_svc_name(name), "port-name-invalid", (*path, "name"),
                            f"{label(c)}: port name '{name}'")
            if name in seen:
                yield Violation("port-name-invalid", f"{label(c)}: port name '{name}' is "
                                "used twice in the container", (*path, "name"))
            seen.add(name)
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol not in PROTOCOLS:
            yield Violation("port-protocol-invalid", f"{label(c)}: protocol '{protocol}': "
                            "supported values: \"SCTP\", \"TCP\", \"UDP\"",
                            (*path, "protocol"))


def _env(c: Container, scope: Scope) -> Iterator[Violation]:
    relaxed = scope.kubernetes_version >= (1, 32)
    version = ".".join(map(str, scope.kubernetes_version))
    for i, env in items(c.spec.get("env")):
        name = env.get("name")
        if isinstance(name, str):
            yield from each(grammar.env_var_name(name, relaxed), "env-name-invalid",
                            (*c.path, "env", i, "name"),
                            f"{label(c)}: env var '{name}' (Kubernetes {version})")


def _handler(handler: Mapping[str, Any], path: Path, what: str,
             kinds: tuple[str, ...]) -> Iterator[Violation]:
    present = [k for k in kinds if handler.get(k) is not None]
    if not present:
        yield Violation("probe-handler-invalid", f"{what}: must specify a handler type "
                        f"(one of {', '.join(kinds)})", path)
    elif len(present) > 1:
        yield Violation("probe-handler-invalid", f"{what}: may not specify more than 1 handler "
                        f"type (has {', '.join(present)})", (*path, present[1]))
    for key in ("httpGet", "tcpSocket", "grpc"):
        port = handler.get(key, {}).get("port") if isinstance(handler.get(key), Mapping) \
            else None
        if port is None:
            continue
        where: Path = (*path, key, "port")
        if isinstance(port, str) and key != "grpc":
            for problem in grammar.iana_svc_name(port):
                yield Violation("probe-handler-invalid", f"{what}: port '{port}': {problem}",
                                where)
        elif isinstance(port, int) and not grammar.port_number(port):
            yield Violation("probe-handler-invalid", f"{what}: port {port}: must be between 1 "
                            "and 65535, inclusive", where)


def _probes(c: Container) -> Iterator[Violation]:
    for probe in PROBES:
        spec = c.spec.get(probe)
        if isinstance(spec, Mapping):
            yield from _handler(spec, (*c.path, probe), f"{label(c)}: {probe}", PROBE_HANDLERS)
    lifecycle = c.spec.get("lifecycle")
    if isinstance(lifecycle, Mapping):
        for hook in ("postStart", "preStop"):
            spec = lifecycle.get(hook)
            if isinstance(spec, Mapping):
                yield from _handler(spec, (*c.path, "lifecycle", hook),
                                    f"{label(c)}: lifecycle.{hook}", HOOK_HANDLERS)


def _names(pod: PodSpec, all_containers: list[Container]) -> Iterator[Violation]:
    seen: set[str] = set()
    for c in all_containers:
        if not c.named:
            continue
        name = c.spec.get("name")
        if name is None:
            yield Violation("container-name-invalid", f"{label(c)}: name is required", c.path)
            continue
        if not isinstance(name, str):
            continue
        yield from each(grammar.dns1123_label(name), "container-name-invalid",
                        (*c.path, "name"), f"container name '{name}'")
        if name in seen:
            yield Violation("container-name-duplicate", f"container name '{name}' is used "
                            "twice in the pod", (*c.path, "name"))
        seen.add(name)


def _volumes(pod: PodSpec, all_containers: list[Container]) -> Iterator[Violation]:
    names: set[str] = set()
    for i, vol in items(pod.spec.get("volumes")):
        name = vol.get("name")
        if not isinstance(name, str):
            continue
        path: Path = (*pod.path, "volumes", i, "name")
        yield from each(grammar.dns1123_label(name), "volume-name-invalid", path,
                        f"volume name '{name}'")
        if name in names:
            yield Violation("volume-name-invalid", f"volume name '{name}' is used twice in the "
                            "pod", path)
        names.add(name)
    for c in all_containers:
        paths: set[str] = set()
        for key in ("volumeMounts", "volumeDevices"):
            for i, mount in items(c.spec.get(key)):
                name = mount.get("name")
                if pod.volumes_complete and isinstance(name, str) and name not in names:
                    yield Violation("volume-mount-unknown", f"{label(c)}: {key}[{i}] names "
                                    f"volume '{name}', which the pod does not have",
                                    (*c.path, key, i, "name"))
                where = mount.get("mountPath" if key == "volumeMounts" else "devicePath")
                if isinstance(where, str):
                    if where in paths:
                        yield Violation("volume-mount-unknown", f"{label(c)}: path '{where}' "
                                        "is mounted twice in the container",
                                        (*c.path, key, i))
                    paths.add(where)


def _restart_policy(pod: PodSpec) -> Iterator[Violation]:
    allowed = RESTART_POLICIES.get(pod.owner)
    if allowed is None:
        return
    policy = pod.spec.get("restartPolicy")
    if policy is None and pod.owner in ("Job", "CronJob"):
        yield Violation("restart-policy-invalid", f"{pod.owner} pods must set restartPolicy "
                        "to OnFailure or Never (the default, Always, is refused)", pod.path)
    elif isinstance(policy, str) and policy not in allowed:
        yield Violation("restart-policy-invalid", f"{pod.owner}: restartPolicy '{policy}': "
                        f"supported values: {', '.join(allowed)}",
                        (*pod.path, "restartPolicy"))


def check(doc: Mapping[str, Any], scope: Scope) -> Iterator[Violation]:
    for pod in pod_specs(doc):
        all_containers = list(containers(pod))
        yield from _names(pod, all_containers)
        for c in all_containers:
            yield from _ports(c)
            yield from _env(c, scope)
            yield from _probes(c)
        yield from _volumes(pod, all_containers)
        yield from _restart_policy(pod)
