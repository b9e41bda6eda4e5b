"""`validate_repo`: discover units, render them, run the selected validators, return a Report.

The data flow of DESIGN.md: overlays are built concurrently with Kustomize (origin annotations
on), plain manifests are read as they are, then each validator runs over the shared Context.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from llmops_gate import validators, yamlio
from llmops_gate.config import Config, load_config
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Report, Unit, UnitResult
from llmops_gate.repo import envs, guard
from llmops_gate.repo.cpus import available_cpus
from llmops_gate.repo.discover import (
    RepoScan,
    manifest_units,
    overlay_units,
    scan_repo,
    select_units,
)
from llmops_gate.repo.kustomize import DEFAULT_TIMEOUT, choose_kustomize
from llmops_gate.repo.render import Progress, Rendering, attach_lines
from llmops_gate.validators.context import Context, Settings
from llmops_gate.validators.schema.settings import SchemaFlags
from llmops_gate.yamlio import redact
from llmops_gate.yamlio.snapshot import Snapshot
from llmops_gate.yamlio.sourcemap import SourceMap


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
    schema: SchemaFlags = field(default_factory=SchemaFlags)
    allow_remote: bool = False
    # Validate only the units the Git diff since this revision can affect (repo.changes).
    changed_since: str | None = None
    # Several overlays per Kustomize process (llmops_gate.repo.batch); None: on unless
    # LLMOPS_GATE_NO_BATCH is set.
    batch: bool | None = None
    # Overlays the caller has built already in this very state of the repo (a promotion's
    # verify step), by overlay path: validated as they are instead of being built again.
    prebuilt: Mapping[str, UnitResult] | None = None


def _collect(validator: validators.Validator, ctx: Context) -> list[Finding]:
    return list(validator.check(ctx))


def run_validators(ctx: Context, chosen: Sequence[str], units: Sequence[Unit],
                   rendered: Iterator[tuple[int, UnitResult]]) -> list[Finding]:
    """Run the chosen validators while `rendered` yields units, and return their findings,
    merged where two report the same problem (`validators.merge`).

    How a validator overlaps the builds is part of its type (`validators.base`): one that
    does not need rendered units runs `check(ctx)` in a side thread from the start, with
    `ctx.results` holding every unit without resources; one that streams gets `check_unit`
    in this thread as each unit is ready, then `finish` once all are in; every other one
    runs `check(ctx)` once everything is rendered.
    """
    loaded = {name: validators.load(name) for name in chosen}
    early = [n for n in chosen if not loaded[n].needs_rendered]
    streaming = [n for n in chosen if n not in early and loaded[n].streams]
    found: dict[str, list[Finding]] = {n: [] for n in chosen}
    final: list[UnitResult | None] = [None] * len(units)
    placeholders = replace(ctx, results=[UnitResult(unit=u) for u in units])
    ctx.results = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmops-gate-sources") as side:
        pending = {n: side.submit(_collect, loaded[n], placeholders) for n in early}
        # The builds are running (see Rendering): a head start for the validators that wait
        # for them. Best effort only: whatever goes wrong here, the check itself meets again.
        for name in chosen:
            if name not in pending:
                with contextlib.suppress(Exception):
                    loaded[name].prepare(placeholders)
        for i, result in rendered:
            final[i] = result
            ctx.results.append(result)
            for name in streaming:
                found[name].extend(loaded[name].check_unit(ctx, result))
        ctx.results = [r for r in final if r is not None]
        for name in chosen:
            if name in pending:
                found[name] = pending[name].result()
            elif name in streaming:
                found[name].extend(loaded[name].finish(ctx))
            else:
                found[name] = list(loaded[name].check(ctx))
    return validators.merge((f for name in chosen for f in found[name]), chosen)


def _with_prebuilt(units: Sequence[Unit], build: Sequence[Unit],
                   rendered: Iterator[tuple[int, UnitResult]], prebuilt: Mapping[str, UnitResult],
                   sources: SourceMap) -> Iterator[tuple[int, UnitResult]]:
    """`(index in units, result)`: the results given in `prebuilt` first, then those of
    `rendered` (indexes into `build`, the units not prebuilt)."""
    where = {u.path: i for i, u in enumerate(units)}
    for path, result in prebuilt.items():
        attach_lines(result, sources)
        yield where[path], result
    for i, result in rendered:
        yield where[build[i].path], result


def validate_repo(repo: Path, options: Options | None = None,
                  snapshot: Snapshot | None = None) -> Report:
    """Validate `repo`. Its source files are read and parsed once, through `snapshot` (a new
    one unless the caller passes one, to look at its `counts()` after, or to share it)."""
    with yamlio.one_run():
        return _validate_repo(repo, options or Options(), snapshot)


def _validate_repo(repo: Path, options: Options, snapshot: Snapshot | None) -> Report:
    repo = repo.resolve() if repo.exists() else repo
    if not repo.is_dir():
        raise GateError(f"{repo}: not a folder (or not readable)")
    # The config is read under the default limits; the rest under the ones it sets.
    snapshot = snapshot if snapshot is not None else Snapshot(repo, yamlio.Limits())
    config = load_config(repo, options.config_path, snapshot)
    yamlio.configure(config.limits)
    snapshot.limits = config.limits
    chosen = validators.select(options.only, options.skip)
    if "lint" not in chosen:
        return _validate_scanned(repo, options, snapshot, config, chosen)
    from llmops_gate.validators import lint_worker

    # yamllint's child, forked while this process holds no more than its imports.
    worker = lint_worker.prefork()
    try:
        return _validate_scanned(repo, options, snapshot, config, chosen)
    finally:
        lint_worker.release(worker)


def _validate_scanned(repo: Path, options: Options, snapshot: Snapshot, config: Config,
                      chosen: Sequence[str]) -> Report:
    scan: RepoScan = scan_repo(repo, config, snapshot)
    overlays = overlay_units(scan, config)
    if not any(u.kind == "overlay" for u in select_units(overlays, options.envs, config)):
        raise GateError(f"{repo}: no Kustomize overlay found (no kustomization.yaml that other "
                        "kustomizations do not use)")
    kcfg = config.section("kustomize")
    kustomize = choose_kustomize(repo, config, options.kustomize)
    timeout = float(options.timeout or kcfg.get("timeout") or DEFAULT_TIMEOUT)
    sources = SourceMap(repo, snapshot)
    given = options.prebuilt or {}

    def screen(unit: Unit) -> Sequence[Finding]:
        return guard.check_overlay(repo, scan, unit, options.allow_remote)

    def start(units: Sequence[Unit]) -> tuple[dict[str, UnitResult], Rendering]:
        # Only what this run would build itself: the same unit, and one the guard lets
        # through; the rest is screened on the build threads, each just before its build.
        prebuilt = {u.path: given[u.path] for u in units
                    if u.path in given and given[u.path].unit == u and not screen(u)}
        return prebuilt, Rendering(
            repo, [u for u in units if u.path not in prebuilt], kustomize, sources,
            options.jobs or available_cpus(), timeout, options.progress,
            batch=options.batch, scan=scan, screen=screen)

    with contextlib.ExitStack() as stack:
        early = None
        if options.changed_since is None:
            # The overlays start building before the plain manifests are even found: the
            # rest of the set-up (discovery, the sources' secrets, importing the validators)
            # runs while Kustomize does, instead of before it.
            early = start(select_units(overlays, options.envs, config))
            stack.enter_context(early[1])
        found = overlays + manifest_units(scan, config)
        units = select_units(found, options.envs, config)
        total = len(units)
        partial = False
        if early is None:
            from llmops_gate.repo.changes import select_changed

            assert options.changed_since is not None
            change = select_changed(repo, options.changed_since, config, scan, units)
            units = list(change.units)
            partial = not change.all
            prebuilt, rendering = start(units)
            stack.enter_context(rendering)
        else:
            prebuilt, rendering = early
            rendering.add([u for u in units if u.kind != "overlay"])
        # Secret values written in the sources are known before any validator runs, so even
        # an error raised by one while overlays still build is printed masked (the CLI's
        # handlers use the remembered values); rendered Secrets are added once all are in.
        source_secrets = redact.collect(snapshot, scan.yaml_files,
                                        scan.kustomizations.values(), ())
        redact.remember(source_secrets)
        settings = Settings(validators=tuple(chosen), envs=tuple(options.envs),
                            kustomize=kustomize.label, changed_since=options.changed_since,
                            partial=partial, schema=options.schema)
        ctx = Context(repo=repo, config=config, scan=scan, results=[], sources=sources,
                      settings=settings, environments=envs.resolve(config, scan, found))
        rendered = _with_prebuilt(units, rendering.units, iter(rendering), prebuilt, sources)
        findings = run_validators(ctx, chosen, units, rendered)
    results = ctx.results
    # The sources' secrets are known already: only the rendered Secrets are added.
    redactor = redact.Redactor(source_secrets | redact.collect(
        snapshot, (), (), (res for r in results for res in r.resources)))
    redact.remember(redactor.literals)
    findings = [redactor.finding(f) for f in findings]
    findings.sort(key=Finding.sort_key)
    return Report(repo=str(repo), units=units,
                  resources=sum(len(r.resources) for r in results),
                  findings=findings, validators=chosen, skipped_units=total - len(units),
                  unit_resources={r.unit.path: [x.ref for x in r.resources] for r in results},
                  unit_seconds={r.unit.path: r.seconds for r in results},
                  rules=validators.docs_of(findings, config))
