"""A promotion's view of a tree (an export of a commit): its config, scan, Kustomize and
environment chain (`repo.envs`), and each environment rendered once per state of the tree,
its objects keyed by base name.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.config import Config, load_config
from llmops_gate.errors import GateError
from llmops_gate.gitops.values import (
    Key,
    base_name,
)
from llmops_gate.model import Resource, Unit, UnitResult
from llmops_gate.repo.discover import KUSTOMIZATION_NAMES, RepoScan, discover_units, scan_repo
from llmops_gate.repo.envs import Chain, EnvInfo, resolve
from llmops_gate.repo.guard import check_overlay
from llmops_gate.repo.kustomize import DEFAULT_TIMEOUT, Kustomize, choose_kustomize, render_unit
from llmops_gate.yamlio.fsutil import atomic_write
from llmops_gate.yamlio.snapshot import Snapshot
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
    results: list[UnitResult] = field(default_factory=list)  # each overlay's build, as built


@dataclass
class Tree:
    """A readable tree (an export of a commit) with its config, scan and Kustomize.

    Each environment is rendered at most once per state of the tree: `render` remembers what
    it built under the current `state`, which changes when the promotion's edits are tried
    (`trying`) or applied (`apply`).
    """

    root: Path
    config: Config
    scan: RepoScan
    units: list[Unit]
    kustomize: Kustomize
    timeout: float
    chain: Chain
    sources: SourceMap
    state: str = "start"
    _renders: dict[tuple[str, str], EnvRender] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, root: Path, kustomize: str | None = None, origin: Path | None = None) -> Tree:
        """`origin`: the repository `root` was exported from; a Kustomize inside either is
        refused, and a relative `kustomize.path` resolves against it (as `validate` does)."""
        # One reading of the export's files, the config's included (under the default limits,
        # as `validate` reads it), then the rest under the ones it sets.
        snapshot = Snapshot(root, yamlio.Limits())
        config = load_config(root, None, snapshot)
        yamlio.configure(config.limits)
        snapshot.limits = config.limits
        kcfg = config.section("kustomize")
        # The same door as `validate`, before anything is read further or run.
        chosen = choose_kustomize(origin or root, config, kustomize,
                                  also_inside=(root,) if origin is not None else ())
        scan, units, chain = _scan(root, config, snapshot)
        return cls(root=root, config=config, scan=scan, units=units, kustomize=chosen,
                   timeout=float(kcfg.get("timeout") or DEFAULT_TIMEOUT),
                   chain=chain, sources=SourceMap(root, scan.snapshot))

    def env_units(self, env: str) -> list[Unit]:
        return [u for u in self.units if u.environment == env]

    @contextlib.contextmanager
    def trying(self, edits: Mapping[str, str], state: str) -> Iterator[None]:
        """The tree's files changed to `edits` (repo-relative path -> text) while the block
        runs, then put back; renders inside it belong to `state`."""
        saved: dict[Path, str | None] = {}
        before = self.state
        try:
            for rel, text in edits.items():
                path = self.root / rel
                saved[path] = path.read_text(encoding="utf-8") if path.exists() else None
                atomic_write(path, text)
            self.state = state
            yield
        finally:
            self.state = before
            for path, old in saved.items():
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, old)

    def apply(self, edits: Mapping[str, str], state: str) -> None:
        """Write `edits` for good and read the tree again (its kustomizations changed)."""
        for rel, text in edits.items():
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.root / rel, text)
        # A new scan reads the edited files through a new snapshot (the old one holds them as
        # they were).
        self.scan, self.units, self.chain = _scan(self.root, self.config)
        self.sources = SourceMap(self.root, self.scan.snapshot)
        self.state = state

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
        """`env` as the tree renders it in its current state (built once per state)."""
        cached = self._renders.get((self.state, env))
        if cached is not None:
            return cached
        info = self.chain.get(env) or EnvInfo(env, (), None, None, None, None)
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
            out.results.append(result)
            own_prefix, own_suffix = info.own_affixes(unit.path)
            prefix, suffix = info.affixes(unit.path)
            for res in result.resources:
                key = Key(res.kind, self._key_name(res, prefix, suffix, info.named))
                if key in out.resources:
                    continue
                out.resources[key] = res
                out.patch_names[key] = self._key_name(res, own_prefix, own_suffix, True)
        self._renders[(self.state, env)] = out
        return out


def _scan(root: Path, config: Config, snapshot: Snapshot | None = None
          ) -> tuple[RepoScan, list[Unit], Chain]:
    scan = scan_repo(root, config, snapshot)
    units = [u for u in discover_units(scan, config) if u.kind == "overlay"]
    return scan, units, resolve(config, scan, units)


def render_text(render: EnvRender) -> str:
    """An environment's render as YAML, objects keyed and sorted, for rendered diffs."""
    return docs_text([render.resources[k].doc for k in sorted(render.resources)])


def docs_text(docs: Iterable[Mapping[str, Any]]) -> str:
    return "".join("---\n" + yaml.safe_dump(dict(d), sort_keys=True, width=4096) for d in docs)
