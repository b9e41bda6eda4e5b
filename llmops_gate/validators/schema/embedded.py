"""The embedded engine: validate documents against schemas with `jsonschema`, offline.

Each schema is compiled once per run and each distinct document is validated once per schema
(key: schema id + a hash of the document), since the overlays of one base render many equal
documents. Errors become `Problem`s: a field path and a message a user can act on.

`jsonschema` (pure Python) was measured against `jsonschema-rs` on these schemas
(`benchmarks/bench_schema_engines.py`, strict schemas, valid and broken documents): both give
the same verdicts; jsonschema-rs validates a document in ~1 us against ~1.2-2.3 ms, but it
compiles a schema up front in 35-330 ms (330 ms for InferenceService) where jsonschema compiles
lazily (1-22 ms with the first document). jsonschema-rs only pays off past 30-230 distinct
documents of one kind in one run; a GitOps repo renders a handful per kind, and the messages
are built from jsonschema's structured errors anyway, so jsonschema it is.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from jsonschema.exceptions import ValidationError

from llmops_gate.validators.schema.store import Found, SchemaUnusable
from llmops_gate.yamlio import caching

PathPart = str | int


@dataclass(frozen=True)
class Problem:
    """One reason a document does not fit its schema."""

    rule: str
    path: tuple[PathPart, ...]
    message: str
    hint: str | None = None
    # For `wrong-type`: the JSON types the schema wants there (a string wanted where a YAML
    # reader made a boolean of `N` gets its own message; see run.Checker.problem).
    expected: tuple[str, ...] = ()

    @property
    def dotted(self) -> str:
        return dotted(self.path)


def dotted(path: Sequence[PathPart]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}" if _plain(part) else f"[{json.dumps(part)}]"
        else:
            out = part if _plain(part) else f"[{json.dumps(part)}]"
    return out or "(document)"


def _plain(part: str) -> bool:
    return bool(part) and all(c.isalnum() or c in "_-" for c in part)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any, limit: int = 40) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _types(schema: Any) -> list[str]:
    """The types a schema accepts, null left out (every field may be null)."""
    if not isinstance(schema, dict):
        return []
    t = schema.get("type")
    found = [t] if isinstance(t, str) else list(t) if isinstance(t, list) else []
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            found += _types(sub)
    out: list[str] = []
    for name in found:
        if name != "null" and name not in out:
            out.append(name)
    return out


def _unknown_fields(err: ValidationError) -> list[str]:
    if not isinstance(err.instance, dict):
        return []
    schema = err.schema if isinstance(err.schema, dict) else {}
    known = set(schema.get("properties") or {})
    patterns = list(schema.get("patternProperties") or {})
    return [k for k in err.instance
            if k not in known and not any(re.search(p, str(k)) for p in patterns)]


def problems_of(err: ValidationError) -> Iterator[Problem]:
    """A jsonschema error -> Problems (an additionalProperties error gives one per field)."""
    path = tuple(err.absolute_path)
    kind = err.validator
    schema = err.schema if isinstance(err.schema, dict) else {}
    if kind == "additionalProperties" and schema.get("additionalProperties") is False:
        known = sorted(schema.get("properties") or {})
        for field in _unknown_fields(err):
            close = difflib.get_close_matches(str(field), known, n=1)
            hint = (f"did you mean '{close[0]}'?" if close else
                    f"known fields here: {', '.join(known)}" if known else None)
            yield Problem("unknown-field", (*path, str(field)), "unknown field", hint)
        return
    if kind == "required":
        missing = str(err.message).split("'")[1] if "'" in str(err.message) else ""
        yield Problem("required-field", (*path, missing) if missing else path,
                      "required field is missing")
        return
    if kind in ("type", "anyOf", "oneOf") and _types(schema):
        want = " or ".join(_types(schema))
        if kind == "type" or _type_name(err.instance) not in _types(schema):
            yield Problem("wrong-type", path,
                          f"expected {want}, got {_type_name(err.instance)} "
                          f"{_show(err.instance)}", expected=tuple(_types(schema)))
            return
    if kind == "enum":
        values = err.validator_value if isinstance(err.validator_value, list) else []
        allowed = ", ".join(_show(v) for v in values if v is not None)
        yield Problem("invalid-value", path,
                      f"{_show(err.instance)} is not allowed (allowed values: {allowed})")
        return
    if kind == "const":
        yield Problem("invalid-value", path,
                      f"{_show(err.instance)} is not allowed (must be "
                      f"{_show(err.validator_value)})")
        return
    if kind in ("anyOf", "oneOf") and err.context:
        # The branch that got furthest says most.
        best = jsonschema.exceptions.best_match(err.context)
        if best is not None:
            yield from problems_of(best)
            return
    message = err.message
    if len(message) > 200:
        message = message[:197] + "..."
    yield Problem("schema-violation", path, message)


def content_key(doc: Any) -> str:
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class Validators:
    """Compiled validators and verdicts for one run; safe to share between threads."""

    def __init__(self) -> None:
        self._compiled: dict[str, Any] = {}
        self._results: dict[tuple[str, str], tuple[Problem, ...]] = {}
        self._lock = threading.Lock()
        self.validated = 0

    def _compile(self, found: Found) -> Any:
        with self._lock:
            cached = self._compiled.get(found.id)
        if cached is not None:
            return cached
        cls = jsonschema.validators.validator_for(found.schema,
                                                  default=jsonschema.Draft202012Validator)
        # No check against the metaschema: it costs seconds on a schema the size of
        # InferenceService's; a broken schema shows up when it is used (below).
        registry: referencing.Registry[Any] = referencing.Registry()
        for uri, doc in found.extra:
            registry = registry.with_resource(
                uri, referencing.Resource.from_contents(
                    doc, default_specification=referencing.jsonschema.DRAFT202012))
        compiled = cls(found.schema, registry=registry)
        with self._lock:
            self._compiled[found.id] = compiled
        return compiled

    def validate(self, found: Found, doc: Any) -> tuple[Problem, ...]:
        use_cache = caching.enabled()
        key = (found.id, content_key(doc) if use_cache else "")
        if use_cache:
            with self._lock:
                cached = self._results.get(key)
            if cached is not None:
                return cached
        validator = self._compile(found)
        try:
            errors: Iterable[ValidationError] = sorted(
                validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
            problems = tuple(p for e in errors for p in problems_of(e))
        except referencing.exceptions.Unresolvable as exc:
            raise SchemaUnusable(f"{found.id}: a $ref cannot be resolved offline: "
                                 f"{exc}") from exc
        except (jsonschema.SchemaError, re.error, TypeError, AttributeError, KeyError,
                ValueError) as exc:
            raise SchemaUnusable(f"{found.id}: not a usable JSON Schema: "
                                 f"{type(exc).__name__}: {exc}") from exc
        with self._lock:
            if use_cache:
                self._results[key] = problems
            self.validated += 1
        return problems
