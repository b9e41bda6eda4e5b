"""ConfigMap and Secret data as the API server checks it: every key of `data`, `binaryData`
and `stringData` is a config key (alphanumerics, '-', '_', '.', at most 253 characters, not
`.`, `..` or starting with `..`), a ConfigMap has no key in both `data` and `binaryData`, and a
Secret's `data` values are base64 (kubectl and the API server refuse to decode anything else;
put plain text under `stringData`).

Passing:

    data: {config.json: "{}", MODEL_ID: qwen}

Failing (`config-key-invalid`, `secret-data-not-base64`):

    data: {"model id": qwen}        # ConfigMap
    data: {token: not base64!}      # Secret
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from typing import Any

from llmops_gate.kinds import group_of, mapping
from llmops_gate.model import Severity
from llmops_gate.validators.admission import grammar
from llmops_gate.validators.admission.base import Rule, Scope, Violation, each

RULES = (
    Rule("config-key-invalid", Severity.ERROR,
         "ConfigMap and Secret data keys are config keys (alphanumerics, '-', '_', '.'; at most "
         "253) and a ConfigMap key is not in both data and binaryData.",
         "the API server rejects the object", "rename the key (no spaces, no '/')",
         "k8s.io/kubernetes pkg/apis/core/validation ValidateConfigMap/ValidateSecret, "
         "k8s.io/apimachinery IsConfigMapKey; all supported versions"),
    Rule("secret-data-not-base64", Severity.ERROR,
         "A Secret's `data` values are base64-encoded.",
         "the object cannot be decoded ('illegal base64 data'); the apply fails",
         "encode the value with base64, or move it to `stringData` as plain text",
         "Kubernetes 'Secrets' (data is base64, stringData is plain); the API's []byte "
         "JSON encoding; all supported versions"),
)


def _keys(section: Any, key: str) -> Iterator[Violation]:
    for name in mapping(section):
        yield from each(grammar.config_key(str(name)), "config-key-invalid", (key, str(name)),
                        f"{key} key '{name}'")


def check(doc: Mapping[str, Any], scope: Scope) -> Iterator[Violation]:
    kind = doc.get("kind")
    if group_of(doc) != "" or kind not in ("ConfigMap", "Secret"):
        return
    sections = ("data", "binaryData") if kind == "ConfigMap" else ("data", "stringData")
    for key in sections:
        yield from _keys(doc.get(key), key)
    if kind == "ConfigMap":
        for name in set(mapping(doc.get("data"))) & set(mapping(doc.get("binaryData"))):
            yield Violation("config-key-invalid", f"key '{name}' is in both data and "
                            "binaryData", ("binaryData", str(name)))
        return
    for name, value in mapping(doc.get("data")).items():
        if not isinstance(value, str):
            continue
        try:
            # Go decodes []byte with base64.StdEncoding, which skips only CR and LF.
            base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
        except (binascii.Error, ValueError):
            yield Violation("secret-data-not-base64", f"data key '{name}': the value is not "
                            "base64 (put plain text under stringData)", ("data", str(name)))
