"""Reading YAML fast and safely: PyYAML's C loader where it exists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

try:
    SafeLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    SafeLoader = yaml.SafeLoader


def load(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)  # a safe loader


def load_all(text: str) -> Iterator[Any]:
    return yaml.load_all(text, Loader=SafeLoader)  # a safe loader


def load_file(path: Path) -> Any:
    return load(path.read_text(encoding="utf-8"))


def yaml_error_position(exc: yaml.YAMLError) -> tuple[int | None, int | None]:
    """1-based (line, column) of a PyYAML error, where it has one."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return None, None
    return int(mark.line) + 1, int(mark.column) + 1


def yaml_error_summary(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    parts = [p for p in (context, problem) if p]
    return ", ".join(parts) if parts else str(exc).splitlines()[0]
