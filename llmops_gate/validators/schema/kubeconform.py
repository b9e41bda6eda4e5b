"""The kubeconform wrapper: the same checks, run by kubeconform when the user has it.

`--schema-engine auto` (the default) uses kubeconform when the binary is on PATH or named by
`--kubeconform PATH`, else the embedded engine. The wrapper writes each rendered resource to
its own file in a temporary folder (so every result maps back to one resource and its source
lines), exports the bundled CRD schemas there in kubeconform's layout (closed in strict mode,
as the embedded engine uses them), passes the same locations, strict flag, Kubernetes version
and skip/reject lists, runs `kubeconform -output json` and turns its results into the same
findings. Documents without kind, Lists, skips and rejects are handled before kubeconform runs,
exactly as in the embedded engine. `default` stays offline too: instead of kubeconform's
online registry, the Kubernetes schemas the run needs are exported from kubernetes-validate
(the export: `kubeconform_schemas`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from llmops_gate import yamlio
from llmops_gate.errors import GateError
from llmops_gate.model import Finding, Severity
from llmops_gate.repo import child
from llmops_gate.validators.schema.embedded import PathPart, Problem
from llmops_gate.validators.schema.kubeconform_schemas import (
    K8S_LAYOUT,
    LAYOUT,
    export_bundled,
    export_kubernetes,
)
from llmops_gate.validators.schema.manifests import plain
from llmops_gate.validators.schema.run import VALIDATOR, Checker, Item
from llmops_gate.validators.schema.settings import SchemaSettings
from llmops_gate.validators.schema.store import GVK
from llmops_gate.yamlio import fsutil

TIMEOUT = 300.0
INSTALL = ("install kubeconform from https://github.com/yannh/kubeconform/releases (one static "
           "binary; `brew install kubeconform` or `go install "
           "github.com/yannh/kubeconform/cmd/kubeconform@latest` also work) and put it on "
           "PATH, or name it with --kubeconform PATH; or use --schema-engine embedded")


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


def argv_for(binary: str, settings: SchemaSettings, k8s_version: str, export: Path,
             files: Sequence[Path]) -> list[str]:
    argv = [binary, "-output", "json", "-kubernetes-version", k8s_version]
    if settings.strict:
        argv.append("-strict")
    # Its counts must account for every file handed over (read_results).
    argv.append("-summary")
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


# kubeconform v0.7.0 reports, per invalid resource, the top-level causes of the validation
# error of santhosh-tekuri/jsonschema v6 as `validationErrors[].path/msg`; `msg` is the error
# kind's English text, one fixed wording per kind (jsonschema/v6/kind/kind.go).
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
_ADDITIONAL = re.compile(r"additional properties ((?:'(?:[^'\\]|\\.)*'(?:, )?)+) not allowed")
_TYPE = re.compile(r"got (\w+), want (.+)")
_REQUIRED = re.compile(r"missing propert(?:y|ies) ((?:'(?:[^'\\]|\\.)*'(?:, )?)+)")
_ENUM = re.compile(r"value must be ")
# A cause whose own text says nothing: a group of errors (kind.Group) or the errors under a
# `$ref` (kind.Reference). kubeconform lists only top-level causes, so what is below such a
# cause is only in the resource's `msg`: the whole error tree as v6 renders it (each node
# `- at '<JSON pointer>': <text>`, nodes indented by depth, newlines turned into spaces).
_NO_DETAIL = "validation failed"
_NODE = re.compile(r"- at '((?:[^'\\]|\\.)*)': ")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _names(quoted: str) -> list[str]:
    return [_unquote(m) for m in _QUOTED.findall(quoted)]


def _tree(msg: str) -> list[tuple[str, str]]:
    """(pointer, text) of every node of the error tree in a resource's `msg`."""
    nodes = list(_NODE.finditer(msg))
    out: list[tuple[str, str]] = []
    for m, nxt in zip(nodes, [*nodes[1:], None], strict=True):
        text = msg[m.end(): nxt.start() if nxt else len(msg)].strip()
        out.append((_unquote(m.group(1)), text))
    return out


