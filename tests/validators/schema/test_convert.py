"""The CRD converter: Kubernetes extensions, strict mode, inline Tekton specs, `schemas import`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from llmops_gate.validators.schema.convert import (
    close_schema,
    convert_crd,
    link_embedded,
)
from tests.conftest import need_shared, run_cli

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size:
                  type: integer
                port:
                  x-kubernetes-int-or-string: true
                  anyOf: [{type: integer}, {type: string}]
                colour:
                  type: string
                  enum: [red, blue]
                note:
                  type: string
                  nullable: true
                extra:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
                  properties:
                    known: {type: string}
                template:
                  type: object
                  x-kubernetes-embedded-resource: true
                  properties:
                    spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
    - name: v0
      served: false
      storage: false
      schema:
        openAPIV3Schema: {type: object}
"""


def widget(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 1, **spec}}


@pytest.fixture(scope="module")
def schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    converted = convert_crd(yaml.safe_load(CRD))
    assert [(c.group, c.kind, c.version) for c in converted] == [("example.com", "Widget", "v1")]
    assert converted[0].filename == "example.com/widget_v1.json"
    loose = converted[0].schema
    return loose, close_schema(loose)


def errors(schema: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    v = jsonschema.Draft202012Validator(schema)
    return sorted(".".join(map(str, e.absolute_path)) + ":" + str(e.validator)
                  for e in v.iter_errors(doc))


def test_int_or_string_takes_both(schemas: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, strict = schemas
    assert errors(strict, widget(port=8080)) == []
    assert errors(strict, widget(port="http")) == []
    assert errors(strict, widget(port=[1])) == ["spec.port:anyOf"]


def test_types_enums_nullable_and_required(
        schemas: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, strict = schemas
    assert errors(strict, widget(size="big")) == ["spec.size:type"]
    assert errors(strict, widget(colour="green")) == ["spec.colour:enum"]
    assert errors(strict, widget(note=None)) == []
    assert errors(strict, {**widget(), "spec": {}}) == ["spec:required"]


def test_strict_closes_declared_objects_only(
        schemas: tuple[dict[str, Any], dict[str, Any]]) -> None:
    loose, strict = schemas
    assert errors(loose, widget(sise=1)) == []
    assert errors(strict, widget(sise=1)) == ["spec:additionalProperties"]
    # preserve-unknown keeps unknown fields but still checks the declared ones
    assert errors(strict, widget(extra={"anything": {"goes": 1}})) == []
    assert errors(strict, widget(extra={"known": 1})) == ["spec.extra.known:type"]
    # an embedded resource takes apiVersion, kind and metadata without the CRD listing them
    emb = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": 1}}
    assert errors(strict, widget(template=emb)) == []
    assert errors(strict, widget(template={**emb, "spek": {}})) == [
        "spec.template:additionalProperties"]


def test_metadata_is_object_meta_and_kind_is_pinned(
        schemas: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, strict = schemas
    doc = widget()
    doc["metadata"] = {"name": "w", "label": {"a": "b"}}
    assert errors(strict, doc) == ["metadata:additionalProperties"]
    assert errors(strict, {**widget(), "apiVersion": "example.com/v2"}) == ["apiVersion:enum"]


def test_close_schema_leaves_a_property_named_properties_alone() -> None:
    schema = {"type": "object", "properties": {"properties": {"type": "object",
                                                              "properties": {}}}}
    closed = close_schema(schema)
    assert set(closed["properties"]) == {"properties"}
    assert closed["additionalProperties"] is False
    assert closed["properties"]["properties"]["additionalProperties"] is False


def test_not_a_crd_is_refused() -> None:
    from llmops_gate.validators.schema.convert import ConvertError

    with pytest.raises(ConvertError):
        convert_crd({"kind": "ConfigMap"})


def test_tekton_inline_specs_use_the_task_and_pipeline_schemas() -> None:
    base = need_shared("crds", "tekton-pipelines")
    converted = []
    for name in ("300-task.yaml", "300-pipeline.yaml", "300-pipelinerun.yaml"):
        for doc in yaml.load_all((base / name).read_text(encoding="utf-8"),
                                 Loader=yaml.CSafeLoader):
            converted += convert_crd(doc)
    linked = {(c.kind, c.version): close_schema(c.schema) for c in link_embedded(converted)}
    run = linked[("PipelineRun", "v1")]
    doc = {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "r"},
           "spec": {"pipelineSpec": {"tasks": [{"name": "t", "taskSpec": {
               "steps": [{"name": "s", "image": "busybox", "scirpt": "true"}]}}]}}}
    assert errors(run, doc) == [
        "spec.pipelineSpec.tasks.0.taskSpec.steps.0:additionalProperties"]
    doc["spec"]["pipelineSpec"]["tasks"][0]["taskSpec"]["steps"][0].pop("scirpt")
    doc["spec"]["pipelineSpec"]["tasks"][0]["taskSpec"]["metadata"] = {"labels": {"a": "b"}}
    assert errors(run, doc) == []


def test_schemas_import_output_is_used_by_the_engine(tmp_path: Path) -> None:
    crd = tmp_path / "widget-crd.yaml"
    crd.write_text(CRD, encoding="utf-8")
    out = tmp_path / "schemas"
    result = run_cli("schemas", "import", crd, "--out", out)
    assert result.code == 0, result.stderr
    assert result.stdout.split() == [str(out / "example.com/widget_v1.json")]
    manifest = tmp_path / "widget.yaml"
    manifest.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
                        "spec:\n  size: 2\n  colur: red\n  colour: green\n", encoding="utf-8")
    missing = run_cli("schema", manifest, "--format", "json")
    assert missing.code == 1
    assert [f["rule"] for f in missing.json()["findings"]] == ["missing-schema"]
    found = run_cli("schema", manifest, "--schema-location", out, "--schema-location",
                    "default", "--format", "json")
    assert found.code == 1
    assert [(f["rule"], f["path"], f["line"]) for f in found.json()["findings"]] == [
        ("unknown-field", "spec.colur", 7), ("invalid-value", "spec.colour", 8)]
    assert found.json()["findings"][1]["message"] == (
        'spec.colour: "green" is not allowed (allowed values: "red", "blue")')
    # the same folder as a kubeconform-style template
    template = str(out) + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
    again = run_cli("schema", manifest, "--schema-location", template, "--format", "json")
    assert [f["path"] for f in again.json()["findings"]] == ["spec.colur", "spec.colour"]


def test_schemas_import_refuses_a_file_without_crds(tmp_path: Path) -> None:
    not_crd = tmp_path / "cm.yaml"
    not_crd.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
                       encoding="utf-8")
    result = run_cli("schemas", "import", not_crd, "--out", tmp_path / "out")
    assert result.code == 2
    assert "no CustomResourceDefinition" in result.stderr


def test_bundled_schemas_are_the_converted_shared_crds(tmp_path: Path) -> None:
    """The shipped JSON is exactly what the converter makes of ../shared/crds (regenerate with
    the command in llmops_gate/validators/schema/data/NOTICE.md). The schemas written by hand
    (no upstream schema file) are left out: see test_handwritten.py."""
    from llmops_gate.validators.schema.crds import import_crds
    from llmops_gate.validators.schema.store import bundled_dir

    crds = sorted(need_shared("crds").glob("*/*.yaml"))
    written = import_crds(crds, tmp_path)
    bundled = bundled_dir()
    shipped = sorted(p.relative_to(bundled).as_posix() for p in bundled.glob("*/*.json")
                     if '"x-llmops-gate-source"' not in p.read_text(encoding="utf-8"))
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == shipped
    for rel in shipped:
        assert (tmp_path / rel).read_bytes() == (bundled / rel).read_bytes(), rel
    notice = (bundled / "NOTICE.md").read_text(encoding="utf-8")
    for rel in shipped:
        assert Path(rel).name.split("_")[0] in notice.lower(), rel
    assert "Apache" in notice
    json.loads((bundled / shipped[0]).read_text(encoding="utf-8"))


def test_closing_leaves_its_input_open_and_closing_in_place_does_not() -> None:
    # One rule, two entry points: `close_schema` (a copy: schemas a caller keeps open) and
    # `close_schema_in_place` (a schema just read from its file, what a run validates with).
    from llmops_gate.validators.schema.convert import close_schema_in_place
    from llmops_gate.validators.schema.store import bundled_dir

    text = (bundled_dir() / "serving.kserve.io" / "inferenceservice_v1beta1.json").read_text(
        encoding="utf-8")
    schema = json.loads(text)
    closed = close_schema(schema)
    assert schema == json.loads(text)  # untouched
    assert closed != schema and '"additionalProperties": false' in json.dumps(closed)
    fresh = json.loads(text)
    assert close_schema_in_place(fresh) is fresh
    assert fresh == closed
