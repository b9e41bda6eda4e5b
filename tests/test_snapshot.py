"""One reading per source file per run (issue 13): the repo snapshot (`yamlio.snapshot`).

Counted twice: through the snapshot's own API (`counts()`), and by the interpreter itself, with
an audit hook on `open` (the event every Python file open raises), so a part of the run that
reads a source file behind the snapshot's back is caught too. Kustomize reads the files again
in its own process; that is not this process's reading and is not counted.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmops_gate import yamlio
from llmops_gate.engine import Options, validate_repo
from llmops_gate.repo.discover import walk_files
from llmops_gate.yamlio.snapshot import SAFE, Snapshot, reading_of
from tests.conftest import CORPUS, EXAMPLE

_watch: list[tuple[str, Counter[str]]] = []
_lock = threading.Lock()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _watch or isinstance(args[0], int):
        return
    try:
        path = os.path.realpath(os.fsdecode(args[0]))
    except (TypeError, ValueError):
        return
    with _lock:
        for root, seen in _watch:
            if path.startswith(root + os.sep):
                seen[os.path.relpath(path, root)] += 1


sys.addaudithook(_audit)  # audit hooks cannot be removed; it does nothing unless watching


class _Opens:
    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self.seen: Counter[str] = Counter()

    def __enter__(self) -> Counter[str]:
        with _lock:
            _watch.append((self.root, self.seen))
        return self.seen

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _watch.remove((self.root, self.seen))


def _sources(repo: Path) -> list[str]:
    return [f for f in walk_files(repo) if f.endswith((".yaml", ".yml"))]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    return repo


def test_validating_the_example_reads_and_parses_each_source_file_once(example: Path) -> None:
    snapshot = Snapshot(example, yamlio.Limits())
    with _Opens(example) as opened:
        report = validate_repo(example, Options(jobs=2), snapshot=snapshot)
    assert report.resources > 0 and report.errors == 0
    counts = snapshot.counts()
    sources = _sources(example)
    # Every YAML source of the example is looked at (lint and parse see them all) ...
    assert sorted(counts) == sorted(sources)
    # ... and each is read once and parsed once, though discovery, the guard, lint, parse,
    # the source map, redaction and the manifest reader all ask for it.
    assert {f: n for f, n in counts.items() if n != (1, 1)} == {}
    # The interpreter agrees: no source file was opened twice, nor behind the snapshot's back.
    assert {f: n for f, n in opened.items() if n > 1} == {}
    assert set(opened) <= set(counts), set(opened) - set(counts)


def test_a_hostile_base_shared_by_every_overlay_is_read_and_parsed_once(example: Path) -> None:
    base = example / "deploy_model" / "base"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    (base / "bomb.yaml").write_text(bomb, encoding="utf-8")
    kust = base / "kustomization.yaml"
    text = kust.read_text(encoding="utf-8").replace("resources:\n", "resources:\n  - bomb.yaml\n",
                                                    1)
    kust.write_text(text, encoding="utf-8")
    listed = text.splitlines().index("  - bomb.yaml") + 1
    snapshot = Snapshot(example, yamlio.Limits())
    report = validate_repo(example, Options(jobs=2), snapshot=snapshot)
    refused = [f for f in report.findings if f.rule == "build-input-unsafe"]
    overlays = sorted(p.relative_to(example).as_posix()
                      for p in (example / "deploy_model" / "overlays").iterdir())
    # Each overlay is refused, naming the bomb and where the base lists it ...
    assert sorted(f.overlay or "" for f in refused) == overlays
    assert all(f"deploy_model/base/kustomization.yaml:{listed})" in f.message for f in refused)
    # ... and `parse` reports the file itself at the same line, all from one read and one
    # parse of it.
    parsed = [f for f in report.findings if f.validator == "parse"]
    assert [(f.rule, f.file) for f in parsed] == [("yaml-aliases", "deploy_model/base/bomb.yaml")]
    assert {(f.file, f.line) for f in refused} == {(parsed[0].file, parsed[0].line)}
    assert snapshot.counts()["deploy_model/base/bomb.yaml"] == (1, 1)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _corpus_files() -> Iterator[str]:
    for f in walk_files(CORPUS):
        if f.endswith((".yaml", ".yml")):
            yield f


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
def test_data_from_the_kept_events_is_what_each_reading_gives_from_the_text() -> None:
    """Nodes are composed from the events of the limit check instead of a second parse; over
    every YAML file of the corpus, the data must be what PyYAML's safe loader (kustomizations,
    tool configs) or KubeLoader (everything else) make of the text, refusals included."""
    snapshot = Snapshot(CORPUS, yamlio.Limits())
    compared = 0
    for rel in _corpus_files():
        try:
            text = snapshot.text(rel)
        except (OSError, yamlio.UnsafeYAML):
            continue
        loader = yamlio.SafeLoader if reading_of(rel) == SAFE else yamlio.KubeLoader
        try:
            want: Any = list(yamlio.load_all(text, loader=loader))
        except yamlio.UnsafeYAML as exc:
            want = ("refused", exc.rule)
        except Exception as exc:  # any error: its type is what is compared
            want = type(exc).__name__
        try:
            got: Any = snapshot.documents(rel)
        except yamlio.UnsafeYAML as exc:
            got = ("refused", exc.rule)
        except Exception as exc:
            got = type(exc).__name__
        assert _same(want, got), rel
        compared += 1
    assert compared > 500
    assert set(snapshot.counts().values()) <= {(1, 1), (1, 0)}
