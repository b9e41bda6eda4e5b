"""`.llmops-gate.yaml`: loading, defaults, and the JSON Schema that is its documentation.

The config is validated against `CONFIG_SCHEMA` before any work is done; an unknown key or a
bad type stops the run with one message naming the key and the file (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.config.policy_schema import ENV_POLICY_SCHEMA, POLICY_SCHEMA
from llmops_gate.config.review_section import REVIEW_SCHEMA
from llmops_gate.config.schema_section import CONFIG_SECTION as SCHEMA_SECTION
from llmops_gate.errors import GateError
from llmops_gate.yamlio.snapshot import Snapshot

CONFIG_NAMES = (".llmops-gate.yaml", ".llmops-gate.yml")

_STRINGS = {"type": "array", "items": {"type": "string"}}

ENVIRONMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One deployment environment, in promotion order.",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                 "description": "Short name used on the command line (`--env dev`)."},
        "overlay": {
            "description": "Kustomize overlay folder(s) of this environment, relative to the "
                           "repo root; glob patterns allowed.",
            "oneOf": [{"type": "string"}, _STRINGS],
        },
        "application": {"type": "string",
                        "description": "Name of the ArgoCD Application that deploys it."},
        "namespace": {"type": "string",
                      "description": "Namespace its resources land in."},
        "prefix": {"type": "string", "description": "The overlay's Kustomize `namePrefix`."},
        "suffix": {"type": "string", "description": "The overlay's Kustomize `nameSuffix`."},
        "policy": ENV_POLICY_SCHEMA,
    },
}

LIMITS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "How much YAML is read (the repo under validation is untrusted input); each "
                   "has a generous default and a ceiling the config cannot raise it past.",
    "properties": {
        name: {"type": "integer", "minimum": yamlio.FLOORS.get(name, 1),
               "maximum": yamlio.CEILINGS[name],
               "description": desc}
        for name, desc in (
            ("max_file_bytes", "Largest YAML source file, in bytes (default 8 MiB)."),
            ("max_stream_bytes", "Largest Kustomize output of one overlay, in bytes "
                                 "(default 64 MiB)."),
            ("max_depth", "Deepest nesting of one YAML document (default 100)."),
            ("max_aliases", "Most YAML aliases (`*name`) in one document (default 10000)."),
            ("max_alias_expansion", "Most nodes the aliases of one document may stand for "
                                    "(default 100000)."),
            ("max_build_files", "Most files one overlay's build may read, each inclusion of "
                                "a base counted again, as Kustomize builds it again "
                                "(default 5000)."),
            ("kustomize_memory", "Memory ceiling of each Kustomize (and kubeconform) process, "
                                 "in bytes (default 2 GiB = 2147483648; at most 8 GiB)."),
        )
    },
}

PROMOTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "What `llmops-gate promote` carries from one environment to the next.",
    "properties": {
        "images": {"type": "boolean",
                   "description": "Promote container images of ServingRuntimes and workloads "
                                  "(default true)."},
        "model": {"type": "boolean",
                  "description": "Promote the InferenceService model: storageUri, modelFormat, "
                                 "image (default true)."},
        "args": {"type": "boolean",
                 "description": "Promote ServingRuntime container args (default true)."},
        "env": {"type": "boolean",
                "description": "Promote ServingRuntime container env (default true)."},
        "keep_env": {**_STRINGS, "description": "Container env variable names each "
                                                "environment keeps for itself."},
        "annotations": {**_STRINGS, "description": "Annotation keys promoted as well."},
        "pins": {"type": "object", "additionalProperties": _STRINGS,
                 "description": "Per environment name: fields never promoted into it, as "
                                "glob patterns over `Kind/name field` or `field` "
                                "(`container.*.args`, `InferenceService/* model.storageUri`)."},
        "patch_file": {"type": "string", "pattern": "^[^/]+\\.ya?ml$",
                       "description": "Name of the tool-owned patch file in each target "
                                      "overlay (default promoted.yaml)."},
        "require_previous": {"type": "boolean",
                             "description": "An environment only receives values the "
                                            "environment before it already runs."},
        "retries": {"type": "integer", "minimum": 0, "maximum": 20,
                    "description": "Re-plans after a rejected push (default 3)."},
        "forge": {
            "type": "object",
            "additionalProperties": False,
            "description": "Where `--open-pr` opens the pull/merge request.",
            "properties": {
                "provider": {"enum": ["github", "gitlab"]},
                "api_url": {"type": "string", "description": "REST API base URL."},
                "repository": {"type": "string",
                               "description": "owner/name (GitHub) or project path (GitLab)."},
            },
        },
    },
}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://llmops-gate.io/schemas/config.json",
    "title": "llmops-gate configuration (.llmops-gate.yaml)",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1, "description": "Config format version; always 1."},
        "environments": {
            "type": "array",
            "items": ENVIRONMENT_SCHEMA,
            "description": "The environments, in promotion order (first is the source).",
        },
        "manifests": {
            **_STRINGS,
            "description": "Globs of plain manifest files validated as they are (default: "
                           "every YAML file with Kubernetes objects that no kustomization uses).",
        },
        "exclude": {**_STRINGS, "description": "Globs of paths never read."},
        "kustomize": {
            "type": "object",
            "additionalProperties": False,
            "description": "How Kustomize is run.",
            "properties": {
                "path": {"type": "string", "description": "A kustomize or kubectl binary."},
                "timeout": {"type": "number", "exclusiveMinimum": 0,
                            "description": "Seconds one build may take (default 120)."},
            },
        },
        "lint": {
            "type": "object",
            "additionalProperties": False,
            "description": "yamllint settings.",
            "properties": {
                "config": {"type": "string",
                           "description": "A yamllint config file (default: the repo's "
                                          "`.yamllint*`, else a built-in one)."},
            },
        },
        "limits": LIMITS_SCHEMA,
        "schema": SCHEMA_SECTION,
        "policy": POLICY_SCHEMA,
        "promotion": PROMOTION_SCHEMA,
        "review": REVIEW_SCHEMA,
    },
}


@dataclass(frozen=True)
class Environment:
    name: str
    overlays: tuple[str, ...] = ()
    application: str | None = None
    namespace: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    policy: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """The loaded config. `path` is None when the repo has no config file."""

    path: Path | None
    environments: tuple[Environment, ...] = ()
    manifests: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name)
        return value if isinstance(value, Mapping) else {}

    @property
    def limits(self) -> yamlio.Limits:
        """The `limits` section over the defaults."""
        return yamlio.Limits.from_mapping(self.section("limits"))

    def environment(self, name: str) -> Environment | None:
        for env in self.environments:
            if env.name == name:
                return env
        return None

    @property
    def environment_names(self) -> list[str]:
        return [e.name for e in self.environments]


def find_config(repo: Path) -> Path | None:
    for name in CONFIG_NAMES:
        candidate = repo / name
        if candidate.is_file():
            return candidate
    return None


def _key_path(parts: Sequence[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _quick_valid(data: Any) -> bool:
    """True when the compiled validator (jsonschema-rs, where installed) accepts `data`.

    Importing the pure-Python jsonschema costs about as much as the rest of a small run, and
    nearly every config is valid; jsonschema still words the message when one is not.
    """
    try:
        import jsonschema_rs
    except ImportError:
        return False
    try:
        return bool(jsonschema_rs.Draft202012Validator(CONFIG_SCHEMA).is_valid(data))
    except Exception:  # an instance it cannot convert: let jsonschema decide
        return False


def check_config(data: Any, source: str) -> None:
    """Raise GateError naming the key and the file if `data` does not fit CONFIG_SCHEMA."""
    if _quick_valid(data):
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    err = errors[0]
    where = _key_path(list(err.absolute_path))
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        unknown = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        key = ".".join([where, unknown[0]]) if unknown and where != "(top level)" else (
            unknown[0] if unknown else where)
        raise GateError(f"{source}: unknown key '{key}' (allowed here: {', '.join(allowed)})")
    raise GateError(f"{source}: key '{where}': {err.message}")


def parse_config(data: Any, path: Path | None) -> Config:
    source = str(path) if path else "config"
    if data is None:
        data = {}
    check_config(data, source)
    envs = []
    for item in data.get("environments", []):
        overlay = item.get("overlay", ())
        overlays = (overlay,) if isinstance(overlay, str) else tuple(overlay)
        envs.append(
            Environment(
                name=item["name"],
                overlays=tuple(o.strip("/") for o in overlays),
                application=item.get("application"),
                namespace=item.get("namespace"),
                prefix=item.get("prefix"),
                suffix=item.get("suffix"),
                policy=item.get("policy", {}),
            )
        )
    names = [e.name for e in envs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise GateError(f"{source}: environment '{dupes[0]}' is defined twice")
    manifests = data.get("manifests")
    return Config(
        path=path,
        environments=tuple(envs),
        manifests=tuple(manifests) if manifests is not None else None,
        exclude=tuple(data.get("exclude", ())),
        raw=data,
    )


def load_config(repo: Path, explicit: Path | None = None,
                snapshot: Snapshot | None = None) -> Config:
    """Load the repo's config (or `explicit`), validating it; an empty Config when there is none.

    The repo's own config is read like any file of the repo (bounded, inside the root, with the
    default limits: its own are not known yet), through the run's `snapshot` when there is one,
    so the `lint` and `parse` validators later look at that same reading of it."""
    path = explicit if explicit is not None else find_config(repo)
    if path is None:
        return Config(path=None)
    rel = path.relative_to(repo).as_posix() if snapshot is not None and explicit is None \
        else None
    try:
        if snapshot is not None and rel is not None:
            text = snapshot.text(rel)
        else:
            text = yamlio.read_text(path, root=repo if explicit is None else None,
                                    limits=yamlio.Limits())
    except OSError as exc:
        raise GateError(f"{path}: cannot read config: {exc.strerror or exc}") from exc
    except yamlio.UnsafeYAML as exc:
        raise GateError(f"{path}: cannot read config: {exc}") from exc
    try:
        docs = snapshot.documents(rel) if snapshot is not None and rel is not None else [
            yamlio.load(text, yamlio.Limits())]
    except yaml.YAMLError as exc:
        line, _ = yamlio.yaml_error_position(exc)
        where = f"{path}:{line}" if line else str(path)
        raise GateError(f"{where}: config is not valid YAML: "
                        f"{yamlio.yaml_error_summary(exc)}") from exc
    if len(docs) > 1:
        raise GateError(f"{path}: config is not valid YAML: expected a single document in the "
                        "stream, but found another document")
    data = docs[0] if docs else None
    if data is not None and not isinstance(data, dict):
        raise GateError(f"{path}: config must be a mapping, not {type(data).__name__}")
    return parse_config(data, path)


ENV_ALIASES = {"dev": "dev", "development": "dev", "staging": "staging", "stage": "staging",
               "prod": "production", "production": "production", "qa": "qa", "test": "test"}


# Where an environment found from a folder name sits in the promotion chain when no config
# lists the chain: qa and test are stages between dev and staging, and share a place, so a repo
# with both has no order we can assume.
PROMOTION_RANK = {"dev": 0, "qa": 1, "test": 1, "staging": 2, "production": 3}


def promotion_order(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Environments found from folder names in promotion order (dev -> qa or test -> staging ->
    production), and the ones whose place is ambiguous (two of them share a rank)."""
    unique = list(dict.fromkeys(names))
    ordered = sorted(unique, key=lambda n: (PROMOTION_RANK.get(n, len(PROMOTION_RANK)), n))
    ranks = [PROMOTION_RANK.get(n) for n in ordered]
    ambiguous = [n for n, r in zip(ordered, ranks, strict=True)
                 if r is None or ranks.count(r) > 1]
    return ordered, ambiguous


def environment_from_folder(path: str) -> str | None:
    """The environment a folder name suggests (`overlays/prod` -> production), if any."""
    for part in reversed(Path(path).parts):
        env = ENV_ALIASES.get(part.lower())
        if env:
            return env
    return None
