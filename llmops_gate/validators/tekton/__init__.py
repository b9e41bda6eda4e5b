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

from collections.abc import Iterator
from pathlib import PurePosixPath

import yaml

from llmops_gate.model import Finding, Resource
from llmops_gate.validators.base import Spec
from llmops_gate.validators.context import Context
from llmops_gate.validators.tekton.rules import RULES, VALIDATOR, rules
from llmops_gate.validators.tekton.specs import Catalog, check_resource
from llmops_gate.validators.tekton.variables import KINDS, TEKTON_GROUP, TRIGGERS_GROUP, Hit
from llmops_gate.yamlio.sourcemap import child, field_path, key_node

__all__ = ["RULES", "SPEC", "VALIDATOR", "check", "rules"]


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
        for hit in check_resource(res, catalog):
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
                          path=field_path(hit.path), hint=rule.fix)
    units = {r.unit.path: r.unit for r in ctx.results}
    for file in _source_files(ctx):
        try:
            text = ctx.scan.snapshot.text(file)  # bounded, and read once per run
        except (OSError, yaml.YAMLError):
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
                          hint=rule.fix)


SPEC = Spec(VALIDATOR, check, rules)
