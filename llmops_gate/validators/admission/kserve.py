"""What KServe's admission webhooks (and its controller, before any pod exists) refuse in an
InferenceService or a ServingRuntime, learnt from KServe's `inference_service_validation.go`,
`component.go`, `predictor.go` and `servingruntime_webhook.go` (v1beta1 / v1alpha1 APIs, as in
the bundled v0.20 CRDs):

- the InferenceService name is a DNS-1035 label: `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63;
  its predictor's host name `<name>-predictor-<namespace>` must also fit in one 63-character
  DNS label, or the controller cannot create the route (a warning: the domain template can
  differ);
- a predictor (transformer, explainer) has exactly one implementation: one of `model:`,
  `sklearn:`, ... or a custom `containers:` list; a framework implementation has no `name:`;
- `minReplicas` and `maxReplicas` are not negative and min <= max (when max is set);
- the `serving.kserve.io/autoscalerClass` annotation is hpa, keda, external or none, and the
  scale metric fits the autoscaler: HPA (Standard mode) takes cpu or memory (a cpu target is a
  1-100 percentage), KEDA takes no `scaleMetric`, Knative's KPA takes concurrency or rps;
- a `storageUri` uses a scheme KServe's storage initializer supports (gs, s3, pvc, file, http,
  https, hdfs, webhdfs, oci, hf) or is a local path, and is not combined with `storageUris`;
- a ServingRuntime lists `supportedModelFormats` (an InferenceService can select it only by a
  format it lists), and one format has one priority within a runtime.

Passing:

    metadata: {name: qwen25-05b-instruct}
    spec: {predictor: {minReplicas: 1, maxReplicas: 2,
                       model: {modelFormat: {name: vLLM}, storageUri: "oci://quay.io/m:1"}}}

Failing (`kserve-isvc-name`, `kserve-replicas`, `kserve-storage-uri`):

    metadata: {name: 2-qwen.25}
    spec: {predictor: {minReplicas: 3, maxReplicas: 2, model: {storageUri: "ftp://host/m"}}}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from llmops_gate.kinds import KSERVE, RUNTIME_KINDS, Path, get, group_of, items, mapping
from llmops_gate.model import Severity
from llmops_gate.validators.admission.base import Rule, Scope, Violation
from llmops_gate.validators.admission.podspec import IMPLEMENTATIONS

ISVC_SOURCE = ("KServe InferenceService validating webhook, pkg/apis/serving/v1beta1/"
               "inference_service_validation.go and component.go; KServe v0.7+ "
               "(v1beta1), as bundled: v0.20")

RULES = (
    Rule("kserve-isvc-name", Severity.ERROR,
         "An InferenceService name is a DNS-1035 label: a lower case letter first, then lower "
         "case letters, digits and '-', at most 63 characters.",
         "KServe's webhook rejects it ('a InferenceService name must consist of lower case "
         "alphanumeric characters or '-', and must start with alphabetical character')",
         "rename it, e.g. qwen25-05b-instruct (no dots, no leading digit)",
         f"{ISVC_SOURCE} (validateInferenceServiceName, IsvcNameFmt)"),
    Rule("kserve-isvc-host-too-long", Severity.WARNING,
         "<name>-predictor-<namespace> fits in one 63-character DNS label (KServe's default "
         "domain template).",
         "the controller cannot build the predictor's host name and the InferenceService "
         "never becomes Ready (kserve/kserve issue 4807)",
         "shorten the InferenceService name or the namespace",
         "KServe controller, ingress domain template {{.Name}}-{{.Namespace}}.{{.IngressDomain}}"
         "; reported in kserve/kserve issues 4807 and 1377"),
    Rule("kserve-one-implementation", Severity.ERROR,
         "A predictor (transformer, explainer) has exactly one implementation (model:, "
         "sklearn:, ..., or custom containers), and a framework implementation has no name.",
         "KServe's webhook rejects it: 'exactly one of [...] must be specified in "
         "PredictorSpec'",
         "keep one of model: / sklearn: / ... / containers: (a custom container is named "
         "kserve-container)",
         f"{ISVC_SOURCE} (validateExactlyOneImplementation, validatePredictor); "
         "predictor.go GetImplementations"),
    Rule("kserve-replicas", Severity.ERROR,
         "minReplicas and maxReplicas are not negative and minReplicas <= maxReplicas (when "
         "maxReplicas is set).",
         "KServe's webhook rejects it: \"'MinReplicas' cannot be greater than MaxReplicas\"",
         "raise maxReplicas or lower minReplicas", f"{ISVC_SOURCE} (validateReplicas)"),
    Rule("kserve-autoscaler", Severity.ERROR,
         "The autoscalerClass annotation is hpa, keda, external or none, and scaleMetric / "
         "scaleTarget fit the autoscaler (HPA: cpu or memory, cpu target 1-100; KEDA: no "
         "scaleMetric; KPA: concurrency or rps).",
         "KServe's webhook rejects it ('[x] is not a supported metric', 'ScaleMetric is not "
         "supported for KEDA')",
         "pick a metric the autoscaler supports, or change the autoscaler class",
         f"{ISVC_SOURCE} (validateInferenceServiceAutoscaler, "
         "validateAutoScalingCompExtension); pkg/constants AutoscalerAllowedClassList"),
    Rule("kserve-storage-uri", Severity.ERROR,
         "storageUri uses a scheme KServe supports (gs, s3, pvc, file, http, https, hdfs, "
         "webhdfs, oci, hf) or is a local path, and is not set together with storageUris.",
         "the storage initializer cannot fetch the model: 'storageUri, must be one of: [...]'",
         "use a supported scheme (s3://, oci://, pvc://, hf://, ...); a scheme of your own "
         "needs a ClusterStorageContainer that declares it",
         "KServe storage initializer and controller (SupportedStorageURIPrefixList, "
         "InvalidStorageUriConfigError in inference_service_validation.go); hf:// since "
         "v0.14, oci:// since v0.12"),
    Rule("kserve-runtime-model-formats", Severity.ERROR,
         "A ServingRuntime lists supportedModelFormats, and gives one model format a single "
         "priority.",
         "no InferenceService can select a runtime without formats ('specified runtime does "
         "not support specified framework/version'); KServe's webhook rejects 'different "
         "priorities assigned for the model format'",
         "list the model formats the runtime serves (e.g. - name: vLLM)",
         "KServe ServingRuntime webhook pkg/webhook/admission/servingruntime/"
         "servingruntime_webhook.go (validateModelFormatPrioritySame); KServe runtime "
         "selection (RuntimeSupportsModel); v0.8+"),
)

ISVC_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
STORAGE_SCHEMES = ("gs", "s3", "pvc", "file", "https", "http", "hdfs", "webhdfs", "oci", "hf")
AUTOSCALER_CLASSES = ("hpa", "external", "keda", "none")
HPA_METRICS = ("cpu", "memory")
KPA_METRICS = ("concurrency", "rps")
DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"
AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"
KNATIVE_CLASS = "autoscaling.knative.dev/class"
KNATIVE_HPA = "hpa.autoscaling.knative.dev"
STANDARD_MODES = ("Standard", "RawDeployment")
SERVERLESS_MODES = ("Serverless", "Knative")
FRAMEWORKS = tuple(i for i in IMPLEMENTATIONS if i not in ("art", "alibi"))


def _name(doc: Mapping[str, Any]) -> Iterator[Violation]:
    name = get(doc, "metadata", "name")
    if not isinstance(name, str) or not name:
        return
    path: Path = ("metadata", "name")
    if not ISVC_NAME.fullmatch(name):
        yield Violation("kserve-isvc-name", f"InferenceService name '{name}': must consist of "
                        "lower case alphanumeric characters or '-', and must start with an "
                        "alphabetic character (regex [a-z]([-a-z0-9]*[a-z0-9])?)", path)
    if len(name) > 63:
        yield Violation("kserve-isvc-name", f"InferenceService name '{name}': must be no more "
                        "than 63 characters", path)
    namespace = get(doc, "metadata", "namespace")
    if isinstance(namespace, str) and namespace and len(name) <= 63:
        host = f"{name}-predictor-{namespace}"
        if len(host) > 63:
            yield Violation("kserve-isvc-host-too-long", f"the predictor's host label '{host}' "
                            f"is {len(host)} characters: DNS labels are at most 63", path)


def _custom_is_implementation(spec: Mapping[str, Any], others: int) -> bool:
    # As KServe's GetImplementations: a container named kserve-container is one more
    # implementation; without framework implementations, the first container is the predictor.
    conts = [c for _, c in items(spec.get("containers"))]
    if not conts:
        return False
    return any(c.get("name") == "kserve-container" for c in conts) or others == 0


def _implementations(doc: Mapping[str, Any]) -> Iterator[Violation]:
    for component, allowed in (("predictor", FRAMEWORKS), ("transformer", ()),
                               ("explainer", ("art", "alibi"))):
        spec = get(doc, "spec", component)
        if not isinstance(spec, Mapping):
            continue
        # in the order they are written, so the finding points at the extra one
        present = [k for k in spec if k in allowed and isinstance(spec.get(k), Mapping)]
        found = [*present, *(["containers"] if _custom_is_implementation(spec, len(present))
                             else [])]
        path: Path = ("spec", component)
        if len(found) != 1:
            choices = ", ".join([*allowed, "containers"])
            what = "none" if not found else ", ".join(found)
            yield Violation("kserve-one-implementation", f"{component}: exactly one of "
                            f"[{choices}] must be specified (found {what})",
                            (*path, found[1]) if len(found) > 1 else path)
        for impl in present:
            if component == "predictor" and get(spec, impl, "name"):
                yield Violation("kserve-one-implementation", f"predictor.{impl}: the 'name' "
                                "field is not allowed in standard predictor",
                                (*path, impl, "name"))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _replicas(doc: Mapping[str, Any]) -> Iterator[Violation]:
    for component in ("predictor", "transformer", "explainer"):
        spec = get(doc, "spec", component)
        if not isinstance(spec, Mapping):
            continue
        low, high = _int(spec.get("minReplicas")), _int(spec.get("maxReplicas"))
        path: Path = ("spec", component)
        if low is not None and low < 0:
            yield Violation("kserve-replicas", f"{component}: 'MinReplicas' cannot be less than "
                            "0", (*path, "minReplicas"))
        if high is not None and high < 0:
            yield Violation("kserve-replicas", f"{component}: 'MaxReplicas' cannot be less than "
                            "0", (*path, "maxReplicas"))
        effective = 1 if low is None else low
        if high is not None and high != 0 and effective > high:
            yield Violation("kserve-replicas", f"{component}: minReplicas {effective} cannot "
                            f"be greater than maxReplicas {high}",
                            (*path, "minReplicas" if low is not None else "maxReplicas"))


def _autoscaler(doc: Mapping[str, Any]) -> Iterator[Violation]:
    ann = mapping(get(doc, "metadata", "annotations"))
    cls = ann.get(AUTOSCALER_CLASS)
    if cls is not None and cls not in AUTOSCALER_CLASSES:
        yield Violation("kserve-autoscaler", f"[{cls}] is not a supported autoscaler class "
                        f"type (supported: {', '.join(AUTOSCALER_CLASSES)})",
                        ("metadata", "annotations", AUTOSCALER_CLASS))
        return
    mode = ann.get(DEPLOYMENT_MODE)
    for component in ("predictor", "transformer", "explainer"):
        spec = get(doc, "spec", component)
        if not isinstance(spec, Mapping):
            continue
        path: Path = ("spec", component)
        metric, target = spec.get("scaleMetric"), _int(spec.get("scaleTarget"))
        if mode in STANDARD_MODES:
            if cls in (None, "hpa"):  # KServe's default class is hpa
                if metric is not None and metric not in HPA_METRICS:
                    yield Violation("kserve-autoscaler", f"{component}: [{metric}] is not a "
                                    "supported metric for hpa (cpu, memory)",
                                    (*path, "scaleMetric"))
                if (metric in (None, "cpu")) and target is not None and not 1 <= target <= 100:
                    yield Violation("kserve-autoscaler", f"{component}: the target utilization "
                                    "percentage should be a [1-100] integer",
                                    (*path, "scaleTarget"))
            elif cls == "keda" and metric is not None:
                yield Violation("kserve-autoscaler", f"{component}: ScaleMetric is not "
                                "supported for KEDA", (*path, "scaleMetric"))
        elif mode in SERVERLESS_MODES:
            kpa = ann.get(KNATIVE_CLASS) != KNATIVE_HPA
            allowed = KPA_METRICS if kpa else HPA_METRICS
            if metric is not None and metric not in allowed:
                yield Violation("kserve-autoscaler", f"{component}: [{metric}] is not a "
                                f"supported metric for {'kpa' if kpa else 'hpa'} "
                                f"({', '.join(allowed)})", (*path, "scaleMetric"))
            if kpa and spec.get("deploymentStrategy") is not None:
                yield Violation("kserve-autoscaler", f"{component}: customizing "
                                "deploymentStrategy is only supported for raw deployment mode",
                                (*path, "deploymentStrategy"))


def _storage(doc: Mapping[str, Any]) -> Iterator[Violation]:
    for component in ("predictor", "transformer", "explainer"):
        spec = get(doc, "spec", component)
        if not isinstance(spec, Mapping):
            continue
        uris: list[tuple[Path, Any]] = [
            (("spec", component, impl, "storageUri"), get(spec, impl, "storageUri"))
            for impl in IMPLEMENTATIONS if isinstance(spec.get(impl), Mapping)]
        for path, uri in uris:
            if uri is not None and spec.get("storageUris") is not None:
                yield Violation("kserve-storage-uri", f"{component}: setting both storageUri "
                                "and storageUris is not supported", path)
        uris += [(("spec", component, "storageUris", i, "uri"), item.get("uri"))
                 for i, item in items(spec.get("storageUris"))]
        for path, uri in uris:
            if not isinstance(uri, str) or "://" not in uri:
                continue  # a local path, or not written
            scheme = uri.split("://", 1)[0]
            if scheme not in STORAGE_SCHEMES:
                yield Violation("kserve-storage-uri", f"storageUri '{uri}': scheme '{scheme}' "
                                "is not supported (one of "
                                f"{', '.join(s + '://' for s in STORAGE_SCHEMES)})", path)


def _runtime(doc: Mapping[str, Any]) -> Iterator[Violation]:
    formats = get(doc, "spec", "supportedModelFormats")
    if not isinstance(formats, list) or not formats:
        yield Violation("kserve-runtime-model-formats", f"{doc.get('kind')} lists no "
                        "supportedModelFormats: no InferenceService can use it",
                        ("spec", "supportedModelFormats")
                        if formats is not None else ("spec",))
        return
    priorities: dict[str, Any] = {}
    for i, fmt in items(formats):
        name, priority = fmt.get("name"), fmt.get("priority")
        if fmt.get("autoSelect") is not True or not isinstance(name, str):
            continue
        if name in priorities and priority is not None and priorities[name] is not None \
                and priorities[name] != priority:
            yield Violation("kserve-runtime-model-formats", "different priorities assigned "
                            f"for the model format {name}",
                            ("spec", "supportedModelFormats", i, "priority"))
        priorities.setdefault(name, priority)


def check(doc: Mapping[str, Any], scope: Scope) -> Iterator[Violation]:
    if group_of(doc) != KSERVE:
        return
    kind = doc.get("kind")
    if kind == "InferenceService":
        yield from _name(doc)
        yield from _implementations(doc)
        yield from _replicas(doc)
        yield from _autoscaler(doc)
        yield from _storage(doc)
    elif kind in RUNTIME_KINDS:
        yield from _runtime(doc)
