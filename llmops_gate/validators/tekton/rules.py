"""The tekton validator's rules, in the shared vocabulary."""

from __future__ import annotations

from llmops_gate.config import Config
from llmops_gate.model import RuleDoc, Severity

VALIDATOR = "tekton"


def _rule(rule: str, severity: Severity, summary: str, why: str, fix: str) -> RuleDoc:
    return RuleDoc(rule, severity, summary, why, fix, validator=VALIDATOR)


RULES: dict[str, RuleDoc] = {r.id: r for r in (
    _rule("tekton-param-unresolved", Severity.ERROR,
          "Every $(params.x) names a declared param.",
          "a $(params.x) that names no declared param is rejected or left unreplaced",
          "declare the param in `params:` or fix the name"),
    _rule("tekton-workspace-unresolved", Severity.ERROR,
          "Every $(workspaces.x...) names a declared workspace.",
          "a $(workspaces.x...) that names no declared workspace is rejected",
          "declare the workspace in `workspaces:` or fix the name"),
    _rule("tekton-result-unresolved", Severity.ERROR,
          "Every $(results.x.path) names a declared result.",
          "a $(results.x.path) that names no declared result is rejected",
          "declare the result in `results:` or fix the name"),
    _rule("tekton-task-result-unresolved", Severity.ERROR,
          "Every $(tasks.t.results.r) names a task and its result.",
          "a $(tasks.t.results.r) must name a task of the Pipeline and one of its results",
          "fix the task or result name"),
    _rule("tekton-variable-unknown", Severity.ERROR,
          "Every $(...) variable is one Tekton substitutes.",
          "Tekton substitutes only the variables it knows; others stay as literal text",
          "see https://tekton.dev/docs/pipelines/variables/"),
    _rule("tekton-param-missing", Severity.ERROR,
          "Every param without a default is passed.",
          "a param without a default must be given a value, or the run is rejected",
          "pass the param, or give it a default where it is declared"),
    _rule("tekton-workspace-unbound", Severity.ERROR,
          "Every non-optional workspace is bound.",
          "a non-optional workspace must be bound, or the run is rejected",
          "bind the workspace (or mark it `optional: true` where it is declared)"),
    _rule("tekton-task-unknown", Severity.ERROR,
          "runAfter and result references name tasks of the Pipeline.",
          "runAfter and result references must name tasks of the same Pipeline",
          "fix the task name"),
    _rule("tekton-dependency-cycle", Severity.ERROR,
          "The tasks of a Pipeline do not wait for each other in a cycle.",
          "tasks that wait for each other never start; Tekton rejects the Pipeline",
          "remove one of the runAfter or result references of the cycle"),
    _rule("tekton-v1-field", Severity.ERROR,
          "tekton.dev/v1 resources use the v1 field names.",
          "tekton.dev/v1 renamed these fields; the old names are rejected",
          "use the tekton.dev/v1 field name given in the message"),
    _rule("tekton-api-version", Severity.WARNING,
          "Tekton resources use tekton.dev/v1, not the deprecated v1beta1.",
          "tekton.dev/v1beta1 is deprecated in favour of tekton.dev/v1",
          "convert the resource to tekton.dev/v1"),
    _rule("tekton-image-unpinned", Severity.ERROR,
          "Every step and sidecar image is pinned (not :latest or untagged).",
          "an untagged or :latest image changes under the pipeline without a commit",
          "pin the image to a version tag or, better, a digest (@sha256:...)"),
    _rule("pac-placeholder-unquoted", Severity.ERROR,
          "Pipelines-as-Code {{ var }} placeholders that start a value are quoted.",
          "an unquoted {{ var }} at the start of a value is a YAML flow mapping: the file "
          "does not parse and Pipelines-as-Code cannot use it",
          "quote the value: \"{{ var }}\""),
)}


def rules(config: Config | None = None) -> list[RuleDoc]:
    return list(RULES.values())
