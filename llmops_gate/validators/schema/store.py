"""Where schemas come from: the bundled CRD schemas, Kubernetes' own, and user locations.

A location is `default` (the bundled CRD schemas, then the Kubernetes built-in schemas of the
`kubernetes-validate` package), a folder, or a kubeconform-style template naming local files
(`{{ .ResourceKind }}`, `{{ .ResourceAPIVersion }}`, `{{ .Group }}`, `{{ .KindSuffix }}`,
`{{ .NormalizedKubernetesVersion }}`, `{{ .StrictSuffix }}`). The first location holding a
schema for a resource's apiVersion and kind wins. Each schema is read and compiled once per
run (a `SchemaStore` lives for one run).
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from llmops_gate.errors import GateError
from llmops_gate.validators.schema.convert import close_schema_in_place

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_GROUP = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")
TEMPLATE_VAR = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
TEMPLATE_NAMES = ("ResourceKind", "ResourceAPIVersion", "Group", "KindSuffix",
                  "NormalizedKubernetesVersion", "StrictSuffix")
# Layouts tried, in order, in a folder given as a location.
FOLDER_LAYOUTS = (
    "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",   # ours, CRDs-catalog
    "{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",                # openapi2jsonschema
    "{{ .ResourceKind }}{{ .KindSuffix }}.json",                         # kubernetes-json-schema
    "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/"
    "{{ .ResourceKind }}{{ .KindSuffix }}.json",                         # kubeconform's default
)


@dataclass(frozen=True)
class GVK:
    group: str
    version: str
    kind: str

    @classmethod
    def of(cls, api_version: str, kind: str) -> GVK:
        group, _, version = api_version.rpartition("/")
        return cls(group=group, version=version, kind=kind)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def safe(self) -> bool:
        """Usable in a file name: no path separators or `..` from a hostile apiVersion."""
        return (bool(_NAME.fullmatch(self.kind)) and bool(_NAME.fullmatch(self.version))
                and (not self.group or bool(_GROUP.fullmatch(self.group)))
                and ".." not in self.group)

    @property
    def kind_suffix(self) -> str:
        """kubeconform's `KindSuffix`: `-apps-v1`, `-rbac-v1` (domain dropped), `-v1`."""
        first = self.group.split(".")[0].lower()
        return f"-{first}-{self.version}" if first else f"-{self.version}"


@dataclass(frozen=True)
class Found:
    """A schema ready to compile: its id (file or bundled name), its document, and the
    documents its `$ref`s reach (Kubernetes' `_definitions.json`)."""

    id: str
    schema: dict[str, Any]
    extra: tuple[tuple[str, dict[str, Any]], ...] = ()


def bundled_dir() -> Path:
    return Path(str(resources.files("llmops_gate.validators.schema").joinpath("data")))


@cache
def _kv_root() -> Path:
    # Only its data files are read: find the package without importing it (its import
    # pulls in modules a run does not otherwise need, a noticeable part of a small run).
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - declared
        raise GateError("the kubernetes-validate package is not installed; "
                        "`pip install kubernetes-validate`")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", v)[:3])


@cache
def kubernetes_versions() -> tuple[str, ...]:
    """The Kubernetes versions whose schemas kubernetes-validate ships (`1.37.0`, ...)."""
    names = {m.group(1) for p in _kv_root().iterdir()
             if (m := re.match(r"^v(\d+\.\d+\.\d+)-local$", p.name))}
    return tuple(sorted(names, key=_version_key))


def resolve_kubernetes_version(wanted: str | None) -> str:
    """The schema set for `wanted` (`1.30`, `v1.30.2`, `1.30.0`): the newest shipped one not
    newer than its minor version; the newest of all when `wanted` is None or `master`."""
    shipped = kubernetes_versions()
    if not shipped:
        raise GateError("the kubernetes-validate package ships no schemas")
    if not wanted or wanted in ("master", "latest"):
        return shipped[-1]
    want = _version_key(wanted)
    if len(want) < 2:
        raise GateError(f"--kubernetes-version '{wanted}': expected MAJOR.MINOR[.PATCH]")
    fits = [v for v in shipped if _version_key(v)[:2] <= want[:2]]
    if not fits or _version_key(shipped[-1])[:2] < want[:2]:
        raise GateError(f"no Kubernetes {wanted} schemas here (kubernetes-validate ships "
                        f"{shipped[0]} to {shipped[-1]}); pick one of those with "
                        "--kubernetes-version")
    return fits[-1]


