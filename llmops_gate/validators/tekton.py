"""The `tekton` validator: what Tekton's admission webhook would reject, found before a push.

Tekton's CRD schemas cannot see these mistakes (the schema validator covers the fields); a
PipelineRun that has them is accepted by `kubectl apply`, then fails when it runs, on a pull
request, where it was meant to protect the merge. Rules:

- `tekton-param-unresolved`, `tekton-workspace-unresolved`, `tekton-result-unresolved`,
  `tekton-task-result-unresolved`, `tekton-variable-unknown`: every `$(params.x)`,
  `$(workspaces.x.path)`, `$(results.x.path)`, `$(tasks.t.results.r)`, `$(context...)` names
  something declared where it is used.
- `tekton-param-missing`: a Pipeline task, PipelineRun or TaskRun passes every param without a
  default of the Task or Pipeline it runs (when that Task or Pipeline is in the same run).
- `tekton-workspace-unbound`: every non-optional workspace is bound, and a Pipeline task binds
  only workspaces the Pipeline declares.
- `tekton-task-unknown`, `tekton-dependency-cycle`: `runAfter` and result references name tasks
  of the Pipeline, without a cycle.
- `tekton-v1-field`: tekton.dev/v1 names (`computeResources` in steps,
  `taskRunTemplate.serviceAccountName` / `.podTemplate` and `timeouts` in PipelineRuns);
  `tekton-api-version` (warning): v1beta1 is deprecated.
- `tekton-image-unpinned`: no step or sidecar image is `:latest` or untagged (a `$(params.x)`
  image is checked through the param's default).
- `pac-placeholder-unquoted`: a Pipelines-as-Code `{{ var }}` placeholder at the start of a YAML
  value is quoted; unquoted it is a YAML flow mapping, and the file does not parse.

A Task or Pipeline referenced by name (a plain `taskRef.name`, or the cluster resolver's `name`
and `kind`) is looked up among the resources of the same run; one that is not there (the
catalog's `git-clone`, a bundle, a Git URL) is not second-guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from llmops_gate.model import Finding, Resource, Severity
from llmops_gate.validators.context import Context
from llmops_gate.yamlio.sourcemap import PathPart, child, key_node

VALIDATOR = "tekton"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    why: str
    hint: str


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("tekton-param-unresolved", Severity.ERROR,
         "a $(params.x) that names no declared param is rejected or left unreplaced",
         "declare the param in `params:` or fix the name"),
    Rule("tekton-workspace-unresolved", Severity.ERROR,
         "a $(workspaces.x...) that names no declared workspace is rejected",
         "declare the workspace in `workspaces:` or fix the name"),
    Rule("tekton-result-unresolved", Severity.ERROR,
         "a $(results.x.path) that names no declared result is rejected",
         "declare the result in `results:` or fix the name"),
    Rule("tekton-task-result-unresolved", Severity.ERROR,
         "a $(tasks.t.results.r) must name a task of the Pipeline and one of its results",
         "fix the task or result name"),
    Rule("tekton-variable-unknown", Severity.ERROR,
         "Tekton substitutes only the variables it knows; others stay as literal text",
         "see https://tekton.dev/docs/pipelines/variables/"),
    Rule("tekton-param-missing", Severity.ERROR,
         "a param without a default must be given a value, or the run is rejected",
         "pass the param, or give it a default where it is declared"),
    Rule("tekton-workspace-unbound", Severity.ERROR,
         "a non-optional workspace must be bound, or the run is rejected",
         "bind the workspace (or mark it `optional: true` where it is declared)"),
    Rule("tekton-task-unknown", Severity.ERROR,
         "runAfter and result references must name tasks of the same Pipeline",
         "fix the task name"),
    Rule("tekton-dependency-cycle", Severity.ERROR,
         "tasks that wait for each other never start; Tekton rejects the Pipeline",
         "remove one of the runAfter or result references of the cycle"),
    Rule("tekton-v1-field", Severity.ERROR,
         "tekton.dev/v1 renamed these fields; the old names are rejected",
         "use the tekton.dev/v1 field name given in the message"),
    Rule("tekton-api-version", Severity.WARNING,
         "tekton.dev/v1beta1 is deprecated in favour of tekton.dev/v1",
         "convert the resource to tekton.dev/v1"),
    Rule("tekton-image-unpinned", Severity.ERROR,
         "an untagged or :latest image changes under the pipeline without a commit",
         "pin the image to a version tag or, better, a digest (@sha256:...)"),
    Rule("pac-placeholder-unquoted", Severity.ERROR,
         "an unquoted {{ var }} at the start of a value is a YAML flow mapping: the file "
         "does not parse and Pipelines-as-Code cannot use it",
         "quote the value: \"{{ var }}\""),
)}

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


def _names(items: Any) -> set[str]:
    if not isinstance(items, list):
        return set()
    return {str(i["name"]) for i in items if isinstance(i, Mapping) and "name" in i}


def _strings(node: Any, path: tuple[PathPart, ...]) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key != "description":  # prose, never substituted
                yield from _strings(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, (*path, i))


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


def _variables(node: Any, path: tuple[PathPart, ...], task: TaskScope | None,
               pipeline: PipelineScope | None) -> Iterator[Hit]:
    for where, text in _strings(node, path):
        for m in VARIABLE.finditer(text):
            problem = _check_variable(m.group(1), m.group(2) or "", task, pipeline)
            if problem:
                yield Hit(problem[0], problem[1], where, m.group(0))


def _task_refs(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"\$\(tasks\.([\w-]+)\.(?:results|matrix)", text)}


class Catalog:
    """The Tasks and Pipelines of the run, by name, to follow references to them."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.by_kind: dict[str, dict[str, Mapping[str, Any]]] = {"Task": {}, "Pipeline": {}}
        for res in resources:
            if res.api_version.startswith(TEKTON_GROUP + "/") and res.kind in self.by_kind:
                spec = res.doc.get("spec")
                if isinstance(spec, Mapping):
                    self.by_kind[res.kind].setdefault(res.name, spec)

    def resolve(self, ref: Any, kind: str) -> Mapping[str, Any] | None:
        if not isinstance(ref, Mapping):
            return None
        if ref.get("resolver") == "cluster":
            params = {p.get("name"): p.get("value") for p in ref.get("params") or []
                      if isinstance(p, Mapping)}
            if str(params.get("kind", "task")).lower() != kind.lower():
                return None
            return self.by_kind[kind].get(str(params.get("name")))
        if ref.get("resolver") or ref.get("bundle"):
            return None
        if ref.get("kind", kind) != kind:
            return None
        return self.by_kind[kind].get(str(ref.get("name")))


