"""The schemas kubeconform is given: the bundled CRD schemas and the Kubernetes schemas a run
needs, exported into a folder in the layouts its `-schema-location` templates name (`LAYOUT`,
`K8S_LAYOUT`), closed in strict mode as the embedded engine uses them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llmops_gate.validators.schema.convert import close_schema_in_place
from llmops_gate.validators.schema.store import GVK, Kubernetes, bundled_dir

LAYOUT = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
K8S_LAYOUT = "kubernetes/{{ .ResourceKind }}{{ .KindSuffix }}.json"
_DEFS_REF = '"/api/_definitions.json#'


@functools.cache
def _bundled_texts(strict: bool) -> tuple[tuple[str, str, str], ...]:
    """(group folder, file name, JSON text) of each bundled CRD schema as exported. The
    package's files do not change while it runs, so a process that starts kubeconform often
    (the `schema` command over many files) closes the schemas once."""
    out = []
    for path in sorted(bundled_dir().glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if strict:
            close_schema_in_place(data)
        out.append((path.parent.name, path.name, json.dumps(data)))
    return tuple(out)


def export_bundled(dest: Path, strict: bool) -> None:
    """The bundled CRD schemas under `dest` in the `<group>/<kind>_<version>.json` layout."""
    for group, name, text in _bundled_texts(strict):
        out = dest / group / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def inline_refs(doc: Any, defs: dict[str, Any], stack: frozenset[str] = frozenset()) -> Any:
    """`doc` with every `$ref` into `_definitions.json` replaced by the definition, except
    where a definition refers back to itself (kept as a local `$ref`).

    Why: kubeconform lists only the top-level causes of a validation error, and an error
    under a `$ref` is one cause that says "validation failed" at the referring field. With
    the definitions inlined, a field's error is a cause of its own, with its path and text.
    The `$ref`s of these schemas carry only annotations beside them (description, patch
    strategy), so dropping those keeps the meaning."""
    if isinstance(doc, dict):
        ref = doc.get("$ref")
        if isinstance(ref, str) and "#/$defs/" in ref:
            name = ref.split("#/$defs/", 1)[1]
            if name in stack or name not in defs:
                return {"$ref": "_definitions.json#/$defs/" + name}
            return inline_refs(defs[name], defs, stack | {name})
        return {k: inline_refs(v, defs, stack) for k, v in doc.items()}
    if isinstance(doc, list):
        return [inline_refs(v, defs, stack) for v in doc]
    return doc


def export_kubernetes(dest: Path, gvks: Iterable[GVK], k8s_version: str, strict: bool) -> None:
    """The Kubernetes schemas of `gvks` under `dest/kubernetes/`, their definitions inlined
    (`inline_refs`) and the `$ref`s left (recursive ones) made relative to local files."""
    k8s = Kubernetes()
    folder = dest / "kubernetes"
    for gvk in gvks:
        found = k8s.find(gvk, k8s_version, strict)
        if found is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        defs: dict[str, Any] = {}
        for _, extra in found.extra:
            defs.update(extra.get("$defs") or {})
        name = f"{gvk.kind.lower()}{gvk.kind_suffix}.json"
        schema = {k: v for k, v in found.schema.items() if k != "$id"}
        (folder / name).write_text(json.dumps(inline_refs(schema, defs)), encoding="utf-8")
        for _, doc in found.extra:
            target = folder / "_definitions.json"
            if not target.exists():
                local = {k: v for k, v in doc.items() if k != "$id"}
                target.write_text(json.dumps(local).replace(_DEFS_REF, '"_definitions.json#'),
                                  encoding="utf-8")
