"""`validate_repo`: discover units, render them, run the selected validators, return a Report.

The data flow of DESIGN.md: overlays are built concurrently with Kustomize (origin annotations
on), plain manifests are read as they are, then each validator runs over the shared Context.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import validators, yamlio
from llmops_gate.config import Config, load_config
from llmops_gate.context import Context
from llmops_gate.discover import RepoScan, discover_units, scan_repo
from llmops_gate.errors import GateError
from llmops_gate.kustomize import DEFAULT_TIMEOUT, Kustomize, find_kustomize, render_unit
from llmops_gate.model import Finding, Report, Resource, Unit, UnitResult
from llmops_gate.sourcemap import SourceMap

Progress = Callable[[int, int, str], None]


@dataclass
class Options:
    envs: Sequence[str] = ()
    only: Sequence[str] = ()
    skip: Sequence[str] = ()
    jobs: int | None = None
    kustomize: str | None = None
    timeout: float | None = None
    config_path: Path | None = None
    progress: Progress | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Validate only the units the Git diff since this revision can affect (llmops_gate.changes).
    changed_since: str | None = None


def read_manifest(repo: Path, unit: Unit, sources: SourceMap) -> UnitResult:
    """A plain manifest file -> resources, with each document's first line."""
    path = repo / unit.path
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return UnitResult(unit=unit, error="file is not UTF-8 text")
    except OSError as exc:
        return UnitResult(unit=unit, error=f"cannot read file: {exc.strerror or exc}")
    try:
        docs = list(yamlio.load_all(text))
    except yaml.YAMLError as exc:
        line, _ = yamlio.yaml_error_position(exc)
        return UnitResult(unit=unit, error=f"YAML syntax error: {yamlio.yaml_error_summary(exc)}",
                          error_line=line)
    lines = [d.line for d in sources.documents(unit.path)]
    resources: list[Resource] = []
    for i, doc in enumerate(d for d in docs if d is not None):
        if not isinstance(doc, dict):
            continue
        line = lines[i] if i < len(lines) else None
        resources.append(Resource(doc=doc, unit=unit, source_file=unit.path,
                                  source_line=line, index=i))
    return UnitResult(unit=unit, resources=resources)


def _attach_lines(result: UnitResult, sources: SourceMap) -> None:
    for res in result.resources:
        if res.source_file and res.source_line is None:
            res.source_line = sources.document_line(res.source_file, res.kind, res.name)


def select_units(units: list[Unit], envs: Sequence[str], config: Config) -> list[Unit]:
    if not envs:
        return units
    known = set(config.environment_names) | {u.environment for u in units if u.environment}
    for env in envs:
        if env not in known:
            raise GateError(f"unknown environment '{env}' (known: {', '.join(sorted(known))})")
    return [u for u in units if u.environment in envs]


def render_all(repo: Path, units: Sequence[Unit], kustomize: Kustomize | None,
               sources: SourceMap, jobs: int, timeout: float,
               progress: Progress | None = None) -> list[UnitResult]:
    """Build the overlays concurrently and read the manifests; results in unit order."""
    results: list[UnitResult | None] = [None] * len(units)
    done = 0
    lock = threading.Lock()
    overlays = [i for i, u in enumerate(units) if u.kind == "overlay"]

    def work(i: int) -> None:
        nonlocal done
        unit = units[i]
        if unit.kind == "overlay":
            assert kustomize is not None
            result = render_unit(kustomize, unit, repo, timeout)
        else:
            result = read_manifest(repo, unit, sources)
        _attach_lines(result, sources)
        results[i] = result
        if unit.kind == "overlay" and progress is not None:
            with lock:
                done += 1
                progress(done, len(overlays), unit.path)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(work, range(len(units))))
    return [r for r in results if r is not None]


def validate_repo(repo: Path, options: Options | None = None) -> Report:
    options = options or Options()
    repo = repo.resolve() if repo.exists() else repo
    if not repo.is_dir():
        raise GateError(f"{repo}: not a folder (or not readable)")
    config = load_config(repo, options.config_path)
    chosen = validators.select(options.only, options.skip)
    scan: RepoScan = scan_repo(repo, config)
    units = select_units(discover_units(scan, config), options.envs, config)
    if not any(u.kind == "overlay" for u in units):
        raise GateError(f"{repo}: no Kustomize overlay found (no kustomization.yaml that other "
                        "kustomizations do not use)")
    total = len(units)
    partial = False
    if options.changed_since is not None:
        from llmops_gate.changes import select_changed

        change = select_changed(repo, options.changed_since, config, scan, units)
        units = list(change.units)
        partial = not change.all
    kcfg = config.section("kustomize")
    kustomize = find_kustomize(options.kustomize or kcfg.get("path"))
    timeout = float(options.timeout or kcfg.get("timeout") or DEFAULT_TIMEOUT)
    sources = SourceMap(repo)
    results = render_all(repo, units, kustomize, sources,
                         options.jobs or os.cpu_count() or 1, timeout, options.progress)
    settings = {**options.settings, "validators": tuple(chosen), "envs": tuple(options.envs),
                "changed_since": options.changed_since, "partial": partial}
    ctx = Context(repo=repo, config=config, scan=scan, results=results, sources=sources,
                  settings=settings)
    findings: list[Finding] = []
    for name in chosen:
        findings.extend(validators.load(name)(ctx))
    findings.sort(key=Finding.sort_key)
    return Report(repo=str(repo), units=units,
                  resources=sum(len(r.resources) for r in results),
                  findings=findings, validators=chosen, skipped_units=total - len(units))
