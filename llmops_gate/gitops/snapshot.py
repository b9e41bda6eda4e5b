"""A promotion's view of a tree (an export of a commit): its config, scan, Kustomize and
environment chain, and each environment rendered once, its objects keyed by base name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.config import Config, Environment, load_config, promotion_order
from llmops_gate.errors import GateError
from llmops_gate.gitops.values import (
    Key,
    base_name,
)
from llmops_gate.model import Resource, Unit
from llmops_gate.repo.discover import KUSTOMIZATION_NAMES, RepoScan, discover_units, scan_repo
from llmops_gate.repo.guard import check_overlay
from llmops_gate.repo.kustomize import DEFAULT_TIMEOUT, Kustomize, choose_kustomize, render_unit
from llmops_gate.yamlio.sourcemap import SourceMap

Say = Callable[[str], None]

# The suffix Kustomize gives a generated ConfigMap or Secret: `-` and ten characters of its
# hash alphabet (hex without the letters and digits that could spell words).
_GENERATED_HASH = re.compile(r"-[2456789bcdfghkmt]{10}$")


@dataclass
class EnvRender:
    env: str
    units: list[Unit]
    resources: dict[Key, Resource] = field(default_factory=dict)
    patch_names: dict[Key, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chain:
    """The environments in promotion order: the config's `environments:`, else the ones
    `validate` finds from overlay folder names (dev -> qa or test -> staging -> production)."""

    names: tuple[str, ...]
    from_config: bool
    ambiguous: tuple[str, ...] = ()  # found from folders, with no place of their own

    @classmethod
    def of(cls, config: Config, units: Sequence[Unit]) -> Chain:
        if config.environment_names:
            return cls(tuple(config.environment_names), from_config=True)
        names, ambiguous = promotion_order(u.environment for u in units if u.environment)
        return cls(tuple(names), from_config=False, ambiguous=tuple(ambiguous))

    def describe(self) -> str:
        where = "" if self.from_config else ", found from overlay folder names"
        return f"{', '.join(self.names)}{where}"


@dataclass
class Tree:
    """A readable tree (an export of a commit) with its config, scan and Kustomize."""

    root: Path
    config: Config
    scan: RepoScan
    units: list[Unit]
    kustomize: Kustomize
    timeout: float
    chain: Chain
    sources: SourceMap

    @classmethod
    def open(cls, root: Path, kustomize: str | None = None, origin: Path | None = None) -> Tree:
        """`origin`: the repository `root` was exported from; a Kustomize inside either is
        refused, and a relative `kustomize.path` resolves against it (as `validate` does)."""
        config = load_config(root)
        yamlio.configure(config.limits)
        kcfg = config.section("kustomize")
        # The same door as `validate`, before anything is read further or run.
        chosen = choose_kustomize(origin or root, config, kustomize,
                                  also_inside=(root,) if origin is not None else ())
        scan = scan_repo(root, config)
        units = [u for u in discover_units(scan, config) if u.kind == "overlay"]
        return cls(root=root, config=config, scan=scan, units=units, kustomize=chosen,
                   timeout=float(kcfg.get("timeout") or DEFAULT_TIMEOUT),
                   chain=Chain.of(config, units), sources=SourceMap(root, scan.snapshot))

    def env_units(self, env: str) -> list[Unit]:
        return [u for u in self.units if u.environment == env]

    def _overlay_affixes(self, unit: Unit) -> tuple[str, str]:
        k = self.scan.kustomizations.get(unit.path)
        data = k.data if k else {}
        return str(data.get("namePrefix") or ""), str(data.get("nameSuffix") or "")

    def _key_name(self, res: Resource, prefix: str, suffix: str, named: bool) -> str:
        """The name an object has in every environment. Unless the config names the
        environment's prefix/suffix, it is the name its source document is written with, so
        affixes set anywhere (the overlay, an intermediate kustomization, a component) come off;
        a generated ConfigMap or Secret also loses Kustomize's content hash, which differs
        between environments whose data differs."""
        name = base_name(res.name, prefix, suffix)
        source = res.source_file
        if source is None:
            return name
        if PurePosixPath(source).name in KUSTOMIZATION_NAMES:
            if res.kind in ("ConfigMap", "Secret"):
                name = _GENERATED_HASH.sub("", name)
            return name
        if named:
            return name
        doc = self.sources.find_document(source, res.kind, res.name)
        return doc.name if doc is not None and doc.name and doc.name in res.name else name

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
            named = cfg_env.prefix is not None or cfg_env.suffix is not None
            prefix = cfg_env.prefix if cfg_env.prefix is not None else own_prefix
            suffix = cfg_env.suffix if cfg_env.suffix is not None else own_suffix
            for res in result.resources:
                key = Key(res.kind, self._key_name(res, prefix, suffix, named))
                if key in out.resources:
                    continue
                out.resources[key] = res
                out.patch_names[key] = self._key_name(res, own_prefix, own_suffix, True)
        return out


def render_text(render: EnvRender) -> str:
    """An environment's render as YAML, objects keyed and sorted, for rendered diffs."""
    return docs_text([render.resources[k].doc for k in sorted(render.resources)])


def docs_text(docs: Iterable[Mapping[str, Any]]) -> str:
    return "".join("---\n" + yaml.safe_dump(dict(d), sort_keys=True, width=4096) for d in docs)
