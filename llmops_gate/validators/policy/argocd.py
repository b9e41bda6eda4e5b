"""ArgoCD Applications: each environment's Application deploys that environment's overlay into
its namespace; only environments that allow it sync automatically; pinned revisions on demand.

An Application (a plain manifest, usually under `argocd-apps/`) belongs to the environment the
config names it the `application` of, else to the environment whose overlay its `source.path`
points at (the path may carry a folder prefix: the GitOps repo can be a subfolder of the Git
repo), else to the environment its file name suggests.

Passing (staging): `source.path: deploy_model/overlays/staging`, `destination.namespace:
llmops-staging`, no `syncPolicy.automated`. Failing: the staging Application pointing at
`deploy_model/overlays/dev`, or with `syncPolicy.automated: {prune: true}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from llmops_gate.model import Resource, Unit
from llmops_gate.validators.policy.base import (
    EnvInfo,
    Option,
    Path,
    Rule,
    RuleContext,
    Violation,
    get,
)

APPLICATION = "Application"


def sources(doc: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Path]]:
    out: list[tuple[Mapping[str, Any], Path]] = []
    single = get(doc, "spec", "source")
    if isinstance(single, Mapping):
        out.append((single, ("spec", "source")))
    many = get(doc, "spec", "sources")
    if isinstance(many, list):
        out += [(s, ("spec", "sources", i)) for i, s in enumerate(many) if isinstance(s, Mapping)]
    return out


def _points_at(source_path: str, overlay: str) -> bool:
    p = source_path.strip().strip("/")
    p = p[2:] if p.startswith("./") else p
    return p == overlay or p.endswith("/" + overlay)


def _is_app(res: Resource) -> bool:
    return res.kind == APPLICATION and res.api_version.startswith("argoproj.io/")


def application_env(res: Resource, unit: Unit, envs: Sequence[EnvInfo]) -> str | None:
    if not _is_app(res):
        return None
    for env in envs:
        if env.application and env.application == res.name:
            return env.name
    for src, _ in sources(res.doc):
        path = src.get("path")
        if isinstance(path, str):
            for env in envs:
                if any(_points_at(path, o) for o in env.overlays):
                    return env.name
    return unit.environment


def check_target(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    env = ctx.env(ctx.environment)
    if not _is_app(res) or env is None:
        return
    paths = [(src.get("path"), p) for src, p in sources(res.doc) if isinstance(src.get("path"),
                                                                                   str)]
    if env.overlays and paths and not any(_points_at(str(sp), o) for sp, _ in paths
                                          for o in env.overlays):
        sp, where = paths[0]
        other = next((e.name for e in ctx.environments
                      if any(_points_at(str(sp), o) for o in e.overlays)), None)
        what = f"{other}'s overlay" if other else "no overlay of this repo"
        yield Violation(f"Application of {env.name} deploys '{sp}', which is {what} (expected "
                        f"{', '.join(env.overlays)})", path=(*where, "path"))
    ns = get(res.doc, "spec", "destination", "namespace")
    if env.namespace and ns != env.namespace:
        shown = f"'{ns}'" if ns else "no namespace"
        yield Violation(f"Application of {env.name} deploys into {shown}, not the environment's "
                        f"namespace '{env.namespace}'",
                        path=("spec", "destination", "namespace") if ns else ("spec",
                                                                              "destination"))


def check_auto_sync(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    if not _is_app(res) or ctx.environment is None or ctx.policy.allow_auto_sync:
        return
    automated = get(res.doc, "spec", "syncPolicy")
    if isinstance(automated, Mapping) and "automated" in automated and \
            automated["automated"] is not None:
        yield Violation(f"Application of {ctx.environment} syncs automatically; changes reach "
                        f"{ctx.environment} without anyone pressing sync",
                        path=("spec", "syncPolicy", "automated"))


def check_revision(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    if not _is_app(res) or not ctx.policy.require_pinned_revision:
        return
    pattern = re.compile(str(ctx.options.get("pinned", _PINNED)))
    for src, where in sources(res.doc):
        rev = src.get("targetRevision")
        text = str(rev) if rev is not None else "HEAD"
        if not pattern.fullmatch(text):
            yield Violation(f"Application of {ctx.environment} follows '{text}', a moving "
                            "revision; the config asks for a tag or a commit",
                            path=(*where, "targetRevision") if rev is not None else where)


_PINNED = r"v?\d+(\.\d+){1,2}([-+][0-9A-Za-z.-]+)?|[0-9a-f]{40}"
_KINDS = frozenset({APPLICATION})

RULES = (
    Rule(
        id="argocd-app-target",
        description="The environment's ArgoCD Application deploys that environment's overlay "
                    "into that environment's namespace.",
        why="An Application copied from another environment and not fully edited deploys "
            "staging's model into production (or into the wrong namespace).",
        fix="set spec.source.path to the environment's overlay and spec.destination.namespace "
            "to its namespace",
        check=check_target,
        kinds=_KINDS,
    ),
    Rule(
        id="argocd-auto-sync",
        description="Only environments that allow it (dev by default; `allow-auto-sync`) have "
                    "`syncPolicy.automated`.",
        why="Automated sync deploys every merge at once; staging and production changes should "
            "be synced by a person after review.",
        fix="remove spec.syncPolicy.automated (sync by hand or from the pipeline), or set "
            "`allow-auto-sync: true` for the environment",
        check=check_auto_sync,
        kinds=_KINDS,
    ),
    Rule(
        id="argocd-revision-pinned",
        description="When the environment sets `require-pinned-revision`, its Application's "
                    "`targetRevision` is a tag or a commit, not a branch.",
        why="A branch moves: what production runs changes without a change to production's "
            "Application, and a rollback has nothing to return to.",
        fix="set spec.source.targetRevision to a release tag (v1.4.0) or a commit SHA",
        check=check_revision,
        kinds=_KINDS,
        options=(Option("pinned", _PINNED, "Regular expression a pinned revision matches."),),
    ),
)
