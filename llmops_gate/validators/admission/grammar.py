"""The string grammars the Kubernetes API server checks, as pure predicates with its messages.

Written from k8s.io/apimachinery/pkg/util/validation (validation.go) and
k8s.io/apimachinery/pkg/api/resource (quantity.go), as documented on
https://kubernetes.io/docs/concepts/overview/working-with-objects/names/ and in the API
conventions. Each function returns the problems found (empty when the value is valid), worded as
the API server words them, so a finding reads like the rejection it predicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
DNS1035_LABEL_MAX = 63
LABEL_VALUE_MAX = 63
QUALIFIED_NAME_MAX = 63
IANA_SVC_NAME_MAX = 15
CONFIG_KEY_MAX = 253

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_IANA_SVC_NAME = re.compile(r"[-a-z0-9]+")
_IANA_HAS_LETTER = re.compile(r"[a-z]")
_ENV_VAR_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")

# <quantity> ::= <signedNumber><suffix>; suffixes binarySI (Ki..Ei), decimalSI (n u m "" k M G T
# P E) or a decimal exponent (e<int> / E<int>). No spaces anywhere: `2 cores` is not a quantity.
_QUANTITY = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?")


def _max_len(value: str, limit: int) -> list[str]:
    return [f"must be no more than {limit} characters"] if len(value) > limit else []


@dataclass(frozen=True)
class Grammar:
    """A name grammar the API server checks by its length, then its pattern."""

    limit: int
    pattern: re.Pattern[str]
    message: str  # the API server's words when the pattern does not match

    def __call__(self, value: str) -> list[str]:
        out = _max_len(value, self.limit)
        if not self.pattern.fullmatch(value):
            out.append(self.message)
        return out


# RFC 1123 label: Namespace names, container, volume and port names of Services.
dns1123_label = Grammar(
    DNS1123_LABEL_MAX, _DNS1123_LABEL,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')")
# RFC 1123 subdomain: the names of most objects (ConfigMap, Secret, Deployment, ...).
dns1123_subdomain = Grammar(
    DNS1123_SUBDOMAIN_MAX, _DNS1123_SUBDOMAIN,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com')")
# RFC 1035 label: Service names (and KServe InferenceService names).
dns1035_label = Grammar(
    DNS1035_LABEL_MAX, _DNS1035_LABEL,
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or "
    "'abc-123')")
# A label value (may be empty).
label_value = Grammar(
    LABEL_VALUE_MAX, _LABEL_VALUE,
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue', or "
    "'my_value', or '12345')")


def path_segment(value: str) -> list[str]:
    """A name that only has to be usable as one URL path segment (RBAC objects)."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def qualified_name(value: str) -> list[str]:
    """`[prefix/]name`: label keys and annotation keys. The prefix is a DNS-1123 subdomain."""
    prefix, slash, name = value.rpartition("/")
    out: list[str] = []
    if slash and value.count("/") > 1:
        return ["a qualified name must consist of an optional DNS subdomain prefix and '/' and a "
                "name, with at most one '/'"]
    if slash:
        if not prefix:
            out.append("prefix part must be non-empty")
        else:
            out += [f"prefix part {p}" for p in dns1123_subdomain(prefix)]
    if not name:
        out.append("name part must be non-empty")
        return out
    if len(name) > QUALIFIED_NAME_MAX:
        out.append(f"name part must be no more than {QUALIFIED_NAME_MAX} characters")
    if not _QUALIFIED_NAME.fullmatch(name):
        out.append("name part must consist of alphanumeric characters, '-', '_' or '.', and "
                   "must start and end with an alphanumeric character (e.g. 'MyName', or "
                   "'my.name', or '123-abc')")
    return out


def iana_svc_name(value: str) -> list[str]:
    """IANA_SVC_NAME (RFC 6335): named container ports, probe and Service target ports."""
    out = _max_len(value, IANA_SVC_NAME_MAX)
    if not _IANA_SVC_NAME.fullmatch(value):
        out.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        out.append("must not contain consecutive hyphens")
    if _IANA_SVC_NAME.fullmatch(value) and not _IANA_HAS_LETTER.search(value):
        out.append("must contain at least one letter (a-z)")
    if value.startswith("-") or value.endswith("-"):
        out.append("must not begin or end with a hyphen")
    return out


def env_var_name(value: str, relaxed: bool) -> list[str]:
    """Container env var names: `[-._a-zA-Z][-._a-zA-Z0-9]*` (since Kubernetes 1.8), or, with
    RelaxedEnvironmentVariableValidation (on by default from 1.32, GA in 1.34, KEP-4369), any
    printable ASCII character except '='."""
    if relaxed:
        if not value:
            return ["must not be empty"]
        if any(not (" " <= c <= "~") or c == "=" for c in value):
            return ["a valid environment variable name must consist only of printable ASCII "
                    "characters other than '='"]
        return []
    if not _ENV_VAR_NAME.fullmatch(value):
        return ["a valid environment variable name must consist of alphabetic characters, "
                "digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name', "
                "or 'MY_ENV.NAME', or 'MyEnvName1')"]
    return []


_config_key = Grammar(
    CONFIG_KEY_MAX, _CONFIG_KEY,
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name', or 'KEY_NAME', or 'key-name')")


def config_key(value: str) -> list[str]:
    """Keys of ConfigMap and Secret data."""
    out = _config_key(value)
    if value in (".", ".."):
        out.append(f"must not be '{value}'")
    elif value.startswith(".."):
        out.append("must not start with '..'")
    return out


def port_number(value: object) -> bool:
    """A port number as the API server takes one: an integer 1-65535 (not a string)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def is_quantity(value: object) -> bool:
    """A JSON number, or a string in the quantity grammar of k8s.io/apimachinery."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and _QUANTITY.fullmatch(value) is not None
