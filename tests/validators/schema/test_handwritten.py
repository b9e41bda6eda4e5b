"""The schemas llmops-gate writes itself (Kustomize, Tekton Triggers, OpenShift Route).

No upstream schema file exists for these kinds (see data/NOTICE.md), so they are not covered by
the regeneration check of test_convert.py; here each one is a valid JSON Schema that accepts a
known-good document, strict or not, and a typo'd field in a Kustomization, an EventListener
and a Route is caught with its path, file and line by the `schema` command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from llmops_gate.validators.schema.convert import close_schema
from llmops_gate.validators.schema.store import bundled_dir
from tests.conftest import run_cli

MARK = "x-llmops-gate-source"

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
metadata:
  name: prod
namespace: llmops-prod
namePrefix: prod-
resources: [../../base]
components: [../../components/gpu]
labels:
  - pairs: {app.kubernetes.io/part-of: llmops}
    includeSelectors: false
    includeTemplates: true
commonAnnotations: {owner: ml-platform}
patches:
  - path: size.yaml
  - patch: |-
      - op: replace
        path: /spec/predictor/minReplicas
        value: 2
    target: {group: serving.kserve.io, kind: InferenceService, labelSelector: "a=b"}
    options: {allowNameChange: true}
images:
  - name: vllm
    newName: quay.io/org/vllm
    digest: sha256:0123
replicas: [{name: web, count: 3}]
replacements:
  - path: replacement.yaml
  - source: {kind: ConfigMap, name: cfg, fieldPath: data.host}
    targets:
      - select: {kind: Deployment}
        reject: [{name: other}]
        fieldPaths: [spec.template.spec.containers.0.env.0.value]
        options: {create: true, delimiter: ".", index: 0}
configMapGenerator:
  - name: cfg
    literals: [A=b]
    envs: [cfg.env]
    options: {disableNameSuffixHash: true, labels: {a: b}}
secretGenerator:
  - name: creds
    type: Opaque
    files: [token.txt]
    behavior: merge
generatorOptions: {immutable: true}
helmGlobals: {chartHome: charts}
helmCharts:
  - name: minecraft
    version: 3.1.3
    repo: https://example.org/charts
    releaseName: mc
    valuesInline: {minecraftServer: {eula: true}}
    includeCRDs: false
sortOptions: {order: legacy, legacySortOptions: {orderFirst: [Namespace], orderLast: []}}
buildMetadata: [originAnnotations]
configurations: [kustomizeconfig.yaml]
crds: [crd.json]
generators: [gen.yaml]
transformers: [tr.yaml]
validators: [v.yaml]
openapi: {path: schema.json}
"""

COMPONENT = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - path: gpu.yaml
    target: {kind: InferenceService}
"""

EVENT_LISTENER = """\
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata:
  name: github
spec:
  serviceAccountName: triggers
  namespaceSelector: {matchNames: [ci]}
  labelSelector: {matchLabels: {team: ml}}
  triggers:
    - name: pull-request
      interceptors:
        - name: verify
          ref: {name: github, kind: ClusterInterceptor}
          params:
            - name: secretRef
              value: {secretName: hook, secretKey: secret}
            - name: eventTypes
              value: [pull_request]
        - webhook:
            objectRef: {kind: Service, name: filter, apiVersion: v1, namespace: ci}
            header: [{name: X-Team, value: ml}]
      bindings:
        - ref: pr
        - ref: cluster-pr
          kind: ClusterTriggerBinding
        - name: static
          value: "1"
      template:
        ref: pr-run
    - triggerRef: shared
  triggerGroups:
    - name: group
      interceptors: [{ref: {name: cel}, params: [{name: filter, value: "true"}]}]
      triggerSelector: {labelSelector: {matchLabels: {a: b}}}
  resources:
    kubernetesResource:
      replicas: 2
      serviceType: ClusterIP
      servicePort: 8080
      spec:
        template:
          metadata: {labels: {a: b}}
          spec:
            nodeSelector: {gpu: "false"}
            containers: [{resources: {limits: {memory: 1Gi}}}]
"""

TRIGGER_BINDING = """\
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerBinding
metadata: {name: pr}
spec:
  params:
    - name: revision
      value: $(body.pull_request.head.sha)
