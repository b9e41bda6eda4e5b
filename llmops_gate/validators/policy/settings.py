"""From `.llmops-gate.yaml` to the `EnvPolicy` of every environment.

Layers: built-in defaults, then the top-level `policy`, then the environment's own `policy`.
Built-in defaults by environment: production needs at least 2 replicas; only the first
environment (or one named dev) may auto-sync.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from llmops_gate.config import Config, environment_from_folder
from llmops_gate.errors import GateError
from llmops_gate.model import Severity
from llmops_gate.validators.policy.base import Bound, EnvPolicy, RuleSetting
from llmops_gate.validators.policy.quantity import parse_quantity


def _bound(raw: Any, where: str) -> Bound:
    out = Bound()
    if not isinstance(raw, Mapping):
        return out
    for side in ("min", "max"):
        if side not in raw:
            continue
        value = parse_quantity(raw[side])
        if value is None:
            raise GateError(f"{where}.{side}: '{raw[side]}' is not a Kubernetes quantity")
        if side == "min":
            out = replace(out, min=value, min_text=str(raw[side]))
        else:
            out = replace(out, max=value, max_text=str(raw[side]))
    return out


def _merge_bounds(base: Mapping[str, Bound], raw: Any, where: str) -> dict[str, Bound]:
    out = dict(base)
    if isinstance(raw, Mapping):
        for resource in ("cpu", "memory"):
            if resource in raw:
                new = _bound(raw[resource], f"{where}.{resource}")
                old = out.get(resource, Bound())
                out[resource] = Bound(
                    min=new.min if new.min is not None else old.min,
                    max=new.max if new.max is not None else old.max,
                    min_text=new.min_text if new.min is not None else old.min_text,
                    max_text=new.max_text if new.max is not None else old.max_text,
                )
    return out


def _rule_setting(raw: Any) -> RuleSetting:
    if isinstance(raw, bool):
        return RuleSetting(off=not raw)
    if isinstance(raw, str):
        return RuleSetting(off=True) if raw == "off" else RuleSetting(severity=Severity(raw))
    if isinstance(raw, Mapping):
        sev = raw.get("severity")
        options = {k: v for k, v in raw.items() if k != "severity"}
        if sev == "off" or sev is False:
            return RuleSetting(off=True, options=options)
        return RuleSetting(severity=Severity(sev) if sev else None, options=options)
    return RuleSetting()


def apply_layer(policy: EnvPolicy, raw: Mapping[str, Any], where: str) -> EnvPolicy:
    changes: dict[str, Any] = {}
    if "requests" in raw:
        changes["requests"] = _merge_bounds(policy.requests, raw["requests"], f"{where}.requests")
    if "limits" in raw:
        changes["limits"] = _merge_bounds(policy.limits, raw["limits"], f"{where}.limits")
    replicas = raw.get("replicas")
    if isinstance(replicas, Mapping):
        if "min" in replicas:
            changes["replicas_min"] = int(replicas["min"])
        if "max" in replicas:
            changes["replicas_max"] = int(replicas["max"])
    simple = {"allowed-registries": ("allowed_registries", tuple),
              "accelerators": ("accelerators", tuple),
              "allow-cluster-scoped": ("allow_cluster_scoped", tuple),
              "require-digest": ("require_digest", bool),
              "require-model-digest": ("require_model_digest", bool),
              "allow-auto-sync": ("allow_auto_sync", bool),
              "require-pinned-revision": ("require_pinned_revision", bool)}
    for key, (attr, conv) in simple.items():
        if key in raw:
            changes[attr] = conv(raw[key])
    waivers = raw.get("waivers")
    if isinstance(waivers, Mapping):
        if "allowed" in waivers:
            changes["waivers_allowed"] = bool(waivers["allowed"])
        if "refuse" in waivers:
            changes["refuse_waivers"] = frozenset(str(r) for r in waivers["refuse"])
    rules = raw.get("rules")
    if isinstance(rules, Mapping):
        merged = dict(policy.rules)
        for rule_id, setting in rules.items():
            new = _rule_setting(setting)
            old = merged.get(str(rule_id))
            if old is not None and setting is True:  # switched back on, as it was otherwise
                new = RuleSetting(severity=old.severity, options=old.options)
            elif old is not None:
                new = RuleSetting(severity=new.severity or (None if new.off else old.severity),
                                  off=new.off or (old.off and new.severity is None),
                                  options={**old.options, **new.options})
            merged[str(rule_id)] = new
        changes["rules"] = merged
    return replace(policy, **changes) if changes else policy


def builtin_policy(env: str | None, first: bool) -> EnvPolicy:
    canonical = environment_from_folder(env) if env else None
    return EnvPolicy(
        replicas_min=2 if canonical == "production" else None,
        allow_auto_sync=canonical == "dev" or (first and canonical not in ("staging",
                                                                          "production")),
    )


def env_policy(config: Config, env: str | None, first: bool = False) -> EnvPolicy:
    source = str(config.path) if config.path else "config"
    policy = builtin_policy(env, first)
    policy = apply_layer(policy, config.section("policy"), f"{source}: policy")
    found = config.environment(env) if env else None
    if found is not None:
        policy = apply_layer(policy, found.policy,
                             f"{source}: environments[{found.name}].policy")
    return policy


def check_known_rules(config: Config, known: Sequence[str]) -> None:
    """A `rules:` entry naming no rule is a config error (typos would silently do nothing)."""
    source = str(config.path) if config.path else "config"
    sections: list[tuple[str, Mapping[str, Any]]] = [("policy", config.section("policy"))]
    sections += [(f"environments[{e.name}].policy", e.policy) for e in config.environments]
    for where, section in sections:
        rules = section.get("rules") if isinstance(section, Mapping) else None
        waivers = section.get("waivers") if isinstance(section, Mapping) else None
        names = list(rules) if isinstance(rules, Mapping) else []
        if isinstance(waivers, Mapping):
            names += [r for r in waivers.get("refuse", []) if r != "*"]
        for name in names:
            if name not in known:
                raise GateError(f"{source}: key '{where}': unknown policy rule '{name}' "
                                "(see `llmops-gate rules`)")
