"""What a validator gets: the repo, its config, the rendered units, the settings of the run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops_gate.config import Config
from llmops_gate.model import Resource, UnitResult
from llmops_gate.repo.discover import RepoScan
from llmops_gate.repo.envs import Chain
from llmops_gate.yamlio.sourcemap import SourceMap


@dataclass(frozen=True)
class SchemaFlags:
    """The schema flags of `validate` and `schema` as given (None or empty: not given, so the
    config's `schema` section decides). The names are the commands' option names."""

    strict: bool | None = None
    kubernetes_version: str | None = None
    schema_locations: tuple[str, ...] = ()
    ignore_missing_schemas: bool | None = None
    skip_kinds: tuple[str, ...] = ()
    reject_kinds: tuple[str, ...] = ()
    schema_engine: str | None = None
    kubeconform: str | None = None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> SchemaFlags:
        """From option names and values (lists become tuples); an unknown name is an error."""
        given: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                 for k, v in values.items()}
        return cls(**given)


@dataclass(frozen=True)
class Settings:
    """The settings of one run that validators may read (the engine fills them)."""

    validators: tuple[str, ...] = ()  # the validators that run, in order
    envs: tuple[str, ...] = ()  # --env: only these environments
    kustomize: str | None = None  # how the overlays were built (for hints)
    changed_since: str | None = None
    partial: bool = False  # only the units a change affects (--changed-since)
    schema: SchemaFlags = field(default_factory=SchemaFlags)


@dataclass
class Context:
    repo: Path
    config: Config
    scan: RepoScan
    results: list[UnitResult]
    sources: SourceMap
    settings: Settings = field(default_factory=Settings)
    # The repo's environments, resolved from every unit it has (not only those this run
    # renders), so --env and --changed-since do not change an environment's place or policy.
    environments: Chain | None = None

    def resources(self) -> Iterator[Resource]:
        for result in self.results:
            yield from result.resources