"""

CLUSTER_TRIGGER_BINDING = TRIGGER_BINDING.replace("kind: TriggerBinding",
                                                  "kind: ClusterTriggerBinding")

TRIGGER_TEMPLATE = """\
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: pr-run}
spec:
  params:
    - name: revision
      description: The commit.
      default: main
  resourcetemplates:
    - apiVersion: tekton.dev/v1
      kind: PipelineRun
      metadata: {generateName: pr-}
      spec:
        pipelineRef: {name: gate}
        params: [{name: revision, value: $(tt.params.revision)}]
"""

TRIGGER = """\
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: shared, labels: {team: ml}}
spec:
  serviceAccountName: triggers
  interceptors: [{ref: {name: cel}, params: [{name: filter, value: "true"}]}]
  bindings: [{ref: pr}]
  template:
    spec:
      params: [{name: revision}]
      resourcetemplates: [{apiVersion: v1, kind: ConfigMap, metadata: {generateName: x-}}]
"""

CLUSTER_INTERCEPTOR = """\
apiVersion: triggers.tekton.dev/v1alpha1
kind: ClusterInterceptor
metadata: {name: cel}
spec:
  clientConfig:
    service: {name: tekton-triggers-core-interceptors, namespace: tekton-pipelines,
              path: cel, port: 8443}
"""

INTERCEPTOR = CLUSTER_INTERCEPTOR.replace("kind: ClusterInterceptor", "kind: Interceptor")

ROUTE = """\
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: hook}
spec:
  host: hook.apps.example.org
  path: /
  to: {kind: Service, name: el-github, weight: 100}
  alternateBackends: [{kind: Service, name: el-canary, weight: 10}]
  port: {targetPort: 8080}
  tls:
    termination: reencrypt
    insecureEdgeTerminationPolicy: Redirect
    destinationCACertificate: "-----BEGIN CERTIFICATE-----"
  wildcardPolicy: None
  httpHeaders:
    actions:
      response: [{name: X-Frame-Options, action: {type: Set, set: {value: DENY}}}]
