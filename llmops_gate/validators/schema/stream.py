"""The `schema` command's engine for streams of any length: memory flat in the stream's length.

The input is read line by line and cut into documents at their `---` markers (`split`); each
document is parsed, checked for duplicate keys and validated on its own (`check_document`), so
only one batch of documents is held at a time, and only findings are kept. A document text
seen before is not parsed again (a bounded cache: streams of concatenated renders repeat most
documents); a repeat only moves its line numbers.

A long stream is spread over worker processes (`Streamer`): PyYAML's constructor is Python,
so threads would queue on the GIL. The parent reads and cuts the stream and hands batches of
documents to the workers (at most a few batches in flight, so reading never runs ahead of the
checks); each worker parses with yamlio's loader, validates with its own compiled validators
and sends back findings and counts. Short streams never start a worker: the first
`INLINE_DOCS` documents are checked in this process, and workers only take over past them.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.model import Finding, Severity, Unit
from llmops_gate.validators.schema.manifests import (
    Document,
    duplicate_keys,
    field_node,
    field_position,
    kustomize_defaults,
    parse,
)
from llmops_gate.validators.schema.run import VALIDATOR, Checker, Item, Locate, Scalar, Stats
from llmops_gate.validators.schema.settings import SchemaSettings
from llmops_gate.yamlio import caching

# A document marker: `---` at the start of a line, alone or followed by a space. The YAML
# spec forbids it inside content at column 0, so cutting there is exact.
_MARKER = re.compile(r"---(?:[ \t\r]|$)")
INLINE_DOCS = 2000      # documents checked in this process before workers take over
SPREAD_BYTES = 2 << 20  # a file this large goes to the workers from its start
BATCH_DOCS = 250        # documents per batch handed to a worker
IN_FLIGHT = 3           # batches per worker queued at once (bounds memory)
CACHE_DOCS = 4096       # distinct documents whose findings are kept for repeats (per process)
CACHE_BYTES = 8 << 20  # and at most this much of their text
PathT = tuple[int | str, ...]


def split(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(lines before it, text) of each document of a stream given line by line (with their
    line ends). A directive (`%YAML`) applies to the document after it, so from the first one
    on the rest of the stream is one piece, parsed as a stream."""
    buf: list[str] = []
    start = 0
    whole = False
    for line, text in enumerate(lines):
        if not whole and text.startswith("%"):
            whole = True
        elif not whole and text.startswith("---") and _MARKER.match(text) and buf:
            yield start, "".join(buf)
            buf, start = [], line
        buf.append(text)
    if buf:
        yield start, "".join(buf)


