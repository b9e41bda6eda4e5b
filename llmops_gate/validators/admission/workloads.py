"""Workload selectors as the API server checks them: a Deployment, StatefulSet, DaemonSet or
ReplicaSet (apps/v1) has a non-empty `spec.selector` that matches the labels of its own pod
template; so does a Job that sets one, and a ReplicationController. Selector keys and values
are label keys and values, and `matchExpressions` use the operators In, NotIn, Exists and
DoesNotExist (values only with In and NotIn).

Passing:

    selector: {matchLabels: {app: vllm}}
    template: {metadata: {labels: {app: vllm, tier: serving}}}

Failing (`selector-mismatch`):

    selector: {matchLabels: {app: vllm}}
    template: {metadata: {labels: {app: vllm-server}}}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from llmops_gate.kinds import Path, get, group_of, items, mapping
from llmops_gate.model import Severity
from llmops_gate.validators.admission import grammar
from llmops_gate.validators.admission.base import Rule, Scope, Violation, each
from llmops_gate.validators.admission.meta import label_violations

RULES = (
    Rule("selector-mismatch", Severity.ERROR,
         "A workload's selector is present, not empty, valid, and matches its pod template's "
         "labels.",
         "the API server rejects the workload: 'selector does not match template labels' "
         "(and a selector cannot be changed later)",
         "give the pod template every label the selector asks for",
         "k8s.io/kubernetes pkg/apis/apps/validation ValidateDeploymentSpec and friends, "
         "k8s.io/apimachinery/pkg/apis/meta/v1/validation ValidateLabelSelector; required "
         "since apps/v1 (1.9)"),
)

SELECTED = {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
            ("apps", "ReplicaSet")}
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _expression_matches(expr: Mapping[str, Any], pod_labels: Mapping[str, Any]) -> bool:
    key, op = str(expr.get("key")), expr.get("operator")
    raw = expr.get("values")
    values = [str(v) for v in raw] if isinstance(raw, list) else []
    if op == "In":
        return key in pod_labels and str(pod_labels[key]) in values
    if op == "NotIn":
        return key not in pod_labels or str(pod_labels[key]) not in values
    if op == "Exists":
        return key in pod_labels
    if op == "DoesNotExist":
        return key not in pod_labels
    return True  # an unknown operator is reported on its own


def _selector(selector: Mapping[str, Any], path: Path,
              pod_labels: Mapping[str, Any] | None) -> Iterator[Violation]:
    match = mapping(selector.get("matchLabels"))
    yield from label_violations(match, (*path, "matchLabels"))
    for i, expr in items(selector.get("matchExpressions")):
        where: Path = (*path, "matchExpressions", i)
        key, op = expr.get("key"), expr.get("operator")
        if isinstance(key, str):
            yield from each(grammar.qualified_name(key), "label-key-invalid", (*where, "key"),
                            f"selector key '{key}'")
        if op not in OPERATORS:
            yield Violation("selector-mismatch", f"selector operator '{op}': supported values: "
                            f"{', '.join(OPERATORS)}", (*where, "operator"))
        elif op in ("In", "NotIn") and not expr.get("values"):
            yield Violation("selector-mismatch", f"selector operator {op} needs values",
                            (*where, "operator"))
        elif op in ("Exists", "DoesNotExist") and expr.get("values"):
            yield Violation("selector-mismatch", f"selector operator {op} takes no values",
                            (*where, "values"))
    if pod_labels is None:
        return
    for key, value in match.items():
        if str(pod_labels.get(key)) != str(value) or key not in pod_labels:
            yield Violation("selector-mismatch", "selector does not match template labels: "
                            f"the template has no label {key}: {value}",
                            (*path, "matchLabels", str(key)))
    for i, expr in items(selector.get("matchExpressions")):
        if expr.get("operator") in OPERATORS and not _expression_matches(expr, pod_labels):
            yield Violation("selector-mismatch", "selector does not match template labels: "
                            f"matchExpressions[{i}] ({expr.get('key')} {expr.get('operator')})",
                            (*path, "matchExpressions", i))


def check(doc: Mapping[str, Any], scope: Scope) -> Iterator[Violation]:
    kind, group = str(doc.get("kind") or ""), group_of(doc)
    template_labels = mapping(get(doc, "spec", "template", "metadata", "labels"))
    selector = get(doc, "spec", "selector")
    if (group, kind) in SELECTED:
        if not isinstance(selector, Mapping) or not (
                selector.get("matchLabels") or selector.get("matchExpressions")):
            yield Violation("selector-mismatch", f"{kind} needs a non-empty spec.selector "
                            "(apps/v1 does not default it from the template)",
                            ("spec", "selector") if selector is not None else ("spec",))
            return
        yield from _selector(selector, ("spec", "selector"), template_labels)
    elif group == "batch" and kind == "Job" and isinstance(selector, Mapping):
        yield from _selector(selector, ("spec", "selector"), template_labels)
    elif group == "" and kind == "ReplicationController" and isinstance(selector, Mapping):
        # A plain map; it defaults to the template's labels when left out.
        yield from label_violations(selector, ("spec", "selector"))
        for key, value in selector.items():
            if key not in template_labels or str(template_labels[key]) != str(value):
                yield Violation("selector-mismatch", "selector does not match template "
                                f"labels: the template has no label {key}: {value}",
                                ("spec", "selector", str(key)))
