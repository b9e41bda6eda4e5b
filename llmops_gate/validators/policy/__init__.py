"""The `policy` validator: per-environment rules over every rendered resource.

Rules are data plus a pure `check(resource, ctx)` (see `base.py`), one family per module,
listed explicitly in `registry.py`. This engine resolves each environment's policy from the
config, runs the rules, stamps severity, maps each violation to its source file and line, and
applies `llmops-gate.io/ignore` waivers (which need a reason, and which the config may refuse).
"""

from __future__ import annotations

from llmops_gate.validators.base import Spec
from llmops_gate.validators.policy.base import Option, Rule, RuleContext, Violation
from llmops_gate.validators.policy.engine import check
from llmops_gate.validators.policy.registry import rules

__all__ = ["SPEC", "Option", "Rule", "RuleContext", "Violation", "check", "rules"]

SPEC = Spec("policy", check, rules)
