"""Masking secrets in everything the tool prints.

Reports go to CI logs, pull-request comments and SARIF uploads that more people can read than
the cluster's Secrets, and Kustomize's error messages echo whole documents. So every finding's
message and hint, and every error message of the CLI, passes through `Redactor` (the engine does
it once, over all findings, before the Report is built), which replaces with `***`:

- the values of Secrets: `data` (base64 and decoded), `stringData`, the auths of a
  `.dockerconfigjson`, and the literals, env files and files of a `secretGenerator`, collected
  from the rendered resources and from the repository's sources (a build that fails never
  renders its Secret, yet its error message may quote it);
- the values of environment variables that hold credentials (`GITHUB_TOKEN`, `GITLAB_TOKEN` and
  any variable whose name contains TOKEN, SECRET, PASSWORD, ... with a value of 8+ characters);
- credential-shaped strings wherever they appear: AWS access key ids and secret keys, GitHub,
  GitLab and Slack tokens, private-key PEM blocks, bearer and basic authorization values;
- the user info of URLs (`https://user:pass@host` becomes `https://***@host`).

Values shorter than `MIN_SECRET` characters are not masked as literals: masking "admin" or "true"
everywhere would garble reports without protecting anything.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

import yaml

from llmops_gate.model import Finding
from llmops_gate.yamlio.snapshot import Snapshot

MASK = "***"
MIN_SECRET = 6
MIN_ENV_SECRET = 8
ENV_NAMES = ("GITHUB_TOKEN", "GITLAB_TOKEN", "GH_TOKEN", "CI_JOB_TOKEN")
ENV_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "ACCESS_KEY",
             "PRIVATE_KEY", "CREDENTIAL")

_Sub = str | Callable[[re.Match[str]], str]

PATTERNS: list[tuple[re.Pattern[str], _Sub]] = [
    # A private key, whole or cut short (Kustomize messages can end mid-document).
    (re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?"
                r"(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL),
     r"-----BEGIN \1PRIVATE KEY-----***-----END \1PRIVATE KEY-----"),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), MASK),
    (re.compile(r"(?i)(aws_?secret_?access_?key|secret_?access_?key|aws_?secret_?key)"
                r"([\"'\\]*\s*[:=]\s*[\"'\\]*)[A-Za-z0-9/+=]{40}"), r"\1\2***"),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"), MASK),
    (re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"), MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), MASK),
    (re.compile(r"(\\?[\"'](?:auth|password|identitytoken|registrytoken)\\?[\"']\s*:\s*"
                r"\\?[\"'])[^\"'\\]+"), r"\1***"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*"), r"\1***"),
    (re.compile(r"(?i)\b(authorization:\s*basic\s+)[A-Za-z0-9+/]{8,}=*"), r"\1***"),
    (re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://)[^/\s@\"']+@"), r"\1***@"),
]


def _variants(value: str) -> Iterator[str]:
    """A value as it may appear in a message: itself, JSON/Go-escaped, and line by line."""
    value = value.strip()
    if len(value) < MIN_SECRET:
        return
    yield value
    escaped = json.dumps(value)[1:-1]
    if escaped != value:
        yield escaped
        yield escaped.replace('\\"', '\\\\\\"')
    if "\n" in value:
        for line in value.splitlines():
            if len(line.strip()) >= MIN_SECRET:
                yield line.strip()


class Redactor:
    """Masks known secret values and credential-shaped strings in text."""

    def __init__(self, secrets: Iterable[str] = (),
                 environ: Mapping[str, str] | None = None) -> None:
        self.literals: set[str] = set()
        self._regex: re.Pattern[str] | None = None
        self.add(secrets)
        self.add(env_secrets(os.environ if environ is None else environ))

    def add(self, values: Iterable[str]) -> None:
        for value in values:
            if isinstance(value, str):
                self.literals.update(_variants(value))
        self._regex = None

    def _literal_regex(self) -> re.Pattern[str] | None:
        if self._regex is None and self.literals:
            ordered = sorted(self.literals, key=len, reverse=True)
            self._regex = re.compile("|".join(re.escape(v) for v in ordered))
        return self._regex

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        regex = self._literal_regex()
        if regex is not None:
            text = regex.sub(MASK, text)
        for pattern, sub in PATTERNS:
            text = pattern.sub(sub, text)
        return text

    def text(self, text: str) -> str:
        return self(text) or ""

    def finding(self, f: Finding) -> Finding:
        message, hint, reason = self(f.message), self(f.hint), self(f.waiver_reason)
        if (message, hint, reason) == (f.message, f.hint, f.waiver_reason):
            return f
        return replace(f, message=message or "", hint=hint, waiver_reason=reason)


def env_secrets(environ: Mapping[str, str]) -> Iterator[str]:
    """Values of environment variables that hold credentials."""
    for name, value in environ.items():
        upper = name.upper()
        if len(value) < MIN_ENV_SECRET:
            continue
        if upper in ENV_NAMES or any(word in upper for word in ENV_WORDS):
            yield value


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            yield str(item)


def _decoded(value: str) -> Iterator[str]:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return
    yield text
    if text.lstrip().startswith("{"):
        try:
            yield from _strings(json.loads(text))
        except ValueError:
            pass


def secret_values(doc: Any) -> Iterator[str]:
    """The secret values of one Kubernetes object (nothing unless it is a Secret)."""
    if not isinstance(doc, dict) or doc.get("kind") != "Secret":
        return
    for value in _strings(doc.get("stringData")):
        yield value
    for value in _strings(doc.get("data")):
        yield value
        yield from _decoded(value)


GENERATOR_BYTES = 1024 * 1024  # larger generator sources are not searched for values


def _generator_values(snapshot: Snapshot, folder: str, data: Mapping[str, Any]
                      ) -> Iterator[str]:
    for gen in data.get("secretGenerator") or []:
        if not isinstance(gen, dict):
            continue
        for literal in gen.get("literals") or []:
            if isinstance(literal, str) and "=" in literal:
                yield literal.split("=", 1)[1]
        files = [e.split("=", 1)[-1] for e in gen.get("files") or [] if isinstance(e, str)]
        envs = [e for e in gen.get("envs") or [] if isinstance(e, str)]
        if isinstance(gen.get("env"), str):
            envs.append(gen["env"])
        for ref in files + envs:
            try:
                raw = snapshot.raw(PurePosixPath(folder, ref).as_posix())
            except (OSError, yaml.YAMLError):
                continue
            if len(raw) > GENERATOR_BYTES:
                continue
            text = raw.decode("utf-8", "replace")
            if ref in envs:
                for line in text.splitlines():
                    if "=" in line and not line.lstrip().startswith("#"):
                        yield line.split("=", 1)[1]
            else:
                yield text


def collect(snapshot: Snapshot, yaml_files: Iterable[str], kustomizations: Iterable[Any],
            resources: Iterable[Any]) -> set[str]:
    """Every secret value of a run: rendered Secrets, Secrets in the sources (from the run's
    snapshot: bounded, read once), and what secretGenerators read."""
    out: set[str] = set()
    for res in resources:
        out.update(secret_values(res.doc))
    for file in yaml_files:
        try:
            if "Secret" not in snapshot.text(file):
                continue
            for doc in snapshot.documents(file):
                out.update(secret_values(doc))
        except (OSError, yaml.YAMLError):
            continue
    for k in kustomizations:
        out.update(_generator_values(snapshot, k.folder, k.data))
    return {v for v in out if len(v.strip()) >= MIN_SECRET}


_known: set[str] = set()
_lock = threading.Lock()


def remember(values: Iterable[str]) -> None:
    """Keep a run's secret values for the messages printed after it (the CLI's error lines)."""
    with _lock:
        _known.update(values)


def redact(text: str) -> str:
    """Mask `text` with the remembered secrets, the environment's and the patterns."""
    with _lock:
        known = set(_known)
    return Redactor(known).text(text)
