"""Plain YAML scalars read the way Kubernetes and Kustomize read them, not as PyYAML does.

PyYAML implements the YAML 1.1 type repository; the Go readers in front of the cluster do not,
and the differences decide whether the cluster gets a boolean, a number or a string. Two
readings matter:

`KUBERNETES` -- sigs.k8s.io/yaml (kubectl apply, ArgoCD, kubeconform), which decodes with
go-yaml v2 into `interface{}` and converts to JSON. go-yaml v2's `resolve()` (resolve.go)
decides a plain scalar's type from its first character:
  - a fixed table: the booleans y Y yes Yes YES true True TRUE on On ON (true) and
    n N no No NO false False FALSE off Off OFF (false) -- yaml.org/type/bool.html, where PyYAML
    leaves out y/Y/n/N; the nulls "" ~ null Null NULL (yaml.org/type/null.html); .inf .Inf .INF
    with an optional sign, .nan .NaN .NAN (yaml.org/type/float.html);
  - after a digit or a sign: a timestamp if it starts with four digits and `-` and fits one of
    Go's layouts `2006-1-2T15:4:5.999999999Z07:00` (also with a lower-case `t`),
    `2006-1-2 15:4:5.999999999` (no zone) or `2006-1-2`; so fewer forms than
    yaml.org/type/timestamp.html (`2001-12-14 21:59:43.10 -5` stays a string). Else, with
    every `_` removed, Go's `strconv.ParseInt(s, 0, 64)` (sign, `0x`, `0b`, `0o`, and a leading
    zero meaning octal: `0755` is 493; yaml.org/type/int.html), then `ParseUint` up to 2^64-1,
    then a float if it matches `^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$` (so
    `1e3` is 1000, which PyYAML keeps a string, and `08` is 8.0) and does not overflow;
  - after a `.`: Go's `ParseFloat` (`.5`, `.5_0`: a Go float literal);
  - anything else is a string. No sexagesimal: `12:30:00` is a string (PyYAML: 45000).
  go-yaml v2's decode.go then keeps a timestamp decoded into `interface{}` as the text written
  ("for backward compatibility ... code that unmarshals timestamp-like values into interface{}
  will continue to see a string"), and sigs.k8s.io/yaml's `convertToJSONableObject` turns
  boolean, number and null-free keys into strings (`true`, `1`). So in a plain manifest
  `2024-01-01` reaches the cluster as "2024-01-01": checked against kubectl itself
  (`kubectl label --local -o json` prints what `kubectl apply` sends) and the real kubeconform
  in tests/test_yaml_reading.py.

`KUSTOMIZE` -- Kustomize (kyaml) reads its sources with go-yaml v3, whose resolve.go keeps only
true/True/TRUE/false/False/FALSE as booleans (YAML 1.2; its README: "YAML 1.1 bools
(yes/no, on/off) are supported as long as they are being decoded into a typed bool value.
Otherwise they behave as a string"), resolves numbers, nulls and timestamps as above, and
writes a timestamp back as Go's `time.Time` marshals to JSON: RFC 3339 with nanoseconds
(`2024-01-01` -> "2024-01-01T00:00:00Z", `2001-12-14t21:59:43.10-05:00` ->
"2001-12-14T21:59:43.1-05:00"). That is what `kubectl kustomize` emits, also checked with the
real binary in the tests. Its output quotes every string another reader could take for
something else, so the rendered stream reads the same under either rule set.

`KubeLoader` and `KustomizeLoader` are PyYAML C loaders (libyaml parses; only the resolver and
the scalar constructors are ours, as they are Python in PyYAML's own C loader too). Go's
integer and timestamp parsers themselves are in `llmops_gate.yamlio.goparse`.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from llmops_gate.yamlio.goparse import parse_int, rfc3339

try:
    _CBase: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _CBase = yaml.SafeLoader

STR = "tag:yaml.org,2002:str"
BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
NULL = "tag:yaml.org,2002:null"
TIMESTAMP = "tag:yaml.org,2002:timestamp"
MERGE = "tag:yaml.org,2002:merge"

_V2_TRUE = ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
_V2_FALSE = ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
_V3_TRUE = ("true", "True", "TRUE")
_V3_FALSE = ("false", "False", "FALSE")
_COMMON: dict[str, tuple[str, Any]] = {
    **{s: (NULL, None) for s in ("", "~", "null", "Null", "NULL")},
    **{s: (FLOAT, math.nan) for s in (".nan", ".NaN", ".NAN")},
    **{s: (FLOAT, math.inf) for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: (FLOAT, -math.inf) for s in ("-.inf", "-.Inf", "-.INF")},
    "<<": (MERGE, "<<"),
}

_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# Go's ParseFloat takes a Go float literal: `_` may stand between two digits.
_DOT_FLOAT = re.compile(r"\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?")


class Rules:
    """One reader's resolution rules: its boolean table and how it writes timestamps."""

    def __init__(self, name: str, true: tuple[str, ...], false: tuple[str, ...],
                 timestamps_as_rfc3339: bool) -> None:
        self.name = name
        self.table: dict[str, tuple[str, Any]] = {
            **_COMMON, **{s: (BOOL, True) for s in true}, **{s: (BOOL, False) for s in false}}
        self.timestamps_as_rfc3339 = timestamps_as_rfc3339
        # The characters go-yaml's resolveTable gives a hint: the rest are strings at once.
        self.hinted = frozenset("+-0123456789.~yYnNtTfFoO")

    def __repr__(self) -> str:
        return f"Rules({self.name})"


