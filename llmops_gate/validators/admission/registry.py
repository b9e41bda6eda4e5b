"""The explicit registry of admission rule families, in the order `llmops-gate rules` lists
them (no registration by import side effect)."""

from __future__ import annotations

import inspect
from types import ModuleType

from llmops_gate.validators.admission import (
    argocd,
    configdata,
    kserve,
    meta,
    pods,
    resources,
    services,
    tekton,
    workloads,
)
from llmops_gate.validators.admission.base import Check, Rule

FAMILIES: tuple[ModuleType, ...] = (meta, resources, pods, workloads, services, configdata,
                                    kserve, argocd, tekton)

RULES: dict[str, Rule] = {rule.id: rule for family in FAMILIES for rule in family.RULES}
CHECKS: tuple[Check, ...] = tuple(family.check for family in FAMILIES)
# rule id -> the documentation of its family (with a passing and a failing example)
DOCS: dict[str, str] = {rule.id: inspect.cleandoc(family.__doc__ or "")
                        for family in FAMILIES for rule in family.RULES}
