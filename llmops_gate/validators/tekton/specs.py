"""The checks of Task, Pipeline, PipelineRun and TaskRun specs: declarations, bindings,
dependencies, v1 field names, images."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from llmops_gate.model import Resource
from llmops_gate.validators.tekton.variables import (
    TEKTON_GROUP,
    TRIGGERS_GROUP,
    Hit,
    PipelineScope,
    TaskScope,
    name_set,
    strings_in,
    task_refs,
    variables_in,
)
from llmops_gate.yamlio.sourcemap import PathPart


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
    return TaskScope(params=name_set(spec.get("params")) | (extra_params or set()),
                     workspaces=name_set(spec.get("workspaces")) | (extra_workspaces or set()),
                     results=name_set(spec.get("results")),
                     steps=name_set(spec.get("steps")) | name_set(spec.get("sidecars")))


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
            yield from variables_in(spec[key], (*path, key), scope, pipeline)


def _results_of(spec: Mapping[str, Any] | None) -> set[str] | None:
    return name_set(spec.get("results")) if spec is not None else None


def _passes(item: Mapping[str, Any]) -> set[str]:
    passed = name_set(item.get("params"))
    matrix = item.get("matrix")
    if isinstance(matrix, Mapping):
        passed |= name_set(matrix.get("params"))
        for inc in matrix.get("include") or []:
            if isinstance(inc, Mapping):
                passed |= name_set(inc.get("params"))
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
        params=name_set(spec.get("params")) | (outer.params if outer else set()),
        workspaces=name_set(spec.get("workspaces")),
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
                    yield from variables_in(t[fld], (*where, fld), None, scope)
            inline = t.get("taskSpec")
            if isinstance(inline, Mapping):
                inner = _task_scope(inline, extra_params=passed,
                                    extra_workspaces=name_set(t.get("workspaces")))
                yield from _check_task_spec(inline, (*where, "taskSpec"), v1, inner, scope)
            if target is not None:
                for missing in _required(target.get("params")):
                    if missing not in passed:
                        yield Hit("tekton-param-missing", f"task '{name}' does not pass the "
                                  f"required param '{missing}'", (*where, "params"
                                                                  if "params" in t else "name"))
                bound = name_set(t.get("workspaces"))
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
            for _, text in strings_in({k: t.get(k) for k in ("params", "matrix", "when")}, ()):
                needs |= task_refs(text) & set(scope.tasks)
            if key == "tasks":
                deps[name] = needs
    yield from _cycles(deps, path, [str(t.get("name")) for t in dag])
    if "results" in spec:
        yield from variables_in(spec["results"], (*path, "results"), None, scope)


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
    passed = name_set(spec.get("params"))
    for missing in _required(target.get("params")):
        if missing not in passed:
            yield Hit("tekton-param-missing", f"the {kind} does not pass the required param "
                      f"'{missing}'", (*path, "params") if "params" in spec else path)
    bound = name_set(spec.get("workspaces"))
    for w in target.get("workspaces") or []:
        if isinstance(w, Mapping) and not w.get("optional") and w.get("name") not in bound:
            yield Hit("tekton-workspace-unbound", f"the {kind} does not bind the workspace "
                      f"'{w.get('name')}'", (*path, "workspaces") if "workspaces" in spec else path)


PIPELINERUN_V1 = {"serviceAccountName": "taskRunTemplate.serviceAccountName",
                  "serviceAccountNames": "taskRunSpecs[].serviceAccountName",
                  "podTemplate": "taskRunTemplate.podTemplate",
                  "timeout": "timeouts.pipeline", "resources": "workspaces and params"}


def check_resource(res: Resource, catalog: Catalog) -> Iterator[Hit]:
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
        run_scope = PipelineScope(params=name_set(spec.get("params")), workspaces=set(), tasks={})
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
            scope = _task_scope(inline, extra_params=name_set(spec.get("params")))
            yield from _check_task_spec(inline, (*root, "taskSpec"), v1, scope)
            yield from _check_run_bindings("TaskRun", inline, spec, root)
        else:
            target = catalog.resolve(spec.get("taskRef"), "Task")
            yield from _check_run_bindings("TaskRun", target, spec, root)
