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

if TYPE_CHECKING:
    from llmops_gate.model import Finding, Resource
    from llmops_gate.validators.context import Context
    from llmops_gate.validators.schema.run import Item, Locate
    from llmops_gate.validators.schema.settings import SchemaSettings
    from llmops_gate.yamlio.sourcemap import SourceMap

PathPart = str | int


def settings_of(ctx: Context) -> SchemaSettings:
    from llmops_gate.validators.schema.settings import from_sources

    return from_sources(ctx.config.section("schema"), ctx.settings, str(ctx.repo))


@dataclass(frozen=True)
class Patch:
    """A patch file of a kustomization that transformed a resource, and its `target`."""

    file: str
    target: Mapping[str, Any]


def _patch_files(ctx: Context, res: Resource) -> list[Patch]:
    """The patch files of the kustomizations that transformed `res`, whose target (when the
    kustomization gives one) can be `res`."""
    out: list[Patch] = []
    by_file = {k.file: k for k in ctx.scan.kustomizations.values()}
    for kfile in res.transformed_by:
        k = by_file.get(kfile)
        if k is None:
            continue
        entries: list[Any] = []
        for key in ("patches", "patchesJson6902", "patchesStrategicMerge"):
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
            if file != res.source_file and all(p.file != file for p in out):
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
    for op in node.value:
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


def locator(sources: SourceMap, res: Resource, patches: Sequence[Patch]) -> Locate:
    """Where a field of `res` is written: a patch that sets it, else its source document."""
    from llmops_gate.validators.schema.manifests import field_position

    def locate(path: Sequence[PathPart]) -> tuple[str | None, int | None, int | None, bool]:
        for patch in patches:
            for doc in sources.documents(patch.file):
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
                   patched_by=tuple(res.transformed_by))


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
