"""The `admission` validator: the rules the Kubernetes API server and the admission webhooks
of the bundled CRDs (KServe, ArgoCD, Tekton) apply after the schema, offline.

A JSON schema says a name is a string and a CPU request is an int-or-string; the API server
then refuses `Qwen2.5_Model`, `2 cores`, `containerPort: 99999` or a Deployment whose selector
does not match its template, and ArgoCD shows "one or more objects failed to apply" long after
the merge. These rules are data plus a pure check per object, one family per module
(`meta`, `resources`, `pods`, `workloads`, `services`, `configdata`, `kserve`, `argocd`,
`tekton`), listed in `registry.py`; each names the documentation or code it was learnt from.

It runs after `schema` in `validate` (each overlay as soon as it is built, see
`llmops_gate.engine.run_validators`) and in the `schema` command on plain files. A finding
points at the file and line where the field is written: a patch that set it, else the
resource's own source document. Waivers (`llmops-gate.io/ignore`) do not apply: the cluster
refuses the object whatever the repository says.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from llmops_gate.config import Config
from llmops_gate.kinds import Path
from llmops_gate.model import Finding, ResourceRef, RuleDoc, Unit
from llmops_gate.validators.admission.base import Rule, Scope, Violation
from llmops_gate.validators.admission.registry import CHECKS, RULES
from llmops_gate.validators.base import Spec
from llmops_gate.yamlio.sourcemap import field_path

if TYPE_CHECKING:
    from llmops_gate.model import Resource, UnitResult
    from llmops_gate.validators.context import Context

VALIDATOR = "admission"

__all__ = ["RULES", "SPEC", "VALIDATOR", "Rule", "Scope", "check", "check_unit", "rule_docs",
           "violations"]

# Where a field path is written: (file, line, column).
Where = tuple[str | None, int | None, int | None]


def violations(doc: Any, scope: Scope) -> list[Violation]:
    """Every violation of one document (each item of a `List`, with its path), deduplicated."""
    if not isinstance(doc, Mapping):
        return []
    if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        out: list[Violation] = []
        for i, item in enumerate(doc["items"]):
            out += [Violation(v.rule, v.message, ("items", i, *v.path))
                    for v in violations(item, scope)]
        return out
    if not isinstance(doc.get("kind"), str) or not isinstance(doc.get("apiVersion"), str):
        return []  # not an object: the schema validator reports it
    seen: dict[tuple[str, str, Path], Violation] = {}
    for check_family in CHECKS:
        for v in check_family(doc, scope):
            seen.setdefault((v.rule, v.message, v.path), v)
    return list(seen.values())


@functools.lru_cache(maxsize=16)
def scope_for(kubernetes_version: str | None) -> Scope:
    """The Scope of a run targeting `kubernetes_version` (None: the newest schemas shipped)."""
    from llmops_gate.validators.schema.store import resolve_kubernetes_version

    resolved = resolve_kubernetes_version(kubernetes_version)
    major, minor = (int(p) for p in resolved.split(".")[:2])
    return Scope(kubernetes_version=(major, minor))


def dotted(path: Path) -> str | None:
    return field_path(path)


def _container(doc: Any, path: Path) -> str | None:
    node, name = doc, None
    for i, part in enumerate(path):
        if isinstance(node, Mapping) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if (i > 0 and path[i - 1] in ("containers", "initContainers", "steps", "sidecars")
                    and isinstance(node, Mapping) and isinstance(node.get("name"), str)):
                name = node["name"]
        else:
            break
    return name


def finding(v: Violation, doc: Any, unit: Unit, where: Where) -> Finding:
    rule = RULES[v.rule]
    ref = ResourceRef.of(doc) if isinstance(doc, Mapping) and doc.get("kind") else None
    shown = dotted(v.path)
    return Finding(validator=VALIDATOR, rule=rule.id, severity=rule.severity,
                   message=f"{shown}: {v.message}" if shown else v.message,
                   overlay=unit.path, environment=unit.environment, file=where[0],
                   line=where[1], column=where[2], resource=ref, path=shown,
                   container=_container(doc, v.path), hint=rule.fix)


def document_findings(doc: Any, unit: Unit, scope: Scope,
                      locate: Callable[[Path], Where]) -> Iterator[Finding]:
    """Findings of one plain document; `locate(path) -> Where`."""
    for v in violations(doc, scope):
        item = doc
        if v.path[:1] == ("items",) and isinstance(doc, Mapping):
            item = doc["items"][v.path[1]]
        yield finding(v, item, unit, locate(v.path))


class _Locator:
    """Source file, line and column of a rendered resource's field: the patch that set it,
    else its source document (`llmops_gate.validators.policy.locate`), with the column where
    the field is written in the source document."""

    def __init__(self, ctx: Context) -> None:
        from llmops_gate.validators.policy.locate import Locator

        kdata = {k.file: k.data for k in ctx.scan.kustomizations.values()}
        self.sources = ctx.sources
        self.locator = Locator(ctx.sources, kdata)

    def __call__(self, res: Resource, path: Path) -> Where:
        from llmops_gate.validators.schema.manifests import field_position

        file, line = self.locator.locate(res, path)
        column: int | None = None
        if file is not None and file == res.source_file and path:
            doc = self.sources.find_document(file, res.kind, res.name)
            if doc is not None:
                at, col, exact = field_position(doc.node, path)
                if exact and at == line:
                    column = col
        return file, line, column


def _scope(ctx: Context) -> Scope:
    from llmops_gate.validators.schema import settings_of

    return scope_for(settings_of(ctx).kubernetes_version)


def check_results(ctx: Context, results: Iterable[UnitResult]) -> Iterator[Finding]:
    scope = _scope(ctx)
    locate = _Locator(ctx)
    for result in results:
        for res in result.resources:
            for v in violations(res.doc, scope):
                yield finding(v, res.doc, result.unit, locate(res, v.path))


def check_unit(ctx: Context, result: UnitResult) -> Iterator[Finding]:
    """The findings of one rendered unit (called as soon as its build is done)."""
    yield from check_results(ctx, [result])


def check(ctx: Context) -> Iterator[Finding]:
    yield from check_results(ctx, ctx.results)



def rule_docs(config: Config | None = None) -> list[RuleDoc]:
    return [r.meta for r in RULES.values()]


SPEC = Spec(VALIDATOR, check, rule_docs, unit=check_unit)