def render_template(template: str, gvk: GVK, k8s_version: str, strict: bool) -> str:
    values = {
        "ResourceKind": gvk.kind.lower(),
        "ResourceAPIVersion": gvk.version,
        "Group": gvk.group,
        "KindSuffix": gvk.kind_suffix,
        "NormalizedKubernetesVersion": f"v{k8s_version}",
        "StrictSuffix": "-strict" if strict else "",
    }

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise GateError(f"schema location '{template}': unknown template variable "
                            f"'{name}' (known: {', '.join(TEMPLATE_NAMES)})")
        return values[name]

    return TEMPLATE_VAR.sub(sub, template)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SchemaUnusable(f"{path}: cannot read schema: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaUnusable(f"{path}: a schema must be a JSON object")
    return data


class SchemaUnusable(Exception):
    """A schema file exists but cannot be read or compiled."""


def _matches_gvk(schema: dict[str, Any], gvk: GVK) -> bool:
    """True unless the schema names other group/version/kinds (guards `-apps-v1` suffixes
    that several groups share, such as `apps` and `apps.openshift.io`)."""
    listed = schema.get("x-kubernetes-group-version-kind")
    if not isinstance(listed, list) or not listed:
        return True
    return any(isinstance(x, dict) and x.get("group", "") == gvk.group
               and x.get("version") == gvk.version and x.get("kind") == gvk.kind
               for x in listed)


class Location:
    label = "location"

    def find(self, gvk: GVK, k8s_version: str, strict: bool) -> Found | None:
        raise NotImplementedError


class Bundled(Location):
    """The CRD schemas shipped with llmops-gate (converted, never parsed as YAML at run time)."""

    label = "bundled"

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or bundled_dir()

    def find(self, gvk: GVK, k8s_version: str, strict: bool) -> Found | None:
        if not gvk.group:
            return None
        path = self.root / gvk.group / f"{gvk.kind.lower()}_{gvk.version}.json"
        data = _read_json(path)
        if data is None or not _matches_gvk(data, gvk):
            return None
        return Found(id=f"bundled:{gvk.group}/{path.name}",
                     schema=close_schema_in_place(data) if strict else data)


class Kubernetes(Location):
    """Kubernetes' built-in kinds, from the kubernetes-validate package (strict variants for
    strict mode)."""

    label = "kubernetes"

    def __init__(self) -> None:
        self._defs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _definitions(self, folder: Path) -> dict[str, Any]:
        with self._lock:
            if folder.name not in self._defs:
                data = _read_json(folder / "_definitions.json")
                if data is None:
                    raise SchemaUnusable(f"{folder}: _definitions.json missing")
                self._defs[folder.name] = data
            return self._defs[folder.name]

    def find(self, gvk: GVK, k8s_version: str, strict: bool) -> Found | None:
        folder = _kv_root() / f"v{k8s_version}-local{'-strict' if strict else ''}"
        path = folder / f"{gvk.kind.lower()}{gvk.kind_suffix}.json"
        data = _read_json(path)
        if data is None or not _matches_gvk(data, gvk):
            return None
        defs = self._definitions(folder)
        return Found(id=f"kubernetes:{folder.name}/{path.name}", schema=data,
                     extra=((str(defs.get("$id", "")), defs),))


class Template(Location):
    """A folder (several layouts tried) or a template naming local files."""

    def __init__(self, spec: str, base: Path | None = None) -> None:
        self.spec = spec
        self.label = spec
        path = Path(spec).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        self.templates: tuple[str, ...]
        if TEMPLATE_VAR.search(spec) or spec.endswith(".json"):
            self.templates = (str(path),)
        elif path.is_dir():
            self.templates = tuple(str(path / layout) for layout in FOLDER_LAYOUTS)
        else:
            raise GateError(f"schema location '{spec}': no such folder (give a folder, a "
                            "JSON file, a template such as 'schemas/{{ .ResourceKind }}"
                            "{{ .KindSuffix }}.json', or 'default')")

    def find(self, gvk: GVK, k8s_version: str, strict: bool) -> Found | None:
        for template in self.templates:
            path = Path(render_template(template, gvk, k8s_version, strict))
            data = _read_json(path)
            if data is None:
                continue
            return Found(id=str(path), schema=close_schema_in_place(data) if strict else data)
        return None


def parse_locations(specs: Sequence[str], base: Path | None = None) -> list[Location]:
    """`--schema-location` values -> Locations; none given means `default`."""
    out: list[Location] = []
    for spec in specs or ("default",):
        if spec == "default":
            out += [Bundled(), Kubernetes()]
        elif re.match(r"^[a-z][a-z0-9+.-]*://", spec):
            raise GateError(f"schema location '{spec}': only local files and folders are "
                            "supported, with either engine (runs are offline); download the "
                            "schemas and give their folder")
        else:
            out.append(Template(spec, base))
    return out
