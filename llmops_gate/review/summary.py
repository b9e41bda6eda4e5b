"""The release summary: what a change does to a model deployment, in words.

The promotable values (model storageUri/format/image, runtime images, ServingRuntime args and
env) come from `llmops_gate.gitops.values.extract`, the same reading a promotion uses; this
module adds what promotion leaves to each environment (GPUs, replicas, CPU and memory) and
what the ArgoCD Application decides (its sync policy), then words each difference.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmops_gate.gitops.values import Rules, container_lists, extract, short
from llmops_gate.kinds import ISVC, KUSTOMIZE_POD_KINDS, get, split_image

RULES = Rules()  # every promotable field, whatever the repo's promotion settings
HIDDEN = "(value hidden)"


@dataclass(frozen=True)
class Fact:
    """One difference that matters, on one resource: `field` changed from `old` to `new`."""

    resource: str
    field: str
    old: str | None
    new: str | None
    words: str

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "field": self.field, "old": self.old,
                "new": self.new, "text": self.words}


def parse_args(args: Any) -> dict[str, str | None]:
    """vLLM's command line as flag -> value (`--x=1`, `--x 1`, `--flag`); other words keep
    their position as the key."""
    out: dict[str, str | None] = {}
    if not isinstance(args, list):
        return out
    items = [str(a) for a in args]
    i = 0
    while i < len(items):
        item = items[i]
        if item.startswith("--"):
            name, eq, value = item.partition("=")
            if eq:
                out[name] = value
            elif i + 1 < len(items) and not items[i + 1].startswith("--"):
                out[name] = items[i + 1]
                i += 1
            else:
                out[name] = None
        else:
            out[f"#{i} {item}"] = None
        i += 1
    return out


def _arg_text(name: str, value: str | None) -> str:
    if name.startswith("#"):
        return name.split(" ", 1)[1]
    return name if value is None else f"{name}={value}"


def _resources(doc: Mapping[str, Any]) -> dict[str, Any]:
    """label -> value of the sizes that matter: GPUs, CPU and memory requests and limits,
    replicas."""
    out: dict[str, Any] = {}
    kind = str(doc.get("kind") or "")

    def sizes(where: str, res: Any) -> None:
        if not isinstance(res, Mapping):
            return
        for part in ("requests", "limits"):
            values = res.get(part)
            if not isinstance(values, Mapping):
                continue
            for name, value in values.items():
                name = str(name)
                if name in ("cpu", "memory") or name.endswith("/gpu"):
                    out[f"{where}{part}:{name}"] = str(value)

    if kind == ISVC:
        predictor = get(doc, "spec", "predictor")
        if isinstance(predictor, Mapping):
            for key in ("minReplicas", "maxReplicas"):
                if predictor.get(key) is not None:
                    out[f"replicas.{key}"] = str(predictor[key])
            sizes("model.", get(predictor, "model", "resources"))
    elif kind in KUSTOMIZE_POD_KINDS and get(doc, "spec", "replicas") is not None:
        out["replicas"] = str(get(doc, "spec", "replicas"))
    for items in container_lists(doc):
        for c in items:
            if isinstance(c, Mapping) and isinstance(c.get("name"), str):
                sizes(f"container.{c['name']}.", c.get("resources"))
    return out


def _size_words(label: str) -> str:
    if label.startswith("replicas"):
        return "replicas" + (f" ({label.partition('.')[2]})" if "." in label else "")
    where, _, name = label.partition(":")
    owner, _, part = where.rpartition(".")
    noun = f"GPUs ({name})" if name.endswith("/gpu") else ("CPU" if name == "cpu" else name)
    owner = "the model" if owner == "model" else owner.replace("container.", "container ")
    return f"{noun} {part} of {owner}"


def _sync_policy(doc: Mapping[str, Any]) -> dict[str, Any]:
    spec = doc.get("spec")
    if doc.get("kind") == "ApplicationSet":
        spec = get(spec, "template", "spec")
    if not isinstance(spec, Mapping):
        return {}
    policy = spec.get("syncPolicy") if isinstance(spec.get("syncPolicy"), Mapping) else {}
    assert isinstance(policy, Mapping)
    automated = policy.get("automated")
    out: dict[str, Any] = {"sync": "manual"}
    if isinstance(automated, Mapping) or automated is not None:
        auto = automated if isinstance(automated, Mapping) else {}
        flags = [k for k in ("prune", "selfHeal", "allowEmpty") if auto.get(k)]
        enabled = auto.get("enabled", True) is not False
        out["sync"] = ("automated" + (f" ({', '.join(flags)})" if flags else "")) if enabled \
            else "manual (automated disabled)"
    if policy.get("syncOptions"):
        out["syncOptions"] = ", ".join(str(o) for o in policy["syncOptions"])
    source = spec.get("source") if isinstance(spec.get("source"), Mapping) else {}
    assert isinstance(source, Mapping)
    if source.get("targetRevision") is not None:
        out["targetRevision"] = str(source["targetRevision"])
    if source.get("path") is not None:
        out["path"] = str(source["path"])
    return out


def sync_policy_text(doc: Mapping[str, Any]) -> str:
    policy = _sync_policy(doc)
    return str(policy.get("sync", "manual"))


def _image_words(container: str, old: Any, new: Any) -> str:
    if isinstance(old, str) and isinstance(new, str):
        o_repo, o_tag, o_digest = split_image(old)
        n_repo, n_tag, n_digest = split_image(new)
        parts = []
        if o_repo != n_repo:
            parts.append(f"{o_repo} -> {n_repo}")
        if o_tag != n_tag:
            parts.append(f"tag {o_tag or '(none)'} -> {n_tag or '(none)'}")
        if o_digest != n_digest:
            parts.append(f"digest {o_digest or '(none)'} -> {n_digest or '(none)'}")
        return f"runtime image of {container} ({n_repo}): " + "; ".join(parts)
    return f"runtime image of {container}: {short(old)} -> {short(new)}"


def _value_facts(ref: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Fact]:
    for label in sorted(set(old) | set(new)):
        a, b = old.get(label), new.get(label)
        if a == b:
            continue
        if label.startswith("model."):
            name = label.partition(".")[2]
            yield Fact(ref, label, _s(a), _s(b), f"model {name}: {short(a)} -> {short(b)}")
        elif label.endswith(".image"):
            container = label.split(".")[1]
            yield Fact(ref, label, _s(a), _s(b), _image_words(container, a, b))
        elif label.endswith(".args"):
            yield from _arg_facts(ref, label, a, b)
        elif label.endswith(".env"):
            yield from _env_facts(ref, label, a, b)
        else:
            yield Fact(ref, label, _s(a), _s(b), f"{label}: {short(a)} -> {short(b)}")


def _s(value: Any) -> str | None:
    return None if value is None else short(value, limit=400)


def _arg_facts(ref: str, label: str, old: Any, new: Any) -> Iterator[Fact]:
    a, b = parse_args(old), parse_args(new)
    for name in [*a, *(n for n in b if n not in a)]:
        if name in a and name not in b:
            text = _arg_text(name, a[name])
            yield Fact(ref, f"{label}[{name}]", text, None, f"vLLM argument {text} removed")
        elif name in b and name not in a:
            text = _arg_text(name, b[name])
            yield Fact(ref, f"{label}[{name}]", None, text, f"vLLM argument {text} added")
        elif a[name] != b[name]:
            yield Fact(ref, f"{label}[{name}]", a[name], b[name],
                       f"vLLM argument {name}: {a[name] or '(flag)'} -> {b[name] or '(flag)'}")
    if set(a) == set(b) and all(a[n] == b[n] for n in a) and old != new:
        yield Fact(ref, label, _s(old), _s(new), "vLLM arguments reordered: "
                   f"{short(old)} -> {short(new)}")


def _env_facts(ref: str, label: str, old: Any, new: Any) -> Iterator[Fact]:
    def named(env: Any) -> dict[str, Any]:
        return {str(e.get("name")): e for e in env or [] if isinstance(e, Mapping)}

    a, b = named(old), named(new)
    container = label.split(".")[1]
    for name in sorted(set(a) | set(b)):
        if a.get(name) == b.get(name):
            continue
        what = "added" if name not in a else "removed" if name not in b else "changed"
        yield Fact(ref, f"{label}.{name}", None, None,
                   f"runtime env {name} of {container} {what}")


def _secret_facts(ref: str, old: Mapping[str, Any] | None,
                  new: Mapping[str, Any] | None) -> Iterator[Fact]:
    def keys(doc: Mapping[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in ("data", "stringData"):
            values = doc.get(part) if doc else None
            if isinstance(values, Mapping):
                out.update({f"{part}.{k}": v for k, v in values.items()})
        return out

    a, b = keys(old), keys(new)
    for name in sorted(set(a) | set(b)):
        if a.get(name) == b.get(name):
            continue
        what = "added" if name not in a else "removed" if name not in b else "changed"
        yield Fact(ref, name, HIDDEN if name in a else None, HIDDEN if name in b else None,
                   f"Secret {name}: {what} {HIDDEN}")


def release_facts(ref: str, old: Mapping[str, Any] | None,
                  new: Mapping[str, Any] | None) -> list[Fact]:
    """The words for one resource that was added (`old` None), removed or changed."""
    doc = new if new is not None else old
    assert doc is not None
    kind = str(doc.get("kind") or "")
    if kind == "Secret":
        return list(_secret_facts(ref, old, new))
    facts = list(_value_facts(ref, extract(old, RULES) if old else {},
                              extract(new, RULES) if new else {}))
    a, b = (_resources(old) if old else {}), (_resources(new) if new else {})
    for label in sorted(set(a) | set(b)):
        if a.get(label) != b.get(label):
            facts.append(Fact(ref, label, a.get(label), b.get(label),
                              f"{_size_words(label)}: {a.get(label) or '(unset)'} -> "
                              f"{b.get(label) or '(unset)'}"))
    if kind in ("Application", "ApplicationSet"):
        pa, pb = (_sync_policy(old) if old else {}), (_sync_policy(new) if new else {})
        for key in ("sync", "syncOptions", "targetRevision", "path"):
            if pa.get(key) != pb.get(key):
                noun = "sync policy" if key == "sync" else key
                facts.append(Fact(ref, f"syncPolicy.{key}" if key != "path" else "source.path",
                                  pa.get(key), pb.get(key),
                                  f"Application {noun}: {pa.get(key) or '(unset)'} -> "
                                  f"{pb.get(key) or '(unset)'}"))
    return facts


def env_values(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What an environment runs, for `status`: model, runtime image, vLLM args, GPUs,
    replicas (first InferenceService and first ServingRuntime of its render)."""
    out: dict[str, Any] = {"model": None, "image": None, "args": None, "gpus": None,
                           "replicas": None}
    for doc in docs:
        kind = doc.get("kind")
        values = extract(doc, RULES)
        if kind == ISVC and out["model"] is None:
            out["model"] = values.get("model.storageUri")
            sizes = _resources(doc)
            gpus = [v for k, v in sizes.items() if k.endswith("/gpu") and ".limits:" in k]
            out["gpus"] = gpus[0] if gpus else "0"
            lo, hi = sizes.get("replicas.minReplicas"), sizes.get("replicas.maxReplicas")
            out["replicas"] = lo if lo == hi or hi is None else f"{lo or 1}-{hi}"
        if kind in ("ServingRuntime", "ClusterServingRuntime") and out["image"] is None:
            for label, value in values.items():
                if label.endswith(".image") and out["image"] is None:
                    out["image"] = value
                if label.endswith(".args") and out["args"] is None:
                    out["args"] = [str(a) for a in value or []]
    return out
