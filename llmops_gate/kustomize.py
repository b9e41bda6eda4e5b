"""Finding and running Kustomize: `kustomize build` when on PATH, else `kubectl kustomize`.

Every build runs with Kustomize's origin and transformer annotations switched on, without
touching the user's files: a throw-away kustomization in a temporary folder outside the repo
lists the overlay as its only resource and sets `buildMetadata`. The annotations are read into
`Resource.source_file` / `transformed_by` and removed before any check sees the object.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.errors import GateError
from llmops_gate.model import Resource, Unit, UnitResult

ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
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


class BuildError(Exception):
    """Kustomize failed on an overlay (its message is the finding's message)."""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_build(kustomize: Kustomize, folder: Path,
              timeout: float = DEFAULT_TIMEOUT) -> tuple[str, Path]:
    """Build `folder` with origin annotations on.

    Returns the YAML stream and the wrapper folder the annotations' relative paths start from
    (gone by then; the paths resolve lexically). Raises BuildError when Kustomize fails.
    """
    with tempfile.TemporaryDirectory(prefix="llmops-gate-build-") as tmp:
        rel = os.path.relpath(folder.resolve(), Path(tmp).resolve())
        wrapper = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [rel],
            "buildMetadata": ["originAnnotations", "transformerAnnotations"],
        }
        Path(tmp, "kustomization.yaml").write_text(yaml.safe_dump(wrapper), encoding="utf-8")
        argv = [*kustomize.argv, tmp]
        proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=tmp,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise BuildError(f"kustomize build timed out after {timeout:g}s") from None
        if proc.returncode != 0:
            raise BuildError(_clean_stderr(err.decode("utf-8", "replace"), tmp, folder))
        return out.decode("utf-8", "replace"), Path(tmp).resolve()


def _clean_stderr(text: str, tmp: str, folder: Path) -> str:
    """Kustomize's message without our wrapper folder or the log prefix kubectl adds."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    msg = " ".join(lines) if lines else "kustomize build failed"
    if msg.startswith("E") and "] " in msg[:60] and "run.go" in msg[:60]:
        msg = msg.split("] ", 1)[1]
    msg = msg.replace('"command failed" err=', "").strip()
    if msg.startswith('"') and msg.endswith('"'):
        msg = msg[1:-1].replace('\\"', '"')
    msg = msg.replace(str(Path(tmp).resolve()), "<build>").replace(tmp, "<build>")
    msg = msg.replace(os.path.relpath(folder.resolve(), Path(tmp).resolve()), str(folder))
    msg = msg.replace("Error: ", "", 1) if msg.startswith("Error: ") else msg
    return msg


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


def _repo_relative(rel: str, wrapper_dir: Path, repo: Path) -> str | None:
    absolute = Path(os.path.normpath(wrapper_dir / rel))
    try:
        return absolute.relative_to(repo).as_posix()
    except ValueError:
        return None


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
    resources: list[Resource] = []
    for i, doc in enumerate(yamlio.load_all(text)):
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
        text, wrapper_dir = run_build(kustomize, folder, timeout)
        resources = parse_stream(text, unit, wrapper_dir, repo.resolve())
    except BuildError as exc:
        return UnitResult(unit=unit, error=str(exc), seconds=time.perf_counter() - start)
    except yaml.YAMLError as exc:
        return UnitResult(unit=unit, error=f"kustomize output is not YAML: {exc}",
                          seconds=time.perf_counter() - start)
    return UnitResult(unit=unit, resources=resources, seconds=time.perf_counter() - start)
