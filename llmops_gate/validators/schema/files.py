"""`llmops-gate schema FILE... | -` as a library: plain manifest files, folders of them, or a
stream on stdin, validated with the same engine and flags as `validate`, into a `Report`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import validators, yamlio
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Report, Severity, Unit
from llmops_gate.validators.schema.run import VALIDATOR, Checker, Item
from llmops_gate.validators.schema.settings import SchemaFlags, from_sources
from llmops_gate.validators.schema.stream import Streamer, prepare, split

STDIN = "stdin"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def _files(args: Sequence[str]) -> Iterator[str]:
    """Each argument, or the manifest files under a folder argument (sorted). A folder's
    files that are never Kubernetes objects are left out: llmops-gate's and other tools'
    config files, and the Kustomize transformer configurations a kustomization lists under
    `configurations:` (named on the command line, they are validated like any file)."""
    from llmops_gate.repo.discover import NOT_MANIFESTS

    for arg in args:
        path = Path(arg)
        if arg != "-" and path.is_dir():
            found: list[Path] = []
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found += [Path(root, name) for name in sorted(files)
                          if name.endswith(MANIFEST_SUFFIXES) and name not in NOT_MANIFESTS]
            configs = _transformer_configs(found)
            yield from (str(p) for p in found if p.resolve() not in configs)
        else:
            yield arg


def _transformer_configs(files: Sequence[Path]) -> set[Path]:
    """The files the kustomizations among `files` list under `configurations:`."""
    from llmops_gate.repo.discover import KUSTOMIZATION_NAMES

    out: set[Path] = set()
    for file in files:
        if file.name not in KUSTOMIZATION_NAMES:
            continue
        try:
            data = yamlio.load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # reported when the file itself is validated
        configs = data.get("configurations") if isinstance(data, dict) else None
        for ref in configs if isinstance(configs, list) else []:
            if isinstance(ref, str):
                out.add((file.parent / ref).resolve())
    return out


def check_stream(checker: Checker, streamer: Streamer, unit: Unit, lines: Iterable[str],
                 size: int | None = None, admission: bool = False) -> Iterator[Finding]:
    """The findings of one file or stream, read line by line."""
    from llmops_gate.validators.schema import kubeconform

    pieces = split(lines)
    binary = kubeconform.choose(checker.settings)
    if binary is None:
        yield from streamer.check(unit, pieces, size)
        return
    # kubeconform gets every resource at once (one file each): this holds the stream.
    items: list[Item] = []
    for offset, text in pieces:
        todo, settled = prepare(checker, unit, offset, text, admission)
        items += todo
        yield from settled
    yield from kubeconform.check(binary, checker, items)


def validate_files(args: Sequence[str], flags: SchemaFlags | Mapping[str, Any],
                   stdin_text: str | None = None,
                   ignore_patterns: Sequence[str] = (), admission: bool = True) -> Report:
    """The `schema` command as a library function: files (or stdin) -> Report. With
    `admission` (the default), the `admission` validator's rules run on every document too."""
    import io
    import re

    try:
        ignored = [re.compile(p) for p in ignore_patterns]
    except re.error as exc:
        raise GateError(f"--ignore-filename-pattern: invalid regular expression: {exc}") from exc
    if not isinstance(flags, SchemaFlags):
        flags = SchemaFlags.of(flags)
    settings = from_sources({}, flags, check_duplicates=True)
    checker = Checker.create(settings)
    units: list[Unit] = []
    findings: list[Finding] = []
    sources = list(_files(args)) if args else ["-"]
    with Streamer(checker, admission=admission) as streamer:
        for arg in sources:
            if arg != "-" and any(p.search(arg) for p in ignored):
                continue
            unit = Unit(path=STDIN if arg == "-" else arg, kind="manifest")
            units.append(unit)
            try:
                if arg == "-":
                    lines = io.StringIO(stdin_text) if stdin_text is not None else sys.stdin
                    findings.extend(check_stream(checker, streamer, unit, lines,
                                                 admission=admission))
                    continue
                with open(arg, encoding="utf-8") as fh:
                    # A file's findings are kept apart until it is read to the end: a file
                    # that turns out not to be UTF-8 is unreadable, not half-checked.
                    found = list(check_stream(checker, streamer, unit, fh,
                                              os.fstat(fh.fileno()).st_size, admission))
                findings.extend(found)
            except (OSError, UnicodeDecodeError) as exc:
                reason = (f"cannot read file: {exc.strerror or exc}" if isinstance(exc, OSError)
                          else "file is not UTF-8 text")
                findings.append(Finding(validator=VALIDATOR, rule="unreadable-file",
                                        severity=Severity.ERROR, message=reason,
                                        overlay=unit.path, file=unit.path))
    findings.sort(key=Finding.sort_key)
    return Report(repo=str(Path.cwd()), units=units, resources=checker.stats.resources,
                  findings=findings,
                  validators=(VALIDATOR, "admission") if admission else (VALIDATOR,),
                  rules=validators.docs_of(findings))
