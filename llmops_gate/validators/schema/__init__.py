"""The `schema` validator: every rendered resource against its schema, strict by default.

Schemas: the bundled CRD schemas (KServe, ArgoCD, Tekton, Pipelines-as-Code; see
`data/NOTICE.md`), Kubernetes' built-in kinds from the `kubernetes-validate` package, and any
`--schema-location`. Engine: the embedded one (offline, `jsonschema`) or kubeconform when it is
installed (`--schema-engine`). A finding names the field path, what was expected and the source
file and line where the field is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmops_gate.context import Context
    from llmops_gate.model import Finding, Resource
    from llmops_gate.sourcemap import SourceMap
    from llmops_gate.validators.schema.run import Item, Locate
    from llmops_gate.validators.schema.settings import SchemaSettings

PathPart = str | int


def settings_of(ctx: Context) -> SchemaSettings:
    from llmops_gate.validators.schema.settings import from_sources

    return from_sources(ctx.config.section("schema"), ctx.settings, str(ctx.repo))


def _patch_files(ctx: Context, res: Resource) -> list[str]:
    """YAML files used by the kustomizations that transformed `res` (its patches)."""
    out: list[str] = []
    by_file = {k.file: k for k in ctx.scan.kustomizations.values()}
    for kfile in res.transformed_by:
        k = by_file.get(kfile)
        if k is None:
            continue
        for f in sorted(k.uses_files):
            if (PurePosixPath(f).suffix in (".yaml", ".yml") and f != res.source_file
                    and f not in out):
                out.append(f)
    return out


def locator(sources: SourceMap, res: Resource, patch_files: Sequence[str]) -> Locate:
    """Where a field of `res` is written: a patch that sets it, else its source document."""
    from llmops_gate.validators.schema.manifests import field_position

    def locate(path: Sequence[PathPart]) -> tuple[str | None, int | None, int | None, bool]:
        for file in patch_files:
            doc = sources.find_document(file, res.kind, res.name)
            if doc is None or not doc.name or doc.name not in res.name:
                continue  # not a patch of this resource
            line, col, exact = field_position(doc.node, path)
            if exact:
                return file, line, col, True
        if res.source_file:
            doc = sources.find_document(res.source_file, res.kind, res.name)
            if doc is not None:
                line, col, exact = field_position(doc.node, path)
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
