"""What a kustomization refers to: the one walker over its fields.

Discovery (which folders are overlays, which files a build uses, `repo.discover`) and the guard
(what a build may read, `repo.guard`) both need every path a kustomization names; they read them
here, so a field Kustomize learns to read is added once and both see it, with one test of what
is remote.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# Fields whose entries are folders (a base, a component) or files of resources, or remote.
FOLDER_KEYS = ("resources", "bases", "components")
# Fields whose entries configure plugins: a folder of configs, a config file, or inline.
PLUGIN_KEYS = ("generators", "transformers", "validators")
REMOTE_PREFIXES = ("git::", "git@", "github.com/", "gitlab.com/", "bitbucket.org/", "ssh:")
REMOTE_MARKERS = ("://", "?ref=", "?version=", "?timeout=", "?submodules=")
YAML_SUFFIXES = (".yaml", ".yml")


class Role(enum.Enum):
    INCLUDE = "include"  # resources/bases/components: a folder, a file of objects, or remote
    READ = "read"  # a file Kustomize parses: patches, replacements, configurations, crds, openapi
    COPY = "copy"  # a generator source, copied into a ConfigMap or Secret
    PLUGIN = "plugin"  # a plugin config entry written as a path (folder or file)


@dataclass(frozen=True)
class Reference:
    key: str  # the kustomization field that names it
    ref: str  # the path as written
    role: Role

    @property
    def as_yaml(self) -> bool:
        """Whether Kustomize parses the file as YAML (a generator source only when it is one)."""
        return self.role is not Role.COPY or self.ref.endswith(YAML_SUFFIXES)

    @property
    def remote(self) -> bool:
        """Whether Kustomize would fetch it, given that no local path of that name exists."""
        return self.role is Role.INCLUDE and looks_remote(self.ref)


def looks_remote(ref: str) -> bool:
    """Whether Kustomize would fetch `ref` (given that no local path of that name exists)."""
    if ref.startswith(REMOTE_PREFIXES) or any(m in ref for m in REMOTE_MARKERS):
        return True
    first = ref.split("/", 1)[0]
    return "/" in ref and "." in first.strip(".")


def strings(value: Any) -> Iterable[str]:
    """A string or the strings of a list (how kustomization fields list paths)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                yield item


def _paths(items: Any) -> Iterator[str]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            yield item["path"]


def references(data: dict[str, Any]) -> Iterator[Reference]:
    """Every path a kustomization names, as written, in the order of its fields."""
    for key in FOLDER_KEYS:
        for ref in strings(data.get(key)):
            yield Reference(key, ref, Role.INCLUDE)
    for ref in strings(data.get("patchesStrategicMerge")):
        if "\n" not in ref:
            yield Reference("patchesStrategicMerge", ref, Role.READ)
    for key in ("patches", "patchesJson6902", "replacements"):
        for ref in _paths(data.get(key)):
            yield Reference(key, ref, Role.READ)
    for key in ("configMapGenerator", "secretGenerator"):
        for gen in data.get(key) or [] if isinstance(data.get(key), list) else []:
            if isinstance(gen, dict):
                for entry in [*strings(gen.get("files")), *strings(gen.get("envs"))]:
                    yield Reference(key, entry.split("=", 1)[-1], Role.COPY)
                if isinstance(gen.get("env"), str):
                    yield Reference(key, gen["env"], Role.COPY)
    for key in ("configurations", "crds"):
        for ref in strings(data.get(key)):
            yield Reference(key, ref, Role.READ)
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield Reference("openapi", openapi["path"], Role.READ)
    for key in PLUGIN_KEYS:
        # Entries written as mappings are inline plugin configs, not paths (the guard
        # looks at those itself).
        for ref in strings(data.get(key)):
            yield Reference(key, ref, Role.PLUGIN)


def inline_patches(data: dict[str, Any]) -> Iterator[str]:
    """Patches written inside the kustomization: YAML text Kustomize parses too."""
    for ref in strings(data.get("patchesStrategicMerge")):
        if "\n" in ref:
            yield ref
    for key in ("patches", "patchesJson6902"):
        for item in data.get(key) or [] if isinstance(data.get(key), list) else []:
            if isinstance(item, dict) and isinstance(item.get("patch"), str):
                yield item["patch"]
