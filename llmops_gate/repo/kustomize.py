"""Finding and running Kustomize: `kustomize build` when on PATH, else `kubectl kustomize`.

Every build runs with Kustomize's origin and transformer annotations switched on, without
touching the user's files: a throw-away kustomization in a temporary folder outside the repo
lists the overlay as its only resource and sets `buildMetadata`. The annotations are read into
`Resource.source_file` / `transformed_by` and removed before any check sees the object.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.config import Config
from llmops_gate.errors import GateError
from llmops_gate.model import Resource, Unit, UnitResult
from llmops_gate.repo.child import BuildError, BuildTimeout, OutOfMemory, run_child
from llmops_gate.repo.kustomize_errors import explain
from llmops_gate.yamlio import fsutil

ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
BUILD_METADATA = ["originAnnotations", "transformerAnnotations"]
DEFAULT_TIMEOUT = 120.0

INSTALL_HINT = (
    "install kubectl (which includes Kustomize) or a kustomize binary and put it on PATH, "
    "or name one with --kustomize PATH"
)


@dataclass(frozen=True)
class Kustomize:
    """A found Kustomize: the argv prefix that builds a folder given as the last argument."""

    argv: tuple[str, ...]

    @property
    def label(self) -> str:
        return " ".join(Path(self.argv[0]).name if i == 0 else a for i, a in enumerate(self.argv))


def find_kustomize(explicit: str | None = None) -> Kustomize:
    """Find Kustomize once per run. Raises GateError (exit 2) with install advice if none."""
    if explicit:
        path = shutil.which(explicit) or (explicit if os.access(explicit, os.X_OK) else None)
        if path is None:
            raise GateError(f"kustomize binary '{explicit}' not found or not executable; "
                            + INSTALL_HINT)
        if Path(path).name.startswith("kubectl"):
            return Kustomize((path, "kustomize"))
        return Kustomize((path, "build"))
    found = shutil.which("kustomize")
    if found:
        return Kustomize((found, "build"))
    found = shutil.which("kubectl")
    if found:
        return Kustomize((found, "kustomize"))
    raise GateError("no Kustomize found: neither 'kustomize' nor 'kubectl' is on PATH; "
                    + INSTALL_HINT)


def choose_kustomize(repo: Path, config: Config, explicit: str | None = None,
                     also_inside: Sequence[Path] = ()) -> Kustomize:
    """The one door every command that runs Kustomize goes through (validate, promote, diff,
    rollback and the Tekton Tasks that run them): which binary, and whether it may run.

    `explicit` (`--kustomize` on the command line, chosen by whoever runs the tool) is trusted.
    Otherwise nothing from the repository under validation is ever run: not a Kustomize named
    by its config (`kustomize.path: ./bin/kustomize`; a relative path resolves against `repo`,
    never the working folder), nor one found on a PATH that leads into it. `also_inside` are
    further trees that count as the repository (a promotion's private export of it). Raises
    GateError (exit 2) before anything runs.
    """
    if explicit:
        return find_kustomize(explicit)
    configured = config.section("kustomize").get("path")
    roots = [repo, *also_inside]
    where = _config_label(config, roots)
    if configured:
        configured = str(configured)
        # The config is as untrusted as the rest of the repo: it may pick among Kustomize
        # binaries, not name any program (`/usr/bin/env` would run whatever `build` is on PATH).
        if not Path(configured).name.startswith(("kustomize", "kubectl")):
            raise GateError(f"{where}: kustomize.path names '{configured}', which is not a "
                            "kustomize or kubectl binary; llmops-gate runs only those from the "
                            "repository's config (name another binary with --kustomize)")
        if "/" in configured and not os.path.isabs(configured):
            configured = os.path.normpath(repo / configured)
        if os.path.isabs(configured):
            _refuse_inside(configured, roots, f"{where}: kustomize.path")
    found = find_kustomize(configured or None)
    program = os.path.abspath(found.argv[0])
    _refuse_inside(program, roots, f"{where}: kustomize.path" if configured else "PATH")
    return found


def _config_label(config: Config, roots: Sequence[Path]) -> str:
    """The config file as the user knows it: relative to the repository when inside it (so a
    promotion's private export names it as validation does)."""
    if config.path is None:
        return ".llmops-gate.yaml"
    for root in roots:
        with contextlib.suppress(ValueError, OSError):
            return config.path.resolve().relative_to(root.resolve()).as_posix()
    return str(config.path)


def _refuse_inside(program: str, roots: Sequence[Path], source: str) -> None:
    path = Path(program)
    # Both the path as written and where its symlinks lead: either may be in the repository.
    lexical = Path(os.path.normpath(os.path.abspath(program)))
    for root in roots:
        if yamlio.inside(path, root) or _lexically_inside(lexical, root):
            raise GateError(f"{source} leads to '{program}', a program inside the repository "
                            "under validation; llmops-gate never runs programs from that "
                            "repository (name a trusted binary with --kustomize)")


def _lexically_inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(Path(os.path.abspath(root)))
    except ValueError:
        return False
    return True


def kustomization_text(resources: list[str], **fields: Any) -> str:
    """A generated wrapper kustomization (single builds and batches)."""
    return yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1",
                           "kind": "Kustomization", "resources": resources, **fields})


