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
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.errors import GateError
from llmops_gate.model import Resource, Unit, UnitResult
from llmops_gate.repo.kustomize_errors import explain

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


class BuildError(Exception):
    """Kustomize failed on an overlay (its message is the finding's message).

    `file` and `line` name the repo-relative file the failure is about, when Kustomize's
    message lets us tell (see `kustomize_errors.explain`).
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column


class BuildTimeout(BuildError):
    """Kustomize did not finish within the timeout; its whole process group was killed."""


STDERR_KEEP = 256 * 1024


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL every process of the build's session, then reap the leader.

    Called while the leader is not yet reaped, so its pid (the group id) cannot have been
    reused by an unrelated process.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _leader_exited(proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait, without reaping it, for the leader to exit; False at the deadline."""
    while True:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if info is not None and info.si_pid == proc.pid:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def _collect(proc: subprocess.Popen[bytes], timeout: float, max_bytes: int
             ) -> tuple[bytes, bytes]:
    """stdout (at most `max_bytes`) and the start of stderr of `proc`, within `timeout`.

    On expiry, or when the output grows past the limit, the process group is killed: a
    hung or runaway Kustomize (or anything it started) never outlives the run.
    """
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                _kill_group(proc)
                raise BuildTimeout(f"kustomize build timed out after {timeout:g}s (its "
                                   "processes were killed)")
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.fileobj is proc.stdout:
                    out += chunk
                    if len(out) > max_bytes:
                        _kill_group(proc)
                        raise BuildError(f"kustomize output is over {max_bytes} bytes "
                                         "(limits.max_stream_bytes)")
                elif len(err) < STDERR_KEEP:
                    err += chunk
    exited = _leader_exited(proc, deadline)
    _kill_group(proc)
    if not exited:
        raise BuildTimeout(f"kustomize build timed out after {timeout:g}s (its processes "
                           "were killed)")
    return bytes(out), bytes(err)


def spawn(kustomize: Kustomize, wrapper: str, timeout: float, limit: int
           ) -> tuple[int, bytes, bytes]:
    """Run Kustomize on the wrapper folder `wrapper`: (exit code, stdout, start of stderr).

    The one place a Kustomize process starts: single builds and batches share its bounds.
    """
    argv = [*kustomize.argv, wrapper]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=wrapper,
    )
    try:
        out, err = _collect(proc, timeout, limit)
    except BaseException:
        if proc.returncode is None:
            _kill_group(proc)
        raise
    finally:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    return proc.returncode, out, err


def kustomization_text(resources: list[str], **fields: Any) -> str:
    return yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1",
                           "kind": "Kustomization", "resources": resources, **fields})


def run_build(kustomize: Kustomize, folder: Path, timeout: float = DEFAULT_TIMEOUT,
              max_bytes: int | None = None, repo: Path | None = None) -> tuple[str, Path]:
    """Build `folder` with origin annotations on.

    Returns the YAML stream and the wrapper folder the annotations' relative paths start from
    (gone by then; the paths resolve lexically). Raises BuildError when Kustomize fails, with
    paths in its message relative to `repo` when given.
    Only `build` and the folder are passed: never `--enable-helm`, `--enable-alpha-plugins`,
    `--enable-exec` or `--load-restrictor`, so Kustomize keeps its safe defaults.
    """
    limit = max_bytes if max_bytes is not None else yamlio.current().max_stream_bytes
    with tempfile.TemporaryDirectory(prefix="llmops-gate-build-") as tmp:
        rel = os.path.relpath(folder.resolve(), Path(tmp).resolve())
        Path(tmp, "kustomization.yaml").write_text(
            kustomization_text([rel], buildMetadata=BUILD_METADATA), encoding="utf-8")
        code, out, err = spawn(kustomize, tmp, timeout, limit)
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
    return parse_docs(yamlio.load_all(text), unit, wrapper_dir, repo)


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
    except BuildError as exc:
        return UnitResult(unit=unit, error=str(exc), error_file=exc.file, error_line=exc.line,
                          error_column=exc.column,
                          seconds=time.perf_counter() - start)
    except yaml.YAMLError as exc:
        return UnitResult(unit=unit, error=f"kustomize output is not YAML: {exc}",
                          seconds=time.perf_counter() - start)
    return UnitResult(unit=unit, resources=resources, seconds=time.perf_counter() - start)