def problem_of(path: tuple[PathPart, ...], msg: str) -> list[Problem]:
    """One of kubeconform's validation errors -> Problems with the embedded engine's rules."""
    if m := _ADDITIONAL.fullmatch(msg):
        return [Problem("unknown-field", (*path, name), "unknown field")
                for name in _names(m.group(1))]
    if m := _REQUIRED.fullmatch(msg):
        return [Problem("required-field", (*path, name), "required field is missing")
                for name in _names(m.group(1))]
    if m := _TYPE.fullmatch(msg):
        wanted = tuple(w for w in m.group(2).split(" or ") if w != "null")
        return [Problem("wrong-type", path, f"expected {' or '.join(wanted)}, got {m.group(1)}",
                        expected=wanted)]
    if _ENUM.match(msg):
        return [Problem("invalid-value", path, msg)]
    return [Problem("schema-violation", path, msg)]


def problems_from(entry: dict[str, Any]) -> list[Problem]:
    """kubeconform's result for one invalid resource -> Problems."""
    out: list[Problem] = []
    tree: list[tuple[str, str]] | None = None
    for err in entry.get("validationErrors") or []:
        if not isinstance(err, dict):
            raise KubeconformFailed("a validationErrors entry is not an object")
        ptr, msg = str(err.get("path") or ""), str(err.get("msg") or "")
        if msg != _NO_DETAIL:
            out += problem_of(_pointer(ptr), msg)
            continue
        if tree is None:
            tree = _tree(str(entry.get("msg") or ""))
        below = [(where, text) for where, text in tree
                 if (where == ptr or where.startswith(ptr + "/")) and text != _NO_DETAIL]
        for where, text in below:
            out += problem_of(_pointer(where), text)
        if not below:
            out.append(Problem("schema-violation", _pointer(ptr),
                               "validation failed (found by kubeconform, which names no "
                               "field below this one; --schema-engine embedded does)"))
    if not out:
        # Invalid with no structured errors: keep kubeconform's message.
        out.append(Problem("schema-violation", (), str(entry.get("msg") or "invalid") +
                           " (found by kubeconform)"))
    unique: list[Problem] = []
    for problem in out:
        if problem not in unique:
            unique.append(problem)
    return unique


class KubeconformFailed(Exception):
    """kubeconform did not keep its contract: no verdict can be read from this run."""


STATUSES = ("statusValid", "statusInvalid", "statusError", "statusSkipped")


def _why(proc: subprocess.CompletedProcess[str]) -> str:
    lines = (proc.stderr or "").strip().splitlines()
    return f": {lines[-1][:300]}" if lines else " and printed nothing on stderr"


def read_results(proc: subprocess.CompletedProcess[str], expected: int) -> list[dict[str, Any]]:
    """kubeconform's `-output json -summary` for `expected` one-resource files, read as a
    contract. Exit 0: every resource valid or skipped; exit 1: at least one invalid or in
    error (kubeconform also exits 1 when it cannot start, with stderr only); any other exit
    (a Go panic exits 2, a signal kills it) is a failure. The summary must account for every
    file handed over, so a resource cannot go missing without notice."""
    code = proc.returncode
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        raise KubeconformFailed(f"was killed by {name}{_why(proc)}")
    if code not in (0, 1):
        raise KubeconformFailed(f"exited {code}{_why(proc)}")
    if not proc.stdout.strip():
        raise KubeconformFailed(f"exited {code} with no output{_why(proc)}")
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise KubeconformFailed(f"exited {code} with output that is not JSON"
                                f"{_why(proc)}") from None
    resources = data.get("resources") if isinstance(data, dict) else None
    summary = data.get("summary") if isinstance(data, dict) else None
    if not isinstance(resources, list) or not isinstance(summary, dict):
        raise KubeconformFailed(f"exited {code} with JSON that has no resources and summary")
    for entry in resources:
        if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
            raise KubeconformFailed(f"reported a result with an unknown status: "
                                    f"{json.dumps(entry)[:200]}")
    counts = [summary.get(k) for k in ("valid", "invalid", "errors", "skipped")]
    if not all(isinstance(c, int) for c in counts) or sum(counts) != expected:  # type: ignore[arg-type]
        raise KubeconformFailed(f"accounted for {sum(c for c in counts if isinstance(c, int))} "
                                f"of the {expected} resources it was given")
    failed = sum(1 for r in resources if r["status"] in ("statusInvalid", "statusError"))
    if (code == 1) != (failed > 0):
        raise KubeconformFailed(f"exited {code} but reported {failed} failed resources"
                                f"{_why(proc)}")
    return resources


