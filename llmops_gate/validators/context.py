"""What a validator gets: the repo, its config, the rendered units, the options of the run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops_gate.config import Config
from llmops_gate.model import Resource, UnitResult
from llmops_gate.repo.discover import RepoScan
from llmops_gate.yamlio.sourcemap import SourceMap


@dataclass
class Context:
    repo: Path
    config: Config
    scan: RepoScan
    results: list[UnitResult]
    sources: SourceMap
    # Validator-specific options from the command line (strict, kubernetes_version, ...).
    settings: Mapping[str, Any] = field(default_factory=dict)

    def resources(self) -> Iterator[Resource]:
        for result in self.results:
            yield from result.resources
