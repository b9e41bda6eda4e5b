"""What promotes: reading promotable values out of rendered resources, matching resources
across environments, and telling promoted fields from the ones each environment keeps.

A field is named by a short label that also appears in commit bodies and `pins`:
`container.<name>.image`, `container.<name>.args`, `container.<name>.env`, `model.storageUri`,
`model.modelFormat`, `model.image`, `annotation.<key>`.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmops_gate.config import Config
from llmops_gate.kinds import ISVC, KUSTOMIZE_POD_KINDS, RUNTIME_KINDS, get, pod_spec_path

MODEL_FIELDS = ("storageUri", "modelFormat", "image")
ABSENT: Any = None  # a promoted field the source does not set


@dataclass(frozen=True)
class Rules:
    """The `promotion` section of the config, with defaults."""

    images: bool = True
    model: bool = True
    args: bool = True
    env: bool = True
    keep_env: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()
    pins: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    patch_file: str = "promoted.yaml"
    require_previous: bool = False
    retries: int = 3
    forge: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> Rules:
        s = config.section("promotion")
        return cls(
            images=bool(s.get("images", True)),
            model=bool(s.get("model", True)),
            args=bool(s.get("args", True)),
            env=bool(s.get("env", True)),
            keep_env=tuple(s.get("keep_env", ())),
            annotations=tuple(s.get("annotations", ())),
            pins={k: tuple(v) for k, v in (s.get("pins") or {}).items()},
            patch_file=str(s.get("patch_file", "promoted.yaml")),
            require_previous=bool(s.get("require_previous", False)),
            retries=int(s.get("retries", 3)),
            forge=dict(s.get("forge") or {}),
        )

    def pinned(self, env: str, kind: str, name: str, label: str) -> bool:
        for pattern in self.pins.get(env, ()):
            subject = f"{kind}/{name} {label}" if " " in pattern else label
            if fnmatch.fnmatchcase(subject, pattern):
                return True
        return False


@dataclass(frozen=True, order=True)
class Key:
    """A resource's identity across environments: kind and name without the env's prefix."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


def base_name(name: str, prefix: str | None, suffix: str | None) -> str:
    if prefix and name.startswith(prefix):
        name = name[len(prefix):]
    if suffix and name.endswith(suffix) and len(name) > len(suffix):
        name = name[: -len(suffix)]
    return name


def container_lists(doc: Mapping[str, Any]) -> list[list[Any]]:
    """The container lists of a workload or ServingRuntime whose images promote."""
    kind = str(doc.get("kind") or "")
    path = pod_spec_path(kind) if kind in RUNTIME_KINDS or kind in KUSTOMIZE_POD_KINDS else None
    spec = get(doc, *path) if path is not None else None
    if not isinstance(spec, Mapping):
        return []
    out = []
    for key in ("containers", "initContainers"):
        items = spec.get(key)
        if isinstance(items, list):
            out.append(items)
    return out


def env_without(env: Any, keep: Iterable[str]) -> Any:
    if not isinstance(env, list):
        return env
    kept = set(keep)
    return [e for e in env if not (isinstance(e, Mapping) and e.get("name") in kept)]


def extract(doc: Mapping[str, Any], rules: Rules) -> dict[str, Any]:
    """label -> value of every promotable field of one rendered object (ABSENT when unset)."""
    out: dict[str, Any] = {}
    kind = str(doc.get("kind") or "")
    for items in container_lists(doc):
        for c in items:
            if not isinstance(c, Mapping) or not isinstance(c.get("name"), str):
                continue
            label = f"container.{c['name']}"
            if rules.images:
                out[f"{label}.image"] = c.get("image")
            if kind in RUNTIME_KINDS:
                if rules.args:
                    out[f"{label}.args"] = copy.deepcopy(c.get("args"))
                if rules.env:
                    out[f"{label}.env"] = copy.deepcopy(env_without(c.get("env"),
                                                                    rules.keep_env))
    if kind == ISVC and rules.model:
        model = get(doc, "spec", "predictor", "model")
        if isinstance(model, Mapping):
            for name in MODEL_FIELDS:
                out[f"model.{name}"] = copy.deepcopy(model.get(name))
    annotations = get(doc, "metadata", "annotations")
    for key in rules.annotations:
        out[f"annotation.{key}"] = (annotations.get(key) if isinstance(annotations, Mapping)
                                    else None)
    return out


def strip(doc: Mapping[str, Any], labels: Iterable[str], rules: Rules) -> dict[str, Any]:
    """A copy of `doc` without the promoted fields named by `labels` (and without the env vars
    each environment keeps, which compare apart): what must stay the same through a promotion."""
    out: dict[str, Any] = copy.deepcopy(dict(doc))
    wanted = set(labels)
    for items in container_lists(out):
        for c in items:
            if not isinstance(c, dict):
                continue
            for part in ("image", "args", "env"):
                if f"container.{c.get('name')}.{part}" in wanted:
                    if part == "env" and isinstance(c.get("env"), list):
                        c["env"] = [e for e in c["env"]
                                    if isinstance(e, Mapping) and e.get("name") in rules.keep_env]
                        if not c["env"]:
                            c.pop("env")
                    else:
                        c.pop(part, None)
    model = get(out, "spec", "predictor", "model")
    if isinstance(model, dict):
        for name in MODEL_FIELDS:
            if f"model.{name}" in wanted:
                model.pop(name, None)
    annotations = get(out, "metadata", "annotations")
    if isinstance(annotations, dict):
        for label in wanted:
            if label.startswith("annotation."):
                annotations.pop(label[len("annotation."):], None)
    return out


def short(value: Any, limit: int = 120) -> str:
    """A value on one line for commit bodies and messages."""
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        text = "[" + " ".join(str(v) for v in value) + "]"
    else:
        import json

        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."
