"""`llmops-gate init DIR`: a new GitOps repo in the example's shape that validates on day one.

The templates under `templates/` are YAML with `${name}` placeholders and `@@block@@` lines.
Every placeholder stands for one whole scalar and is replaced by PyYAML's own rendering of the
value (quoted when it needs to be), so a value such as a URL with `#` or `: ` cannot change the
structure of the file; values that reach a comment must be plain names. Each rendered file is
parsed again before anything is written.

Writing is all or nothing: every file is rendered in memory first; when any target exists the
run stops before touching the folder (unless `--force`), and each file is written through a
temporary name and a rename.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from llmops_gate import __version__
from llmops_gate.errors import GateError
from llmops_gate.yamlio.fsutil import atomic_write

PROJECT_URL = "https://github.com/example-org/llmops-gate"
# The Pipeline of llmops-gate's tekton/pipelines/pr-validation.yaml, which the PipelineRun runs.
PIPELINE_NAME = "llmops-gate-pr-validation"

DEFAULT_MODEL = "qwen25-05b-instruct"
DEFAULT_STORAGE_URI = "oci://quay.io/redhat-ai-services/modelcar-catalog:qwen2.5-0.5b-instruct"
DEFAULT_RUNTIME_IMAGE = ("registry.redhat.io/rhaii/vllm-cuda-rhel9@sha256:"
                         "5800e12b2a465f15961fcf34b645d79ed4f91ec9161eab22b1205d12682183c8")
DEFAULT_REPO_URL = "https://github.com/example-org/llmops-gitops.git"
DEFAULT_ENVS = ("dev", "staging", "production")

# A Kubernetes object name (RFC 1123 label). Names also reach comments, so nothing else may.
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")
BLOCK = re.compile(r"^@@([a-z_]+)@@$")


@dataclass(frozen=True)
class Size:
    min_replicas: int
    max_replicas: int
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


# The first environment is the smallest, the last the largest, any others in between.
SIZES = {
    "first": Size(1, 1, "500m", "4Gi", "2", "6Gi"),
    "middle": Size(1, 2, "1", "6Gi", "3", "8Gi"),
    "last": Size(2, 3, "2", "8Gi", "4", "12Gi"),
}

# Data connection keys OpenShift AI expects per connection type, by storageUri scheme.
CONNECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "oci": ("oci-v1", ("OCI_HOST", "ACCESS_TYPE")),
    "s3": ("s3", ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_ENDPOINT",
                  "AWS_S3_BUCKET", "AWS_DEFAULT_REGION")),
}
URI_CONNECTION = ("uri-v1", ("URI",))

AUTO_SYNC = """\
    # The first environment follows the branch on its own: every merged change is deployed,
    # drift is undone.
    automated:
      prune: true
      selfHeal: true"""
MANUAL_SYNC = """\
    # Synced by a person (ArgoCD UI or `argocd app sync ${application}`) after review."""


@dataclass(frozen=True)
class EnvSpec:
    name: str
    namespace: str
    application: str
    prefix: str
    size: Size

    @property
    def overlay(self) -> str:
        return f"deploy_model/overlays/{self.name}"


@dataclass(frozen=True)
class Scaffold:
    model: str
    storage_uri: str
    runtime_image: str
    repo_url: str
    revision: str
    project: str
    envs: tuple[EnvSpec, ...]


def scalar(value: Any) -> str:
    """`value` as one YAML scalar on one line, quoted only where YAML needs it."""
    if isinstance(value, str) and ("\n" in value or "\r" in value):
        raise GateError(f"value {value!r} must be on one line")

    def dump(style: str | None) -> str:
        text = yaml.safe_dump({"k": value}, default_flow_style=False, width=2**31,
                              allow_unicode=True, default_style=style)
        return text[text.index(":") + 2:].rstrip("\n")

    out = dump(None)
    if out.startswith("'"):  # the house style quotes with double quotes
        out = dump('"')
    if "\n" in out:  # pragma: no cover - guarded above; a multi-line scalar would break layout
        raise GateError(f"value {value!r} cannot be written on one line")
    return out


def template(name: str) -> str:
    return resources.files(__name__).joinpath("templates", name).read_text(encoding="utf-8")


