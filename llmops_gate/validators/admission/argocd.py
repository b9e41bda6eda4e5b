"""What ArgoCD refuses (or silently ignores) in an Application, learnt from the ArgoCD user
guide ("Sync Options", "Multiple Sources for an Application", "Declarative Setup") and its
application validation (`ValidateDestination` in util/argo):

- `spec.destination` names the cluster by `server` or by `name`, not both and not neither
  ("application destination can't have both name and server defined");
- an Application has `source` or `sources`; with both, ArgoCD uses `sources` and ignores
  `source` without a word, so an edit of `source` changes nothing;
- every sync option (in `spec.syncPolicy.syncOptions`, and in the
  `argocd.argoproj.io/sync-options` annotation of any resource, comma-separated) is one ArgoCD
  knows, spelt as it is documented (`CreateNamespace=true`): ArgoCD compares them as exact
  strings and ignores any other, so `createNamespace=true` never creates the namespace.

Passing:

    destination: {server: https://kubernetes.default.svc, namespace: llm-dev}
    syncPolicy: {syncOptions: [CreateNamespace=true, ServerSideApply=true]}

Failing (`argocd-destination`, `argocd-sync-option`):

    destination: {server: https://kubernetes.default.svc, name: in-cluster}
    syncPolicy: {syncOptions: [CreateNamespaces=true]}
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from llmops_gate.kinds import get, group_of, mapping
from llmops_gate.model import Severity
from llmops_gate.validators.admission.base import Rule, Scope, Violation

SYNC_DOCS = ("ArgoCD user guide 'Sync Options' (docs/user-guide/sync-options.md; "
             "ClientSideApplyMigration since v3.0, Delete=confirm/Prune=confirm since v2.14)")

RULES = (
    Rule("argocd-destination", Severity.ERROR,
         "An Application's destination has server or name, not both and not neither.",
         "ArgoCD refuses to sync: 'application destination can't have both name and server "
         "defined'",
         "keep one of destination.server and destination.name",
         "ArgoCD application validation (util/argo ValidateDestination); ArgoCD user guide "
         "'Declarative Setup'; since v1.8 (destination.name)"),
    Rule("argocd-source-and-sources", Severity.ERROR,
         "An Application has spec.source or spec.sources, not both and not neither.",
         "with both, ArgoCD ignores spec.source silently: a change there deploys nothing",
         "keep only spec.sources (or only spec.source)",
         "ArgoCD user guide 'Multiple Sources for an Application' ('Argo CD will ignore the "
         "source (singular) field'); since v2.6"),
    Rule("argocd-sync-option", Severity.ERROR,
         "Sync options (spec.syncPolicy.syncOptions, the argocd.argoproj.io/sync-options "
         "annotation) are ones ArgoCD knows, spelt as documented, with a value it accepts.",
         "ArgoCD matches sync options as exact strings: a misspelt one is ignored without a "
         "word",
         "use the documented spelling, e.g. CreateNamespace=true", SYNC_DOCS),
)

BOOLEAN = ("true", "false")
SYNC_OPTIONS: dict[str, tuple[str, ...]] = {
    "Prune": ("true", "false", "confirm"),
    "Delete": ("true", "false", "confirm"),
    "Validate": BOOLEAN,
    "SkipDryRunOnMissingResource": BOOLEAN,
    "ApplyOutOfSyncOnly": BOOLEAN,
    "PrunePropagationPolicy": ("foreground", "background", "orphan"),
    "PruneLast": BOOLEAN,
    "Replace": BOOLEAN,
    "Force": BOOLEAN,
    "ServerSideApply": BOOLEAN,
    "ClientSideApplyMigration": BOOLEAN,
    "FailOnSharedResource": BOOLEAN,
    "RespectIgnoreDifferences": BOOLEAN,
    "CreateNamespace": BOOLEAN,
}
ANNOTATION = "argocd.argoproj.io/sync-options"


def option_problem(option: str) -> str | None:
    key, eq, value = option.partition("=")
    if key not in SYNC_OPTIONS:
        close = difflib.get_close_matches(key, SYNC_OPTIONS, n=1, cutoff=0.6)
        lower = {k.lower(): k for k in SYNC_OPTIONS}.get(key.strip().lower())
        guess = lower or (close[0] if close else None)
        hint = f" (did you mean {guess}={value or 'true'}?)" if guess else ""
        return f"sync option '{option}' is not one ArgoCD knows{hint}"
    if not eq or value not in SYNC_OPTIONS[key]:
        return (f"sync option '{option}': {key} takes "
                f"{' or '.join(SYNC_OPTIONS[key])}, as {key}=<value>")
    return None


def _annotation(doc: Mapping[str, Any]) -> Iterator[Violation]:
    value = mapping(get(doc, "metadata", "annotations")).get(ANNOTATION)
    if not isinstance(value, str):
        return
    for option in (o.strip() for o in value.split(",")):
        problem = option_problem(option) if option else None
        if problem:
            yield Violation("argocd-sync-option", problem, ("metadata", "annotations",
                                                            ANNOTATION))


def _application(doc: Mapping[str, Any]) -> Iterator[Violation]:
    spec = mapping(doc.get("spec"))
    dest = spec.get("destination")
    if isinstance(dest, Mapping):
        server, name = dest.get("server"), dest.get("name")
        if server and name:
            yield Violation("argocd-destination", "application destination can't have both "
                            f"name ({name}) and server ({server}) defined",
                            ("spec", "destination", "name"))
        elif not server and not name:
            yield Violation("argocd-destination", "application destination has neither "
                            "server nor name", ("spec", "destination"))
    if spec.get("source") is not None and spec.get("sources") is not None:
        yield Violation("argocd-source-and-sources", "spec.source is ignored: the Application "
                        "also has spec.sources, which ArgoCD uses instead", ("spec", "source"))
    elif spec and spec.get("source") is None and not spec.get("sources"):
        yield Violation("argocd-source-and-sources", "the Application has neither spec.source "
                        "nor spec.sources", ("spec",))
    options = get(spec, "syncPolicy", "syncOptions")
    for i, option in enumerate(options if isinstance(options, list) else []):
        if isinstance(option, str):
            problem = option_problem(option)
            if problem:
                yield Violation("argocd-sync-option", problem,
                                ("spec", "syncPolicy", "syncOptions", i))


def check(doc: Mapping[str, Any], scope: Scope) -> Iterator[Violation]:
    yield from _annotation(doc)
    if group_of(doc) == "argoproj.io" and doc.get("kind") == "Application":
        yield from _application(doc)
