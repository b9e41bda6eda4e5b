"""`llmops-gate schema FILE... | -` as a library: plain manifest files, folders of them, or a
stream on stdin, validated with the same engine and flags as `validate`, into a `Report`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import validators, yamlio
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Report, Severity, Unit
from llmops_gate.validators.schema.manifests import (
    Document,
    duplicate_keys,
    field_node,
    field_position,
    read_documents,
)
from llmops_gate.validators.schema.run import VALIDATOR, Checker, Item, Locate, Scalar
from llmops_gate.validators.schema.settings import SchemaFlags, from_sources

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


def kustomize_defaults(file: str, data: Any) -> Any:
    """A kustomization file's document as Kustomize reads it: `kind` defaults to
    Kustomization and `apiVersion` to the one of its kind."""
    from llmops_gate.repo.discover import KUSTOMIZATION_NAMES

    if Path(file).name not in KUSTOMIZATION_NAMES or not isinstance(data, dict):
        return data
    if data.get("kind") and data.get("apiVersion"):
        return data
    kind = data.get("kind") or "Kustomization"
    version = ("kustomize.config.k8s.io/v1alpha1" if kind == "Component"
               else "kustomize.config.k8s.io/v1beta1")
    return {"apiVersion": version, **data, "kind": kind}


def _locator(doc: Document, file: str) -> Locate:
    def locate(path: Sequence[int | str]) -> tuple[str | None, int | None, int | None, bool]:
        line, col, exact = field_position(doc.node, path, doc.offset)
        return (file, line, col, True) if exact else (file, doc.line, None, False)

    return locate


def _scalar(doc: Document) -> Scalar:
    def scalar(path: Sequence[int | str]) -> yaml.Node | None:
        return field_node(doc.node, path)

    return scalar


def check_text(checker: Checker, text: str, unit: Unit,
               admission: bool = False) -> Iterator[Finding]:
    """Schema findings of one file's text, and with `admission` the API server's and the
    webhooks' rules too (`llmops_gate.validators.admission`) on every document that parsed."""
    file = unit.path
    try:
        docs = read_documents(text)
    except yaml.YAMLError as exc:
        line, col = yamlio.yaml_error_position(exc)
        yield Finding(validator=VALIDATOR, rule="parse-error", severity=Severity.ERROR,
                      message=f"YAML syntax error: {yamlio.yaml_error_summary(exc)}",
                      overlay=file, file=file, line=line, column=col,
                      hint="fix the YAML syntax; the file cannot be parsed")
        return
    items: list[Item] = []
    # duplicate keys of each distinct parsed document (repeats share their node), in lines
    # relative to that document's text
    dupes_of: dict[int, list[tuple[tuple[int | str, ...], int]]] = {}
    for doc in docs:
        item = Item(doc=kustomize_defaults(file, doc.data), unit=unit, file=file, line=doc.line,
                    locate=_locator(doc, file), scalar=_scalar(doc))
        dupes: list[tuple[tuple[int | str, ...], int]] = []
        if checker.settings.check_duplicates and checker.settings.strict:
            relative = dupes_of.get(id(doc.node))
            if relative is None:
                relative = dupes_of[id(doc.node)] = list(duplicate_keys(doc.node))
            dupes = [(path, line + doc.offset) for path, line in relative]
        if dupes:
            # kubeconform -strict refuses such a document (an unmarshal error).
            for path, line in dupes:
                f = checker.finding(item, "duplicate-key", "key is written twice in one "
                                    "mapping (the last value silently wins)", path,
                                    doc=doc.data)
                yield replace(f, file=file, line=line, column=None)
            checker.stats.errors += 1
            continue
        items.append(item)
        if admission:
            yield from _admission(checker, doc, item, file)
    yield from _run(checker, items)


def _admission(checker: Checker, doc: Document, item: Item, file: str) -> Iterator[Finding]:
    from llmops_gate.validators.admission import document_findings, scope_for
    from llmops_gate.validators.schema.settings import kind_matches

    data = item.doc
    if isinstance(data, dict) and kind_matches(checker.settings.skip,
                                               str(data.get("apiVersion")),
                                               str(data.get("kind"))):
        return

    def locate(path: Sequence[int | str]) -> tuple[str | None, int | None, int | None]:
        # the field, or the deepest part of its path written in the document
        line, col, _exact = field_position(doc.node, path, doc.offset)
        return file, line, col

    yield from document_findings(data, item.unit, scope_for(checker.settings.kubernetes_version),
                                 locate)


def _run(checker: Checker, items: list[Item]) -> Iterator[Finding]:
    from llmops_gate.validators.schema import kubeconform

    binary = kubeconform.choose(checker.settings)
    if binary is not None:
        yield from kubeconform.check(binary, checker, items)
    else:
        yield from checker.check(items)


def validate_files(args: Sequence[str], flags: SchemaFlags | Mapping[str, Any],
                   stdin_text: str | None = None,
                   ignore_patterns: Sequence[str] = (), admission: bool = True) -> Report:
    """The `schema` command as a library function: files (or stdin) -> Report. With
    `admission` (the default), the `admission` validator's rules run on every document too."""
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
    for arg in sources:
        if arg != "-" and any(p.search(arg) for p in ignored):
            continue
        if arg == "-":
            unit = Unit(path=STDIN, kind="manifest")
            text = stdin_text if stdin_text is not None else sys.stdin.read()
        else:
            unit = Unit(path=arg, kind="manifest")
            try:
                text = Path(arg).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                units.append(unit)
                reason = (f"cannot read file: {exc.strerror or exc}" if isinstance(exc, OSError)
                          else "file is not UTF-8 text")
                findings.append(Finding(validator=VALIDATOR, rule="unreadable-file",
                                        severity=Severity.ERROR, message=reason,
                                        overlay=arg, file=arg))
                continue
        units.append(unit)
        findings.extend(check_text(checker, text, unit, admission=admission))
    findings.sort(key=Finding.sort_key)
    return Report(repo=str(Path.cwd()), units=units, resources=checker.stats.resources,
                  findings=findings,
                  validators=(VALIDATOR, "admission") if admission else (VALIDATOR,),
                  rules=validators.docs_of(findings))
