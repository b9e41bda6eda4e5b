"""`$(...)` variables: what each names, and whether it is declared where it is used."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmops_gate.yamlio.sourcemap import PathPart

TEKTON_GROUP = "tekton.dev"
TRIGGERS_GROUP = "triggers.tekton.dev"
KINDS = ("Task", "Pipeline", "PipelineRun", "TaskRun")
VARIABLE = re.compile(r"\$\((params|workspaces|results|context|tasks|steps|step|credentials|"
                      r"finally)([.\[][^)]*)?\)")
NAME = re.compile(r"""^(?:\.([\w-]+)|\[['"]([^'"\]]+)['"]\])(.*)$""")
TASK_CONTEXT = {"taskRun.name", "taskRun.namespace", "taskRun.uid", "task.name",
                "task.retry-count"}
PIPELINE_CONTEXT = {"pipelineRun.name", "pipelineRun.namespace", "pipelineRun.uid",
                    "pipeline.name", "pipelineTask.retries"}
WORKSPACE_FIELDS = {"path", "bound", "claim", "volume"}


@dataclass
class Hit:
    """A problem at a path inside one resource document."""

    rule: str
    message: str
    path: tuple[PathPart, ...]
    match: str | None = None


@dataclass
class TaskScope:
    params: set[str]
    workspaces: set[str]
    results: set[str]
    steps: set[str]


@dataclass
class PipelineScope:
    params: set[str]
    workspaces: set[str]
    tasks: dict[str, set[str] | None]  # task -> its results (None: unknown)
    finally_tasks: set[str] = field(default_factory=set)


def name_set(items: Any) -> set[str]:
    if not isinstance(items, list):
        return set()
    return {str(i["name"]) for i in items if isinstance(i, Mapping) and "name" in i}


def strings_in(node: Any, path: tuple[PathPart, ...]) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key != "description":  # prose, never substituted
                yield from strings_in(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings_in(value, (*path, i))


def _split_name(rest: str) -> tuple[str | None, str]:
    m = NAME.match(rest)
    if not m:
        return None, rest
    return (m.group(1) or m.group(2)), m.group(3)


def _check_variable(prefix: str, rest: str, task: TaskScope | None,
                    pipeline: PipelineScope | None) -> tuple[str, str] | None:
    """(rule, message) when `$(prefix rest)` cannot resolve in these scopes, else None."""
    ref = f"$({prefix}{rest})"
    name, tail = _split_name(rest)
    if prefix == "params":
        known = (task.params if task else set()) | (pipeline.params if pipeline else set())
        if name is None:
            return "tekton-variable-unknown", f"{ref}: not a param reference"
        if name not in known:
            return "tekton-param-unresolved", f"{ref}: no param '{name}' is declared here"
        return None
    if prefix == "workspaces":
        known = (task.workspaces if task else set()) | (pipeline.workspaces if pipeline else set())
        fld = tail.lstrip(".")
        if name is None or fld not in WORKSPACE_FIELDS:
            return ("tekton-variable-unknown",
                    f"{ref}: use $(workspaces.NAME.path|bound|claim|volume)")
        if name not in known:
            return "tekton-workspace-unresolved", f"{ref}: no workspace '{name}' is declared here"
        return None
    if prefix == "results" and task is not None:
        if name is None or tail != ".path":
            return "tekton-variable-unknown", f"{ref}: use $(results.NAME.path)"
        if name not in task.results:
            return "tekton-result-unresolved", f"{ref}: no result '{name}' is declared here"
        return None
    if prefix == "context":
        known_ctx = (TASK_CONTEXT if task else set()) | (PIPELINE_CONTEXT if pipeline else set())
        if rest.lstrip(".") not in known_ctx:
            return "tekton-variable-unknown", f"{ref}: unknown context variable"
        return None
    if prefix in ("credentials",) and task is not None and rest == ".path":
        return None
    if prefix in ("steps", "step") and task is not None:
        if prefix == "step":
            return None  # $(step.results.x.path) of StepActions
        if name is None:
            return "tekton-variable-unknown", f"{ref}: use $(steps.step-NAME.exitCode.path)"
        step = name[5:] if name.startswith("step-") and name[5:] in task.steps else name
        if step not in task.steps:
            return "tekton-variable-unknown", f"{ref}: no step '{step}' in this Task"
        return None
    if prefix == "finally" and pipeline is not None:
        if name is None or name not in pipeline.finally_tasks:
            return ("tekton-task-result-unresolved",
                    f"{ref}: the Pipeline has no finally task '{name}'")
        return None
    if prefix == "tasks" and pipeline is not None:
        if rest == ".status":
            return None
        if name is None:
            return "tekton-variable-unknown", f"{ref}: unknown tasks variable"
        if name not in pipeline.tasks:
            return "tekton-task-result-unresolved", f"{ref}: the Pipeline has no task '{name}'"
        m = re.match(r"^\.results(?:\.([\w-]+)|\[['\"]([^'\"\]]+)['\"]\])", tail)
        if m:
            result = m.group(1) or m.group(2)
            results = pipeline.tasks[name]
            if results is not None and result not in results:
                return ("tekton-task-result-unresolved",
                        f"{ref}: task '{name}' has no result '{result}'")
            return None
        if tail in (".status", ".reason") or tail.startswith(".matrix"):
            return None
        return "tekton-variable-unknown", f"{ref}: unknown tasks variable"
    return "tekton-variable-unknown", f"{ref}: not available here"


def variables_in(node: Any, path: tuple[PathPart, ...], task: TaskScope | None,
               pipeline: PipelineScope | None) -> Iterator[Hit]:
    for where, text in strings_in(node, path):
        for m in VARIABLE.finditer(text):
            problem = _check_variable(m.group(1), m.group(2) or "", task, pipeline)
            if problem:
                yield Hit(problem[0], problem[1], where, m.group(0))


def task_refs(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"\$\(tasks\.([\w-]+)\.(?:results|matrix)", text)}
