"""Running the policy validator on small in-memory repos, without Kustomize.

`run_policy` writes the given files into a temporary repo, turns every YAML document of every
file under `overlay/` into a resource of one overlay unit (as Kustomize would have rendered it:
the file is its origin) and every file under `argocd-apps/` into a manifest unit, then runs the
policy validator on that Context. Rules see exactly what they would after a build; tests that
need Kustomize's patches go through the CLI instead.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path

from llmops_gate import yamlio
from llmops_gate.config import environment_from_folder, load_config
from llmops_gate.model import Finding, Resource, Severity, Unit, UnitResult
from llmops_gate.repo.discover import scan_repo
from llmops_gate.validators.context import Context
from llmops_gate.validators.policy import check
from llmops_gate.yamlio.sourcemap import SourceMap

Where = tuple[str, str, int | None]


def write(repo: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def run_policy(repo: Path, files: Mapping[str, str], config: str | None = None,
               overlays: Mapping[str, str | None] | None = None) -> list[Finding]:
    """Policy findings for `files`; `overlays` maps overlay folder -> environment (default: the
    folder `overlays/<env>` of every file's environment, from its folder name)."""
    write(repo, files)
    if config is not None:
        write(repo, {".llmops-gate.yaml": config})
    cfg = load_config(repo)
    scan = scan_repo(repo, cfg)
    sources = SourceMap(repo)
    results: dict[str, UnitResult] = {}
    for rel in sorted(files):
        if not rel.endswith((".yaml", ".yml")) or rel.endswith("kustomization.yaml"):
            continue
        if rel.startswith("argocd-apps/"):
            unit = Unit(path=rel, kind="manifest",
                        environment=environment_from_folder(Path(rel).stem.split("-")[0]))
        else:
            folder = str(Path(rel).parent)
            env = (overlays or {}).get(folder, environment_from_folder(folder))
            unit = Unit(path=folder, kind="overlay", environment=env)
        result = results.setdefault(unit.path, UnitResult(unit=unit))
        docs = [d for d in yamlio.load_all((repo / rel).read_text()) if isinstance(d, dict)]
        lines = [d.line for d in sources.documents(rel)]
        for i, doc in enumerate(docs):
            result.resources.append(Resource(doc=doc, unit=unit, source_file=rel,
                                             source_line=lines[i], index=i))
    ctx = Context(repo=repo, config=cfg, scan=scan, results=list(results.values()),
                  sources=sources)
    return list(check(ctx))


def where(findings: Iterable[Finding], rule: str | None = None) -> list[Where]:
    """(rule, file, line) of the active findings, optionally of one rule."""
    return sorted((f.rule, f.file or "", f.line) for f in findings
                  if not f.waived and (rule is None or f.rule == rule))


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if not f.waived and f.severity is Severity.ERROR]


ISVC = """
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: dev-llm
  namespace: llm-dev
spec:
  predictor:
    minReplicas: 1
    maxReplicas: 1
    model:
      modelFormat:
        name: vLLM
      runtime: dev-llm
      storageUri: oci://quay.io/org/models:llama-3-8b
      resources:
        requests:
          cpu: 500m
          memory: 4Gi
          nvidia.com/gpu: "1"
        limits:
          cpu: "2"
          memory: 6Gi
          nvidia.com/gpu: "1"
    tolerations:
      - key: nvidia.com/gpu
        operator: Exists
        effect: NoSchedule
"""

RUNTIME = """
apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata:
  name: dev-llm
  namespace: llm-dev
spec:
  supportedModelFormats:
    - name: vLLM
  containers:
    - name: kserve-container
      image: quay.io/modh/vllm:rhoai-2.22-cuda
      command: [python, -m, vllm.entrypoints.openai.api_server]
      args:
        - --port=8080
        - --model=/mnt/models
        - --max-model-len=32768
"""


def model_files(isvc: str = ISVC, runtime: str = RUNTIME,
                folder: str = "overlays/dev") -> dict[str, str]:
    return {f"{folder}/inferenceservice.yaml": isvc, f"{folder}/servingruntime.yaml": runtime}


def line(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the `nth` line of a fixture text (as written to disk) containing needle."""
    seen = 0
    for n, content in enumerate(textwrap.dedent(text).lstrip("\n").splitlines(), start=1):
        if needle in content:
            seen += 1
            if seen == nth:
                return n
    raise AssertionError(f"{needle!r} not in fixture")
