"""A repo's environments, worked out in one place: their promotion order, overlays, namespace,
ArgoCD Application and the name prefix/suffix their objects carry.

`llmops-gate envs` (and the cluster set-up scripts that read it), the policy validator (which
adds each environment's policy) and promotion (its chain, and the names objects are matched
by) all ask `resolve`, so they cannot disagree. The ArgoCD Applications of the repo, for
`llmops-gate argocd-apps`, are read here as well.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.config import Config, Environment, load_config, promotion_order
from llmops_gate.errors import GateError
from llmops_gate.model import Unit
from llmops_gate.repo.discover import RepoScan, discover_units, manifest_files, scan_repo

Affixes = tuple[str, str]  # (namePrefix, nameSuffix); "" where there is none


@dataclass(frozen=True)
class EnvInfo:
    """One environment: where it renders (its overlays), where it lands (namespace and ArgoCD
    Application) and the prefix/suffix its objects' names carry.

    `namespace`, `prefix` and `suffix` are the config's where it names them, else the one
    value the overlays' kustomizations agree on (None when they set none, or differ: an
    environment whose overlays land in two namespaces has no single namespace of its own).
    """

    name: str
    overlays: tuple[str, ...]
    namespace: str | None
    application: str | None
    prefix: str | None
    suffix: str | None
    configured: Environment | None = None  # its entry in .llmops-gate.yaml, if any
    own: Mapping[str, Affixes] = field(default_factory=dict)  # overlay -> its own affixes

    @property
    def named(self) -> bool:
        """The config names this environment's prefix or suffix (so names are taken by it)."""
        c = self.configured
        return c is not None and (c.prefix is not None or c.suffix is not None)

    def own_affixes(self, overlay: str) -> Affixes:
        """`overlay`'s own kustomization `namePrefix` and `nameSuffix`."""
        return self.own.get(overlay, ("", ""))

    def affixes(self, overlay: str) -> Affixes:
        """The prefix and suffix of the names `overlay` renders: the config's where it names
        them, else the overlay's own."""
        own_prefix, own_suffix = self.own_affixes(overlay)
        c = self.configured
        return (c.prefix if c is not None and c.prefix is not None else own_prefix,
                c.suffix if c is not None and c.suffix is not None else own_suffix)


@dataclass(frozen=True)
class Chain:
    """The environments in promotion order: the config's `environments:`, else the ones
    found from overlay folder names (dev -> qa or test -> staging -> production)."""

    envs: tuple[EnvInfo, ...]
    from_config: bool
    ambiguous: tuple[str, ...] = ()  # found from folders, with no place of their own

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.envs)

    def get(self, name: str | None) -> EnvInfo | None:
        return next((e for e in self.envs if e.name == name), None)

    def describe(self) -> str:
        where = "" if self.from_config else ", found from overlay folder names"
        return f"{', '.join(self.names)}{where}"


def resolve(config: Config, scan: RepoScan, units: Iterable[Unit]) -> Chain:
    """The environments of `units` (their overlays; manifests are ignored) and the config.

    `units` are normally every unit `discover_units` finds, before `--env` or
    `--changed-since` narrow a run: an environment's place in the chain (the first one may
    auto-sync by default) and its namespace do not depend on what one run looks at.
    """
    kust = scan.kustomizations
    overlay_units = [u for u in units if u.kind == "overlay" and u.environment]
    found = [u.environment for u in overlay_units if u.environment]
    ambiguous: list[str] = []
    if config.environments:
        names = list(dict.fromkeys([*config.environment_names, *found]))
    else:
        names, ambiguous = promotion_order(found)
    envs: list[EnvInfo] = []
    for name in names:
        conf = config.environment(name)
        overlays = [u.path for u in overlay_units if u.environment == name]
        if conf is not None:
            overlays += [k for p in conf.overlays for k in kust if fnmatch.fnmatch(k, p)]
        paths = tuple(dict.fromkeys(overlays))
        data = [kust[o].data if o in kust else {} for o in paths]
        own = {o: (str(d.get("namePrefix") or ""), str(d.get("nameSuffix") or ""))
               for o, d in zip(paths, data, strict=True)}
        envs.append(EnvInfo(
            name=name, overlays=paths,
            namespace=(conf.namespace if conf else None) or _agreed(data, "namespace"),
            application=conf.application if conf else None,
            prefix=conf.prefix if conf is not None and conf.prefix is not None
            else _agreed(data, "namePrefix"),
            suffix=conf.suffix if conf is not None and conf.suffix is not None
            else _agreed(data, "nameSuffix"),
            configured=conf, own=own))
    return Chain(tuple(envs), from_config=bool(config.environments),
                 ambiguous=tuple(ambiguous))


def _agreed(kustomizations: Sequence[Mapping[str, Any]], key: str) -> str | None:
    """The one non-empty value of `key` the kustomizations set, or None (none, or several)."""
    values = {v for data in kustomizations for v in [data.get(key)] if isinstance(v, str) and v}
    return values.pop() if len(values) == 1 else None


def environments(repo: Path) -> list[EnvInfo]:
    """The repo's environments in promotion order (`llmops-gate envs`)."""
    config = load_config(repo)
    scan = scan_repo(repo, config)
    out = list(resolve(config, scan, discover_units(scan, config)).envs)
    if not out:
        raise GateError(f"{repo}: no environment found (no .llmops-gate.yaml environments and "
                        "no overlay folder named after one)")
    return out


def as_json(env: EnvInfo) -> dict[str, Any]:
    """`llmops-gate envs --format json`: one environment."""
    return {"name": env.name, "namespace": env.namespace, "application": env.application,
            "overlays": list(env.overlays), "prefix": env.prefix}


def _is_application(doc: Any) -> bool:
    return (isinstance(doc, dict) and doc.get("kind") == "Application"
            and str(doc.get("apiVersion", "")).startswith("argoproj.io/"))


def applications(repo: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file, document) of every ArgoCD Application among the repo's plain manifests."""
    config = load_config(repo)
    scan = scan_repo(repo, config)
    for file in manifest_files(scan, config):
        try:
            docs = list(yamlio.load_all((repo / file).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise GateError(f"{repo / file}: cannot read: {exc}") from exc
        for doc in docs:
            if _is_application(doc):
                yield file, doc


def retarget(app: Mapping[str, Any], repo_url: str | None,
             revision: str | None, namespace: str | None = None) -> dict[str, Any]:
    """A copy of `app` with its Git source(s) pointing at `repo_url` and `revision`, and in
    `namespace` (the ArgoCD instance's) when given.

    Helm-chart sources (`chart:` instead of `path:`) of a multi-source Application are left as
    they are: they do not come from the GitOps repo.
    """
    out: dict[str, Any] = json.loads(json.dumps(app))
    if namespace:
        # An Application only takes effect in the namespace of the ArgoCD that runs it, and
        # `oc apply -n` refuses an object whose own namespace differs.
        meta = out.get("metadata")
        if not isinstance(meta, dict):
            meta = out["metadata"] = {}
        meta["namespace"] = namespace
    spec = out.get("spec") if isinstance(out.get("spec"), dict) else None
    if spec is None:
        return out
    sources = [spec["source"]] if isinstance(spec.get("source"), dict) else []
    sources += [s for s in spec.get("sources") or [] if isinstance(s, dict) and "chart" not in s]
    for source in sources:
        if repo_url:
            source["repoURL"] = repo_url
        if revision:
            source["targetRevision"] = revision
    return out


