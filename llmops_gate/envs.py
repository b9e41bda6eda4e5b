"""`llmops-gate envs` and `llmops-gate argocd-apps`: what the cluster set-up scripts need.

`scripts/setup-argocd.sh` and `scripts/apply-argocd-apps.sh` read the environments and the
ArgoCD Applications of a GitOps repo through these commands instead of parsing YAML in shell.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from llmops_gate import yamlio
from llmops_gate.config import load_config, promotion_order
from llmops_gate.discover import discover_units, manifest_files, scan_repo
from llmops_gate.errors import GateError


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


@click.command("envs")
@click.argument("repo", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "tsv"]), default="text",
              show_default=True,
              help="tsv: name, namespace, application, overlay per line, '-' when unknown.")
def envs(repo: Path, fmt: str) -> None:
    """List the environments of a GitOps repo with their namespaces and Applications."""
    found = environments(repo)
    if fmt == "json":
        click.echo(json.dumps([asdict(e) for e in found], indent=2))
        return
    rows = [(e.name, e.namespace or "-", e.application or "-", ",".join(e.overlays) or "-")
            for e in found]
    if fmt == "tsv":
        for row in rows:
            click.echo("\t".join(row))
        return
    header = ("ENVIRONMENT", "NAMESPACE", "APPLICATION", "OVERLAY")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


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
             revision: str | None) -> dict[str, Any]:
    """A copy of `app` with its Git source(s) pointing at `repo_url` and `revision`.

    Helm-chart sources (`chart:` instead of `path:`) of a multi-source Application are left as
    they are: they do not come from the GitOps repo.
    """
    out: dict[str, Any] = json.loads(json.dumps(app))
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


@click.command("argocd-apps")
@click.argument("repo", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--repo-url", metavar="URL", help="Git URL the Applications watch.")
@click.option("--revision", metavar="REV", help="Branch, tag or commit they follow.")
@click.option("--env", "env_names", multiple=True, metavar="NAME",
              help="Only the Application of this environment (repeatable).")
def argocd_apps(repo: Path, repo_url: str | None, revision: str | None,
                env_names: tuple[str, ...]) -> None:
    """Print the repo's ArgoCD Applications as one YAML stream, retargeted."""
    wanted: set[str] | None = None
    if env_names:
        by_name = {e.name: e for e in environments(repo)}
        unknown = [n for n in env_names if n not in by_name]
        if unknown:
            raise GateError(f"unknown environment '{unknown[0]}' "
                            f"(known: {', '.join(by_name)})")
        wanted = set()
        for n in env_names:
            app = by_name[n].application
            if not app:
                raise GateError(f"environment '{n}' names no application in .llmops-gate.yaml")
            wanted.add(app)
    docs = [retarget(doc, repo_url, revision) for _, doc in applications(repo)
            if wanted is None or doc.get("metadata", {}).get("name") in wanted]
    if not docs:
        raise GateError(f"{repo}: no ArgoCD Application found among its manifests")
    click.echo(yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True), nl=False)
