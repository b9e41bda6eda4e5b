"""container-privileged, privilege-escalation, host-namespaces, host-path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.validators.policy.conftest import line, run_policy, where

POD = """
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: llm-dev}
spec:
  containers:
    - name: shell
      image: quay.io/org/shell:1
      resources: {requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, memory: 1Gi}}
      securityContext:
        allowPrivilegeEscalation: false
"""
F = "overlays/dev/pod.yaml"


def test_safe_pod_passes(tmp_path: Path) -> None:
    assert where(run_policy(tmp_path, {F: POD})) == []


@pytest.mark.parametrize(("rule", "edit", "needle"), [
    ("container-privileged", ("allowPrivilegeEscalation: false", "privileged: true"),
     "privileged: true"),
    ("privilege-escalation", ("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"),
     "allowPrivilegeEscalation: true"),
    ("host-namespaces", ("spec:\n  containers:", "spec:\n  hostNetwork: true\n  containers:"),
     "hostNetwork"),
    ("host-namespaces", ("spec:\n  containers:", "spec:\n  hostPID: true\n  containers:"),
     "hostPID"),
    ("host-path", ("spec:\n  containers:",
                   "spec:\n  volumes:\n    - {name: root, hostPath: {path: /}}\n  containers:"),
     "hostPath"),
])
def test_unsafe_pods(tmp_path: Path, rule: str, edit: tuple[str, str], needle: str) -> None:
    text = POD.replace(*edit)
    assert where(run_policy(tmp_path, {F: text})) == [(rule, F, line(text, needle))]


def test_escalation_must_be_false_when_asked(tmp_path: Path) -> None:
    text = POD.replace("      securityContext:\n        allowPrivilegeEscalation: false\n", "")
    assert where(run_policy(tmp_path, {F: text})) == []
    config = "policy: {rules: {privilege-escalation: {require-false: true}}}\n"
    assert where(run_policy(tmp_path, {F: text}, config=config)) == [
        ("privilege-escalation", F, line(text, "- name: shell"))]
