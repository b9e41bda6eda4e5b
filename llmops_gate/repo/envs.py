"""`llmops-gate envs` and `llmops-gate argocd-apps`: what the cluster set-up scripts need.

`scripts/setup-argocd.sh` and `scripts/apply-argocd-apps.sh` read the environments and the
ArgoCD Applications of a GitOps repo through these commands instead of parsing YAML in shell.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.config import load_config, promotion_order
from llmops_gate.errors import GateError
from llmops_gate.repo.discover import discover_units, manifest_files, scan_repo


@dataclass(frozen=True)
class EnvInfo:
    name: str
    namespace: str | None
    application: str | None
    overlays: tuple[str, ...]
    prefix: str | None


def environments(repo: Path) -> list[EnvInfo]:
    """The repo's environments in promotion order, each namespace from the config or, when the
    config does not name it, from the overlay's `namespace:`."""
    config = load_config(repo)
    scan = scan_repo(repo, config)
    units = [u for u in discover_units(scan, config) if u.kind == "overlay" and u.environment]

    def overlay_value(overlays: Sequence[str], key: str) -> str | None:
        for overlay in overlays:
            k = scan.kustomizations.get(overlay)
            value = k.data.get(key) if k is not None else None
            if isinstance(value, str) and value:
                return value
        return None

    out: list[EnvInfo] = []
    names = config.environment_names or promotion_order(
        u.environment for u in units if u.environment)[0]
    for name in names:
        overlays = tuple(u.path for u in units if u.environment == name)
        env = config.environment(name)
        out.append(EnvInfo(
            name=name,
            namespace=(env.namespace if env else None) or overlay_value(overlays, "namespace"),
            application=env.application if env else None,
            overlays=overlays,
            prefix=(env.prefix if env else None) or overlay_value(overlays, "namePrefix"),
        ))
    if not out:
        raise GateError(f"{repo}: no environment found (no .llmops-gate.yaml environments and "
                        "no overlay folder named after one)")
    return out




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