"""

GOOD = {
    "kustomize.config.k8s.io/kustomization_v1beta1.json": KUSTOMIZATION,
    "kustomize.config.k8s.io/component_v1alpha1.json": COMPONENT,
    "triggers.tekton.dev/eventlistener_v1beta1.json": EVENT_LISTENER,
    "triggers.tekton.dev/triggerbinding_v1beta1.json": TRIGGER_BINDING,
    "triggers.tekton.dev/clustertriggerbinding_v1beta1.json": CLUSTER_TRIGGER_BINDING,
    "triggers.tekton.dev/triggertemplate_v1beta1.json": TRIGGER_TEMPLATE,
    "triggers.tekton.dev/trigger_v1beta1.json": TRIGGER,
    "triggers.tekton.dev/clusterinterceptor_v1alpha1.json": CLUSTER_INTERCEPTOR,
    "triggers.tekton.dev/interceptor_v1alpha1.json": INTERCEPTOR,
    "route.openshift.io/route_v1.json": ROUTE,
}


def hand_written() -> list[str]:
    root = bundled_dir()
    return sorted(p.relative_to(root).as_posix() for p in root.glob("*/*.json")
                  if MARK in json.loads(p.read_text(encoding="utf-8")))


def test_every_hand_written_schema_has_a_known_good_document_and_a_notice_line() -> None:
    assert hand_written() == sorted(GOOD)
    notice = (bundled_dir() / "NOTICE.md").read_text(encoding="utf-8")
    assert "written by llmops-gate from the documented API (no upstream schema file)" in notice
    for rel in GOOD:
        assert Path(rel).name in notice, rel


@pytest.mark.parametrize("rel", sorted(GOOD))
def test_hand_written_schema_is_valid_and_accepts_a_known_good_document(rel: str) -> None:
    schema: dict[str, Any] = json.loads((bundled_dir() / rel).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "documented API" in schema["$comment"]
    doc = yaml.safe_load(GOOD[rel])
    (gvk,) = schema["x-kubernetes-group-version-kind"]
    assert (doc["apiVersion"], doc["kind"]) == (f"{gvk['group']}/{gvk['version']}", gvk["kind"])
    for variant in (schema, close_schema(schema)):  # --no-strict and strict
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in jsonschema.Draft202012Validator(variant).iter_errors(doc)]
        assert errors == []
    broken = {**doc, "spec": {**(doc.get("spec") or {}), "colour": "red"}}
    if "spec" not in doc:  # a Kustomization has no spec: its fields are at the top
        broken = {**doc, "resource": ["a.yaml"]}
    assert not jsonschema.Draft202012Validator(close_schema(schema)).is_valid(broken)


MISTAKES = {
    "kustomization.yaml": (KUSTOMIZATION.replace("resources:", "resource:"),
                           "resource", 7, "did you mean 'resources'?"),
    "eventlistener.yaml": (EVENT_LISTENER.replace("      bindings:", "      binding:"),
                           "spec.triggers[0].binding", 22, "did you mean 'bindings'?"),
    "route.yaml": (ROUTE.replace("insecureEdgeTerminationPolicy", "insecureEdgeTermination"),
                   "spec.tls.insecureEdgeTermination", 12,
                   "did you mean 'insecureEdgeTerminationPolicy'?"),
}


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("handwritten")
    for name, (text, *_rest) in MISTAKES.items():
        (folder / name).write_text(text, encoding="utf-8")
    result = run_cli("schema", folder, "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    return {"folder": folder, "findings": result.json()["findings"]}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_typo_is_caught_with_path_file_line_and_hint(mistakes: dict[str, Any],
                                                     name: str) -> None:
    _text, path, line, hint = MISTAKES[name]
    found = [f for f in mistakes["findings"] if f["file"].endswith("/" + name)]
    assert [(f["rule"], f["path"], f["line"], f["hint"]) for f in found] == [
        ("unknown-field", path, line, hint)]
    assert found[0]["file"] == str(mistakes["folder"] / name)


def test_the_same_documents_without_the_typo_pass(tmp_path: Path) -> None:
    for name, text in (("kustomization.yaml", KUSTOMIZATION), ("el.yaml", EVENT_LISTENER),
                       ("route.yaml", ROUTE)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = run_cli("schema", tmp_path, "--format", "json")
    assert result.code == 0, result.stdout
    assert result.json()["summary"]["resources"] == 3


def test_kustomization_without_apiversion_is_read_as_kustomize_reads_it(tmp_path: Path) -> None:
    """Kustomize defaults `kind` and `apiVersion`; a Component is told by its `kind` alone.
    Kustomize refuses unknown fields even with --no-strict, and so does the schema."""
    (tmp_path / "kustomization.yaml").write_text("resources: [a.yaml]\nnamprefix: x-\n",
                                                 encoding="utf-8")
    comp = tmp_path / "gpu"
    comp.mkdir()
    (comp / "kustomization.yaml").write_text("kind: Component\npatches: [{path: p.yaml}]\n",
                                             encoding="utf-8")
    result = run_cli("schema", tmp_path, "--no-strict", "--format", "json")
    assert [(f["rule"], f["path"], f["line"], f["hint"]) for f in result.json()["findings"]] == [
        ("unknown-field", "namprefix", 2, "did you mean 'namePrefix'?")]
    assert result.json()["summary"]["resources"] == 2


def test_folder_walk_leaves_out_config_files_and_transformer_configurations(
        tmp_path: Path) -> None:
    """`.llmops-gate.yaml` and a kustomization's `configurations:` files are never objects;
    named on the command line they are still validated."""
    (tmp_path / ".llmops-gate.yaml").write_text("version: 1\n", encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [cm.yaml]\nconfigurations: [kustomizeconfig.yaml]\n", encoding="utf-8")
    (tmp_path / "kustomizeconfig.yaml").write_text(
        "nameReference:\n  - kind: ConfigMap\n    fieldSpecs: [{kind: X, path: spec/cm}]\n",
        encoding="utf-8")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
                                      encoding="utf-8")
    walked = run_cli("schema", tmp_path, "--format", "json")
    assert walked.code == 0, walked.stdout
    assert sorted(Path(u["path"]).name for u in walked.json()["overlays"]) == [
        "cm.yaml", "kustomization.yaml"]
    named = run_cli("schema", tmp_path / "kustomizeconfig.yaml", "--format", "json")
    assert [f["rule"] for f in named.json()["findings"]] == ["missing-kind"]
