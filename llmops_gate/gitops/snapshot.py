"""A promotion's view of a tree (an export of a commit): its config, scan and Kustomize, and
each environment rendered once, its objects keyed by base name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmops_gate.config import Config, Environment, load_config
from llmops_gate.errors import GateError
from llmops_gate.gitops.values import (
    Key,
    base_name,
)
from llmops_gate.model import Resource, Unit
from llmops_gate.repo.discover import RepoScan, discover_units, scan_repo
from llmops_gate.repo.guard import check_overlay
from llmops_gate.repo.kustomize import DEFAULT_TIMEOUT, Kustomize, find_kustomize, render_unit

Say = Callable[[str], None]


@dataclass
class EnvRender:
    env: str
    units: list[Unit]
    resources: dict[Key, Resource] = field(default_factory=dict)
    patch_names: dict[Key, str] = field(default_factory=dict)


@dataclass
class Tree:
    """A readable tree (an export of a commit) with its config, scan and Kustomize."""

    root: Path
    config: Config
    scan: RepoScan
    units: list[Unit]
    kustomize: Kustomize
    timeout: float

    @classmethod
    def open(cls, root: Path, kustomize: str | None = None) -> Tree:
        config = load_config(root)
        scan = scan_repo(root, config)
        units = [u for u in discover_units(scan, config) if u.kind == "overlay"]
        kcfg = config.section("kustomize")
        return cls(root=root, config=config, scan=scan, units=units,
                   kustomize=find_kustomize(kustomize or kcfg.get("path")),
                   timeout=float(kcfg.get("timeout") or DEFAULT_TIMEOUT))

    def env_units(self, env: str) -> list[Unit]:
        return [u for u in self.units if u.environment == env]

    def _overlay_affixes(self, unit: Unit) -> tuple[str, str]:
        k = self.scan.kustomizations.get(unit.path)
        data = k.data if k else {}
        return str(data.get("namePrefix") or ""), str(data.get("nameSuffix") or "")

    def render(self, env: str, what: str = "environment") -> EnvRender:
        cfg_env = self.config.environment(env) or Environment(name=env)
        out = EnvRender(env=env, units=self.env_units(env))
        if not out.units:
            raise GateError(f"{what} '{env}' has no overlay in this repo")
        for unit in out.units:
            # The same guard as `validate`: no remote bases, Helm, plugins or paths that
            # leave the repo, so a promotion never runs Kustomize on what validation refuses.
            refused = check_overlay(self.root, self.scan, unit)
            if refused:
                first = refused[0]
                where = f"{first.file}:{first.line}" if first.file and first.line else unit.path
                raise GateError(f"{what} '{env}' cannot be built safely ({where}): "
                                f"{first.message}")
            result = render_unit(self.kustomize, unit, self.root, self.timeout)
            if result.error:
                raise GateError(f"{what} '{env}' does not build ({unit.path}): {result.error}")
            own_prefix, own_suffix = self._overlay_affixes(unit)
            prefix = cfg_env.prefix if cfg_env.prefix is not None else own_prefix
            suffix = cfg_env.suffix if cfg_env.suffix is not None else own_suffix
            for res in result.resources:
                key = Key(res.kind, base_name(res.name, prefix, suffix))
                if key in out.resources:
                    continue
                out.resources[key] = res
                out.patch_names[key] = base_name(res.name, own_prefix, own_suffix)
        return out


def render_text(render: EnvRender) -> str:
    """An environment's render as YAML, objects keyed and sorted, for rendered diffs."""
    return docs_text([render.resources[k].doc for k in sorted(render.resources)])


def docs_text(docs: Iterable[Mapping[str, Any]]) -> str:
    return "".join("---\n" + yaml.safe_dump(dict(d), sort_keys=True, width=4096) for d in docs)
