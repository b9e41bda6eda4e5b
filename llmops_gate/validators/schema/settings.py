"""Schema validation settings: the `schema` config section, overridden by command-line flags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmops_gate.config.schema_section import ENGINES
from llmops_gate.errors import GateError


@dataclass(frozen=True)
class SchemaSettings:
    strict: bool = True
    kubernetes_version: str | None = None
    locations: tuple[str, ...] = ()
    ignore_missing: bool = False
    skip: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    engine: str = "auto"
    kubeconform: str | None = None
    # Duplicate keys are checked by the `schema` command (yamllint does it in `validate`).
    check_duplicates: bool = False


def _csv(values: Any) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        out.extend(p.strip() for p in str(v).split(",") if p.strip())
    return tuple(out)


def from_sources(config: Mapping[str, Any], flags: Mapping[str, Any],
                 repo_locations_base: str | None = None) -> SchemaSettings:
    """Config section values, then flags (a flag left unset is None or empty)."""

    def pick(flag: str, key: str, default: Any) -> Any:
        value = flags.get(flag)
        if value is not None and value != ():
            return value
        return config.get(key, default)

    locations = tuple(str(v) for v in flags.get("schema_locations") or ())
    if not locations:
        from pathlib import Path

        base = Path(repo_locations_base) if repo_locations_base else None
        locations = tuple(
            loc if loc == "default" or base is None or "://" in loc or Path(loc).is_absolute()
            else str(base / loc)
            for loc in config.get("locations") or ())
    engine = str(pick("schema_engine", "engine", "auto"))
    if engine not in ENGINES:
        raise GateError(f"--schema-engine '{engine}': expected one of {', '.join(ENGINES)}")
    return SchemaSettings(
        strict=bool(pick("strict", "strict", True)),
        kubernetes_version=pick("kubernetes_version", "kubernetes_version", None),
        locations=locations,
        ignore_missing=bool(pick("ignore_missing_schemas", "ignore_missing_schemas", False)),
        skip=_csv(flags.get("skip_kinds")) or _csv(config.get("skip_kinds")),
        reject=_csv(flags.get("reject_kinds")) or _csv(config.get("reject_kinds")),
        engine=engine,
        kubeconform=pick("kubeconform", "kubeconform", None),
        check_duplicates=bool(flags.get("check_duplicates", False)),
    )


def kind_matches(patterns: Sequence[str], api_version: str, kind: str) -> bool:
    """kubeconform's `-skip`/`-reject` match: `Kind` or `apiVersion/Kind`."""
    full = f"{api_version}/{kind}"
    return any(p in (kind, full) for p in patterns)
