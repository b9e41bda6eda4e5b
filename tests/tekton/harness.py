"""Run a Tekton Task the way Tekton's entrypoint would, without a cluster or containers.

Test code, not a product feature. It implements the part of tekton.dev/v1 Task semantics our
Tasks use: params (defaults and passed values, string and array, `[*]` and `[i]`), workspaces
(temporary folders; optional ones may stay unbound; read-only ones are checked unchanged),
results (a folder of files, read back, the 4 KB budget enforced), `context.taskRun` /
`context.task` variables, and steps run in order with their `script` (by its shebang; `#!/bin/sh`
with `set -e` without one) or `command`/`args`, `workingDir`, `env` (values and optional
`secretKeyRef`s) and `onError`. The image is not pulled: steps run on this machine with the PATH
the caller gives. Anything else (sidecars, volumes, stepTemplate, step results, `$(steps...)`,
when expressions, ...) raises `Unsupported` rather than being silently ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

RESULTS_BUDGET = 4096  # bytes: the termination message every result of a TaskRun shares
TASK_KEYS = {"description", "displayName", "params", "workspaces", "results", "steps"}
STEP_KEYS = {"name", "image", "script", "command", "args", "workingDir", "env", "onError",
             "computeResources", "securityContext", "timeout"}
WORKSPACE_KEYS = {"name", "description", "readOnly", "optional"}
PARAM_KEYS = {"name", "type", "default", "description", "enum"}
RESULT_KEYS = {"name", "type", "description"}
# `$(prefix...)` forms Tekton substitutes; any other `$(...)` is shell and left alone.
VARIABLE = re.compile(r"\$\(((?:params|workspaces|results|context|steps|step|credentials|"
                      r"inputs|outputs|resources|tasks)\b[^()]*(?:\([^()]*\))?[^()]*)\)")
PARAM_REF = re.compile(r"""^params(?:\.([\w-]+)|\[['"]([\w.-]+)['"]\])(?:\[(\*|\d+)\])?$""")


class Unsupported(Exception):
    """The Task uses a Tekton feature this harness does not implement."""


class TaskError(Exception):
    """The TaskRun would be rejected by Tekton (missing param, unbound workspace, ...)."""


@dataclass
class StepRun:
    name: str
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""

    @property
    def skipped(self) -> bool:
        return self.exit_code is None


@dataclass
class TaskRun:
    name: str
    succeeded: bool
    results: dict[str, Any]
    steps: list[StepRun] = field(default_factory=list)

    def step(self, name: str) -> StepRun:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def log(self) -> str:
        return "".join(f"--- {s.name} (exit {s.exit_code})\n{s.stdout}{s.stderr}"
                       for s in self.steps)


def load_task(path: Path, name: str | None = None) -> dict[str, Any]:
    """The Task named `name` (or the only Task) in a YAML file."""
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    tasks = [d for d in docs if d.get("kind") == "Task"]
    if name is not None:
        tasks = [t for t in tasks if t["metadata"]["name"] == name]
    if len(tasks) != 1:
        raise TaskError(f"{path}: expected one Task{f' named {name}' if name else ''}")
    task = tasks[0]
    if task.get("apiVersion") != "tekton.dev/v1":
        raise Unsupported(f"{path}: apiVersion {task.get('apiVersion')} (only tekton.dev/v1)")
    return task


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            p = Path(dirpath, name)
            h.update(str(p.relative_to(root)).encode())
            if not p.is_symlink():
                h.update(p.read_bytes())
    return h.hexdigest()


def _duration(text: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    if not total:
        raise Unsupported(f"step timeout '{text}'")
    return total


class _Substitution:
    def __init__(self, params: Mapping[str, str | list[str]], strings: Mapping[str, str]):
        self.params = params
        self.strings = strings

    def value(self, ref: str) -> str | list[str]:
        m = PARAM_REF.match(ref)
        if m:
            name = m.group(1) or m.group(2)
            if name not in self.params:
                raise TaskError(f"$({ref}): no param '{name}' is declared")
            value = self.params[name]
            index = m.group(3)
            if index is None:
                return value
            if not isinstance(value, list):
                raise TaskError(f"$({ref}): param '{name}' is not an array")
            return value if index == "*" else value[int(index)]
        if ref in self.strings:
            return self.strings[ref]
        raise Unsupported(f"variable $({ref})")

    def string(self, text: str) -> str:
        def repl(m: re.Match[str]) -> str:
            value = self.value(m.group(1))
            if isinstance(value, list):
                raise TaskError(f"array $({m.group(1)}) used inside a string: {text!r}")
            return value
        return VARIABLE.sub(repl, text)

    def array(self, items: Sequence[str]) -> list[str]:
        out: list[str] = []
        for item in items:
            whole = VARIABLE.fullmatch(item)
            if whole:
                value = self.value(whole.group(1))
                if isinstance(value, list):
                    out.extend(value)
                    continue
            out.append(self.string(item))
        return out


def run_task(task: Mapping[str, Any], params: Mapping[str, str | list[str]] | None = None,
             workspaces: Mapping[str, Path] | None = None, *, work: Path,
             path: str, secrets: Mapping[str, Mapping[str, str]] | None = None,
             name: str = "run-1", namespace: str = "default",
             timeout: float = 300) -> TaskRun:
    """Execute `task` as a TaskRun named `name`. `work` is a scratch folder for results, scripts
    and HOME; `path` is the PATH the steps see (the image's tools)."""
    spec = task.get("spec") or {}
    if set(spec) - TASK_KEYS:
        raise Unsupported(f"Task spec fields {sorted(set(spec) - TASK_KEYS)}")
    params = dict(params or {})
    workspaces = dict(workspaces or {})
    secrets = secrets or {}

    values: dict[str, str | list[str]] = {}
    declared = spec.get("params") or []
    for p in declared:
        if set(p) - PARAM_KEYS:
            raise Unsupported(f"param fields {sorted(set(p) - PARAM_KEYS)}")
        kind = p.get("type", "string")
        if kind not in ("string", "array"):
            raise Unsupported(f"param type {kind}")
        if p["name"] in params:
            value = params[p["name"]]
        elif "default" in p:
            value = p["default"]
        else:
            raise TaskError(f"required param '{p['name']}' was not passed")
        if (kind == "array") != isinstance(value, list):
            raise TaskError(f"param '{p['name']}' must be of type {kind}")
        if "enum" in p and value not in p["enum"]:
            raise TaskError(f"param '{p['name']}' = {value!r} is not one of {p['enum']}")
        values[p["name"]] = value
    unknown = set(params) - {p["name"] for p in declared}
    if unknown:
        raise TaskError(f"params not declared by the Task: {sorted(unknown)}")

    results_dir = work / "results"
    scripts_dir = work / "scripts"
    home = work / "home"
    for d in (results_dir, scripts_dir, home):
        d.mkdir(parents=True, exist_ok=True)
    strings: dict[str, str] = {
        "context.taskRun.name": name, "context.taskRun.namespace": namespace,
        "context.taskRun.uid": "00000000-0000-0000-0000-000000000000",
        "context.task.name": str(task["metadata"]["name"]), "context.task.retry-count": "0",
    }
    digests: dict[str, str] = {}
    for w in spec.get("workspaces") or []:
        if set(w) - WORKSPACE_KEYS:
            raise Unsupported(f"workspace fields {sorted(set(w) - WORKSPACE_KEYS)}")
        bound = workspaces.get(w["name"])
        if bound is None and not w.get("optional"):
            raise TaskError(f"workspace '{w['name']}' is not bound")
        strings[f"workspaces.{w['name']}.path"] = str(bound) if bound else ""
        strings[f"workspaces.{w['name']}.bound"] = "true" if bound else "false"
        strings[f"workspaces.{w['name']}.claim"] = ""
        if bound and w.get("readOnly"):
            digests[w["name"]] = _tree_digest(bound)
    unknown_ws = set(workspaces) - {w["name"] for w in spec.get("workspaces") or []}
    if unknown_ws:
        raise TaskError(f"workspaces not declared by the Task: {sorted(unknown_ws)}")
    declared_results = {}
    for r in spec.get("results") or []:
        if set(r) - RESULT_KEYS:
            raise Unsupported(f"result fields {sorted(set(r) - RESULT_KEYS)}")
        declared_results[r["name"]] = r.get("type", "string")
        strings[f"results.{r['name']}.path"] = str(results_dir / r["name"])
    sub = _Substitution(values, strings)

    steps: list[StepRun] = []
    failed = False
    for i, step in enumerate(spec.get("steps") or []):
        if set(step) - STEP_KEYS:
            raise Unsupported(f"step fields {sorted(set(step) - STEP_KEYS)}")
        step_name = step.get("name") or f"unnamed-{i}"
        if failed:
            steps.append(StepRun(step_name, None))
            continue
        if not sub.string(step.get("image") or ""):
            raise TaskError(f"step '{step_name}' has no image")
        on_error = step.get("onError", "stopAndFail")
        if on_error not in ("continue", "stopAndFail"):
            raise TaskError(f"step '{step_name}': onError '{on_error}'")
        env = {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8"}
        for item in step.get("env") or []:
            if "value" in item:
                env[item["name"]] = sub.string(str(item["value"]))
                continue
            ref = (item.get("valueFrom") or {}).get("secretKeyRef")
            if not ref or set(item.get("valueFrom") or {}) != {"secretKeyRef"}:
                raise Unsupported(f"env '{item['name']}' source {item.get('valueFrom')}")
            secret = secrets.get(sub.string(ref["name"])) or {}
            key = sub.string(ref["key"])  # Tekton substitutes params in the key too
            if key in secret:
                env[item["name"]] = secret[key]
            elif not ref.get("optional"):
                raise TaskError(f"env '{item['name']}': secret {ref['name']} key {ref['key']} "
                                "is missing and not optional")
        args = sub.array([str(a) for a in step.get("args") or []])
        if "script" in step:
            if "command" in step:
                raise TaskError(f"step '{step_name}' has both script and command")
            script = sub.string(step["script"])
            if not script.startswith("#!"):
                script = "#!/bin/sh\nset -e\n" + script
            file = scripts_dir / f"script-{i}-{step_name}"
            file.write_text(script, encoding="utf-8")
            file.chmod(0o755)
            argv = [str(file), *args]
        elif "command" in step:
            argv = sub.array([str(c) for c in step["command"]]) + args
        else:
            raise Unsupported(f"step '{step_name}' without script or command (image entrypoint)")
        cwd = Path(sub.string(step.get("workingDir") or str(work)))
        cwd.mkdir(parents=True, exist_ok=True)
        limit = _duration(step["timeout"]) if "timeout" in step else timeout
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=limit, check=False)
        steps.append(StepRun(step_name, proc.returncode, proc.stdout, proc.stderr))
        if proc.returncode != 0 and on_error == "stopAndFail":
            failed = True

    for ws, digest in digests.items():
        if _tree_digest(workspaces[ws]) != digest:
            raise TaskError(f"a step wrote to the read-only workspace '{ws}'")
    results: dict[str, Any] = {}
    size = 0
    for file in sorted(results_dir.iterdir()):
        if file.name not in declared_results:
            raise TaskError(f"a step wrote an undeclared result '{file.name}'")
        text = file.read_text(encoding="utf-8")
        size += len(file.name) + len(text.encode())
        results[file.name] = json.loads(text) if declared_results[file.name] != "string" else text
    if size > RESULTS_BUDGET:
        raise TaskError(f"results take {size} bytes, over Tekton's {RESULTS_BUDGET}")
    return TaskRun(name, not failed, results, steps)
