"""`validate_repo`: discover units, render them, run the selected validators, return a Report.

The data flow of DESIGN.md: overlays are built concurrently with Kustomize (origin annotations
on), plain manifests are read as they are, then each validator runs over the shared Context.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import validators, yamlio
from llmops_gate.config import Config, load_config
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Report, Resource, Unit, UnitResult
from llmops_gate.repo import envs, guard
from llmops_gate.repo.cpus import available_cpus
from llmops_gate.repo.discover import (
    RepoScan,
    manifest_units,
    overlay_units,
    scan_repo,
    select_units,
)
from llmops_gate.repo.kustomize import DEFAULT_TIMEOUT, Kustomize, choose_kustomize, render_unit
from llmops_gate.validators.context import Context, Settings
from llmops_gate.validators.schema.settings import SchemaFlags
from llmops_gate.yamlio import redact
from llmops_gate.yamlio.snapshot import Snapshot
from llmops_gate.yamlio.sourcemap import SourceMap

Progress = Callable[[int, int, str], None]
# The guard's verdict on one overlay (`repo.guard.check_overlay`): empty when it may be built.
Screen = Callable[[Unit], Sequence[Finding]]


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


def read_manifest(unit: Unit, sources: SourceMap) -> UnitResult:
    """A plain manifest file -> resources, with each document's first line (from the run's
    snapshot: the file is read and parsed once, as Kubernetes reads it)."""
    try:
        docs = sources.snapshot.documents(unit.path)
    except OSError as exc:
        return UnitResult(unit=unit, error=f"cannot read file: {exc.strerror or exc}")
    except yamlio.UnsafeYAML as exc:
        return UnitResult(unit=unit, error=str(exc), error_line=yamlio.yaml_error_position(exc)[0])
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


def _render_one(repo: Path, unit: Unit, kustomize: Kustomize | None, sources: SourceMap,
                timeout: float, refused: Sequence[Finding] = ()) -> UnitResult:
    if refused:
        # The guard found a reason not to run Kustomize on it (see llmops_gate.repo.guard).
        result = UnitResult(unit=unit, error="refused", refused=list(refused))
    elif unit.kind == "overlay":
        assert kustomize is not None
        result = render_unit(kustomize, unit, repo, timeout)
    else:
        result = read_manifest(unit, sources)
    _attach_lines(result, sources)
    return result


def plan_batches(units: Sequence[Unit], jobs: int,
                 refused: Mapping[str, Sequence[Finding]] | None = None,
                 batch: bool = True, guess: Any = None) -> list[list[int]]:
    """The overlays (indexes into `units`) to build together, one list per Kustomize process.

    Overlays of one environment go together: the overlays of one app in different
    environments often render the same object ids (no namespace or prefix of their own), which
    Kustomize refuses in one build; those of one environment rarely do, and `guess` (a
    `repo.batch.IdGuess`) keeps overlays that probably would apart. A batch holds at most
    `BATCH_MAX` overlays (Kustomize's memory grows with its batch, and the memory ceiling is
    per process), and there are at least `2 * jobs` batches when there are overlays enough, so
    every allowed process stays busy and validation overlaps the builds.
    """
    todo = [i for i, u in enumerate(units)
            if u.kind == "overlay" and not (refused or {}).get(u.path)]
    if not batch or len(todo) < 2:
        return [[i] for i in todo]
    from llmops_gate.repo.batch import group

    size = max(BATCH_MIN, min(BATCH_MAX, -(-len(todo) // (2 * max(1, jobs)))))
    groups: dict[str, list[int]] = {}
    for i in todo:
        groups.setdefault(units[i].environment or "", []).append(i)
    out: list[list[int]] = []
    for members in groups.values():
        count = -(-len(members) // size)
        # Even batches: 35 overlays in batches of 34 are 18 + 17, not 34 + 1.
        step = -(-len(members) // count)
        ids = [guess.of(units[i].path) if guess is not None else frozenset()
               for i in members]
        out.extend(group(members, ids, step))
    # The biggest first: the long poles start early.
    out.sort(key=len, reverse=True)
    return out


BATCH_MIN = 2
BATCH_MAX = 40


def _render_batch(repo: Path, units: Sequence[Unit], members: Sequence[int],
                  kustomize: Kustomize, sources: SourceMap, timeout: float,
                  screen: Screen | None = None) -> list[tuple[int, UnitResult]]:
    from llmops_gate.repo.batch import build_batch

    out: list[tuple[int, UnitResult]] = []
    if screen is not None:
        # Screened here, on the build thread, just before its build: the first batch starts
        # while the guard still reads the files of the others.
        kept = []
        for i in members:
            found = screen(units[i])
            if found:
                out.append((i, _render_one(repo, units[i], kustomize, sources, timeout, found)))
            else:
                kept.append(i)
        members = kept
    if len(members) == 1:
        out.append((members[0], _render_one(repo, units[members[0]], kustomize, sources,
                                            timeout)))
    elif members:
        results = build_batch(kustomize, [units[i] for i in members], repo, timeout)
        for result in results:
            _attach_lines(result, sources)
        out.extend(zip(members, results, strict=True))
    return out


def iter_render(repo: Path, units: Sequence[Unit], kustomize: Kustomize | None,
                sources: SourceMap, jobs: int, timeout: float,
                progress: Progress | None = None,
                refused: Mapping[str, list[Finding]] | None = None,
                batch: bool | None = None, scan: RepoScan | None = None
                ) -> Iterator[tuple[int, UnitResult]]:
    """Yield `(index in units, result)` as each unit is rendered, in completion order.

    Overlays build `jobs` Kustomize processes at a time, several overlays to a process unless
    `batch` is False (default: on unless `LLMOPS_GATE_NO_BATCH` is set; see
    `llmops_gate.repo.batch`); the threads only wait and parse, and the consumer can
    validate a finished overlay while the others still build. Leaving the loop early cancels
    the builds not yet started. The builds start at the first `next()`; `Rendering` starts
    them at once.
    """
    with Rendering(repo, units, kustomize, sources, jobs, timeout, progress, refused, batch,
                   scan) as rendering:
        yield from rendering


class Rendering:
    """The builds of `iter_render`, started when this is made: the caller can do its own
    set-up (import the validators, collect the sources' secrets) while Kustomize runs, then
    iterate for `(index in units, result)` in completion order. Use it as a context manager:
    leaving it cancels the builds not yet started and waits for the running ones.

    The overlays' guard verdicts are either known (`refused`) or found by `screen` on the
    build threads, each overlay's just before its build; `add` gives more units to read
    (plain manifests found while the first builds run) before the iteration starts."""

    def __init__(self, repo: Path, units: Sequence[Unit], kustomize: Kustomize | None,
                 sources: SourceMap, jobs: int, timeout: float,
                 progress: Progress | None = None,
                 refused: Mapping[str, list[Finding]] | None = None,
                 batch: bool | None = None, scan: RepoScan | None = None,
                 screen: Screen | None = None) -> None:
        if batch is None:
            batch = not os.environ.get("LLMOPS_GATE_NO_BATCH")
        self.units = list(units)
        self.progress = progress
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs),
                                       thread_name_prefix="llmops-gate-build")
        self.futures: dict[Future[list[tuple[int, UnitResult]]], None] = {}
        self._single = (repo, kustomize, sources, timeout)
        self._iterating = False
        try:
            self._submit(repo, kustomize, sources, jobs, timeout, refused, batch, scan, screen)
        except BaseException:
            self.close()
            raise

    def add(self, units: Sequence[Unit]) -> None:
        """Read (or build, one process each) these units too; their indexes follow those
        given so far."""
        if self._iterating:
            raise RuntimeError("Rendering.add after the iteration started")
        start = len(self.units)
        self.units.extend(units)
        repo, kustomize, sources, timeout = self._single
        for i in range(start, len(self.units)):
            self.futures[self.pool.submit(_render_single, repo, self.units, i, kustomize,
                                          sources, timeout, (), self._screen)] = None

    def _submit(self, repo: Path, kustomize: Kustomize | None, sources: SourceMap, jobs: int,
                timeout: float, refused: Mapping[str, list[Finding]] | None, batch: bool,
                scan: RepoScan | None, screen: Screen | None) -> None:
        units, pool = self.units, self.pool
        self._screen = screen
        guess = None
        if batch and scan is not None:
            from llmops_gate.repo.batch import IdGuess

            guess = IdGuess(scan, sources)
        batches = (plan_batches(units, jobs, refused, batch, guess) if kustomize is not None
                   else [])
        planned: set[int] = set()
        for members in batches:
            if len(members) > 1:
                assert kustomize is not None
                self.futures[pool.submit(_render_batch, repo, units, members, kustomize,
                                         sources, timeout, screen)] = None
                planned.update(members)
        # Overlays first: they are the long pole; the manifests fill the gaps.
        order = sorted((i for i in range(len(units)) if i not in planned),
                       key=lambda i: units[i].kind != "overlay")
        for i in order:
            self.futures[pool.submit(_render_single, repo, units, i, kustomize, sources,
                                     timeout, (refused or {}).get(units[i].path, ()),
                                     screen)] = None

    def __iter__(self) -> Iterator[tuple[int, UnitResult]]:
        self._iterating = True
        units = self.units
        total = sum(1 for u in units if u.kind == "overlay")
        done = 0
        for future in as_completed(self.futures):
            for i, result in future.result():
                if units[i].kind == "overlay" and self.progress is not None:
                    done += 1
                    self.progress(done, total, units[i].path)
                yield i, result

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Rendering:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _render_single(repo: Path, units: Sequence[Unit], i: int, kustomize: Kustomize | None,
                   sources: SourceMap, timeout: float, refused: Sequence[Finding],
                   screen: Screen | None = None) -> list[tuple[int, UnitResult]]:
    if not refused and screen is not None:
        refused = screen(units[i])
    return [(i, _render_one(repo, units[i], kustomize, sources, timeout, refused))]


def render_all(repo: Path, units: Sequence[Unit], kustomize: Kustomize | None,
               sources: SourceMap, jobs: int, timeout: float,
               progress: Progress | None = None,
               refused: Mapping[str, list[Finding]] | None = None,
               batch: bool | None = None) -> list[UnitResult]:
    """Build the overlays concurrently and read the manifests; results in unit order.

    Overlays with findings in `refused` (see `llmops_gate.repo.guard`) are not built at all.
    """
    results: list[UnitResult | None] = [None] * len(units)
    for i, result in iter_render(repo, units, kustomize, sources, jobs, timeout, progress,
                                 refused=refused, batch=batch):
        results[i] = result
    return [r for r in results if r is not None]


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
        _attach_lines(result, sources)
        yield where[path], result
    for i, result in rendered:
        yield where[build[i].path], result


@contextlib.contextmanager
def _entered(started: tuple[dict[str, UnitResult], Rendering]
             ) -> Iterator[tuple[dict[str, UnitResult], Rendering]]:
    with started[1]:
        yield started


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
            prebuilt, rendering = stack.enter_context(_entered(start(units)))
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
