"""Service ports and selectors as the API server checks them (`ValidateService`): every port
number 1-65535, `targetPort` a number 1-65535 or an IANA_SVC_NAME, protocol TCP, UDP or SCTP,
port names DNS-1123 labels, required when there is more than one port and unique; the selector
is a map of valid label keys and values.

Passing:

    ports: [{name: http, port: 80, targetPort: http}, {name: metrics, port: 9090}]

Failing (`service-port-invalid`):

    ports: [{port: 80, targetPort: 8080}, {port: 9090}]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from llmops_gate.kinds import Path, get, group_of, items
from llmops_gate.model import Severity
from llmops_gate.validators.admission import grammar
from llmops_gate.validators.admission.base import Rule, Scope, Violation, each
from llmops_gate.validators.admission.meta import label_violations
from llmops_gate.validators.admission.pods import PROTOCOLS

RULES = (
    Rule("service-port-invalid", Severity.ERROR,
         "Service ports: port and numeric targetPort 1-65535, a named targetPort an "
         "IANA_SVC_NAME, protocol TCP/UDP/SCTP, names DNS-1123 labels, required with more than "
         "one port and unique.",
         "the API server rejects the Service", "fix the port as the message says",
         "k8s.io/kubernetes pkg/apis/core/validation ValidateService (validateServicePort); "
         "Kubernetes 'Service' reference; all supported versions"),
)


def check(doc: Mapping[str, Any], scope: Scope) -> Iterator[Violation]:
    if group_of(doc) != "" or doc.get("kind") != "Service":
        return
    ports = items(get(doc, "spec", "ports"))
    seen: set[str] = set()
    for i, port in ports:
        path: Path = ("spec", "ports", i)
        number = port.get("port")
        if isinstance(number, int) and not grammar.port_number(number):
            yield Violation("service-port-invalid", f"port {number}: must be between 1 and "
                            "65535, inclusive", (*path, "port"))
        target = port.get("targetPort")
        if isinstance(target, int) and not grammar.port_number(target):
            yield Violation("service-port-invalid", f"targetPort {target}: must be between 1 "
                            "and 65535, inclusive", (*path, "targetPort"))
        elif isinstance(target, str) and not target.isdigit():
            yield from each(grammar.iana_svc_name(target), "service-port-invalid",
                            (*path, "targetPort"), f"targetPort '{target}'")
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol not in PROTOCOLS:
            yield Violation("service-port-invalid", f"protocol '{protocol}': supported values: "
                            "\"SCTP\", \"TCP\", \"UDP\"", (*path, "protocol"))
        name = port.get("name")
        if isinstance(name, str) and name:
            yield from each(grammar.dns1123_label(name), "service-port-invalid",
                            (*path, "name"), f"port name '{name}'")
            if name in seen:
                yield Violation("service-port-invalid", f"port name '{name}' is used twice",
                                (*path, "name"))
            seen.add(name)
        elif len(ports) > 1:
            yield Violation("service-port-invalid", f"ports[{i}] needs a name: a Service with "
                            "more than one port names every port", path)
    yield from label_violations(get(doc, "spec", "selector"), ("spec", "selector"))