def run_build(kustomize: Kustomize, folder: Path, timeout: float = DEFAULT_TIMEOUT,
              max_bytes: int | None = None, repo: Path | None = None,
              memory: int | None = None) -> tuple[str, Path]:
    """Build `folder` with origin annotations on.

    Returns the YAML stream and the wrapper folder the annotations' relative paths start from
    (gone by then; the paths resolve lexically). Raises BuildError when Kustomize fails, with
    paths in its message relative to `repo` when given.
    Only `build` and the folder are passed: never `--enable-helm`, `--enable-alpha-plugins`,
    `--enable-exec` or `--load-restrictor`, so Kustomize keeps its safe defaults.
    `memory` is the child's ceiling in bytes (default `limits.kustomize_memory`).
    """
    limits = yamlio.current()
    limit = max_bytes if max_bytes is not None else limits.max_stream_bytes
    ceiling = memory if memory is not None else limits.kustomize_memory
    with fsutil.temp_dir("llmops-gate-build-") as tmp:
        rel = os.path.relpath(folder.resolve(), Path(tmp).resolve())
        Path(tmp, "kustomization.yaml").write_text(
            kustomization_text([rel], buildMetadata=BUILD_METADATA), encoding="utf-8")
        try:
            code, out, err = run_child([*kustomize.argv, tmp], cwd=tmp, timeout=timeout,
                                       max_bytes=limit, memory=ceiling, threads=1)
        except OutOfMemory as exc:
            where = folder.as_posix()
            if repo is not None:
                with contextlib.suppress(ValueError):
                    where = folder.resolve().relative_to(repo.resolve()).as_posix()
            raise OutOfMemory(f"Kustomize {exc} on {where}") from None
        if code != 0:
            failure = explain(err.decode("utf-8", "replace"), folder, repo=repo, wrapper=tmp)
            raise BuildError(failure.message, failure.file, failure.line, failure.column)
        return out.decode("utf-8", "replace"), Path(tmp).resolve()


@functools.lru_cache(maxsize=4096)
def _annotation(raw: str) -> Any:
    """A build annotation's YAML value; the same strings repeat across resources and overlays.
    Callers only read the result."""
    try:
        return yamlio.load(raw)
    except yaml.YAMLError:
        return None


def _origin_file(annotations: Mapping[str, Any], wrapper_dir: Path, repo: Path) -> str | None:
    raw = annotations.get(ORIGIN)
    if not isinstance(raw, str):
        return None
    origin = _annotation(raw)
    if not isinstance(origin, dict) or origin.get("repo"):
        return None
    rel = origin.get("path") or origin.get("configuredIn")
    if not isinstance(rel, str):
        return None
    return _repo_relative(rel, wrapper_dir, repo)