def _required(declared: Any) -> list[str]:
    return [str(p["name"]) for p in declared or [] if isinstance(p, Mapping) and "name" in p
            and "default" not in p]


def _task_scope(spec: Mapping[str, Any], extra_params: set[str] | None = None,
                extra_workspaces: set[str] | None = None) -> TaskScope:
    return TaskScope(params=_names(spec.get("params")) | (extra_params or set()),
                     workspaces=_names(spec.get("workspaces")) | (extra_workspaces or set()),
                     results=_names(spec.get("results")),
                     steps=_names(spec.get("steps")) | _names(spec.get("sidecars")))


def _image_problem(image: str, params: Mapping[str, Any]) -> str | None:
    m = re.fullmatch(r"\$\(params(?:\.([\w-]+)|\[['\"]([^'\"\]]+)['\"]\])\)", image)
    if m:
        default = params.get(m.group(1) or m.group(2))
        if not isinstance(default, str):
            return None
        image = default
    if "$(" in image or "@sha256:" in image or "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image '{image}' has no tag"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image '{image}' uses the tag latest"
    return None


def _check_task_spec(spec: Mapping[str, Any], path: tuple[PathPart, ...], v1: bool,
                     scope: TaskScope, pipeline: PipelineScope | None = None) -> Iterator[Hit]:
    defaults = {str(p["name"]): p.get("default") for p in spec.get("params") or []
                if isinstance(p, Mapping) and "name" in p}
    for key in ("steps", "sidecars"):
        for i, step in enumerate(spec.get(key) or []):
            if not isinstance(step, Mapping):
                continue
            where = (*path, key, i)
            if v1 and "resources" in step:
                yield Hit("tekton-v1-field", f"{key[:-1]} '{step.get('name', i)}': `resources` "
                          "is `computeResources` in tekton.dev/v1", (*where, "resources"))
            image = step.get("image")
            if isinstance(image, str):
                problem = _image_problem(image, defaults)
                if problem:
                    yield Hit("tekton-image-unpinned", problem, (*where, "image"))
    template = spec.get("stepTemplate")
    if isinstance(template, Mapping):
        if v1 and "resources" in template:
            yield Hit("tekton-v1-field", "stepTemplate: `resources` is `computeResources` in "
                      "tekton.dev/v1", (*path, "stepTemplate", "resources"))
        if isinstance(template.get("image"), str):
            problem = _image_problem(template["image"], defaults)
            if problem:
                yield Hit("tekton-image-unpinned", problem, (*path, "stepTemplate", "image"))
    if v1 and "resources" in spec:
        yield Hit("tekton-v1-field", "PipelineResources (`resources`) do not exist in "
                  "tekton.dev/v1: use workspaces and params", (*path, "resources"))
    for key in ("steps", "sidecars", "stepTemplate", "volumes", "results", "params"):
        if key in spec:
            yield from _variables(spec[key], (*path, key), scope, pipeline)


