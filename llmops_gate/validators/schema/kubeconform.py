"""The kubeconform wrapper: the same checks, run by kubeconform when the user has it.

`--schema-engine auto` (the default) uses kubeconform when the binary is on PATH or named by
`--kubeconform PATH`, else the embedded engine. The wrapper writes each rendered resource to
its own file in a temporary folder (so every result maps back to one resource and its source
lines), exports the bundled CRD schemas there in kubeconform's layout (closed in strict mode,
as the embedded engine uses them), passes the same locations, strict flag, Kubernetes version
and skip/reject lists, runs `kubeconform -output json` and turns its results into the same
findings. Documents without kind, Lists, skips and rejects are handled before kubeconform runs,
exactly as in the embedded engine. `default` stays offline too: instead of kubeconform's
online registry, the Kubernetes schemas the run needs are exported from kubernetes-validate.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from llmops_gate import yamlio
from llmops_gate.errors import GateError
from llmops_gate.model import Finding
from llmops_gate.repo import kustomize
from llmops_gate.validators.schema.convert import close_schema
from llmops_gate.validators.schema.embedded import PathPart, Problem
from llmops_gate.validators.schema.manifests import plain
from llmops_gate.validators.schema.run import Checker, Item
from llmops_gate.validators.schema.settings import SchemaSettings
from llmops_gate.validators.schema.store import GVK, Kubernetes, bundled_dir
from llmops_gate.yamlio import fsutil

TIMEOUT = 300.0
INSTALL = ("install kubeconform from https://github.com/yannh/kubeconform/releases (one static "
           "binary; `brew install kubeconform` or `go install "
           "github.com/yannh/kubeconform/cmd/kubeconform@latest` also work) and put it on "
           "PATH, or name it with --kubeconform PATH; or use --schema-engine embedded")
LAYOUT = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
K8S_LAYOUT = "kubernetes/{{ .ResourceKind }}{{ .KindSuffix }}.json"
_DEFS_REF = '"/api/_definitions.json#'


def choose(settings: SchemaSettings) -> str | None:
    """The kubeconform binary to use, or None for the embedded engine."""
    if settings.engine == "embedded":
        return None
    if settings.kubeconform:
        found = shutil.which(settings.kubeconform)
        if found is None and os.access(settings.kubeconform, os.X_OK):
            found = settings.kubeconform
        if found is None:
            raise GateError(f"kubeconform binary '{settings.kubeconform}' not found or not "
                            f"executable; {INSTALL}")
        return found
    found = shutil.which("kubeconform")
    if found is None and settings.engine == "kubeconform":
        raise GateError(f"--schema-engine kubeconform: no kubeconform on PATH; {INSTALL}")
    return found


def export_bundled(dest: Path, strict: bool) -> None:
    """The bundled CRD schemas under `dest` in the `<group>/<kind>_<version>.json` layout."""
    src = bundled_dir()
    for path in sorted(src.glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out = dest / path.parent.name / path.name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(close_schema(data) if strict else data), encoding="utf-8")


def export_kubernetes(dest: Path, gvks: Iterable[GVK], k8s_version: str, strict: bool) -> None:
    """The Kubernetes schemas of `gvks` under `dest/kubernetes/`, with their `$ref`s to
    `_definitions.json` made relative, so kubeconform resolves them from local files."""
    k8s = Kubernetes()
    folder = dest / "kubernetes"
    for gvk in gvks:
        found = k8s.find(gvk, k8s_version, strict)
        if found is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{gvk.kind.lower()}{gvk.kind_suffix}.json"
        for target, doc in ((folder / name, found.schema),
                            *((folder / "_definitions.json", d) for _, d in found.extra)):
            if target.exists():
                continue
            local = {k: v for k, v in doc.items() if k != "$id"}
            target.write_text(json.dumps(local).replace(_DEFS_REF, '"_definitions.json#'),
                              encoding="utf-8")


def argv_for(binary: str, settings: SchemaSettings, k8s_version: str, export: Path,
             files: Sequence[Path]) -> list[str]:
    argv = [binary, "-output", "json", "-kubernetes-version", k8s_version]
    if settings.strict:
        argv.append("-strict")
    # No -ignore-missing-schemas: kubeconform would drop those resources silently, while a
    # missing schema is a warning here (mapped from kubeconform's error below).
    if settings.skip:
        argv += ["-skip", ",".join(settings.skip)]
    if settings.reject:
        argv += ["-reject", ",".join(settings.reject)]
    for loc in settings.locations or ("default",):
        if loc == "default":
            argv += ["-schema-location", str(export / LAYOUT),
                     "-schema-location", str(export / K8S_LAYOUT)]
        else:
            argv += ["-schema-location", loc]
    return [*argv, *map(str, files)]


def _pointer(path: str) -> tuple[PathPart, ...]:
    parts: list[PathPart] = []
    for raw in path.strip("/").split("/") if path.strip("/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return tuple(parts)


_ADDITIONAL = re.compile(r"additionalProperties ((?:'[^']*'(?:, )?)+) not allowed")
_TYPE = re.compile(r"(?:expected|want) ([\w ,]+?),? (?:but )?(?:got|given) (\w+)")


def problems_from(entry: dict[str, Any]) -> list[Problem]:
    """kubeconform's validation errors for one resource -> Problems."""
    out: list[Problem] = []
    errors = entry.get("validationErrors") or []
    if not errors and entry.get("msg"):
        errors = [{"path": "", "msg": entry["msg"]}]
    for err in errors:
        path = _pointer(str(err.get("path") or ""))
        msg = str(err.get("msg") or "")
        if m := _ADDITIONAL.search(msg):
            for name in re.findall(r"'([^']*)'", m.group(1)):
                out.append(Problem("unknown-field", (*path, name), "unknown field"))
        elif m := _TYPE.search(msg):
            wanted = tuple(w for w in re.split(r"[ ,]+|\bor\b", m.group(1))
                           if w and w not in ("null", "or"))
            out.append(Problem("wrong-type", path,
                               f"expected {' or '.join(wanted)}, got {m.group(2)}",
                               expected=wanted))
        else:
            out.append(Problem("schema-violation", path, msg))
    return out