@functools.lru_cache(maxsize=8192)
def _repo_relative(rel: str, wrapper_dir: Path, repo: Path) -> str | None:
    # Lexical, as the annotations' paths are (the wrapper folder is gone by now); the same
    # few paths repeat for every object of an overlay, hence the cache.
    absolute = os.path.normpath(os.path.join(wrapper_dir, rel))
    root = str(repo)
    if absolute == root:
        return "."
    if root == "/":
        return absolute[1:]
    return absolute[len(root) + 1:] if absolute.startswith(root + "/") else None


def _transformers(annotations: Mapping[str, Any], wrapper_dir: Path, repo: Path) -> tuple[str, ...]:
    raw = annotations.get(TRANSFORMATIONS)
    if not isinstance(raw, str):
        return ()
    items = _annotation(raw)
    out: list[str] = []
    for item in items if isinstance(items, list) else []:
        where = item.get("configuredIn") if isinstance(item, dict) else None
        if isinstance(where, str):
            rel = _repo_relative(where, wrapper_dir, repo)
            if rel and rel not in out:
                out.append(rel)
    return tuple(out)


def parse_stream(text: str, unit: Unit, wrapper_dir: Path, repo: Path) -> list[Resource]:
    """Rendered YAML -> Resources with source files; the build annotations are removed."""
    # ArgoCD reads Kustomize's output with sigs.k8s.io/yaml; Kustomize quotes every string
    # that reader could take for another type, so this reads what the cluster gets.
    return parse_docs(yamlio.load_all(text, loader=yamlio.KubeLoader), unit, wrapper_dir, repo)


def parse_docs(docs: Iterable[Any], unit: Unit, wrapper_dir: Path, repo: Path
               ) -> list[Resource]:
    """Loaded documents of one overlay's build -> Resources (see `parse_stream`)."""
    resources: list[Resource] = []
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            continue
        meta = doc.get("metadata")
        source_file: str | None = None
        transformed: tuple[str, ...] = ()
        if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
            ann = meta["annotations"]
            source_file = _origin_file(ann, wrapper_dir, repo)
            transformed = _transformers(ann, wrapper_dir, repo)
            ann.pop(ORIGIN, None)
            ann.pop(TRANSFORMATIONS, None)
            if not ann:
                del meta["annotations"]
        resources.append(Resource(doc=doc, unit=unit, source_file=source_file,
                                  transformed_by=transformed, index=i))
    return resources


def render_unit(kustomize: Kustomize, unit: Unit, repo: Path,
                timeout: float = DEFAULT_TIMEOUT) -> UnitResult:
    """Build one overlay into a UnitResult; a failed build is recorded, never raised."""
    folder = repo / unit.path
    start = time.perf_counter()
    try:
        text, wrapper_dir = run_build(kustomize, folder, timeout, repo=repo)
        resources = parse_stream(text, unit, wrapper_dir, repo.resolve())
    except BuildTimeout as exc:
        return UnitResult(unit=unit, error=str(exc), seconds=time.perf_counter() - start,
                          timed_out=True)
    except OutOfMemory as exc:
        return UnitResult(unit=unit, error=str(exc), seconds=time.perf_counter() - start,
                          out_of_memory=True)
    except BuildError as exc:
        return UnitResult(unit=unit, error=str(exc), error_file=exc.file, error_line=exc.line,
                          error_column=exc.column,
                          seconds=time.perf_counter() - start)
    except yaml.YAMLError as exc:
        return UnitResult(unit=unit, error=f"kustomize output is not YAML: {exc}",
                          seconds=time.perf_counter() - start)
    return UnitResult(unit=unit, resources=resources, seconds=time.perf_counter() - start)
