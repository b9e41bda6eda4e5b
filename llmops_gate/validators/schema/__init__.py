"""The `schema` validator: every rendered resource against its schema, strict by default.

Schemas: the bundled CRD schemas (KServe, ArgoCD, Tekton, Pipelines-as-Code; see
`data/NOTICE.md`), Kubernetes' built-in kinds from the `kubernetes-validate` package, and any
`--schema-location`. Engine: the embedded one (offline, `jsonschema`) or kubeconform when it is
installed (`--schema-engine`). A finding names the field path, what was expected and the source
file and line where the field is written.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from llmops_gate.validators.base import Spec

if TYPE_CHECKING:
    from llmops_gate.config import Config
    from llmops_gate.model import Finding, Resource, RuleDoc
    from llmops_gate.validators.context import Context
    from llmops_gate.validators.schema.run import Item, Locate, Scalar
    from llmops_gate.validators.schema.settings import SchemaSettings
    from llmops_gate.yamlio.sourcemap import SourceMap

PathPart = str | int


def rules(config: Config | None = None) -> list[RuleDoc]:
    from llmops_gate.validators.schema.run import RULES

    return list(RULES.values())


def settings_of(ctx: Context) -> SchemaSettings:
    from llmops_gate.validators.schema.settings import from_sources

    return from_sources(ctx.config.section("schema"), ctx.settings.schema, str(ctx.repo))


@dataclass(frozen=True)
class Patch:
    """A patch file of a kustomization that transformed a resource, and its `target`."""

    file: str
    target: Mapping[str, Any]


# The order Kustomize applies a kustomization's patch fields in (its builtin transformers:
# strategic-merge patches, then `patches`, then, after the name and label transformers,
# JSON 6902 patches); the kustomizations themselves apply innermost (bases) first.
PATCH_FIELDS = ("patchesStrategicMerge", "patches", "patchesJson6902")


def _patch_files(ctx: Context, res: Resource) -> list[Patch]:
    """The patch files of the kustomizations that transformed `res`, whose target (when the
    kustomization gives one) can be `res`, in the order Kustomize applies them (so the last
    one that sets a field holds its rendered value)."""
    out: list[Patch] = []
    by_file = {k.file: k for k in ctx.scan.kustomizations.values()}
    for kfile in res.transformed_by:
        k = by_file.get(kfile)
        if k is None:
            continue
        entries: list[Any] = []
        for key in PATCH_FIELDS:
            value = k.data.get(key)
            entries += value if isinstance(value, list) else []
        for entry in entries:
            ref = entry if isinstance(entry, str) else (
                entry.get("path") if isinstance(entry, dict) else None)
            if not isinstance(ref, str) or "\n" in ref:
                continue  # an inline patch: no file to point at
            target = entry.get("target") if isinstance(entry, dict) else None
            target = target if isinstance(target, dict) else {}
            if target.get("kind") not in (None, res.kind):
                continue
            name = target.get("name")
            if isinstance(name, str) and name not in res.name:
                continue
            file = posixpath.normpath(posixpath.join(k.folder, ref))
            if file != res.source_file:
                out = [p for p in out if p.file != file]  # applied again: the later counts
                out.append(Patch(file=file, target=target))
    return out


def _pointer(path: Sequence[PathPart]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _json_patch_position(node: yaml.Node, path: Sequence[PathPart]
                         ) -> tuple[int, int] | None:
    """Where a JSON 6902 patch (a list of operations) adds or replaces `path`."""
    from llmops_gate.validators.schema.manifests import field_position

    if not isinstance(node, yaml.SequenceNode):
        return None
    want = _pointer(path)
    for op in reversed(node.value):  # the ops apply in order: the last that sets it wins
        if not isinstance(op, yaml.MappingNode):
            continue
        fields = {k.value: v for k, v in op.value if isinstance(k, yaml.ScalarNode)}
        kind, where = fields.get("op"), fields.get("path")
        if not (isinstance(kind, yaml.ScalarNode) and kind.value in ("add", "replace")
                and isinstance(where, yaml.ScalarNode)):
            continue
        prefix = str(where.value)
        if want == prefix:
            return int(where.start_mark.line) + 1, int(where.start_mark.column) + 1
        value = fields.get("value")
        if value is not None and want.startswith(prefix + "/"):
            rest = [int(p) if p.isdigit() else p.replace("~1", "/").replace("~0", "~")
                    for p in want[len(prefix) + 1:].split("/")]
            line, col, exact = field_position(value, rest)
            if exact:
                return line, col
    return None


def _json_patch_value(node: yaml.Node, path: Sequence[PathPart]) -> yaml.Node | None:
    """The node a JSON 6902 patch writes at `path`, as `_json_patch_position` finds it."""
    from llmops_gate.validators.schema.manifests import field_node

    if not isinstance(node, yaml.SequenceNode):
        return None
    want = _pointer(path)
    for op in node.value:
        if not isinstance(op, yaml.MappingNode):
            continue
        fields: dict[str, yaml.Node] = {str(k.value): v for k, v in op.value
                                        if isinstance(k, yaml.ScalarNode)}
        kind, where, value = fields.get("op"), fields.get("path"), fields.get("value")
        if not (isinstance(kind, yaml.ScalarNode) and kind.value in ("add", "replace")
                and isinstance(where, yaml.ScalarNode) and value is not None):
            continue
        prefix = str(where.value)
        if want == prefix:
            return value
        if want.startswith(prefix + "/"):
            rest = [int(p) if p.isdigit() else p.replace("~1", "/").replace("~0", "~")
                    for p in want[len(prefix) + 1:].split("/")]
            found = field_node(value, rest)
            if found is not None:
                return found
    return None


def scalar_locator(sources: SourceMap, res: Resource, patches: Sequence[Patch]) -> Scalar:
    """The node whose text became a field of `res`, searched in `locator`'s order."""
    from llmops_gate.validators.schema.manifests import field_node

    def scalar(path: Sequence[PathPart]) -> yaml.Node | None:
        for patch in patches:
            for doc in sources.documents(patch.file):
                if isinstance(doc.node, yaml.SequenceNode):
                    hit = _json_patch_value(doc.node, path)
                    if hit is not None:
                        return hit
                    continue
                if doc.kind != res.kind or not doc.name or doc.name not in res.name:
                    continue
                found = field_node(doc.node, path)
                if found is not None:
                    return found
        if res.source_file:
            source = sources.find_document(res.source_file, res.kind, res.name)
            if source is not None:
                return field_node(source.node, path)
        return None

    return scalar


