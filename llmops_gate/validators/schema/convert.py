"""CustomResourceDefinition -> JSON Schema (draft 2020-12), one schema per served version.

A CRD's `openAPIV3Schema` is almost JSON Schema; what differs is what the Kubernetes API server
does with it, and the converted schema has to say the same thing to a JSON Schema validator:

- `x-kubernetes-int-or-string: true` accepts an integer or a string (`anyOf` of the two).
- `nullable` is not JSON Schema; and the API server drops a `null` in a field that is not
  nullable instead of rejecting it (pruning), so every typed node also accepts `null`.
- `x-kubernetes-preserve-unknown-fields: true` keeps unknown fields; the marker stays in the
  output so that strict mode (`close_schema`) leaves such a node open.
- `x-kubernetes-embedded-resource: true` is a whole object: `apiVersion`, `kind` and `metadata`
  are allowed even where the CRD does not list them.
- `metadata` at the top is a full ObjectMeta on the server whatever the CRD says, so it is
  replaced by `OBJECT_META` and a typo such as `metadata.label` is caught too.

Strictness is not baked in: the output is faithful, and `close_schema` adds
`additionalProperties: false` wherever properties are declared and unknown fields are not
preserved, which is what the API server's field validation does with unknown fields.

Some CRDs leave inline specs open (Tekton's `taskSpec` and `pipelineSpec`); `link_embedded`
points them at the spec schema of the Task or Pipeline converted in the same batch.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"
EMBEDDED = "x-kubernetes-embedded-resource"

Schema = dict[str, Any]

_STRING_MAP: Schema = {"type": ["object", "null"],
                       "additionalProperties": {"type": ["string", "null"]}}

OBJECT_META: Schema = {
    "type": ["object", "null"],
    "properties": {
        "name": {"type": ["string", "null"]},
        "generateName": {"type": ["string", "null"]},
        "namespace": {"type": ["string", "null"]},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
        "ownerReferences": {"type": ["array", "null"], "items": {"type": ["object", "null"]}},
        "uid": {"type": ["string", "null"]},
        "resourceVersion": {"type": ["string", "null"]},
        "generation": {"type": ["integer", "null"]},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": {"type": ["string", "null"]},
        "deletionGracePeriodSeconds": {"type": ["integer", "null"]},
        "managedFields": {"type": ["array", "null"]},
        "selfLink": {"type": ["string", "null"]},
    },
}

_SUBSCHEMA_LISTS = ("anyOf", "allOf", "oneOf")
_SUBSCHEMA_ONE = ("items", "additionalProperties", "not")


class ConvertError(ValueError):
    """A document that is not a CRD this converter can read."""


@dataclass(frozen=True)
class Converted:
    """One served version of one CRD as a JSON Schema."""

    group: str
    kind: str
    version: str
    schema: Schema

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def filename(self) -> str:
        """Where it lives in a schema folder: `<group>/<kind>_<version>.json` (lower case),
        the layout of the CRDs-catalog that kubeconform users know."""
        return f"{self.group}/{self.kind.lower()}_{self.version}.json"


def _with_null(type_: Any) -> Any:
    if isinstance(type_, str):
        return [type_, "null"] if type_ != "null" else type_
    if isinstance(type_, list) and "null" not in type_:
        return [*type_, "null"]
    return type_


def convert_node(node: Any, keep_descriptions: bool = False) -> Any:
    """One openAPIV3Schema node (and everything under it) -> JSON Schema."""
    if not isinstance(node, Mapping):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key == "description" and not keep_descriptions:
            continue
        if key == "nullable":
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {k: convert_node(v, keep_descriptions) for k, v in value.items()}
        elif key in _SUBSCHEMA_ONE and isinstance(value, Mapping):
            out[key] = convert_node(value, keep_descriptions)
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [convert_node(v, keep_descriptions) for v in value]
        else:
            out[key] = copy.deepcopy(value)
    if node.get(INT_OR_STRING):
        out.pop("type", None)
        # Validation keywords such as `pattern` apply to the string branch only.
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}, {"type": "null"}]
    elif "type" in out:
        out["type"] = _with_null(out["type"])
    if node.get(EMBEDDED) and isinstance(out.get("properties"), dict):
        props = out["properties"]
        props.setdefault("apiVersion", {"type": ["string", "null"]})
        props.setdefault("kind", {"type": ["string", "null"]})
        props.setdefault("metadata", copy.deepcopy(OBJECT_META))
    return out


def _versions(crd: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    spec = crd.get("spec") or {}
    versions = spec.get("versions")
    if isinstance(versions, list) and versions:
        shared = (spec.get("validation") or {}).get("openAPIV3Schema")  # v1beta1 CRDs
        for v in versions:
            if not isinstance(v, Mapping) or v.get("served") is False:
                continue
            schema = ((v.get("schema") or {}).get("openAPIV3Schema")) or shared
            yield str(v.get("name")), schema
    elif spec.get("version"):
        yield str(spec["version"]), (spec.get("validation") or {}).get("openAPIV3Schema")


def convert_crd(crd: Mapping[str, Any], keep_descriptions: bool = False) -> list[Converted]:
    """Every served version of `crd` that has a schema. Raises ConvertError if it is no CRD."""
    if not isinstance(crd, Mapping) or crd.get("kind") != "CustomResourceDefinition":
        raise ConvertError("not a CustomResourceDefinition")
    spec = crd.get("spec")
    if not isinstance(spec, Mapping):
        raise ConvertError("CustomResourceDefinition without spec")
    group = str(spec.get("group") or "")
    kind = str((spec.get("names") or {}).get("kind") or "")
    if not group or not kind:
        raise ConvertError("CustomResourceDefinition without spec.group or spec.names.kind")
    out: list[Converted] = []
    for version, raw in _versions(crd):
        if not isinstance(raw, Mapping):
            continue
        schema: Schema = {"$schema": DRAFT,
                          "title": f"{kind} ({group}/{version})"}
        schema.update(convert_node(raw, keep_descriptions))
        props = schema.setdefault("properties", {})
        if isinstance(props, dict):
            meta = props.get("metadata")
            if not isinstance(meta, Mapping) or not meta.get("properties"):
                props["metadata"] = copy.deepcopy(OBJECT_META)
            props["apiVersion"] = {"type": ["string", "null"], "enum": [f"{group}/{version}"]}
            props["kind"] = {"type": ["string", "null"], "enum": [kind]}
        schema.setdefault("type", ["object", "null"])
        schema["x-kubernetes-group-version-kind"] = [
            {"group": group, "kind": kind, "version": version}]
        out.append(Converted(group=group, kind=kind, version=version, schema=schema))
    return out


# --- inline specs -------------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    """`where` (property names, `[]` for list items) in `kind` holds the spec of `target`."""

    group: str
    kind: str
    where: tuple[str, ...]
    target: str
    embedded_task: bool = False


TEKTON = "tekton.dev"
LINKS: tuple[Link, ...] = (
    Link(TEKTON, "Pipeline", ("spec", "tasks", "[]", "taskSpec"), "Task", embedded_task=True),
    Link(TEKTON, "Pipeline", ("spec", "finally", "[]", "taskSpec"), "Task", embedded_task=True),
    Link(TEKTON, "PipelineRun", ("spec", "pipelineSpec"), "Pipeline"),
    Link(TEKTON, "TaskRun", ("spec", "taskSpec"), "Task"),
)


def _child(node: Schema, part: str) -> Schema | None:
    nxt = node.get("items") if part == "[]" else (node.get("properties") or {}).get(part)
    return nxt if isinstance(nxt, dict) else None


def _def_name(group: str, version: str, kind: str, embedded: bool) -> str:
    return f"{group}_{version}_{kind}_{'embedded' if embedded else 'spec'}"


def _embedded_task(task_spec: Schema) -> Schema:
    """A Pipeline's inline task: a TaskSpec, or a custom task's `apiVersion`/`kind`/`spec`,
    with `metadata` holding labels and annotations (Tekton's EmbeddedTask)."""
    out = copy.deepcopy(task_spec)
    props = out.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": ["string", "null"]})
    props.setdefault("kind", {"type": ["string", "null"]})
    props.setdefault("spec", {"type": ["object", "null"], PRESERVE: True})
    props.setdefault("metadata", {"type": ["object", "null"], "properties": {
        "labels": _STRING_MAP, "annotations": _STRING_MAP}})
    out.pop("required", None)  # a custom task has no steps
    return out


def link_embedded(converted: Iterable[Converted]) -> list[Converted]:
    """Point open inline specs at the spec schema converted for the same group and version."""
    items = list(converted)
    specs: dict[tuple[str, str, str], Schema] = {}
    for c in items:
        spec = _child(c.schema, "spec")
        if spec is not None:
            specs[(c.group, c.version, c.kind)] = spec
    defs_cache: dict[tuple[str, str, str, bool], Schema] = {}

    def definition(group: str, version: str, kind: str, embedded: bool) -> Schema | None:
        key = (group, version, kind, embedded)
        if key not in defs_cache:
            base = specs.get((group, version, kind))
            if base is None:
                return None
            defs_cache[key] = _embedded_task(base) if embedded else copy.deepcopy(base)
        return defs_cache[key]

    # Task links first, so that a PipelineRun's inline Pipeline carries its inline Tasks.
    order = sorted(LINKS, key=lambda link: link.kind != "Pipeline")
    for link in order:
        for c in items:
            if (c.group, c.kind) != (link.group, link.kind):
                continue
            target = definition(c.group, c.version, link.target, link.embedded_task)
            if target is None:
                continue
            node: Schema | None = c.schema
            for part in link.where[:-1]:
                node = _child(node, part) if node is not None else None
            props = node.get("properties") if node is not None else None
            if not isinstance(props, dict) or link.where[-1] not in props:
                continue
            name = _def_name(c.group, c.version, link.target, link.embedded_task)
            defs = c.schema.setdefault("$defs", {})
            defs[name] = target
            props[link.where[-1]] = {"$ref": f"#/$defs/{name}"}
    # A PipelineRun's inline Pipeline refers to the Task definitions by `#/$defs/...`, which
    # resolve against the PipelineRun document: copy them there.
    for c in items:
        defs = c.schema.get("$defs")
        if not isinstance(defs, dict):
            continue
        for name in list(defs):
            for inner in _refs(defs[name]):
                ref_name = inner.removeprefix("#/$defs/")
                if ref_name not in defs:
                    for other in items:
                        if ref_name in (other.schema.get("$defs") or {}):
                            defs[ref_name] = other.schema["$defs"][ref_name]
                            break
    return items


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


# --- strict mode --------------------------------------------------------------------------

def close_schema(node: Any) -> Any:
    """A copy of `node` where every object that declares properties, and does not preserve
    unknown fields, rejects the fields it does not declare (`additionalProperties: false`)."""
    return close_schema_in_place(copy.deepcopy(node)) if isinstance(node, dict) else node


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_OPENERS = ("additionalProperties", "patternProperties", "unevaluatedProperties", "allOf",
            "anyOf", "oneOf", "$ref")
_MAPS = frozenset(_SCHEMA_MAPS)
_LISTS = frozenset((*_SUBSCHEMA_LISTS, "prefixItems"))
_ONES = frozenset((*_SUBSCHEMA_ONE, "if", "then", "else", "contains"))


def close_schema_in_place(root: Schema) -> Schema:
    """`close_schema` for a schema nothing else holds (one just read from its file), without
    the copy: half the time on InferenceService's schema, which every run of the example
    reads."""
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if type(node) is not dict:
            continue
        for key, value in node.items():
            if key in _MAPS:
                if type(value) is dict:
                    stack.extend(value.values())
            elif key in _LISTS:
                if type(value) is list:
                    stack.extend(value)
            elif key in _ONES and type(value) is dict:
                stack.append(value)
        if (type(node.get("properties")) is dict and not node.get(PRESERVE)
                and not any(k in node for k in _OPENERS)):
            node["additionalProperties"] = False
    return root
