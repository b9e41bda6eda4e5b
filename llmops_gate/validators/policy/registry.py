"""The explicit registry of policy rules: built-in families, the config's custom rules, plugins.

Built-in rule families are listed here by hand (no registration by import side effect); their
order is the order of `llmops-gate rules`. Plugins come from the entry-point group
`llmops_gate.rules`; each entry point loads to a `Rule` or a sequence of them.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import replace
from importlib import metadata

from llmops_gate.config import Config
from llmops_gate.errors import GateError
from llmops_gate.model import RuleDoc, Severity
from llmops_gate.validators.policy import (
    argocd,
    credentials,
    custom,
    gpu,
    images,
    namespaces,
    references,
    replicas,
    resources,
    security,
    vllm,
)
from llmops_gate.validators.policy.base import Rule

FAMILIES = (resources, replicas, gpu, images, references, credentials, security, namespaces,
            argocd, vllm)

ENTRY_POINT_GROUP = "llmops_gate.rules"

BUILTIN: dict[str, Rule] = {
    rule.id: replace(rule, doc=inspect.cleandoc(family.__doc__ or ""))
    for family in FAMILIES for rule in family.RULES
}

# Rules the engine itself reports (waivers, failing plugins); listed by `llmops-gate rules`.
META: dict[str, Rule] = {
    "waiver-reason-missing": Rule(
        id="waiver-reason-missing",
        description="A resource with `llmops-gate.io/ignore` also has a non-empty "
                    "`llmops-gate.io/ignore-reason`.",
        why="A waiver nobody can explain is never revisited; without a reason it is not "
            "applied.",
        fix="add the annotation llmops-gate.io/ignore-reason: <why this is acceptable>",
    ),
    "waiver-unknown-rule": Rule(
        id="waiver-unknown-rule",
        description="A waiver names only rules that exist.",
        why="A misspelt rule id waives nothing, and the finding it was meant for stays.",
        fix="use a rule id from `llmops-gate rules`",
        severity=Severity.WARNING,
    ),
    "rule-failed": Rule(
        id="rule-failed",
        description="A plugin or custom rule could be loaded and ran without failing.",
        why="A rule that fails checks nothing; its silence must not read as a pass.",
        fix="fix or uninstall the plugin (the message names it)",
    ),
}


def _plugin_rules() -> tuple[list[Rule], list[str]]:
    rules: list[Rule] = []
    problems: list[str] = []
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        where = f"plugin '{ep.name}' ({ep.value})"
        try:
            loaded = ep.load()
        except Exception as exc:  # a broken plugin is reported, never silently skipped
            problems.append(f"{where} could not be loaded: {type(exc).__name__}: {exc}")
            continue
        items: Iterable[object] = loaded if isinstance(loaded, (list, tuple)) else [loaded]
        for item in items:
            if not isinstance(item, Rule) or item.check is None:
                problems.append(f"{where} is not a llmops_gate Rule with a check")
                continue
            dist = getattr(ep, "dist", None)
            source = f"plugin {dist.name}" if dist is not None else f"plugin {ep.name}"
            rules.append(Rule(**{**item.__dict__, "source": source}))
    return rules, problems


def all_rules(config: Config | None = None) -> tuple[dict[str, Rule], list[str]]:
    """Every rule in force (built-in, custom from the config, plugins) and load problems."""
    out = dict(BUILTIN)
    problems: list[str] = []
    extra = custom.rules_from_config(config) if config is not None else []
    plugins, problems = _plugin_rules()
    for rule in [*extra, *plugins]:
        if rule.id in out or rule.id in META:
            message = f"{rule.source} rule '{rule.id}' has the id of another rule"
            if rule.source.startswith("plugin"):
                problems.append(message)
                continue
            raise GateError(f"{config.path if config and config.path else 'config'}: {message}")
        out[rule.id] = rule
    return out, problems


def rules(config: Config | None = None) -> list[RuleDoc]:
    """Every policy rule id in the shared vocabulary: those in force, then the engine's own."""
    found, _ = all_rules(config)
    return [r.meta for r in [*found.values(), *META.values()]]
