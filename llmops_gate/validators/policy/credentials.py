"""Credentials in Git: Secrets with real values, and credential-shaped strings (cloud keys,
tokens, `.dockerconfigjson` auths, private keys) in ConfigMaps, env values, args and commands.

Values are never copied into a finding: messages name the kind of credential and where it is
(the key, the env var, the argument index), nothing of the value itself.

Passing: a Secret whose `stringData` values are all `""` or placeholders (`changeme`,
`<fill-me>`, `${AWS_KEY}`). Failing: `stringData: {AWS_ACCESS_KEY_ID: AKIA...}`; an env var
`HF_TOKEN` with a literal `hf_...` value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from llmops_gate.model import Resource
from llmops_gate.validators.policy.base import Option, Path, Rule, RuleContext, Violation
from llmops_gate.validators.policy.pods import POD_KINDS, containers

_PLACEHOLDER = re.compile(
    r"(?i)\s*(|changeme|change[-_ ]me|replace[-_ ]?me|fill[-_ ]?me|todo|tbd|placeholder|dummy|"
    r"example|redacted|none|null|n/a|x{3,}|\*{3,}|<[^<>]*>|\$\{[^{}]*\}|\$\([^()]*\)|"
    r"\{\{.*\}\}|%\([^()]*\)s)\s*"
)

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("an AWS secret access key",
     re.compile(r"(?i)aws_?secret_?access_?key[\"'\s]*[:=]\s*[\"']?[A-Za-z0-9/+]{40}\b")),
    ("a GitHub token",
     re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("an OpenAI API key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    ("registry credentials (.dockerconfigjson auths)",
     re.compile(r"\"auths\"\s*:\s*\{.*\"(?:auth|password|identitytoken)\"\s*:\s*\"[^\"]+\"",
                re.DOTALL)),
)

_SECRET_WORDS = frozenset({"PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL",
                           "CREDENTIALS", "APIKEY"})
_KEY_QUALIFIERS = frozenset({"API", "ACCESS", "PRIVATE", "SECRET", "SIGNING"})


def secret_named(name: str) -> bool:
    """An env var named like a credential (HF_TOKEN, DB_PASSWORD, OPENAI_API_KEY), by whole
    words: TOKENIZERS_PARALLELISM and MAX_TOKENS are not."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name.upper()) if w]
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(w == "KEY" and i > 0 and words[i - 1] in _KEY_QUALIFIERS
               for i, w in enumerate(words))


def _literal_credential(value: str, extra: Sequence[str]) -> bool:
    """A literal value that could be a credential (not a placeholder, a path or a flag)."""
    plain = value.strip()
    return not (is_placeholder(plain, extra) or "$(" in plain or plain.startswith(("/", "file:"))
                or plain.lower() in ("true", "false", "yes", "no"))


def is_placeholder(value: str, extra: Sequence[str] = ()) -> bool:
    if _PLACEHOLDER.fullmatch(value):
        return True
    return any(re.fullmatch(p, value) for p in extra)


def credential_kind(text: str) -> str | None:
    """What credential `text` contains, if it looks like one."""
    for name, pattern in PATTERNS:
        if pattern.search(text):
            return name
    return None


def _decode(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def check_secret(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    extra = [str(p) for p in ctx.options.get("placeholders", [])]
    for section, encoded in (("stringData", False), ("data", True)):
        values = res.doc.get(section)
        if not isinstance(values, Mapping):
            continue
        for key, raw in values.items():
            if raw is None:
                continue
            text = str(raw)
            if encoded:
                decoded = _decode(text.strip())
                text = decoded if decoded is not None else text
            if is_placeholder(text, extra):
                continue
            kind = credential_kind(text)
            what = f" ({kind})" if kind else ""
            yield Violation(f"Secret holds a real value in {section}.{key}{what} (value "
                            "masked); credentials do not belong in Git",
                            path=(section, str(key)))


def _scan(text: str) -> str | None:
    return credential_kind(text)


def _strings(value: Any, path: Path) -> Iterator[tuple[str, Path]]:
    if isinstance(value, str):
        yield value, path
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))


def check_config(res: Resource, ctx: RuleContext) -> Iterator[Violation]:
    extra = [str(p) for p in ctx.options.get("placeholders", [])]
    if res.kind == "ConfigMap":
        for section, encoded in (("data", False), ("binaryData", True)):
            values = res.doc.get(section)
            if not isinstance(values, Mapping):
                continue
            for key, raw in values.items():
                text = str(raw) if raw is not None else ""
                if encoded:
                    text = _decode(text) or ""
                kind = _scan(text)
                if kind:
                    yield Violation(f"ConfigMap {section}.{key} holds what looks like {kind} "
                                    "(value masked)", path=(section, str(key)))
        return
    for c in containers(res):
        for i, env in enumerate(c.spec.get("env") or []):
            if not isinstance(env, Mapping) or not isinstance(env.get("value"), str):
                continue
            value, name = env["value"], str(env.get("name") or "")
            kind = _scan(value)
            if kind is None and ctx.options.get("secret-named-env", True) and \
                    secret_named(name) and _literal_credential(value, extra):
                kind = "a credential (by the variable's name)"
            if kind:
                yield Violation(f"container {c.name}: env {name} holds what looks like {kind} "
                                "(value masked); use valueFrom.secretKeyRef",
                                path=(*c.path, "env", i, "value"), container=c.name)
        for key in ("args", "command"):
            for text, path in _strings(c.spec.get(key), (*c.path, key)):
                kind = _scan(text)
                if kind:
                    yield Violation(f"container {c.name}: {key} item {path[-1]} holds what "
                                    f"looks like {kind} (value masked)", path=path,
                                    container=c.name)


_PLACEHOLDER_OPT = Option("placeholders", [], "Extra regular expressions of values that are "
                                              "placeholders, not credentials.")

RULES = (
    Rule(
        id="secret-values-in-git",
        description="A Secret's data/stringData values are empty or placeholders.",
        why="Anything committed stays in Git history for ever and reaches everyone who can "
            "clone the repo; a model's storage or registry keys open the whole bucket.",
        fix="commit the Secret with empty values and fill it on the cluster, or use an "
            "ExternalSecret/SealedSecret; rotate the exposed credential",
        check=check_secret,
        kinds=frozenset({"Secret"}),
        options=(_PLACEHOLDER_OPT,),
        equivalents={"checkov": "CKV_SECRET_* (secrets scanning)"},
    ),
    Rule(
        id="credential-in-config",
        description="No credential-shaped string (AWS keys, GitHub/GitLab/Hugging Face/OpenAI "
                    "tokens, private keys, .dockerconfigjson auths) in ConfigMaps, env values, "
                    "args or commands; no literal value in an env var named like a secret.",
        why="ConfigMaps and pod specs are readable by far more people and tools than Secrets, "
            "and they are in Git.",
        fix="move the value into a Secret (filled outside Git) and reference it with "
            "valueFrom.secretKeyRef; rotate the exposed credential",
        check=check_config,
        kinds=POD_KINDS | {"ConfigMap"},
        options=(_PLACEHOLDER_OPT,
                 Option("secret-named-env", True, "Also flag literal values of env vars named "
                                                  "like secrets (PASSWORD, TOKEN, API_KEY).")),
        equivalents={"kube-linter": "env-var-secret", "checkov": "CKV_SECRET_2, CKV_SECRET_6"},
    ),
)
