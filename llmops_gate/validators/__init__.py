"""The validator registry: each validator is a `Spec` (see `validators.base`) its module names.

Validators never print and never exit. They are named here explicitly (no registration by
import side effect) and imported only when a run selects them, so `--help` stays fast. Where
two validators report the same problem, the registry says which one's finding stands
(`SUPERSEDED`) and the engine merges them (`merge`), so no validator needs to know which of
its siblings run.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmops_gate.config import Config
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, RuleDoc, UnitResult
from llmops_gate.validators.base import Spec, Validator
from llmops_gate.validators.context import Context

__all__ = ["REGISTRY", "SUPERSEDED", "Spec", "Validator", "describe", "docs_of", "load",
           "load_check", "merge", "names", "rules", "select"]

# name -> "module:attribute" of its Spec, in the order they run and appear in reports. An
# entry may also name a plain `check(ctx)` function (see `_from_function`).
REGISTRY: dict[str, str] = {
    "build": "llmops_gate.validators.build:SPEC",
    "lint": "llmops_gate.validators.lint:SPEC",
    "parse": "llmops_gate.validators.parse:SPEC",
    "schema": "llmops_gate.validators.schema:SPEC",
    "admission": "llmops_gate.validators.admission:SPEC",
    "policy": "llmops_gate.validators.policy:SPEC",
    "tekton": "llmops_gate.validators.tekton:SPEC",
}

# What `yamlio` refuses to read (see validators.sources.REFUSALS): lint reports it only when
# parse does not run.
_REFUSED = ("yaml-too-large", "binary-file", "yaml-encoding", "yaml-too-deep", "yaml-aliases",
            "path-outside-repo", "yaml-unreadable")

# (validator, rule) -> the validators whose own finding of the same problem stands instead
# when they run. `parse` reports hostile YAML and duplicate keys whatever the repo's yamllint
# says; yamllint reports syntax errors with their line and column; a plain manifest that does
# not parse is said once, by either.
SUPERSEDED: dict[tuple[str, str], tuple[str, ...]] = {
    ("build", "parse-error"): ("lint", "parse"),
    ("parse", "yaml-syntax"): ("lint",),
    ("lint", "yaml-key-duplicates"): ("parse",),
    **{("lint", rule): ("parse",) for rule in _REFUSED},
}


def merge(findings: Iterable[Finding], chosen: Sequence[str]) -> list[Finding]:
    """`findings` without those another chosen validator reports too (see `SUPERSEDED`)."""
    running = set(chosen)
    return [f for f in findings
            if not running & set(SUPERSEDED.get((f.validator, f.rule), ()))]


def names() -> list[str]:
    return list(REGISTRY)


@dataclass(frozen=True)
class _Hooks:
    """The streaming hooks a module of a function-registered validator declares."""

    needs_rendered: bool
    unit: Callable[[Context, UnitResult], Iterable[Finding]] | None
    done: Callable[[Context], Iterable[Finding]] | None


def _from_function(name: str, fn: Callable[[Context], Iterable[Finding]]) -> Spec:
    """A validator registered as a plain `check(ctx)` function (how tests and outside code
    plug one in). Its module may declare the hooks by name: `NEEDS_RENDERED`, `check_unit`,
    `check_finish`, `rules`, `rule_doc`; this is the one place that looks them up."""
    module = sys.modules.get(getattr(fn, "__module__", ""), None)
    unit = getattr(module, "check_unit", None)
    done = getattr(module, "check_finish", None)
    listed = getattr(module, "rules", None)
    open_rule = getattr(module, "rule_doc", None)
    hooks = _Hooks(needs_rendered=bool(getattr(module, "NEEDS_RENDERED", True)),
                   unit=unit if callable(unit) else None,
                   done=done if callable(done) else None)
    spec = Spec(name=name, run=fn, needs_rendered=hooks.needs_rendered, unit=hooks.unit,
                done=hooks.done, open_rule=open_rule if callable(open_rule) else None)
    if callable(listed):
        return Spec(**{**spec.__dict__, "list_rules": listed})
    return spec


def load(name: str) -> Validator:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise GateError(f"unknown validator '{name}' (known: {', '.join(REGISTRY)})") from None
    module, attr = target.split(":")
    found: Any = getattr(importlib.import_module(module), attr)
    if isinstance(found, Spec):
        return found
    return _from_function(name, found)


def select(only: Iterable[str] | None, skip: Iterable[str] | None) -> list[str]:
    chosen = list(REGISTRY)
    if only:
        wanted = [n.strip() for n in only if n.strip()]
        for n in wanted:
            load_check(n)
        chosen = [n for n in chosen if n in wanted]
    if skip:
        unwanted = [n.strip() for n in skip if n.strip()]
        for n in unwanted:
            load_check(n)
        chosen = [n for n in chosen if n not in unwanted]
    return chosen


def load_check(name: str) -> None:
    if name not in REGISTRY:
        raise GateError(f"unknown validator '{name}' (known: {', '.join(REGISTRY)})")


def rules(name: str, config: Config | None = None) -> list[RuleDoc]:
    """Every rule id validator `name` can emit, with its documentation (policy's depend on
    the config: its custom rules)."""
    return load(name).rules(config)


def describe(name: str, rule: str, config: Config | None = None) -> RuleDoc | None:
    """The documentation of one rule of one validator, or None if it declares none."""
    if name not in REGISTRY:
        return None
    validator = load(name)
    for doc in validator.rules(config):
        if doc.id == rule:
            return doc
    # An open family (lint's `yaml-<yamllint rule>`, for rules a yamllint plugin adds).
    return validator.rule_doc(rule)


def docs_of(findings: Sequence[Finding], config: Config | None = None
            ) -> Mapping[tuple[str, str], RuleDoc]:
    """The documentation of every distinct (validator, rule) among `findings` that has one."""
    catalog: dict[str, dict[str, RuleDoc]] = {}
    out: dict[tuple[str, str], RuleDoc] = {}
    for f in findings:
        key = (f.validator, f.rule)
        if key in out or f.validator not in REGISTRY:
            continue
        if f.validator not in catalog:
            catalog[f.validator] = {d.id: d for d in rules(f.validator, config)}
        doc = catalog[f.validator].get(f.rule) or describe(f.validator, f.rule, config)
        if doc is not None:
            out[key] = doc
    return out