def _results_of(spec: Mapping[str, Any] | None) -> set[str] | None:
    return _names(spec.get("results")) if spec is not None else None


def _passes(item: Mapping[str, Any]) -> set[str]:
    passed = _names(item.get("params"))
    matrix = item.get("matrix")
    if isinstance(matrix, Mapping):
        passed |= _names(matrix.get("params"))
        for inc in matrix.get("include") or []:
            if isinstance(inc, Mapping):
                passed |= _names(inc.get("params"))
    return passed


def _check_pipeline_spec(spec: Mapping[str, Any], path: tuple[PathPart, ...], v1: bool,
                         catalog: Catalog, outer: PipelineScope | None = None) -> Iterator[Hit]:
    dag = [t for t in spec.get("tasks") or [] if isinstance(t, Mapping)]
    fin = [t for t in spec.get("finally") or [] if isinstance(t, Mapping)]
    specs: dict[str, Mapping[str, Any] | None] = {}
    for t in dag + fin:
        inline = t.get("taskSpec")
        specs[str(t.get("name"))] = (inline if isinstance(inline, Mapping)
                                     else catalog.resolve(t.get("taskRef"), "Task"))
    scope = PipelineScope(
        params=_names(spec.get("params")) | (outer.params if outer else set()),
        workspaces=_names(spec.get("workspaces")),
        tasks={str(t.get("name")): _results_of(specs.get(str(t.get("name")))) for t in dag},
        finally_tasks={str(t.get("name")) for t in fin})
    deps: dict[str, set[str]] = {}
    for key, items in (("tasks", dag), ("finally", fin)):
        for i, t in enumerate(items):
            name = str(t.get("name"))
            where = (*path, key, i)
            target = specs.get(name)
            passed = _passes(t)
            # what the pipeline task itself says: params, matrix, when, workspaces, ...
            for fld in ("params", "matrix", "when", "workspaces", "displayName", "timeout"):
                if fld in t:
                    yield from _variables(t[fld], (*where, fld), None, scope)
            inline = t.get("taskSpec")
            if isinstance(inline, Mapping):
                inner = _task_scope(inline, extra_params=passed,
                                    extra_workspaces=_names(t.get("workspaces")))
                yield from _check_task_spec(inline, (*where, "taskSpec"), v1, inner, scope)
            if target is not None:
                for missing in _required(target.get("params")):
                    if missing not in passed:
                        yield Hit("tekton-param-missing", f"task '{name}' does not pass the "
                                  f"required param '{missing}'", (*where, "params"
                                                                  if "params" in t else "name"))
                bound = _names(t.get("workspaces"))
                for w in target.get("workspaces") or []:
                    if (isinstance(w, Mapping) and not w.get("optional")
                            and w.get("name") not in bound):
                        yield Hit("tekton-workspace-unbound", f"task '{name}' does not bind "
                                  f"the workspace '{w.get('name')}'", (*where, "name"))
            for j, b in enumerate(t.get("workspaces") or []):
                if isinstance(b, Mapping):
                    ws = b.get("workspace", b.get("name"))
                    if ws not in scope.workspaces:
                        yield Hit("tekton-workspace-unbound", f"task '{name}' binds '{ws}', "
                                  "which the Pipeline does not declare",
                                  (*where, "workspaces", j))
            needs: set[str] = set()
            for j, before in enumerate(t.get("runAfter") or []):
                if before not in scope.tasks:
                    yield Hit("tekton-task-unknown", f"task '{name}' runs after '{before}', "
                              "which is not a task of this Pipeline", (*where, "runAfter", j))
                needs.add(str(before))
            for _, text in _strings({k: t.get(k) for k in ("params", "matrix", "when")}, ()):
                needs |= _task_refs(text) & set(scope.tasks)
            if key == "tasks":
                deps[name] = needs
    yield from _cycles(deps, path, [str(t.get("name")) for t in dag])
    if "results" in spec:
        yield from _variables(spec["results"], (*path, "results"), None, scope)