KUBERNETES = Rules("Kubernetes", _V2_TRUE, _V2_FALSE, timestamps_as_rfc3339=False)
KUSTOMIZE = Rules("Kustomize", _V3_TRUE, _V3_FALSE, timestamps_as_rfc3339=True)


@functools.lru_cache(maxsize=65536)
def _resolve(rules: Rules, text: str) -> tuple[str, Any]:
    hit = rules.table.get(text)
    if hit is not None:
        return hit
    first = text[:1]
    if first == ".":
        if _DOT_FLOAT.fullmatch(text):
            value = float(text.replace("_", ""))
            if not math.isinf(value):
                return FLOAT, value
        return STR, text
    if first not in "+-0123456789":
        return STR, text
    if first.isdigit():
        stamp = rfc3339(text) if len(text) >= 5 and text[4] == "-" else None
        if stamp is not None:
            return TIMESTAMP, stamp if rules.timestamps_as_rfc3339 else text
    plain = text.replace("_", "")
    number = parse_int(plain)
    if number is not None:
        return INT, number
    if _GO_FLOAT.fullmatch(plain):
        value = float(plain)
        if not math.isinf(value):  # Go's ParseFloat reports an overflow as an error
            return FLOAT, value
    return STR, text


def resolve(text: str, rules: Rules = KUBERNETES) -> tuple[str, Any]:
    """(tag, value) of the plain scalar `text` under `rules`; a timestamp's value is the
    string the reader hands on (as written for Kubernetes, RFC 3339 for Kustomize)."""
    if not text:
        return NULL, None
    if text[0] not in rules.hinted:
        # go-yaml's decoder takes a plain `<<` key for a merge whatever its resolveTable says
        return (MERGE, text) if text == "<<" else (STR, text)
    return _resolve(rules, text)


def is_plain(node: yaml.Node) -> bool:
    """An unquoted, non-block scalar (libyaml gives it the style '', pure PyYAML None)."""
    return isinstance(node, yaml.ScalarNode) and not node.style


def read(text: str, rules: Rules = KUBERNETES) -> Any:
    return resolve(text, rules)[1]


