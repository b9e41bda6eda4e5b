"""What a rule is, for the report formats that describe rules (SARIF's `tool.driver.rules`).

A validator module may declare `RULES: Mapping[str, RuleDoc]` (or any objects with
`description` and `help`/`hint` attributes, or dicts with those keys) and, for open-ended rule
families, `rule_doc(rule_id) -> RuleDoc | None`. Rules nobody describes get a generic text built
from their findings, so a report never lacks help text.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmops_gate.model import Finding


@dataclass(frozen=True)
class RuleDoc:
    """One rule: what it checks (one line), why it matters and how to fix it, a link."""

    id: str
    description: str
    help: str
    url: str | None = None


def _field(obj: Any, *names: str) -> str | None:
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _declared(validator: str, rule: str) -> RuleDoc | None:
    from llmops_gate import validators

    target = validators.REGISTRY.get(validator)
    if target is None:
        return None
    try:
        module = importlib.import_module(target.split(":")[0])
    except ImportError:
        return None
    doc_fn = getattr(module, "rule_doc", None)
    if callable(doc_fn):
        found = doc_fn(rule)
        if isinstance(found, RuleDoc):
            return found
    table = getattr(module, "RULES", None)
    entry = table.get(rule) if isinstance(table, Mapping) else None
    if entry is None:
        return None
    if isinstance(entry, RuleDoc):
        return entry
    description = _field(entry, "description", "summary", "short", "what")
    if description is None:
        return None
    help_text = _field(entry, "help", "hint", "fix", "why") or description
    return RuleDoc(rule, description, help_text, _field(entry, "url", "link", "help_uri"))


def describe(validator: str, rule: str, findings: Sequence[Finding] = ()) -> RuleDoc:
    """The documentation of `rule` of `validator`, never None."""
    doc = _declared(validator, rule)
    if doc is not None:
        return doc
    hint = next((f.hint for f in findings if f.hint), None)
    description = f"{validator} check '{rule}'"
    return RuleDoc(rule, description, hint or f"See `llmops-gate rules` for '{rule}'.")


def rules_of(findings: Sequence[Finding]) -> list[tuple[str, RuleDoc]]:
    """(validator, doc) for every distinct rule among `findings`, in first-seen order."""
    seen: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        seen.setdefault((f.validator, f.rule), []).append(f)
    return [(validator, describe(validator, rule, group))
            for (validator, rule), group in seen.items()]
