"""Synthetic GitOps repos in the example's shape, for benchmarks and tests.

N models x 3 environments (dev, staging, production):

    common/runtime/                 shared base: the vLLM ServingRuntime, nameReference config
    components/gpu/                 a Component (GPU tolerations) used by staging and production
    models/<m>/base/                InferenceService, ConfigMap, the shared runtime base
    models/<m>/overlays/<env>/      namespace, namePrefix, a JSON6902 patch and a size patch
    argocd-apps/<m>-<env>.yaml      one ArgoCD Application per model and environment
    .llmops-gate.yaml               the three environments, overlays by glob

`--shape small` writes the other shape the issue-15 figures were measured on: small bases (an
InferenceService and its ServingRuntime, no shared base, no component) and only JSON6902
patches per environment (replicas and resources), with namespace and namePrefix.

`plant_defects` puts one defect in each environment (a build error in dev, a YAML duplicate
key in staging, a YAML syntax error in a production patch), each in a different model.

Usage: python benchmarks/generate.py DEST --models N [--defects] [--shape small]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

ENVS = ("dev", "staging", "production")
NAMESPACES = {"dev": "llmops-dev", "staging": "llmops-staging", "production": "llmops-prod"}
PREFIXES = {"dev": "dev-", "staging": "staging-", "production": "prod-"}
SIZES = {  # replicas (min, max), cpu (request, limit), memory (request, limit)
    "dev": ((1, 1), ("500m", "2"), ("4Gi", "6Gi")),
    "staging": ((1, 2), ("1", "3"), ("6Gi", "8Gi")),
    "production": ((2, 3), ("2", "4"), ("8Gi", "12Gi")),
}
FAMILIES = ("qwen25-05b-instruct", "granite-31-2b", "llama-32-1b", "mistral-7b-v03",
            "phi-35-mini", "gemma-2-2b")

CONFIG = """\
version: 1
environments:
  - name: dev
    overlay: models/*/overlays/dev
    namespace: llmops-dev
    prefix: dev-
  - name: staging
    overlay: models/*/overlays/staging
    namespace: llmops-staging
    prefix: staging-
  - name: production
    overlay: models/*/overlays/production
    namespace: llmops-prod
    prefix: prod-
"""

RUNTIME_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - servingruntime.yaml
configurations:
  - kustomizeconfig.yaml
"""

IMAGE = ("registry.redhat.io/rhaii/vllm-cuda-rhel9@sha256:"
         "5800e12b2a465f15961fcf34b645d79ed4f91ec9161eab22b1205d12682183c8")

RUNTIME = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata:
  name: vllm
  labels:
    opendatahub.io/dashboard: "true"
  annotations:
    opendatahub.io/apiProtocol: REST
    opendatahub.io/template-name: vllm-runtime
spec:
  annotations:
    prometheus.io/path: /metrics
    prometheus.io/port: "8080"
  multiModel: false
  supportedModelFormats:
    - name: vLLM
      autoSelect: true
  containers:
    - name: kserve-container
      image: IMAGE
      command:
        - python
        - -m
        - vllm.entrypoints.openai.api_server
      args:
        - --port=8080
        - --model=/mnt/models
        - --served-model-name={{.Name}}
      env:
        - name: HF_HOME
          value: /tmp/hf_home
      ports:
        - containerPort: 8080
          protocol: TCP
"""

RUNTIME_CONFIG = """\
nameReference:
  - kind: ServingRuntime
    fieldSpecs:
      - kind: InferenceService
        path: spec/predictor/model/runtime
"""

COMPONENT = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - path: gpu.yaml
    target:
      kind: InferenceService
"""

COMPONENT_PATCH = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: any
spec:
  predictor:
    tolerations:
      - key: nvidia.com/gpu
        operator: Exists
        effect: NoSchedule
"""


def model_names(count: int) -> list[str]:
    return [f"{FAMILIES[i % len(FAMILIES)]}-{i:03d}" for i in range(count)]


def _base(name: str, index: int) -> dict[str, str]:
    return {
        "kustomization.yaml": f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: {name}-
resources:
  - ../../../common/runtime
  - inferenceservice.yaml
  - configmap.yaml
""",
        "inferenceservice.yaml": f"""\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: predictor
  labels:
    opendatahub.io/dashboard: "true"
    app.kubernetes.io/name: {name}
  annotations:
    openshift.io/display-name: {name}
    serving.kserve.io/deploymentMode: Standard
spec:
  predictor:
    minReplicas: 1
    maxReplicas: 1
    model:
      modelFormat:
        name: vLLM
      runtime: vllm
      storageUri: oci://quay.io/example/modelcar-catalog:{name}
      resources:
        requests:
          cpu: "1"
          memory: 4Gi
          nvidia.com/gpu: "1"
        limits:
          cpu: "2"
          memory: 6Gi
          nvidia.com/gpu: "1"
""",
        "configmap.yaml": f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  MAX_MODEL_LEN: "{4096 * (1 + index % 8)}"
  MODEL_NAME: {name}
""",
    }


def _overlay(env: str) -> dict[str, str]:
    (rmin, rmax), (cpu_req, cpu_lim), (mem_req, mem_lim) = SIZES[env]
    component = "components:\n  - ../../../../components/gpu\n" if env != "dev" else ""
    return {
        "kustomization.yaml": f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {NAMESPACES[env]}
namePrefix: {PREFIXES[env]}
resources:
  - ../../base
{component}patches:
  - path: size.yaml
  - path: replicas.yaml
    target:
      group: serving.kserve.io
      version: v1beta1
      kind: InferenceService
""",
        "replicas.yaml": f"""\
- op: replace
  path: /spec/predictor/minReplicas
  value: {rmin}
- op: replace
  path: /spec/predictor/maxReplicas
  value: {rmax}
""",
        "size.yaml": f"""\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: predictor
  annotations:
    openshift.io/display-name: {env}
spec:
  predictor:
    model:
      resources:
        requests:
          cpu: "{cpu_req}"
          memory: {mem_req}
        limits:
          cpu: "{cpu_lim}"
          memory: {mem_lim}
""",
    }


def _small_base(name: str, index: int) -> dict[str, str]:
    base = _base(name, index)
    isvc = base["inferenceservice.yaml"].replace("    model:\n", """\
    tolerations:
      - key: nvidia.com/gpu
        operator: Exists
        effect: NoSchedule
    model:
""", 1)
    return {
        "kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - servingruntime.yaml
  - inferenceservice.yaml
configurations:
  - kustomizeconfig.yaml
""",
        # Named after the model: every overlay of an environment renders its own objects (one
        # runtime name for all would be the same object id in every overlay).
        "servingruntime.yaml": RUNTIME.replace("IMAGE", IMAGE).replace(
            "  name: vllm\n", f"  name: {name}-vllm\n", 1),
        "kustomizeconfig.yaml": RUNTIME_CONFIG,
        "inferenceservice.yaml": isvc.replace("  name: predictor\n", f"  name: {name}\n", 1)
        .replace("runtime: vllm\n", f"runtime: {name}-vllm\n", 1),
    }


def _small_overlay(env: str) -> dict[str, str]:
    _, (cpu_req, cpu_lim), (mem_req, mem_lim) = SIZES[env]
    target = "    target:\n      group: serving.kserve.io\n      version: v1beta1\n" \
             "      kind: InferenceService\n"
    resources = "/spec/predictor/model/resources"
    return {
        "kustomization.yaml": f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {NAMESPACES[env]}
namePrefix: {PREFIXES[env]}
resources:
  - ../../base
patches:
  - path: replicas.yaml
{target}  - path: size.yaml
{target}""",
        "replicas.yaml": _overlay(env)["replicas.yaml"],
        "size.yaml": f"""\
- op: replace
  path: {resources}/requests/cpu
  value: "{cpu_req}"
- op: replace
  path: {resources}/requests/memory
  value: {mem_req}
- op: replace
  path: {resources}/limits/cpu
  value: "{cpu_lim}"
- op: replace
  path: {resources}/limits/memory
  value: {mem_lim}
""",
    }


def _application(name: str, env: str) -> str:
    automated = ("    automated:\n      prune: true\n      selfHeal: true\n"
                 if env == "dev" else "")
    return f"""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}-{env}
  namespace: openshift-gitops
  labels:
    environment: {env}
spec:
  project: default
  source:
    repoURL: https://github.com/example-org/llmops-gitops.git
    targetRevision: main
    path: models/{name}/overlays/{env}
  destination:
    server: https://kubernetes.default.svc
    namespace: {NAMESPACES[env]}
  syncPolicy:
{automated}    syncOptions:
      - CreateNamespace=true
"""


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


SHAPES = ("example", "small")


def generate(dest: Path, models: int, defects: bool = False, shape: str = "example") -> Path:
    """Write a repo with `models` models into `dest` (replaced if it exists)."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r} (known: {', '.join(SHAPES)})")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    _write(dest, ".llmops-gate.yaml", CONFIG)
    small = shape == "small"
    if not small:
        _write(dest, "common/runtime/kustomization.yaml", RUNTIME_KUSTOMIZATION)
        _write(dest, "common/runtime/servingruntime.yaml", RUNTIME.replace("IMAGE", IMAGE))
        _write(dest, "common/runtime/kustomizeconfig.yaml", RUNTIME_CONFIG)
        _write(dest, "components/gpu/kustomization.yaml", COMPONENT)
        _write(dest, "components/gpu/gpu.yaml", COMPONENT_PATCH)
    for i, name in enumerate(model_names(models)):
        for rel, text in (_small_base if small else _base)(name, i).items():
            _write(dest, f"models/{name}/base/{rel}", text)
        for env in ENVS:
            for rel, text in (_small_overlay if small else _overlay)(env).items():
                _write(dest, f"models/{name}/overlays/{env}/{rel}", text)
            _write(dest, f"argocd-apps/{name}-{env}.yaml", _application(name, env))
    if defects:
        plant_defects(dest)
    return dest


def plant_defects(root: Path) -> dict[str, str]:
    """One defect per environment, each in a different model (cycling when there are fewer);
    returns environment -> the file changed."""
    names = sorted(p.name for p in (root / "models").iterdir())
    planted: dict[str, str] = {}
    # dev: a JSON6902 patch that replaces a field that does not exist -> build error.
    dev = f"models/{names[0]}/overlays/dev/replicas.yaml"
    _write(root, dev, "- op: replace\n  path: /spec/predictor/nosuchfield/x\n  value: 1\n")
    planted["dev"] = dev
    # staging: a duplicate key the cluster would silently resolve -> lint error.
    staging = f"models/{names[1 % len(names)]}/overlays/staging/size.yaml"
    text = (root / staging).read_text(encoding="utf-8")
    _write(root, staging, text.replace("  name: predictor\n",
                                       "  name: predictor\n  name: predictor\n", 1)
           if "  name: predictor\n" in text
           else text.replace("  value:", "  value: 1\n  value:", 1))
    planted["staging"] = staging
    # production: a YAML syntax error in a patch -> build and lint errors.
    production = f"models/{names[2 % len(names)]}/overlays/production/size.yaml"
    text = (root / production).read_text(encoding="utf-8")
    _write(root, production, text.replace("    model:\n", "    model: [\n", 1)
           if "    model:\n" in text else text.replace("  value: ", "  value: [", 1))
    planted["production"] = production
    return planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--defects", action="store_true")
    parser.add_argument("--shape", choices=SHAPES, default="example")
    args = parser.parse_args()
    generate(args.dest, args.models, args.defects, args.shape)
    print(f"{args.dest}: {args.models} models x {len(ENVS)} environments")


if __name__ == "__main__":
    main()
