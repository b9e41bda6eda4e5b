"""Report formats. Each is a pure function `render(report) -> str` over a Report."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from llmops_gate.errors import GateError
from llmops_gate.model import Report

Renderer = Callable[[Report], str]

FORMATS: dict[str, str] = {
    "text": "llmops_gate.report.text:render",
    "json": "llmops_gate.report.json_report:render",
    "junit": "llmops_gate.report.junit:render",
    "sarif": "llmops_gate.report.sarif:render",
    "github": "llmops_gate.report.github:render",
}


def renderer(name: str) -> Renderer:
    try:
        module, func = FORMATS[name].split(":")
    except KeyError:
        raise GateError(f"unknown format '{name}' (known: {', '.join(FORMATS)})") from None
    fn: Renderer = getattr(importlib.import_module(module), func)
    return fn