def render(text: str, values: Mapping[str, Any], blocks: Mapping[str, str] | None = None) -> str:
    """Fill `${name}` with YAML scalars and `@@name@@` lines with pre-rendered blocks."""
    out: list[str] = []
    for line in text.splitlines():
        block = BLOCK.match(line)
        if block:
            out.append((blocks or {})[block.group(1)])
            continue
        comment = line.lstrip().startswith("#")

        def fill(m: re.Match[str], comment: bool = comment) -> str:
            value = values[m.group(1)]
            if comment and not (isinstance(value, str) and NAME_RE.match(value)):
                raise AssertionError(f"template puts {m.group(1)}={value!r} into a comment")
            return str(value) if comment else scalar(value)

        out.append(PLACEHOLDER.sub(fill, line))
    return "\n".join(out) + "\n"


def yamllint_config() -> str:
    from llmops_gate.validators.lint import BUILTIN_CONFIG

    return ("# yamllint settings for this repo (the ones `llmops-gate validate` uses by "
            "default):\n# Kustomize's unindented lists are fine, cosmetic rules are warnings.\n"
            + BUILTIN_CONFIG)


def readme(s: Scaffold) -> str:
    envs = ", ".join(e.name for e in s.envs)
    rows = "\n".join(f"| {e.name} | `{e.overlay}` | `{e.namespace}` | `{e.application}` |"
                     for e in s.envs)
    return f"""# GitOps repo: {s.model}

Written by `llmops-gate init` {__version__}. ArgoCD deploys the model to {envs}.

| environment | overlay | namespace | ArgoCD Application |
|---|---|---|---|
{rows}

- `deploy_model/base/`: the KServe InferenceService, its vLLM ServingRuntime and the model's
  data connection (a Secret without values: fill it on the cluster, never in Git).
- `deploy_model/overlays/<env>/`: each environment's namespace, name prefix and size.
- `argocd-apps/`: one ArgoCD Application per environment; the first syncs on its own, the
  others after review.
- `.llmops-gate.yaml`: the environments in promotion order.
- `.tekton/`: the pull-request check Pipelines-as-Code runs.

```sh
llmops-gate validate            # build, lint and check every overlay
pre-commit install              # the same checks before every commit
llmops-gate promote --dry-run   # what promoting {s.envs[0].name} would change
```
"""


def files(s: Scaffold) -> dict[str, str]:
    """Every file of the scaffold (repo-relative path -> text), rendered and checked."""
    common = {"model": s.model, "project": s.project, "repo_url": s.repo_url,
              "revision": s.revision, "storage_uri": s.storage_uri,
              "runtime_image": s.runtime_image}
    scheme = s.storage_uri.split("://", 1)[0].lower() if "://" in s.storage_uri else ""
    conn_type, keys = CONNECTIONS.get(scheme, URI_CONNECTION)
    out: dict[str, str] = {}
    for name in ("kustomization", "kustomizeconfig", "inferenceservice", "servingruntime"):
        out[f"deploy_model/base/{name}.yaml"] = render(template(f"base/{name}.yaml"), common)
    out["deploy_model/base/model-connection.yaml"] = render(
        template("base/model-connection.yaml"), {**common, "connection_type": conn_type},
        {"secret_keys": "\n".join(f'  {k}: ""' for k in keys)})
    env_blocks = []
    for i, env in enumerate(s.envs):
        values = {**common, "env": env.name, "namespace": env.namespace,
                  "application": env.application, "prefix": env.prefix,
                  "overlay": env.overlay, "display_name": f"{s.model}-{env.name}",
                  **vars(env.size)}
        sync = AUTO_SYNC if i == 0 else render(MANUAL_SYNC, values).rstrip("\n")
        out[f"argocd-apps/{env.name}-application.yaml"] = render(
            template("app/application.yaml"), values, {"sync": sync})
        for name in ("kustomization", "size"):
            out[f"{env.overlay}/{name}.yaml"] = render(template(f"overlay/{name}.yaml"), values)
        env_blocks.append(render(template("environment.yaml"), values).rstrip("\n"))
    out[".llmops-gate.yaml"] = render(template("llmops-gate.yaml"), {},
                                      {"environments": "\n".join(env_blocks)})
    out[".pre-commit-config.yaml"] = render(template("pre-commit-config.yaml"),
                                            {"hooks_repo": PROJECT_URL,
                                             "hooks_rev": f"v{__version__}"})
    out[".tekton/pull-request.yaml"] = render(
        template("tekton/pull-request.yaml"),
        {"pipelinerun": f"{s.project}-pull-request", "target_branch": f"[{s.revision}]",
         "pipeline_name": PIPELINE_NAME})
    out[".yamllint"] = yamllint_config()
    for path, text in out.items():
        try:
            list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:  # pragma: no cover - a template bug, not a user error
            raise AssertionError(f"scaffold template rendered invalid YAML in {path}: "
                                 f"{exc}") from exc
    out["README.md"] = readme(s)
    return out