class Seen:
    """What the documents already checked gave: (file, text) -> (findings with lines counted
    from the text's start, counts). A repeat of a document is not parsed or validated again:
    its findings are the same but for their lines. Bounded: the oldest are dropped past
    CACHE_DOCS documents or CACHE_BYTES of text."""

    def __init__(self, size: int = CACHE_DOCS, max_bytes: int = CACHE_BYTES) -> None:
        self.size, self.max_bytes, self.bytes = size, max_bytes, 0
        self._seen: OrderedDict[tuple[str, str], tuple[list[Finding], Stats]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> tuple[list[Finding], Stats] | None:
        hit = self._seen.get(key)
        if hit is not None:
            self._seen.move_to_end(key)
        return hit

    def put(self, key: tuple[str, str], value: tuple[list[Finding], Stats]) -> None:
        if not caching.enabled() or len(key[1]) > self.max_bytes // 16:
            return
        self._seen[key] = value
        self.bytes += len(key[1])
        while len(self._seen) > self.size or self.bytes > self.max_bytes:
            old, _ = self._seen.popitem(last=False)
            self.bytes -= len(old[1])


def _locator(doc: Document, file: str, offset: int) -> Locate:
    def locate(path: Sequence[int | str]) -> tuple[str | None, int | None, int | None, bool]:
        line, col, exact = field_position(doc.node, path, offset)
        return (file, line, col, True) if exact else (file, doc.line + offset, None, False)

    return locate


def _scalar(doc: Document) -> Scalar:
    def scalar(path: Sequence[int | str]) -> yaml.Node | None:
        return field_node(doc.node, path)

    return scalar


def _admission(checker: Checker, doc: Document, item: Item, file: str,
               offset: int) -> Iterator[Finding]:
    """The `admission` validator's findings on one document (the API server's and the
    admission webhooks' rules)."""
    from llmops_gate.validators.admission import document_findings, scope_for
    from llmops_gate.validators.schema.settings import kind_matches

    data = item.doc
    if isinstance(data, dict) and kind_matches(checker.settings.skip,
                                               str(data.get("apiVersion")),
                                               str(data.get("kind"))):
        return

    def locate(path: Sequence[int | str]) -> tuple[str | None, int | None, int | None]:
        # the field, or the deepest part of its path written in the document
        line, col, _exact = field_position(doc.node, path, doc.offset + offset)
        return file, line, col

    yield from document_findings(data, item.unit, scope_for(checker.settings.kubernetes_version),
                                 locate)


def _moved(found: list[Finding], lines: int) -> list[Finding]:
    if not lines:
        return found
    return [replace(f, line=f.line + lines) if f.line is not None else f for f in found]


def _add(total: Stats, part: Stats, sign: int = 1) -> None:
    total.resources += sign * part.resources
    total.valid += sign * part.valid
    total.invalid += sign * part.invalid
    total.errors += sign * part.errors
    total.skipped += sign * part.skipped


def check_document(checker: Checker, unit: Unit, offset: int, text: str,
                   seen: Seen, admission: bool = False) -> list[Finding]:
    """The findings of one piece of a stream (usually one document) that starts after
    `offset` lines, validated with the embedded engine (and with `admission`, the
    `admission` validator's rules)."""
    key = (unit.path, text)
    hit = seen.get(key)
    if hit is not None:
        _add(checker.stats, hit[1])
        return _moved(hit[0], offset)
    before = replace(checker.stats)
    items, out = prepare(checker, unit, 0, text, admission)
    out += checker.check(items)
    counts = replace(checker.stats)
    _add(counts, before, -1)
    seen.put(key, (out, counts))
    return _moved(out, offset)


def prepare(checker: Checker, unit: Unit, offset: int, text: str,
            admission: bool = False) -> tuple[list[Item], list[Finding]]:
    """The items to validate in one piece of a stream, and the findings settled before
    validation (syntax errors, duplicate keys) or beside it (`admission`)."""
    file = unit.path
    try:
        if "*" in text:
            # An alias can expand a few lines into billions of nodes (a "billion laughs"):
            # such text goes through the parse validator's bounded walker (alias count and
            # expansion, depth, size) first. Text without an alias indicator cannot expand, so
            # the common stream pays nothing for it.
            yamlio.check(text)
        docs = parse(text)
    except yamlio.UnsafeYAML as exc:
        line, col = yamlio.yaml_error_position(exc)
        checker.stats.errors += 1
        return [], [Finding(validator=VALIDATOR, rule="parse-error", severity=Severity.ERROR,
                            message=f"refused before validation: {exc}", overlay=file,
                            file=file, line=line + offset if line is not None else None,
                            column=col, hint="rewrite the document without the alias "
                            "expansion or nesting the YAML limits refuse (limits in "
                            ".llmops-gate.yaml)")]
    except yaml.YAMLError as exc:
        line, col = yamlio.yaml_error_position(exc)
        checker.stats.errors += 1
        return [], [Finding(validator=VALIDATOR, rule="parse-error", severity=Severity.ERROR,
                            message=f"YAML syntax error: {yamlio.yaml_error_summary(exc)}",
                            overlay=file, file=file,
                            line=line + offset if line is not None else None, column=col,
                            hint="fix the YAML syntax; the file cannot be parsed")]
    items: list[Item] = []
    out: list[Finding] = []
    for doc in docs:
        item = Item(doc=kustomize_defaults(file, doc.data), unit=unit, file=file,
                    line=doc.line + offset, locate=_locator(doc, file, offset),
                    scalar=_scalar(doc), is_plain=doc.is_plain)
        if checker.settings.check_duplicates and checker.settings.strict:
            dupes = doc.dupes
            if dupes is None:
                dupes = doc.dupes = list(duplicate_keys(doc.node))
            if dupes:
                # kubeconform -strict refuses such a document (an unmarshal error).
                for path, line in dupes:
                    f = checker.finding(item, "duplicate-key", "key is written twice in one "
                                        "mapping (the last value silently wins)", path,
                                        doc=doc.data)
                    out.append(replace(f, file=file, line=line + doc.offset + offset,
                                       column=None))
                checker.stats.errors += 1
                continue
        items.append(item)
        if admission:
            out += _admission(checker, doc, item, file, offset)
    return items, out


# --- worker processes -----------------------------------------------------------------------

_worker: tuple[Checker, Seen, bool] | None = None


def _init(settings: SchemaSettings, admission: bool) -> None:
    global _worker
    checker = Checker.create(settings)
    checker.validators.compile_after = 0  # a long stream: compiled validators pay at once
    _worker = (checker, Seen(), admission)


def _work(unit: Unit, batch: list[tuple[int, str]]) -> tuple[list[Finding], Stats]:
    assert _worker is not None
    checker, seen, admission = _worker
    checker.stats = Stats()
    out: list[Finding] = []
    for offset, text in batch:
        out += check_document(checker, unit, offset, text, seen, admission)
    return out, checker.stats


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Streamer:
    """Checks the streams of one run; starts its worker processes on the first long one."""

    checker: Checker
    admission: bool = False
    workers: int = 0
    _pool: ProcessPoolExecutor | None = None
    _seen: Seen | None = None

    def __post_init__(self) -> None:
        self.workers = self.workers or _workers()
        self._seen = Seen()

    def __enter__(self) -> Streamer:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def check(self, unit: Unit, pieces: Iterable[tuple[int, str]],
              size: int | None = None) -> Iterator[Finding]:
        """The findings of one stream; `size` in bytes when known (a file): a large one goes
        to the workers from its start."""
        assert self._seen is not None
        it = iter(pieces)
        if self.workers > 1 and size is not None and size >= SPREAD_BYTES:
            yield from self._spread(unit, it)
            return
        for seen, (offset, text) in enumerate(it, 1):
            yield from check_document(self.checker, unit, offset, text, self._seen,
                                      self.admission)
            if seen >= INLINE_DOCS and self.workers > 1:
                break
        else:
            return
        yield from self._spread(unit, it)

    def _spread(self, unit: Unit, pieces: Iterator[tuple[int, str]]) -> Iterator[Finding]:
        if self._pool is None:
            # fork: the workers start with this process's modules already imported.
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("fork"),
                initializer=_init, initargs=(self.checker.settings, self.admission))
        pending: list[Future[tuple[list[Finding], Stats]]] = []
        batch: list[tuple[int, str]] = []
        limit = self.workers * IN_FLIGHT
        for piece in pieces:
            batch.append(piece)
            if len(batch) >= BATCH_DOCS:
                pending.append(self._pool.submit(_work, unit, batch))
                batch = []
                while len(pending) >= limit:
                    yield from self._collect(pending.pop(0))
        if batch:
            pending.append(self._pool.submit(_work, unit, batch))
        for future in pending:
            yield from self._collect(future)

    def _collect(self, future: Future[tuple[list[Finding], Stats]]) -> Iterator[Finding]:
        found, stats = future.result()
        _add(self.checker.stats, stats)
        yield from found
