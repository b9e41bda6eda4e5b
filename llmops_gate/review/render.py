"""Render what a change can affect, at the base and at the head.

The base is always a private export of its commit into a temporary folder (the work tree is
never checked out or touched); the head is the work tree (committed or not) unless a head
revision is given, which is exported the same way. The selection is the one `plan` and
`validate --changed-since` make (`llmops_gate.changes`): every overlay whose closure holds a
changed path, every changed plain manifest, every Application deploying a removed overlay;
everything when the change alters how validation works.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llmops_gate.config import Config, load_config
from llmops_gate.engine import Options
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Unit, UnitResult
from llmops_gate.repo import guard
from llmops_gate.repo.changes import ChangeSet, export_revision, resolve_base, resolve_commit
from llmops_gate.repo.cpus import available_cpus
from llmops_gate.repo.discover import RepoScan, discover_units, scan_repo
from llmops_gate.repo.kustomize import DEFAULT_TIMEOUT, choose_kustomize
from llmops_gate.repo.render import read_manifest, render_all
from llmops_gate.yamlio import redact
from llmops_gate.yamlio.sourcemap import SourceMap

APPLICATION_KINDS = ("Application", "ApplicationSet")


@dataclass(frozen=True)
class RenderedDoc:
    doc: dict[str, Any]
    file: str | None
    line: int | None
    name: str | None = None  # as rendered, when `doc` is a normalised copy


@dataclass(frozen=True)
class RenderedUnit:
    unit: Unit
    docs: tuple[RenderedDoc, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Side:
    """One end of the change: its config and the rendered units that were selected."""

    commit: str | None
    config: Config
    units: Mapping[str, RenderedUnit]
    applications: tuple[dict[str, Any], ...] = ()
    secrets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Pair:
    base_rev: str
    base_commit: str
    head_rev: str | None
    head_commit: str | None
    base: Side
    head: Side
    paths: tuple[str, ...]
    all: bool = False
    reason: str | None = None
    why: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    validated: bool = False


def _render_side(root: Path, config: Config, scan: RepoScan, units: Sequence[Unit],
                 opts: Options, commit: str | None, repo_for_guard: Path) -> Side:
    kcfg = config.section("kustomize")
    # The one door of every render (issue 12): a Kustomize inside the repository, or inside
    # this side's private export of it, is refused before anything runs.
    kustomize = choose_kustomize(repo_for_guard, config, opts.kustomize,
                                 also_inside=(root,) if root != repo_for_guard else ())
    timeout = float(opts.timeout or kcfg.get("timeout") or DEFAULT_TIMEOUT)
    sources = SourceMap(root, scan.snapshot)
    refused = {u.path: guard.check_overlay(root, scan, u) for u in units if u.kind == "overlay"}
    results = render_all(root, units, kustomize, sources, opts.jobs or available_cpus(),
                         timeout, refused=refused)
    rendered: dict[str, RenderedUnit] = {}
    for result in results:
        rendered[result.unit.path] = _as_rendered(result)
    apps = tuple(applications(root, scan, config, sources))
    secrets = redact.collect(scan.snapshot, scan.yaml_files, scan.kustomizations.values(),
                             (res for r in results for res in r.resources))
    return Side(commit=commit, config=config, units=rendered, applications=apps,
                secrets=frozenset(secrets))


def _as_rendered(result: UnitResult) -> RenderedUnit:
    if result.refused:
        first = result.refused[0]
        where = f"{first.file}:{first.line}: " if first.file and first.line else ""
        return RenderedUnit(unit=result.unit, error=f"not built: {where}{first.message}")
    if result.error:
        return RenderedUnit(unit=result.unit, error=result.error)
    return RenderedUnit(unit=result.unit, docs=tuple(
        RenderedDoc(doc=r.doc, file=r.source_file, line=r.source_line) for r in result.resources))


def applications(root: Path, scan: RepoScan, config: Config,
                 sources: SourceMap | None = None) -> Iterable[dict[str, Any]]:
    """Every ArgoCD Application (and ApplicationSet) written as a plain manifest."""
    sources = sources or SourceMap(root, scan.snapshot)
    for unit in discover_units(scan, config):
        if unit.kind != "manifest":
            continue
        result = read_manifest(unit, sources)
        for res in result.resources:
            if res.doc.get("kind") in APPLICATION_KINDS:
                yield res.doc


def _config_for(root: Path, fallback: Config, explicit: Path | None) -> Config:
    if explicit is not None:
        return fallback
    try:
        return load_config(root)
    except GateError:
        # A base whose config no longer loads: compare it under the head's config.
        return fallback


def render_pair(repo: Path, base_rev: str, head_rev: str | None = None,
                opts: Options | None = None, validate: bool = True) -> Pair:
    """Render every unit the change from `base_rev` to `head_rev` (default: the work tree)
    can affect, at both ends; with `validate`, also run the validators on the head. Of
    `opts` (a validation's options) the renders use the Kustomize, timeout, jobs and config
    path."""
    from llmops_gate.repo.changes import select_changed

    opts = opts or Options()
    repo = repo.resolve() if repo.exists() else repo
    if not repo.is_dir():
        raise GateError(f"{repo}: not a folder (or not readable)")
    head_commit = resolve_commit(repo, head_rev, "--head") if head_rev else None
    _, merge_base = resolve_base(repo, base_rev, head_commit or "HEAD", "--base")
    with tempfile.TemporaryDirectory(prefix="llmops-gate-review-") as tmp:
        head_root = repo
        if head_commit is not None:
            head_root = Path(tmp, "head")
            head_root.mkdir()
            export_revision(repo, head_commit, head_root)
        head_config = load_config(head_root, opts.config_path)
        head_scan = scan_repo(head_root, head_config)
        head_units = discover_units(head_scan, head_config)
        change: ChangeSet = select_changed(
            repo, base_rev, head_config, head_scan, head_units, head=head_commit,
            tree=head_root if head_commit is not None else None)
        base_root = Path(tmp, "base")
        base_root.mkdir()
        export_revision(repo, merge_base, base_root)
        base_config = _config_for(base_root, head_config, opts.config_path)
        base_scan = scan_repo(base_root, base_config)
        try:
            base_all = discover_units(base_scan, base_config)
        except GateError:
            base_config = head_config
            base_all = discover_units(base_scan, base_config)
        wanted = {u.path for u in change.units} | {u.path for u in change.removed}
        if change.all:
            wanted |= {u.path for u in base_all}
        base_units = [u for u in base_all if u.path in wanted]
        head_selected = [u for u in head_units if u.path in wanted]
        head = _render_side(head_root, head_config, head_scan, head_selected, opts,
                            head_commit, repo)
        base = _render_side(base_root, base_config, base_scan, base_units, opts, merge_base,
                            repo)
        findings: tuple[Finding, ...] = ()
        if validate:
            findings = tuple(_validate_head(repo, head_root, base_rev, head_commit, wanted,
                                            opts))
    order = [u.path for u in head_selected]
    order += [u.path for u in base_units if u.path not in head.units]
    return Pair(base_rev=base_rev, base_commit=merge_base, head_rev=head_rev,
                head_commit=head_commit, base=base, head=head, paths=tuple(order),
                all=change.all, reason=change.reason, why=dict(change.why),
                findings=findings, validated=validate)


def _validate_head(repo: Path, head_root: Path, base_rev: str, head_commit: str | None,
                   wanted: set[str], opts: Options) -> list[Finding]:
    """The validators' findings at the head, for the units the change reaches."""
    from llmops_gate.engine import validate_repo

    options = replace(opts, changed_since=base_rev if head_commit is None else None)
    report = validate_repo(head_root, options)
    return [f for f in report.active if f.overlay is None or f.overlay in wanted]