def locator(sources: SourceMap, res: Resource, patches: Sequence[Patch]) -> Locate:
    """Where a field of `res` is written: the last patch applied that sets it (`patches` are
    in Kustomize's order), else its source document."""
    from llmops_gate.validators.schema.manifests import field_position

    def locate(path: Sequence[PathPart]) -> tuple[str | None, int | None, int | None, bool]:
        for patch in reversed(patches):
            for doc in reversed(list(sources.documents(patch.file))):
                if isinstance(doc.node, yaml.SequenceNode):
                    hit = _json_patch_position(doc.node, path)
                    if hit is not None:
                        return patch.file, hit[0], hit[1], True
                    continue
                if doc.kind != res.kind or not doc.name or doc.name not in res.name:
                    continue  # a strategic-merge patch of another resource
                line, col, exact = field_position(doc.node, path)
                if exact:
                    return patch.file, line, col, True
        if res.source_file:
            found = sources.find_document(res.source_file, res.kind, res.name)
            if found is not None:
                line, col, exact = field_position(found.node, path)
                if exact:
                    return res.source_file, line, col, True
        return res.source_file, res.source_line, None, False

    return locate


def items_of(ctx: Context) -> Iterator[Item]:
    from llmops_gate.validators.schema.run import Item

    for res in ctx.resources():
        patches = _patch_files(ctx, res) if res.transformed_by else []
        yield Item(doc=res.doc, unit=res.unit, file=res.source_file, line=res.source_line,
                   locate=locator(ctx.sources, res, patches),
                   patched_by=tuple(res.transformed_by),
                   scalar=scalar_locator(ctx.sources, res, patches))


def _timestamps(root: yaml.Node) -> Iterator[tuple[tuple[PathPart, ...], yaml.ScalarNode]]:
    """(path, node) of every unquoted scalar under `root` that Kustomize reads as a timestamp
    and writes back differently (`2024-01-01` -> "2024-01-01T00:00:00Z")."""
    from llmops_gate.validators.schema.manifests import key_name
    from llmops_gate.yamlio import reading as yaml_reading

    stack: list[tuple[tuple[PathPart, ...], yaml.Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack.extend(((*path, key_name(k)), v) for k, v in node.value
                         if isinstance(k, yaml.ScalarNode))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(((*path, i), v) for i, v in enumerate(node.value))
        elif (isinstance(node, yaml.ScalarNode) and yaml_reading.is_plain(node)
              and str(node.value)[4:5] == "-" and str(node.value)[:1].isdigit()):
            tag, value = yaml_reading.resolve(str(node.value), yaml_reading.KUSTOMIZE)
            if tag == yaml_reading.TIMESTAMP and value != node.value:
                yield path, node


def rewritten(ctx: Context, checker: Any) -> Iterator[Finding]:
    """`rewritten-value`: an unquoted date or time in the sources of a rendered resource that
    Kustomize wrote into it as an RFC 3339 timestamp, so the cluster gets another text (and,
    in a label, one the API server refuses)."""
    from llmops_gate.validators.schema.run import value_at
    from llmops_gate.yamlio import goparse
    from llmops_gate.yamlio import reading as yaml_reading

    for item, res in zip(items_of(ctx), ctx.resources(), strict=True):
        if res.unit.kind != "overlay" or not res.source_file:
            continue
        docs = [d.node for p in _patch_files(ctx, res) if res.transformed_by
                for d in ctx.sources.documents(p.file)
                if d.kind == res.kind and d.name and d.name in res.name]
        source = ctx.sources.find_document(res.source_file, res.kind, res.name)
        if source is not None:
            docs.append(source.node)
        seen: set[tuple[PathPart, ...]] = set()
        for node in docs:
            for path, scalar in _timestamps(node):
                stamp = goparse.rfc3339(str(scalar.value))
                if path in seen or value_at(res.doc, path) != stamp:
                    continue
                seen.add(path)
                note = yaml_reading.reading_note(str(scalar.value), yaml_reading.KUSTOMIZE)
                if len(path) >= 2 and path[-2] in ("labels", "matchLabels"):
                    note = f"{note} (a label value may not contain ':'; the API server " \
                           "refuses it)"
                yield checker.finding(item, "rewritten-value", note, path, doc=res.doc)


def check(ctx: Context) -> Iterator[Finding]:
    from llmops_gate.validators.schema import kubeconform
    from llmops_gate.validators.schema.run import Checker

    settings = settings_of(ctx)
    binary = kubeconform.choose(settings)
    checker = Checker.create(settings)
    items = list(items_of(ctx))
    if binary is not None:
        yield from kubeconform.check(binary, checker, items)
    else:
        yield from checker.check(items)
    yield from rewritten(ctx, checker)


SPEC = Spec("schema", check, rules)