def _cycles(deps: Mapping[str, set[str]], path: tuple[PathPart, ...],
            order: list[str]) -> Iterator[Hit]:
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(node: str, stack: list[str]) -> Iterator[Hit]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(deps.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    first = min(cycle, key=order.index)
                    loop = cycle[cycle.index(first):] + cycle[:cycle.index(first)] + [first]
                    yield Hit("tekton-dependency-cycle", "tasks wait for each other: "
                              + " -> ".join(loop), (*path, "tasks", order.index(first)))
            elif state.get(nxt) is None:
                yield from visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in order:
        if state.get(node) is None:
            yield from visit(node, [])


def _check_run_bindings(kind: str, target: Mapping[str, Any] | None, spec: Mapping[str, Any],
                        path: tuple[PathPart, ...]) -> Iterator[Hit]:
    if target is None:
        return
    passed = _names(spec.get("params"))
    for missing in _required(target.get("params")):
        if missing not in passed:
            yield Hit("tekton-param-missing", f"the {kind} does not pass the required param "
                      f"'{missing}'", (*path, "params") if "params" in spec else path)
    bound = _names(spec.get("workspaces"))
    for w in target.get("workspaces") or []:
        if isinstance(w, Mapping) and not w.get("optional") and w.get("name") not in bound:
            yield Hit("tekton-workspace-unbound", f"the {kind} does not bind the workspace "
                      f"'{w.get('name')}'", (*path, "workspaces") if "workspaces" in spec else path)


PIPELINERUN_V1 = {"serviceAccountName": "taskRunTemplate.serviceAccountName",
                  "serviceAccountNames": "taskRunSpecs[].serviceAccountName",
                  "podTemplate": "taskRunTemplate.podTemplate",
                  "timeout": "timeouts.pipeline", "resources": "workspaces and params"}


def _check_resource(res: Resource, catalog: Catalog) -> Iterator[Hit]:
    if res.api_version.startswith(TRIGGERS_GROUP + "/") and res.kind == "TriggerTemplate":
        spec = res.doc.get("spec")
        templates = spec.get("resourcetemplates") if isinstance(spec, Mapping) else None
        for i, doc in enumerate(templates if isinstance(templates, list) else []):
            if isinstance(doc, Mapping) and str(doc.get("apiVersion", "")).startswith(
                    TEKTON_GROUP + "/"):
                yield from _check_doc(doc, catalog, ("spec", "resourcetemplates", i))
        return
    yield from _check_doc(res.doc, catalog, ())


def _check_doc(doc: Mapping[str, Any], catalog: Catalog,
               prefix: tuple[PathPart, ...]) -> Iterator[Hit]:
    spec = doc.get("spec")
    kind = str(doc.get("kind"))
    if not isinstance(spec, Mapping):
        return
    version = str(doc.get("apiVersion")).split("/", 1)[-1]
    v1 = version == "v1"
    if version == "v1beta1":
        yield Hit("tekton-api-version", f"{kind} uses tekton.dev/v1beta1", (*prefix, "apiVersion"))
    root: tuple[PathPart, ...] = (*prefix, "spec")
    if kind == "Task":
        yield from _check_task_spec(spec, root, v1, _task_scope(spec))
    elif kind == "Pipeline":
        yield from _check_pipeline_spec(spec, root, v1, catalog)
    elif kind == "PipelineRun":
        if v1:
            for old, new in PIPELINERUN_V1.items():
                if old in spec:
                    yield Hit("tekton-v1-field", f"PipelineRun `spec.{old}` is `spec.{new}` "
                              "in tekton.dev/v1", (*root, old))
        inline = spec.get("pipelineSpec")
        run_scope = PipelineScope(params=_names(spec.get("params")), workspaces=set(), tasks={})
        if isinstance(inline, Mapping):
            yield from _check_pipeline_spec(inline, (*root, "pipelineSpec"), v1, catalog,
                                            run_scope)
            yield from _check_run_bindings("PipelineRun", inline, spec, root)
        else:
            target = catalog.resolve(spec.get("pipelineRef"), "Pipeline")
            yield from _check_run_bindings("PipelineRun", target, spec, root)
    elif kind == "TaskRun":
        inline = spec.get("taskSpec")
        if isinstance(inline, Mapping):
            scope = _task_scope(inline, extra_params=_names(spec.get("params")))
            yield from _check_task_spec(inline, (*root, "taskSpec"), v1, scope)
            yield from _check_run_bindings("TaskRun", inline, spec, root)
        else:
            target = catalog.resolve(spec.get("taskRef"), "Task")
            yield from _check_run_bindings("TaskRun", target, spec, root)


# --- where a hit is in the source file ------------------------------------------------------

def _position(ctx: Context, res: Resource, hit: Hit) -> tuple[int | None, int | None]:
    """1-based line and column of the hit's field (and of the variable inside a block scalar)."""
    if not res.source_file:
        return None, None
    doc = ctx.sources.find_document(res.source_file, res.kind, res.name)
    if doc is None:
        return res.source_line, None
    node: yaml.Node = doc.node
    key: yaml.Node | None = None
    for part in hit.path:
        value = child(node, part)
        if value is None:
            return int((key or node).start_mark.line) + 1, None
        key = key_node(node, part)
        node = value
    # a scalar where it is written; a mapping or list where its key is
    where = node if isinstance(node, yaml.ScalarNode) or key is None else key
    line = int(where.start_mark.line) + 1
    column: int | None = int(where.start_mark.column) + 1
    if hit.match and isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        text = str(node.value)
        offset = text.find(hit.match)
        if offset >= 0:
            line += 1 + text[:offset].count("\n")
            column = None
    return line, column


def _unquoted_placeholders(text: str) -> Iterator[tuple[int, int]]:
    """(line, column) of every `{{` that opens a YAML flow mapping (an unquoted placeholder)."""
    previous: yaml.Token | None = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if (isinstance(token, yaml.FlowMappingStartToken)
                    and isinstance(previous, yaml.FlowMappingStartToken)
                    and previous.end_mark.index == token.start_mark.index):
                yield int(previous.start_mark.line) + 1, int(previous.start_mark.column) + 1
            previous = token
    except yaml.YAMLError:
        return


def _source_files(ctx: Context) -> list[str]:
    files = {r.source_file for r in ctx.resources()
             if r.source_file and (r.api_version.startswith(TEKTON_GROUP + "/")
                                   or r.api_version.startswith(TRIGGERS_GROUP + "/"))}
    failed = {r.unit.path for r in ctx.results if r.error and r.unit.kind == "manifest"}
    return sorted(files | failed)


def check(ctx: Context) -> Iterator[Finding]:
    resources = [r for r in ctx.resources()
                 if (r.api_version.startswith(TEKTON_GROUP + "/") and r.kind in KINDS)
                 or (r.api_version.startswith(TRIGGERS_GROUP + "/")
                     and r.kind == "TriggerTemplate")]
    catalog = Catalog(resources)
    seen: set[tuple[str | None, int | None, str, str]] = set()
    for res in resources:
        for hit in _check_resource(res, catalog):
            line, column = _position(ctx, res, hit)
            key = (res.source_file, line, hit.rule, hit.message)
            if key in seen:  # the same file built into several overlays
                continue
            seen.add(key)
            rule = RULES[hit.rule]
            yield Finding(validator=VALIDATOR, rule=rule.id, severity=rule.severity,
                          message=hit.message, overlay=res.unit.path,
                          environment=res.unit.environment, file=res.source_file, line=line,
                          column=column, resource=res.ref,
                          path=".".join(str(p) for p in hit.path), hint=rule.hint)
    units = {r.unit.path: r.unit for r in ctx.results}
    for file in _source_files(ctx):
        try:
            text = (ctx.repo / file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "{{" not in text:
            continue
        unit = units.get(file)
        rule = RULES["pac-placeholder-unquoted"]
        for line, column in _unquoted_placeholders(text):
            yield Finding(validator=VALIDATOR, rule=rule.id, severity=rule.severity,
                          message="unquoted Pipelines-as-Code placeholder: the value starts "
                                  "with `{{`, which YAML reads as a flow mapping",
                          overlay=unit.path if unit else None,
                          environment=unit.environment if unit else None,
                          file=PurePosixPath(file).as_posix(), line=line, column=column,
                          hint=rule.hint)
