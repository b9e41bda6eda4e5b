"""`llmops-gate schemas import`: CustomResourceDefinitions read from files, converted
(`convert`) and written as `<group>/<kind>_<version>.json` for `--schema-location DIR`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.errors import GateError
from llmops_gate.validators.schema.convert import ConvertError, convert_crd, link_embedded
from llmops_gate.yamlio.fsutil import atomic_write


def import_crds(crds: Sequence[Path], out: Path, keep_descriptions: bool = False) -> list[Path]:
    converted = []
    for path in crds:
        try:
            docs = list(yamlio.load_all(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise GateError(f"{path}: cannot read CRD: {exc}") from exc
        found = 0
        for doc in docs:
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            try:
                converted += convert_crd(doc, keep_descriptions)
            except ConvertError as exc:
                raise GateError(f"{path}: {exc}") from exc
            found += 1
        if not found:
            raise GateError(f"{path}: no CustomResourceDefinition in this file")
    written: list[Path] = []
    for c in link_embedded(converted):
        target = out / c.filename
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, dump(c.schema))
        except OSError as exc:
            raise GateError(f"{target}: cannot write schema: {exc.strerror or exc}") from exc
        written.append(target)
    return written


def dump(schema: dict[str, Any]) -> str:
    """The stable text of a converted schema (so regenerating the bundle is a no-op)."""
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False) + "\n"
