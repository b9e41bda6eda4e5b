"""Images and model URIs: pinned (no `:latest`, no missing tag), from allowed registries, by
digest where the environment demands it; the InferenceService `storageUri` is pinned too.

Passing: `registry.redhat.io/rhaii/vllm-cuda-rhel9@sha256:5800...`,
`oci://quay.io/redhat-ai-services/modelcar-catalog:qwen2.5-0.5b-instruct`.
Failing: `vllm/vllm-openai:latest`, `vllm/vllm-openai`, `oci://quay.io/org/model` (no tag).
"""

from __future__ import annotations

from collections.abc import Iterator

from llmops_gate.kinds import FRAMEWORKS, ISVC, ImageRef, parse_image
from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Path, Rule, RuleContext, Violation, get
from llmops_gate.validators.policy.pods import POD_KINDS, containers


def registry_allowed(ref: ImageRef, allowed: tuple[str, ...]) -> bool:
    if not allowed:
        return True
    full = ref.full
    for entry in allowed:
        entry = entry.rstrip("/")
        if full == entry or full.startswith(entry + "/") or ref.registry == entry:
            return True
    return False


def images(res: Resource) -> Iterator[tuple[str, Path, str]]:
    """(image, path, container name) for every container image of the resource."""
    for c in containers(res):
        image = c.spec.get("image")
        if isinstance(image, str) and image:
            yield image, (*c.path, "image"), c.name


def model_uris(res: Resource) -> Iterator[tuple[str, Path]]:
    if res.kind != ISVC:
        return
    for comp in ("predictor", "transformer", "explainer"):
        subs = [("storageUri",)] + [(k, "storageUri") for k in ("model", *FRAMEWORKS)]
        for sub in subs:
            value = get(res.doc, "spec", comp, *sub)
            if isinstance(value, str) and value:
                yield value, ("spec", comp, *sub)


def check_present(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    for c in containers(res):
        # An InferenceService's `model` (and its custom containers) take the image from the
        # ServingRuntime; every other container has to name one.
        if res.kind == ISVC or c.model:
            continue
        image = c.spec.get("image")
        if not (isinstance(image, str) and image.strip()):
            yield Violation(f"container {c.name} has no image", path=c.path, container=c.name)


def check_tag(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    for image, path, name in images(res):
        ref = parse_image(image)
        if ref.digest:
            continue
        if ref.tag is None:
            yield Violation(f"container {name}: image {image} has no tag (means :latest)",
                            path=path, container=name)
        elif ref.tag == "latest":
            yield Violation(f"container {name}: image {image} uses the moving tag :latest",
                            path=path, container=name)


def check_registry(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    allowed = ctx.policy.allowed_registries
    if not allowed:
        return
    env = ctx.environment or "this environment"
    for image, path, name in images(res):
        if not registry_allowed(parse_image(image), allowed):
            yield Violation(f"container {name}: image {image} is not from a registry {env} "
                            f"allows ({', '.join(allowed)})", path=path, container=name)
    for uri, path in model_uris(res):
        if uri.startswith("oci://") and not registry_allowed(parse_image(uri[6:]), allowed):
            yield Violation(f"model {uri} is not from a registry {env} allows "
                            f"({', '.join(allowed)})", path=path)


def check_digest(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    env = ctx.environment or "this environment"
    if ctx.policy.require_digest:
        for image, path, name in images(res):
            if not parse_image(image).digest:
                yield Violation(f"container {name}: image {image} is not pinned by digest, "
                                f"which {env} requires", path=path, container=name)
    if ctx.policy.require_model_digest:
        for uri, path in model_uris(res):
            if uri.startswith("oci://") and not parse_image(uri[6:]).digest:
                yield Violation(f"model {uri} is not pinned by digest, which {env} requires",
                                path=path)


def check_model_uri(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    for uri, path in model_uris(res):
        if not uri.startswith("oci://"):
            continue
        ref = parse_image(uri[6:])
        if ref.digest:
            continue
        if ref.tag is None or ref.tag == "latest":
            what = "has no tag" if ref.tag is None else "uses the moving tag :latest"
            yield Violation(f"model {uri} {what}; the model can change under a running "
                            "deployment", path=path)


# The same check in other tools (shown by `llmops-gate rules`).
TAG_CHECKS = {"kube-linter": "latest-tag", "Polaris": "tagNotSpecified", "checkov": "CKV_K8S_14"}

RULES = (
    Rule(
        id="image-required",
        description="Every container of a workload or ServingRuntime names an image.",
        why="A container without an image never starts. The usual cause is a strategic-merge "
            "patch on a ServingRuntime: Kustomize cannot merge lists of a custom resource by "
            "name, so a patch that lists `containers` replaces the whole list and drops every "
            "field it does not repeat (the image, env, ports).",
        fix="repeat the image in the patch, patch the list with a JSON 6902 `replace` of the "
            "one field, or let `llmops-gate promote` write the runtime",
        check=check_present,
        kinds=POD_KINDS,
    ),
    Rule(
        id="image-tag-pinned",
        description="Every container image has a tag other than `latest`, or a digest.",
        why="`:latest` (or no tag) changes under you: two pods of one rollout can run "
            "different vLLM builds, and a rollback restores nothing.",
        fix="use a version tag or, better, `@sha256:` digest",
        check=check_tag,
        kinds=POD_KINDS,
        equivalents=TAG_CHECKS,
    ),
    Rule(
        id="image-registry-allowed",
        description="Images and `oci://` model URIs come from the environment's "
                    "`allowed-registries` (when configured).",
        why="Images from unreviewed registries bypass your supply-chain controls.",
        fix="mirror the image into an allowed registry, or add the registry to "
            "`allowed-registries` in .llmops-gate.yaml",
        check=check_registry,
        kinds=POD_KINDS,
    ),
    Rule(
        id="image-digest-required",
        description="Where the environment sets `require-digest` (images) or "
                    "`require-model-digest` (`oci://` models), they are pinned by digest.",
        why="A tag can be re-pushed; only a digest guarantees production runs what staging "
            "tested.",
        fix="replace the tag with `@sha256:<digest>` (`llmops-gate promote` carries digests "
            "from dev)",
        check=check_digest,
        kinds=POD_KINDS,
        equivalents={"checkov": "CKV_K8S_43"},
    ),
    Rule(
        id="model-uri-pinned",
        description="An InferenceService's `oci://` storageUri has a tag other than `latest` "
                    "or a digest.",
        why="The model weights are part of the release: a moving model tag changes answers "
            "without a change in Git.",
        fix="point storageUri at a versioned tag or an `@sha256:` digest of the model image",
        check=check_model_uri,
        kinds=frozenset({ISVC}),
    ),
)
