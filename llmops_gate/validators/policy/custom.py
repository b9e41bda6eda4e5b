"""Rules declared in `.llmops-gate.yaml` without code (`policy.custom-rules`).

    policy:
      custom-rules:
        - id: gpu-limit-at-most-two
          description: An InferenceService asks for at most two GPUs.
          severity: error
          match: {kinds: [InferenceService], environments: [dev, staging]}
          field: spec.predictor.model.resources.limits["nvidia.com/gpu"]
          assert: {"<=": 2}

`field` is a dotted path; `[0]` indexes a list, `[*]` takes every item, `["a.b/c"]` quotes a
key. `assert` is one of `exists` (true/false), `equals`, `in` (a list), `matches` (a regular
expression, searched), `<=` and `>=` (numbers or Kubernetes quantities). A field that is not
set fails every assertion except `exists: false`. Every matched value must pass.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from llmops_gate.config import Config
from llmops_gate.errors import GateError
from llmops_gate.model import Resource, Severity
from llmops_gate.validators.policy.base import Path, PathPart, Rule, RuleContext, Violation
from llmops_gate.validators.policy.quantity import parse_quantity

_TOKEN = re.compile(r"\.?([A-Za-z0-9_$@-]+)|\[(\d+|\*)\]|\[\s*[\"']([^\"']+)[\"']\s*\]")

WILDCARD = "*"


def parse_field(text: str) -> list[PathPart]:
    parts: list[PathPart] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot read field path '{text}' at '{text[pos:]}'")
        name, index, quoted = m.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(WILDCARD if index == "*" else int(index))
        else:
            parts.append(quoted)
        pos = m.end()
    return parts


def resolve(doc: Any, parts: list[PathPart], base: Path = ()) -> Iterator[tuple[Any, Path]]:
    if not parts:
        if doc is not None:
            yield doc, base
        return
    head, rest = parts[0], parts[1:]
    if head == WILDCARD:
        if isinstance(doc, list):
            for i, item in enumerate(doc):
                yield from resolve(item, rest, (*base, i))
    elif isinstance(head, int):
        if isinstance(doc, list) and 0 <= head < len(doc):
            yield from resolve(doc[head], rest, (*base, head))
    elif isinstance(doc, Mapping) and head in doc:
        yield from resolve(doc[head], rest, (*base, head))


def _deepest(doc: Any, parts: list[PathPart]) -> Path:
    """The longest existing prefix of `parts` (for a line when the field is missing)."""
    out: list[PathPart] = []
    node = doc
    for part in parts:
        if part == WILDCARD or not isinstance(node, (Mapping, list)):
            break
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                break
            node = node[part]
        else:
            if not isinstance(node, Mapping) or part not in node:
                break
            node = node[part]
        out.append(part)
    return tuple(out)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (str, int, float, bool)) and isinstance(b, (str, int, float, bool)):
        return str(a).lower() == str(b).lower() if isinstance(a, bool) or isinstance(b, bool) \
            else str(a) == str(b)
    return bool(a == b)


def _test(op: str, expected: Any) -> Callable[[Any], str | None]:
    """A predicate returning None when the value passes, else what was expected."""
    if op == "equals":
        return lambda v: None if _same(v, expected) else f"to equal {expected!r}"
    if op == "in":
        return lambda v: None if any(_same(v, e) for e in expected) else \
            f"to be one of {', '.join(map(str, expected))}"
    if op == "matches":
        pattern = re.compile(str(expected))
        return lambda v: None if isinstance(v, (str, int, float)) and pattern.search(str(v)) \
            else f"to match /{expected}/"
    limit = parse_quantity(expected)
    if limit is None:
        raise ValueError(f"'{expected}' is not a number or quantity")

    def compare(v: Any) -> str | None:
        q = parse_quantity(v)
        if q is None:
            return f"a quantity {op} {expected}"
        ok = q <= limit if op == "<=" else q >= limit
        return None if ok else f"to be {op} {expected}"

    return compare


def make_rule(raw: Mapping[str, Any], source: str) -> Rule:
    rid = str(raw["id"])
    field = str(raw["field"])
    try:
        parts = parse_field(field)
        ((op, expected),) = dict(raw["assert"]).items()
        predicate = None if op == "exists" else _test(op, expected)
    except (ValueError, re.error) as exc:
        raise GateError(f"{source}: custom rule '{rid}': {exc}") from exc
    match = raw.get("match") or {}
    kinds = frozenset(match["kinds"]) if match.get("kinds") else None
    envs = set(match.get("environments") or [])
    names = list(match.get("names") or [])

    def check(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
        if envs and ctx.environment not in envs:
            return
        if names and not any(fnmatch.fnmatchcase(res.name, n) for n in names):
            return
        found = list(resolve(res.doc, parts))
        if op == "exists":
            if bool(expected) and not found:
                yield Violation(f"{field} is not set", path=_deepest(res.doc, parts))
            elif not bool(expected):
                for _, path in found:
                    yield Violation(f"{field} is set, and must not be", path=path)
            return
        assert predicate is not None
        if not found:
            yield Violation(f"{field} is not set", path=_deepest(res.doc, parts))
        masked = res.kind == "Secret"
        for value, path in found:
            problem = predicate(value)
            if problem:
                shown = "(masked)" if masked else repr(value)
                yield Violation(f"{field} is {shown}, expected {problem}", path=path)

    return Rule(
        id=rid,
        description=str(raw.get("description") or f"{field} {op} {expected!r}"),
        why=str(raw.get("why") or ""),
        fix=str(raw.get("fix") or ""),
        check=check,
        severity=Severity(raw.get("severity") or "error"),
        kinds=kinds,
        source="config",
    )


def rules_from_config(config: Config) -> list[Rule]:
    source = str(config.path) if config.path else "config"
    items = config.section("policy").get("custom-rules") or []
    return [make_rule(item, source) for item in items if isinstance(item, Mapping)]
