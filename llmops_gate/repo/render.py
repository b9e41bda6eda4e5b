"""Rendering units: overlays built by Kustomize (several to a process, `repo.batch`, and
`--jobs` processes at a time), plain manifests read from the run's snapshot, each result as it
is ready. The engine starts a `Rendering` first and validates while it runs; review, promotion
and the tests use `render_all`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.model import Finding, Resource, Unit, UnitResult
from llmops_gate.repo.discover import RepoScan
from llmops_gate.repo.kustomize import Kustomize, render_unit
from llmops_gate.yamlio.sourcemap import SourceMap

Progress = Callable[[int, int, str], None]
# The guard's verdict on one overlay (`repo.guard.check_overlay`): empty when it may be built.
Screen = Callable[[Unit], Sequence[Finding]]


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


def attach_lines(result: UnitResult, sources: SourceMap) -> None:
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
    attach_lines(result, sources)
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
            attach_lines(result, sources)
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
