"""Object metadata as the API server checks it (`ValidateObjectMeta` of k8s.io/apimachinery):
names, `generateName`, the namespace, label keys and values, annotation keys and their total
size, for the object itself and for the pod templates it carries.

Each kind names its objects by one of three rules (Kubernetes "Object Names and IDs"):
most kinds by a DNS-1123 subdomain (253 characters), Namespaces by a DNS-1123 label (63),
Services by a DNS-1035 label (63, starting with a letter), and the RBAC kinds by a path segment
(anything but `.`, `..`, `/` and `%`). A Job's name is also the value of the
`batch.kubernetes.io/job-name` label of its pods, so it may not exceed 63 characters; a
CronJob's, with the suffix of its Jobs, 52.

Passing:

    metadata:
      name: qwen25-05b-instruct
      labels: {app.kubernetes.io/name: qwen25, opendatahub.io/dashboard: "true"}

Failing (`object-name-invalid`, `label-value-invalid`):

    metadata:
      name: Qwen2.5_Model
      labels: {model: qwen 2.5}
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from llmops_gate.kinds import Path, get, group_of, mapping
from llmops_gate.model import Severity
from llmops_gate.validators.admission import grammar
from llmops_gate.validators.admission.base import Rule, Scope, Violation, each, templated

K8S_NAMES = ("Kubernetes API conventions, 'Object Names and IDs' "
             "(kubernetes.io/docs/concepts/overview/working-with-objects/names); "
             "k8s.io/apimachinery/pkg/api/validation ValidateObjectMeta; all supported versions")
K8S_LABELS = ("Kubernetes 'Labels and Selectors' (syntax and character set); "
              "k8s.io/apimachinery/pkg/apis/meta/v1/validation ValidateLabels, "
              "k8s.io/apimachinery/pkg/util/validation IsQualifiedName/IsValidLabelValue; "
              "all supported versions")
K8S_ANNOTATIONS = ("Kubernetes 'Annotations' (syntax and character set); "
                   "k8s.io/apimachinery/pkg/api/validation ValidateAnnotations "
                   "(TotalAnnotationSizeLimitB = 256 KiB); all supported versions")

RULES = (
    Rule("object-name-invalid", Severity.ERROR,
         "metadata.name is present and valid for the kind (DNS-1123 subdomain, DNS-1123 label, "
         "DNS-1035 label or path segment, and its length).",
         "the API server rejects the object; ArgoCD shows 'one or more objects failed to "
         "apply' after the merge",
         "rename it: lower case letters, digits and '-' (and '.' where the kind allows it)",
         K8S_NAMES),
    Rule("generate-name-invalid", Severity.ERROR,
         "metadata.generateName is a valid prefix of a name of the kind.",
         "the API server rejects the object", "use lower case letters, digits and '-'",
         K8S_NAMES),
    Rule("namespace-invalid", Severity.ERROR,
         "metadata.namespace is a DNS-1123 label.",
         "no namespace can have that name: the API server rejects the object",
         "use lower case letters, digits and '-', at most 63 characters", K8S_NAMES),
    Rule("label-key-invalid", Severity.ERROR,
         "Label keys are [prefix/]name: a DNS-1123 subdomain prefix (253) and a name of at "
         "most 63 alphanumerics, '-', '_', '.'.",
         "the API server rejects the object", "fix the label key", K8S_LABELS),
    Rule("label-value-invalid", Severity.ERROR,
         "Label values are empty or at most 63 alphanumerics, '-', '_', '.', starting and "
         "ending with an alphanumeric.",
         "the API server rejects the object (a space, a ':' or a '/' is not allowed)",
         "fix the value; put free text in an annotation instead", K8S_LABELS),
    Rule("annotation-key-invalid", Severity.ERROR,
         "Annotation keys are [prefix/]name like label keys (compared in lower case).",
         "the API server rejects the object", "fix the annotation key", K8S_ANNOTATIONS),
    Rule("annotations-too-large", Severity.ERROR,
         "The annotations of one object total at most 256 KiB (keys and values).",
         "the API server rejects the object; `kubectl apply` also copies the whole object "
         "into an annotation, so big objects fail there first",
         "move large content into a ConfigMap, or sync with ServerSideApply=true",
         K8S_ANNOTATIONS),
)

NameCheck = Callable[[str], list[str]]

LABEL_KINDS = {"Namespace"}
DNS1035_KINDS = {"Service"}
PATH_SEGMENT_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
# Objects that are not sent to an API server.
NOT_API_GROUPS = {"kustomize.config.k8s.io", "config.kubernetes.io"}


def name_check(kind: str, group: str) -> NameCheck:
    if kind in LABEL_KINDS and group == "":
        return grammar.dns1123_label
    if kind in DNS1035_KINDS and group == "":
        return grammar.dns1035_label
    if kind in PATH_SEGMENT_KINDS and group == "rbac.authorization.k8s.io":
        return grammar.path_segment
    return grammar.dns1123_subdomain


def _mask_trailing_dash(prefix: str) -> str:
    # As the API server checks a generateName: the random suffix follows the dash.
    return prefix[:-1] + "a" if prefix.endswith("-") and len(prefix) > 1 else prefix


def _names(doc: Mapping[str, Any]) -> Iterator[Violation]:
    kind, group = str(doc.get("kind") or ""), group_of(doc)
    meta = mapping(doc.get("metadata"))
    check = name_check(kind, group)
    name, generate = meta.get("name"), meta.get("generateName")
    if isinstance(name, str) and templated(name):
        pass
    elif isinstance(name, str) and name:
        yield from each(check(name), "object-name-invalid", ("metadata", "name"),
                        f"{kind} name '{name}'")
        limit = {"Job": 63, "CronJob": 52}.get(kind) if group == "batch" else None
        manual = get(doc, "spec", "manualSelector") is True
        if limit is not None and len(name) > limit and not (kind == "Job" and manual):
            yield Violation("object-name-invalid",
                            f"{kind} name '{name}': must be no more than {limit} characters "
                            "(it becomes a label value of its pods)", ("metadata", "name"))
    elif isinstance(generate, str) and generate and not templated(generate):
        yield from each(check(_mask_trailing_dash(generate)), "generate-name-invalid",
                        ("metadata", "generateName"), f"{kind} generateName '{generate}'")
    elif name is None and generate is None:
        yield Violation("object-name-invalid",
                        f"{kind} has no metadata.name: name or generateName is required",
                        ("metadata",) if "metadata" in doc else ())
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace:
        yield from each(grammar.dns1123_label(namespace), "namespace-invalid",
                        ("metadata", "namespace"), f"namespace '{namespace}'")


def label_violations(value: Any, path: Path) -> Iterator[Violation]:
    """Label keys and values of a `labels:` mapping (or a selector's matchLabels)."""
    for key, val in mapping(value).items():
        key = str(key)
        yield from each(grammar.qualified_name(key), "label-key-invalid", (*path, key),
                        f"label key '{key}'")
        if isinstance(val, str) and not templated(val):
            yield from each(grammar.label_value(val), "label-value-invalid", (*path, key),
                            f"label {key}: value '{val}'")


def annotation_violations(value: Any, path: Path) -> Iterator[Violation]:
    total = 0
    for key, val in mapping(value).items():
        key = str(key)
        yield from each(grammar.qualified_name(key.lower()), "annotation-key-invalid",
                        (*path, key), f"annotation key '{key}'")
        total += len(key.encode()) + len(str(val if val is not None else "").encode())
    if total > 256 * 1024:
        yield Violation("annotations-too-large",
                        f"annotations total {total} bytes: must have at most 262144 bytes", path)


def object_meta(meta: Any, path: Path) -> Iterator[Violation]:
    """Labels and annotations of one ObjectMeta (an object's, or a pod template's)."""
    meta = mapping(meta)
    yield from label_violations(meta.get("labels"), (*path, "labels"))
    yield from annotation_violations(meta.get("annotations"), (*path, "annotations"))


# Where kinds carry pod templates (their metadata is an ObjectMeta the API server validates).
TEMPLATE_METADATA: dict[str, tuple[Path, ...]] = {
    "Deployment": (("spec", "template", "metadata"),),
    "StatefulSet": (("spec", "template", "metadata"),),
    "DaemonSet": (("spec", "template", "metadata"),),
    "ReplicaSet": (("spec", "template", "metadata"),),
    "ReplicationController": (("spec", "template", "metadata"),),
    "Job": (("spec", "template", "metadata"),),
    "CronJob": (("spec", "jobTemplate", "metadata"),
                ("spec", "jobTemplate", "spec", "template", "metadata")),
    "PodTemplate": (("template", "metadata"),),
}


def check(doc: Mapping[str, Any], scope: Scope) -> Iterator[Violation]:
    if group_of(doc) in NOT_API_GROUPS:
        return
    yield from _names(doc)
    yield from object_meta(doc.get("metadata"), ("metadata",))
    for path in TEMPLATE_METADATA.get(str(doc.get("kind")), ()):
        template = get(doc, *path)
        if template is not None:
            yield from object_meta(template, path)