def timeout() -> float:
    """LLMOPS_GATE_KUBECONFORM_TIMEOUT seconds (default 300) for one kubeconform run."""
    raw = os.environ.get("LLMOPS_GATE_KUBECONFORM_TIMEOUT")
    try:
        value = float(raw) if raw else TIMEOUT
    except ValueError:
        raise GateError(f"LLMOPS_GATE_KUBECONFORM_TIMEOUT={raw!r}: expected seconds") from None
    return value if value > 0 else TIMEOUT


def run_kubeconform(argv: list[str], expected: int) -> list[dict[str, Any]]:
    """Run kubeconform; its results, or KubeconformFailed saying why there are none."""
    limit = timeout()
    # Through the one door every child of the tool takes (llmops_gate.repo.child.run_child):
    # the same memory ceiling, parent-death signal, process-group kill and output cap.
    limits = yamlio.current()
    try:
        code, raw_out, raw_err = child.run_child(
            argv, cwd=None, timeout=limit, max_bytes=limits.max_stream_bytes,
            memory=limits.kustomize_memory, what="kubeconform")
    except child.BuildTimeout:
        raise KubeconformFailed(f"timed out after {limit:g}s "
                                "(LLMOPS_GATE_KUBECONFORM_TIMEOUT)") from None
    except child.Cancelled:
        raise
    except child.OutOfMemory as exc:
        raise KubeconformFailed(str(exc)) from None
    except child.BuildError as exc:
        raise KubeconformFailed(f"failed: {exc}") from None
    except OSError as exc:
        raise GateError(f"cannot run kubeconform ({argv[0]}): {exc.strerror or exc}") from exc
    stdout = raw_out.decode("utf-8", "replace")
    stderr = raw_err.decode("utf-8", "replace")
    done = subprocess.CompletedProcess(argv, code, stdout, stderr)
    return read_results(done, expected)


def failure(checker: Checker, items: Sequence[Item], why: str) -> Iterator[Finding]:
    """An error finding per unit of `items`: kubeconform gave no verdict, so none passes."""
    seen: set[str] = set()
    for item in items:
        if item.unit.path in seen:
            continue
        seen.add(item.unit.path)
        checker.stats.errors += 1
        yield Finding(validator=VALIDATOR, rule="kubeconform", severity=Severity.ERROR,
                      message=f"kubeconform {why}; the resources were not validated",
                      overlay=item.unit.path, environment=item.unit.environment,
                      hint="fix or replace the kubeconform binary, raise "
                           "LLMOPS_GATE_KUBECONFORM_TIMEOUT, or use --schema-engine embedded")


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
        try:
            results = run_kubeconform(argv_for(binary, settings, checker.k8s_version, export,
                                               files), len(files))
            by_file = {Path(str(r.get("filename", ""))).name: r for r in results}
            verdicts = [_verdict(checker, item, doc, by_file.get(f"resource-{i:05d}.json"))
                        for i, (item, doc) in enumerate(todo)]
        except KubeconformFailed as exc:
            yield from failure(checker, [item for item, _ in todo], str(exc))
            return
    for found in verdicts:
        yield from found


def _verdict(checker: Checker, item: Item, doc: Any, entry: dict[str, Any] | None
             ) -> list[Finding]:
    """The findings of one resource from its kubeconform result (None: valid)."""
    status = entry.get("status") if entry is not None else "statusValid"
    if status in ("statusValid", "statusSkipped"):
        checker.stats.valid += status == "statusValid"
        checker.stats.skipped += status == "statusSkipped"
        return []
    assert entry is not None
    if status == "statusInvalid":
        checker.stats.invalid += 1
        return [checker.problem(item, doc, p) for p in problems_from(entry)]
    msg = str(entry.get("msg") or "")
    if msg.startswith("could not find schema for "):
        checker.stats.skipped += 1
        return [checker.missing(item, doc, GVK.of(str(doc.get("apiVersion")),
                                                  str(doc.get("kind"))))]
    checker.stats.errors += 1
    return [checker.finding(item, "kubeconform", f"kubeconform: {msg}", doc=doc)]
