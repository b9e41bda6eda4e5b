"""References resolve inside the rendered overlay: an InferenceService's `runtime` names a
ServingRuntime (or ClusterServingRuntime) the overlay renders, after `namePrefix`; Secret
references (`storage.key`, `secretKeyRef`, `secretRef`, secret volumes, `imagePullSecrets`)
name a Secret the overlay renders (or an ExternalSecret/SealedSecret that makes one).

Kustomize's `namePrefix` renames the ServingRuntime but not the InferenceService's `runtime`
field unless a `nameReference` configuration teaches it to: overlays that re-type the prefixed
name by hand break as soon as the prefix changes.

Passing: runtime `dev-qwen` with a rendered ServingRuntime `dev-qwen`. Failing: runtime `qwen`
when the overlay renders only `dev-qwen`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from llmops_gate.kinds import ISVC, RUNTIME_KINDS
from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Option, Path, Rule, RuleContext, Violation, get
from llmops_gate.validators.policy.pods import POD_KINDS, containers, pod_spec


def check_runtime(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    path: Path = ("spec", "predictor", "model", "runtime")
    name = get(res.doc, *path)
    if not isinstance(name, str) or not name:
        return
    rendered = [r.name for r in ctx.resources if r.kind in RUNTIME_KINDS]
    if name in rendered or name in [str(n) for n in ctx.options.get("cluster-runtimes", [])]:
        return
    near = [r for r in rendered if r.endswith(name) or name.endswith(r)]
    extra = ""
    if near:
        extra = (f"; the overlay renders '{near[0]}': its namePrefix/nameSuffix renamed the "
                 "runtime but not this reference")
    elif rendered:
        extra = f"; the overlay renders {', '.join(rendered)}"
    yield Violation(f"runtime '{name}' is not a ServingRuntime this overlay renders{extra}",
                    path=path)


def _secret_names(resources: Sequence[Resource]) -> set[str]:
    out: set[str] = set()
    for r in resources:
        if r.kind in ("Secret", "SealedSecret"):
            out.add(r.name)
        elif r.kind == "ExternalSecret":
            out.add(str(get(r.doc, "spec", "target", "name") or r.name))
    return out


def _optional(ref: Any) -> bool:
    return isinstance(ref, Mapping) and ref.get("optional") is True


def secret_refs(res: Resource) -> Iterator[tuple[str, Path, str | None]]:
    """(secret name, path, container) of every Secret the resource uses."""
    for c in containers(res):
        for i, env in enumerate(c.spec.get("env") or []):
            ref = get(env, "valueFrom", "secretKeyRef")
            if isinstance(ref, Mapping) and ref.get("name") and not _optional(ref):
                yield str(ref["name"]), (*c.path, "env", i, "valueFrom", "secretKeyRef",
                                         "name"), c.name
        for i, src in enumerate(c.spec.get("envFrom") or []):
            ref = get(src, "secretRef")
            if isinstance(ref, Mapping) and ref.get("name") and not _optional(ref):
                yield str(ref["name"]), (*c.path, "envFrom", i, "secretRef", "name"), c.name
    found = pod_spec(res)
    if found is not None:
        spec, base = found
        for i, vol in enumerate(spec.get("volumes") or []):
            sec = get(vol, "secret")
            if isinstance(sec, Mapping) and sec.get("secretName") and not _optional(sec):
                yield str(sec["secretName"]), (*base, "volumes", i, "secret", "secretName"), None
        for i, item in enumerate(spec.get("imagePullSecrets") or []):
            if isinstance(item, Mapping) and item.get("name"):
                yield str(item["name"]), (*base, "imagePullSecrets", i, "name"), None


def check_secrets(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    have = _secret_names(ctx.resources) | {str(n) for n in ctx.options.get("external", [])}
    storage_secret = str(ctx.options.get("storage-secret", "storage-config"))
    for name, path, container in secret_refs(res):
        if name not in have:
            yield Violation(f"Secret '{name}' is not rendered by this overlay", path=path,
                            container=container)
    if res.kind == ISVC:
        key_path: Path = ("spec", "predictor", "model", "storage", "key")
        key = get(res.doc, *key_path)
        if isinstance(key, str) and key and key not in have and storage_secret not in have:
            near = [n for n in sorted(have) if n.endswith(key)]
            extra = (f"; the overlay renders '{near[0]}': namePrefix renamed the Secret but not "
                     "storage.key") if near else ""
            yield Violation(f"storage.key '{key}' names no Secret this overlay renders (nor "
                            f"a '{storage_secret}' Secret){extra}", path=key_path)


RULES = (
    Rule(
        id="runtime-resolves",
        description="An InferenceService's `runtime` names a ServingRuntime or "
                    "ClusterServingRuntime the overlay renders (after namePrefix/nameSuffix), "
                    "or one listed in `cluster-runtimes`.",
        why="KServe leaves an InferenceService with a missing runtime unready; with a stale "
            "name it may even serve through another environment's runtime.",
        fix="teach Kustomize the reference (a `configurations:` file with nameReference "
            "kind: ServingRuntime, fieldSpecs path spec/predictor/model/runtime) instead of "
            "re-typing the prefixed name in every overlay",
        check=check_runtime,
        kinds=frozenset({ISVC}),
        options=(Option("cluster-runtimes", [], "ClusterServingRuntimes installed on the "
                                                "cluster outside this repo."),),
    ),
    Rule(
        id="secret-resolves",
        description="Secret references (InferenceService storage.key, secretKeyRef, "
                    "envFrom secretRef, secret volumes, imagePullSecrets) name a Secret, "
                    "ExternalSecret or SealedSecret the overlay renders, or one in `external`.",
        why="A missing Secret keeps the pod in CreateContainerConfigError or the model "
            "download failing, and shows only on the cluster.",
        fix="render the Secret (empty, filled on the cluster) or an ExternalSecret in the "
            "overlay, or list the name under the rule's `external` option",
        check=check_secrets,
        kinds=POD_KINDS,
        options=(Option("external", [], "Secret names provided on the cluster, outside Git."),
                 Option("storage-secret", "storage-config",
                        "The Secret KServe reads storage.key from.")),
    ),
)
