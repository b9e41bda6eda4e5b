"""Verifying a promotion: render each target again; promoted fields equal the source, the rest
is as it was.
"""

from __future__ import annotations

import copy
from typing import Any

from llmops_gate.gitops.plan import Plan, kept_containers
from llmops_gate.gitops.snapshot import Tree
from llmops_gate.gitops.values import Key, Rules, extract, short, strip
from llmops_gate.kinds import RUNTIME_KINDS
from llmops_gate.model import Finding, RuleDoc, Severity

VERIFY = RuleDoc(
    "promote-verify", Severity.ERROR,
    "After a promotion's edits, the promoted fields equal the source's and nothing else changed.",
    "An edit that lands elsewhere than planned, or changes a pinned field, would be committed "
    "as a promotion it is not.",
    "nothing was committed; the message names the field and both values (a patch that "
    "overrides the promoted value in the target, or a pinned field the edit touched)",
    validator="promote")
RULES = {VERIFY.id: VERIFY}


def verify(tree: Tree, plan: Plan, rules: Rules) -> list[Finding]:
    """Render each target again: promoted fields equal the source, everything else as it was."""
    found: list[Finding] = []
    for target in plan.targets:
        after = tree.render(target.env, "target environment")
        unit = target.before.units[0].path

        def bad(message: str, key: Key | None = None, _env: str = target.env,
                _unit: str = unit) -> None:
            found.append(Finding(validator=VERIFY.validator, rule=VERIFY.id,
                                 severity=Severity.ERROR, message=message, overlay=_unit,
                                 environment=_env))

        if set(after.resources) != set(target.before.resources):
            gone = sorted(set(target.before.resources) - set(after.resources))
            new = sorted(set(after.resources) - set(target.before.resources))
            bad(f"objects changed: removed {[str(k) for k in gone]}, added "
                f"{[str(k) for k in new]}")
        for key, res in sorted(after.resources.items()):
            want = target.expected.get(key, {})
            have = extract(res.doc, rules)
            for label, value in want.items():
                if have.get(label) != value:
                    bad(f"{key} {label}: rendered {short(have.get(label))}, expected "
                        f"{short(value)} from {plan.source}", key)
            old = target.before.resources.get(key)
            if old is None:
                continue
            old_doc = old.doc
            own = target.own.resources.get(key) if target.own else None
            if key.kind in RUNTIME_KINDS and own is not None:
                old_doc = copy.deepcopy(old.doc)
                old_doc.setdefault("spec", {}).update(kept_containers(old.doc, own.doc))
            kept_old = strip(old_doc, want, rules)
            kept_new = strip(res.doc, want, rules)
            for path in _differences(kept_old, kept_new):
                bad(f"{key} {path}: changed by the promotion but not promoted "
                    "(kept per environment or pinned)", key)
    return found


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            out += _differences(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _differences(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path or "(object)"]
