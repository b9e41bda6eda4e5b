"""`llmops-gate envs` and `llmops-gate argocd-apps`: a repo's environments and Applications."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from llmops_gate.errors import GateError
from llmops_gate.repo.envs import applications, as_json, environments, retarget


@click.command("envs")
@click.argument("repo", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "tsv"]), default="text",
              show_default=True,
              help="tsv: name, namespace, application, overlay per line, '-' when unknown.")
def envs(repo: Path, fmt: str) -> None:
    """List the environments of a GitOps repo with their namespaces and Applications."""
    found = environments(repo)
    if fmt == "json":
        click.echo(json.dumps([as_json(e) for e in found], indent=2))
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


@click.command("argocd-apps")
@click.argument("repo", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--repo-url", metavar="URL", help="Git URL the Applications watch.")
@click.option("--revision", metavar="REV", help="Branch, tag or commit they follow.")
@click.option("--env", "env_names", multiple=True, metavar="NAME",
              help="Only the Application of this environment (repeatable).")
@click.option("--namespace", metavar="NS",
              help="Put the Applications in this namespace (the ArgoCD instance's).")
def argocd_apps(repo: Path, repo_url: str | None, revision: str | None,
                env_names: tuple[str, ...], namespace: str | None) -> None:
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
    docs = [retarget(doc, repo_url, revision, namespace) for _, doc in applications(repo)
            if wanted is None or doc.get("metadata", {}).get("name") in wanted]
    if not docs:
        raise GateError(f"{repo}: no ArgoCD Application found among its manifests")
    click.echo(yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True), nl=False)
