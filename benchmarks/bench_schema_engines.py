"""jsonschema vs jsonschema-rs on the schemas llmops-gate uses: compile time, time per
document, and whether both give the same verdicts. Prints ratios; not a test.

    python benchmarks/bench_schema_engines.py [REPEAT]
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import referencing

from llmops_gate import yamlio
from llmops_gate.validators.schema.store import GVK, Bundled, Kubernetes, resolve_kubernetes_version

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "gitops-repo"


def documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(EXAMPLE.rglob("*.yaml")):
        for doc in yamlio.load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc \
                    and doc["kind"] != "Kustomization" and "spec" in doc:
                docs.append(doc)
    docs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
                 "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}},
                          "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
                              "containers": [{"name": "c", "image": "i"}]}}}})
    broken = []
    for doc in docs:  # one typo and one wrong type each
        bad = copy.deepcopy(doc)
        bad["spec"]["typo"] = 1
        broken.append(bad)
        bad = copy.deepcopy(doc)
        bad["metadata"]["labels"] = {"a": 1}
        broken.append(bad)
    return docs + broken


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    version = resolve_kubernetes_version(None)
    locations = [Bundled(), Kubernetes()]
    by_schema: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    for doc in documents():
        gvk = GVK.of(doc["apiVersion"], doc["kind"])
        found = next(f for loc in locations if (f := loc.find(gvk, version, True)))
        by_schema.setdefault(found.id, (found, []))[1].append(doc)
    print(f"{'schema':58} {'py compile+1st':>14} {'rs compile':>10} {'py/doc':>9} "
          f"{'rs/doc':>9} {'ratio':>6} verdicts")
    for sid, (found, docs) in by_schema.items():
        registry: referencing.Registry[Any] = referencing.Registry()
        for uri, extra in found.extra:
            registry = registry.with_resource(uri, referencing.Resource.from_contents(
                extra, default_specification=referencing.jsonschema.DRAFT202012))
        t = time.perf_counter()
        py = jsonschema.Draft202012Validator(found.schema, registry=registry)
        py_verdicts = [not any(True for _ in py.iter_errors(d)) for d in docs]
        py_compile = time.perf_counter() - t
        t = time.perf_counter()
        rs_registry = jsonschema_rs.Registry(list(found.extra)) if found.extra else None
        rs = (jsonschema_rs.validator_for(found.schema, registry=rs_registry)
              if rs_registry else jsonschema_rs.validator_for(found.schema))
        rs_compile = time.perf_counter() - t
        rs_verdicts = [rs.is_valid(d) for d in docs]
        t = time.perf_counter()
        for _ in range(repeat):
            for d in docs:
                list(py.iter_errors(d))
        py_doc = (time.perf_counter() - t) / (repeat * len(docs))
        t = time.perf_counter()
        for _ in range(repeat):
            for d in docs:
                rs.is_valid(d)
        rs_doc = (time.perf_counter() - t) / (repeat * len(docs))
        same = "same" if py_verdicts == rs_verdicts else f"DIFFER {py_verdicts} {rs_verdicts}"
        print(f"{sid[:58]:58} {py_compile * 1000:11.1f} ms {rs_compile * 1000:7.1f} ms "
              f"{py_doc * 1e6:6.0f} us {rs_doc * 1e6:6.1f} us {py_doc / rs_doc:5.0f}x {same}")
    print("break-even (documents per schema before jsonschema-rs wins): "
          "rs compile / (py per doc - rs per doc)")


if __name__ == "__main__":
    main()