def _name(value: str, what: str) -> str:
    if not NAME_RE.match(value) or len(value) > 63:
        raise GateError(f"{what} '{value}' is not a valid name (lower-case letters, digits and "
                        "'-', starting and ending with a letter or digit, at most 63)")
    return value


def build_scaffold(model: str, storage_uri: str, runtime_image: str, repo_url: str,
                   revision: str, project: str, env_names: Sequence[str],
                   namespaces: Mapping[str, str]) -> Scaffold:
    _name(model, "model name")
    _name(project, "project name")
    for value, what in ((storage_uri, "storageUri"), (runtime_image, "runtime image"),
                        (repo_url, "repo URL"), (revision, "revision")):
        if not value.strip() or any(c.isspace() for c in value):
            raise GateError(f"{what} '{value}' must be one word without spaces")
    if "://" not in storage_uri:
        raise GateError(f"storageUri '{storage_uri}' has no scheme (oci://, s3://, hf://, ...)")
    names = [_name(n, "environment") for n in env_names]
    if not names:
        raise GateError("at least one environment is needed")
    if len(set(names)) != len(names):
        raise GateError("each environment may be named once")
    unknown = sorted(set(namespaces) - set(names))
    if unknown:
        raise GateError(f"--namespace names an unknown environment '{unknown[0]}' "
                        f"(environments: {', '.join(names)})")
    envs = []
    for i, name in enumerate(names):
        position = "first" if i == 0 else "last" if i == len(names) - 1 else "middle"
        namespace = _name(namespaces.get(name, f"{project}-{name}"), "namespace")
        envs.append(EnvSpec(name=name, namespace=namespace,
                            application=_name(f"{project}-{name}", "application name"),
                            prefix=f"{name}-", size=SIZES[position]))
    return Scaffold(model=model, storage_uri=storage_uri, runtime_image=runtime_image,
                    repo_url=repo_url, revision=revision, project=project, envs=tuple(envs))


def _file_in_the_way(folder: Path, rel: str) -> Path | None:
    """A file standing where one of `rel`'s folders must be, if any."""
    for parent in PurePosixPath(rel).parents:
        if str(parent) != "." and (folder / parent).is_file():
            return folder / parent
    return None


def conflicts(folder: Path, paths: Sequence[str]) -> list[str]:
    """The paths that already exist (or whose folder is taken by a file) under `folder`."""
    return [rel for rel in paths if (folder / rel).exists() or (folder / rel).is_symlink()
            or _file_in_the_way(folder, rel) is not None]


def write_scaffold(folder: Path, content: Mapping[str, str], force: bool) -> list[str]:
    """Write `content` under `folder`; returns the paths written (unchanged files skipped)."""
    if folder.exists() and not folder.is_dir():
        raise GateError(f"{folder}: exists and is not a folder")
    taken = conflicts(folder, sorted(content))
    if taken and not force:
        shown = ", ".join(taken[:5]) + (f" and {len(taken) - 5} more" if len(taken) > 5 else "")
        raise GateError(f"{folder}: would overwrite {shown}; nothing was written "
                        "(use --force to overwrite)")
    for rel in taken:
        blocker = _file_in_the_way(folder, rel)
        if blocker is not None:
            raise GateError(f"{blocker}: is a file where a folder is needed; nothing was written")
        if (folder / rel).is_dir() and not (folder / rel).is_symlink():
            raise GateError(f"{folder / rel}: is a folder; --force replaces files only; "
                            "nothing was written")
    written = []
    for rel, text in sorted(content.items()):
        target = folder / rel
        try:
            if target.is_file() and target.read_text(encoding="utf-8") == text:
                continue
        except (OSError, UnicodeDecodeError):
            pass
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, text)
        except OSError as exc:
            raise GateError(f"{target}: cannot write: {exc.strerror or exc}") from exc
        written.append(rel)
    return written