def run_kubeconform(argv: list[str]) -> list[dict[str, Any]]:
    # Through the one door every child of the tool takes (llmops_gate.kustomize.run_child):
    # the same memory ceiling, parent-death signal, process-group kill and output cap.
    limits = yamlio.current()
    try:
        code, raw_out, raw_err = kustomize.run_child(
            argv, cwd=None, timeout=TIMEOUT, max_bytes=limits.max_stream_bytes,
            memory=limits.kustomize_memory, what="kubeconform")
    except kustomize.OutOfMemory as exc:
        raise GateError(f"kubeconform {exc}") from None
    except kustomize.BuildError as exc:
        raise GateError(str(exc)) from None
    except OSError as exc:
        raise GateError(f"cannot run kubeconform ({argv[0]}): {exc.strerror or exc}") from exc
    stdout = raw_out.decode("utf-8", "replace")
    stderr = raw_err.decode("utf-8", "replace")
    try:
        data = json.loads(stdout or "{}")
    except ValueError:
        err = (stderr or stdout).strip().splitlines()
        raise GateError(f"kubeconform failed (exit {code}): "
                        f"{err[-1] if err else 'no output'}") from None
    resources = data.get("resources") if isinstance(data, dict) else None
    return [r for r in resources or [] if isinstance(r, dict)]


def check(binary: str, checker: Checker, items: Sequence[Item]) -> Iterator[Finding]:
    settings = checker.settings
    todo: list[tuple[Item, Any]] = []
    for top in items:
        for item, doc, _prefix in checker.expand(top):
            checker.stats.resources += 1
            pre = checker.precheck(item, doc)
            if pre is True:
                checker.stats.skipped += 1
            elif isinstance(pre, Finding):
                yield pre
            else:
                todo.append((item, plain(doc)))
    if not todo:
        return
    with fsutil.temp_dir("llmops-gate-kubeconform-") as tmp:
        export = Path(tmp, "schemas")
        export_bundled(export, settings.strict)
        if "default" in (settings.locations or ("default",)):
            gvks = {GVK.of(str(doc["apiVersion"]), str(doc["kind"])) for _, doc in todo}
            export_kubernetes(export, sorted(gvks, key=str), checker.k8s_version,
                              settings.strict)
        files: list[Path] = []
        for i, (_item, doc) in enumerate(todo):
            path = Path(tmp, f"resource-{i:05d}.json")
            path.write_text(json.dumps(doc), encoding="utf-8")
            files.append(path)
        results = run_kubeconform(argv_for(binary, settings, checker.k8s_version, export, files))
    by_file = {Path(str(r.get("filename", ""))).name: r for r in results}
    for i, (item, doc) in enumerate(todo):
        entry = by_file.get(f"resource-{i:05d}.json")
        if entry is None:  # valid (kubeconform lists only failures unless -verbose)
            continue
        status = str(entry.get("status", "")).lower()
        if "invalid" in status:
            for p in problems_from(entry):
                yield checker.problem(item, doc, p)
        elif "error" in status:
            msg = str(entry.get("msg") or "")
            if "could not find schema" in msg:
                yield checker.missing(item, doc, GVK.of(str(doc.get("apiVersion")),
                                                        str(doc.get("kind"))))
            else:
                yield checker.finding(item, "kubeconform", msg, doc=doc)
