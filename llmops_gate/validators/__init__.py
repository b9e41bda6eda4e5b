"""The validator registry. Each validator is `check(ctx: Context) -> Iterable[Finding]`.

Validators never print and never exit. They are named here explicitly (no registration by
import side effect) and imported only when a run selects them, so `--help` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from llmops_gate.errors import GateError
from llmops_gate.model import Finding
from llmops_gate.validators.context import Context

Validator = Callable[[Context], Iterable[Finding]]

# name -> "module:function", in the order they run and appear in reports.
REGISTRY: dict[str, str] = {
    "build": "llmops_gate.validators.build:check",
    "lint": "llmops_gate.validators.lint:check",
    "parse": "llmops_gate.validators.parse:check",
    "schema": "llmops_gate.validators.schema:check",
    "admission": "llmops_gate.validators.admission:check",
    "policy": "llmops_gate.validators.policy:check",
    "tekton": "llmops_gate.validators.tekton:check",
}


def names() -> list[str]:
    return list(REGISTRY)


def load(name: str) -> Validator:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise GateError(f"unknown validator '{name}' (known: {', '.join(REGISTRY)})") from None
    module, func = target.split(":")
    fn: Validator = getattr(importlib.import_module(module), func)
    return fn


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