def describe(value: Any) -> str:
    """`the boolean false`, `the number 493`, `null`: what a reader made of a scalar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, float) and value.is_integer():
        return f"the number {int(value)}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}".replace("inf", "infinity")
    return f"the string {value!r}"


_PLAIN_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


def surprising(text: str, tag: str, value: Any) -> bool:
    """Whether a reader's type for `text` is one its author may well not have meant: `N`,
    `yes`, `0755`, `1e3`, `1_000`, a date; not `true`, `493`, `1.5` or `~`, which every YAML
    reader (and JSON) takes for what they look like."""
    if tag == BOOL:
        return text not in ("true", "false")
    if tag == INT:
        return text != str(value)
    if tag == FLOAT:
        return not _PLAIN_DECIMAL.fullmatch(text)
    return tag == TIMESTAMP


def reading_note(text: str, rules: Rules) -> str | None:
    """`Kubernetes reads the unquoted N as the boolean false; quote it: "N"`, when `rules`
    read the plain scalar `text` as something other than the string written, and its author
    may well have meant that string (see `surprising`)."""
    tag, value = resolve(text, rules)
    if tag in (STR, MERGE) or not surprising(text, tag, value):
        return None
    if tag == TIMESTAMP:
        if value == text:
            return None
        what = f'a timestamp and writes it as "{value}"'
    else:
        what = describe(value)
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{rules.name} reads the unquoted {text or '(empty value)'} as {what}; quote it: " \
           f"{quoted}"


def go_key(key: Any) -> Any:
    """A mapping key as sigs.k8s.io/yaml's JSON conversion names it."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        if math.isnan(key):
            return ".nan"
        if math.isinf(key):
            return ".inf" if key > 0 else "-.inf"
        return str(int(key)) if key.is_integer() and abs(key) < 1e21 else repr(key)
    return key


class _GoConstructor:
    """Scalar constructors and a resolver that follow one `Rules`."""

    rules: Rules = KUBERNETES

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return resolve(value, self.rules)[0]
        return super().resolve(kind, value, implicit)  # type: ignore[misc]

    def _go_scalar(self, node: yaml.Node, want: str) -> Any:
        text = str(node.value)
        tag, value = resolve(text, self.rules)
        if tag == want or (want == FLOAT and tag == INT):
            return float(value) if want == FLOAT else value
        raise ConstructorError(None, None, f"cannot decode {tag.rsplit(':', 1)[-1]} "
                               f"`{text}` as a {want.rsplit(':', 1)[-1]}", node.start_mark)

    def construct_go_bool(self, node: yaml.Node) -> Any:
        return self._go_scalar(node, BOOL)

    def construct_go_int(self, node: yaml.Node) -> Any:
        return self._go_scalar(node, INT)

    def construct_go_float(self, node: yaml.Node) -> Any:
        return self._go_scalar(node, FLOAT)

    def construct_go_null(self, node: yaml.Node) -> Any:
        return self._go_scalar(node, NULL)

    def construct_go_timestamp(self, node: yaml.Node) -> Any:
        return self._go_scalar(node, TIMESTAMP)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        # PyYAML's own, with each key named as sigs.k8s.io/yaml names it *before* it goes
        # into the dict: `y:` and `1:` are the keys "true" and "1", not True == 1.
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, f"expected a mapping node, but found {node.id}",
                                   node.start_mark)
        self.flatten_mapping(node)  # type: ignore[attr-defined]
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[attr-defined]
            if isinstance(key, (list, dict, set)):
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       "found unhashable key", key_node.start_mark)
            mapping[go_key(key)] = self.construct_object(  # type: ignore[attr-defined]
                value_node, deep=deep)
        return mapping


def _register(cls: Any) -> None:
    cls.add_constructor(BOOL, _GoConstructor.construct_go_bool)
    cls.add_constructor(INT, _GoConstructor.construct_go_int)
    cls.add_constructor(FLOAT, _GoConstructor.construct_go_float)
    cls.add_constructor(NULL, _GoConstructor.construct_go_null)
    cls.add_constructor(TIMESTAMP, _GoConstructor.construct_go_timestamp)


class KubeLoader(_GoConstructor, _CBase):  # type: ignore[misc,valid-type]
    """Plain manifests as kubectl, ArgoCD and kubeconform read them (go-yaml v2)."""

    rules = KUBERNETES


class KustomizeLoader(_GoConstructor, _CBase):  # type: ignore[misc,valid-type]
    """Kustomize sources as Kustomize reads them (go-yaml v3; timestamps as RFC 3339)."""

    rules = KUSTOMIZE


_register(KubeLoader)
_register(KustomizeLoader)
