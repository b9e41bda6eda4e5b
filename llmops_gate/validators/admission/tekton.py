"""What Tekton Pipelines' validating webhook refuses beyond the `tekton` validator's reference
checks, learnt from the Tekton documentation ("Tasks": defining steps and parameters;
"Pipelines": adding tasks; "PipelineRuns", "TaskRuns") and its webhook
(`pkg/apis/pipeline/v1/*_validation.go`):

- step and sidecar names are DNS-1123 labels, unique within the Task;
- Pipeline task names (`tasks` and `finally` together) are DNS-1123 labels, unique;
- a Pipeline task and a TaskRun have exactly one of `taskRef` and `taskSpec`, a PipelineRun
  exactly one of `pipelineRef` and `pipelineSpec` ("expected exactly one, got both/neither");
- a step has `script` or `command`, not both ("script cannot be used with command");
- param names begin with a letter or '_' and contain only alphanumerics, '-', '_' and '.',
  and are unique where they are declared.

Passing:

    steps: [{name: validate, image: "quay.io/org/gate:1", script: "llmops-gate validate"}]

Failing (`tekton-step-name`, `tekton-script-and-command`):

    steps: [{name: Validate_Repo, image: "quay.io/org/gate:1", command: [sh], script: "..."}]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from llmops_gate.kinds import Path, get, group_of, items, mapping
from llmops_gate.model import Severity
from llmops_gate.validators.admission import grammar
from llmops_gate.validators.admission.base import Rule, Scope, Violation, each

TEKTON = "tekton.dev"
WEBHOOK = "Tekton Pipelines validating webhook, pkg/apis/pipeline/v1 (and v1beta1)"

RULES = (
    Rule("tekton-step-name", Severity.ERROR,
         "Step and sidecar names are DNS-1123 labels, unique in the Task.",
         "Tekton's webhook rejects the Task: 'invalid value: ... a lowercase RFC 1123 label'",
         "name steps with lower case letters, digits and '-'",
         f"{WEBHOOK} task_validation.go (validateStep); Tekton docs 'Tasks: Defining Steps'; "
         "Pipelines v0.x+"),
    Rule("tekton-pipeline-task-name", Severity.ERROR,
         "Pipeline task names (tasks and finally) are DNS-1123 labels, unique in the Pipeline.",
         "Tekton's webhook rejects the Pipeline", "rename the task",
         f"{WEBHOOK} pipeline_validation.go (validatePipelineTaskName, "
         "validatePipelineTasksUnique); Tekton docs 'Pipelines: Adding Tasks'"),
    Rule("tekton-ref-or-spec", Severity.ERROR,
         "A Pipeline task and a TaskRun have exactly one of taskRef and taskSpec; a "
         "PipelineRun exactly one of pipelineRef and pipelineSpec.",
         "Tekton's webhook rejects it: 'expected exactly one, got both' (or 'neither')",
         "keep either the reference or the inline spec",
         f"{WEBHOOK} pipeline_types/taskrun_validation.go/pipelinerun_validation.go "
         "(apis.ErrMultipleOneOf, ErrMissingOneOf)"),
    Rule("tekton-script-and-command", Severity.ERROR,
         "A step has script or command, not both.",
         "Tekton's webhook rejects the Task: 'script cannot be used with command'",
         "drop command (the script's #! line chooses the interpreter) or drop script",
         f"{WEBHOOK} task_validation.go (validateStep); Tekton docs 'Tasks: Running scripts "
         "within Steps'"),
    Rule("tekton-param-name", Severity.ERROR,
         "Param names begin with a letter or '_', contain only alphanumerics, '-', '_' and "
         "'.', and are unique where declared.",
         "Tekton's webhook rejects the resource",
         "rename the param (e.g. git-url, not git url or 1url)",
         f"{WEBHOOK} param_types.go (ValidateParameterSpecs, validateParameterName); Tekton "
         "docs 'Tasks: Specifying Parameters'"),
)

PARAM_NAME = re.compile(r"[a-zA-Z_][-a-zA-Z0-9_.]*")


def _params(declared: Any, path: Path, what: str) -> Iterator[Violation]:
    seen: set[str] = set()
    for i, param in items(declared):
        name = param.get("name")
        if not isinstance(name, str):
            continue
        where: Path = (*path, i, "name")
        if not PARAM_NAME.fullmatch(name):
            yield Violation("tekton-param-name", f"{what} param '{name}': must begin with a "
                            "letter or '_' and contain only alphanumerics, '-', '_' and '.'",
                            where)
        if name in seen:
            yield Violation("tekton-param-name", f"{what} param '{name}' is declared twice",
                            where)
        seen.add(name)


def _list_items(spec: Mapping[str, Any], path: Path, keys: tuple[str, ...]
                ) -> Iterator[tuple[str, int, Mapping[str, Any], Path]]:
    """(key, index, item, its path) of the mappings in the lists `keys` of `spec`, one list
    after the other (steps then sidecars; tasks then finally: their names are unique across
    both)."""
    for key in keys:
        for i, item in items(spec.get(key)):
            yield key, i, item, (*path, key, i)


def _unique_label(name: str, seen: set[str], rule: str, where: Path, what: str,
                  within: str) -> Iterator[Violation]:
    """The `name` of the item at `where`: a DNS-1123 label, not among the names `seen` before
    it (which it joins)."""
    yield from each(grammar.dns1123_label(name), rule, (*where, "name"), f"{what} '{name}'")
    if name in seen:
        yield Violation(rule, f"{what} '{name}' is used twice{within}", (*where, "name"))
    seen.add(name)


def _task_spec(spec: Mapping[str, Any], path: Path) -> Iterator[Violation]:
    seen: set[str] = set()
    for key, i, step, where in _list_items(spec, path, ("steps", "sidecars")):
        name = step.get("name")
        if isinstance(name, str) and name:
            yield from _unique_label(name, seen, "tekton-step-name", where,
                                     f"{key[:-1]} name", " in the Task")
        if step.get("script") and step.get("command"):
            yield Violation("tekton-script-and-command", f"{key[:-1]} "
                            f"'{name or i}': script cannot be used with command",
                            (*where, "script"))
    yield from _params(spec.get("params"), (*path, "params"), "Task")


def _one_of(holder: Mapping[str, Any], path: Path, ref: str, inline: str,
            what: str) -> Iterator[Violation]:
    has_ref, has_spec = holder.get(ref) is not None, holder.get(inline) is not None
    if has_ref and has_spec:
        yield Violation("tekton-ref-or-spec", f"{what}: expected exactly one of {ref} and "
                        f"{inline}, got both", (*path, inline))
    elif not has_ref and not has_spec:
        yield Violation("tekton-ref-or-spec", f"{what}: expected exactly one of {ref} and "
                        f"{inline}, got neither", path)


def _pipeline_spec(spec: Mapping[str, Any], path: Path) -> Iterator[Violation]:
    seen: set[str] = set()
    for _key, _i, task, where in _list_items(spec, path, ("tasks", "finally")):
        name = task.get("name")
        if isinstance(name, str):
            yield from _unique_label(name, seen, "tekton-pipeline-task-name", where,
                                     "pipeline task name", "")
        yield from _one_of(task, where, "taskRef", "taskSpec", f"pipeline task '{name}'")
        inline = task.get("taskSpec")
        if isinstance(inline, Mapping):
            yield from _task_spec(inline, (*where, "taskSpec"))
    yield from _params(spec.get("params"), (*path, "params"), "Pipeline")


def check(doc: Mapping[str, Any], scope: Scope) -> Iterator[Violation]:
    if group_of(doc) != TEKTON:
        return
    kind, spec = doc.get("kind"), mapping(doc.get("spec"))
    root: Path = ("spec",)
    if kind == "Task":
        yield from _task_spec(spec, root)
    elif kind == "Pipeline":
        yield from _pipeline_spec(spec, root)
    elif kind == "TaskRun" and spec:
        yield from _one_of(spec, root, "taskRef", "taskSpec", "TaskRun")
        inline = spec.get("taskSpec")
        if isinstance(inline, Mapping):
            yield from _task_spec(inline, (*root, "taskSpec"))
    elif kind == "PipelineRun" and spec:
        yield from _one_of(spec, root, "pipelineRef", "pipelineSpec", "PipelineRun")
        inline = get(spec, "pipelineSpec")
        if isinstance(inline, Mapping):
            yield from _pipeline_spec(inline, (*root, "pipelineSpec"))
