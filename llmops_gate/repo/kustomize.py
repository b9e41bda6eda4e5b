"""Finding and running Kustomize: `kustomize build` when on PATH, else `kubectl kustomize`.

Every build runs with Kustomize's origin and transformer annotations switched on, without
touching the user's files: a throw-away kustomization in a temporary folder outside the repo
lists the overlay as its only resource and sets `buildMetadata`. The annotations are read into
`Resource.source_file` / `transformed_by` and removed before any check sees the object.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.config import Config
from llmops_gate.errors import GateError
from llmops_gate.model import Resource, Unit, UnitResult
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


class OutOfMemory(BuildError):
    """The child hit its memory ceiling (`limits.kustomize_memory`) and was stopped."""


class Cancelled(BuildError):
    """The run is stopping (SIGINT/SIGTERM): no new child is started, running ones are killed."""


STDERR_KEEP = 256 * 1024
GiB = 1024 * 1024 * 1024

# What the Go runtime prints when an allocation fails (kubectl, kustomize and kubeconform are
# Go programs): under RLIMIT_DATA mmap fails with ENOMEM and the runtime aborts with "fatal
# error: runtime: out of memory", "fatal error: runtime: cannot allocate memory" or, when it
# happens at start-up, "fatal error: out of memory allocating heap arena map".
OOM_MARKERS = (b"out of memory", b"cannot allocate memory")


def memory_label(limit: int) -> str:
    """`2 GiB`, `64 MiB`: a ceiling as a user wrote it."""
    for unit, size in (("GiB", GiB), ("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


# --- every child process of the tool starts here ----------------------------------------------
#
# One door for every Kustomize and kubeconform process, so the bounds hold for all of them:
# - a memory ceiling, RLIMIT_DATA set in the child before exec. Measured with kubectl 1.32
#   (Go): RLIMIT_AS cannot work, the Go runtime reserves address space at start and dies in
#   mallocinit under any limit below ~1 GiB even for a 4-line overlay; RLIMIT_DATA counts only
#   memory actually mapped writable, so a 64 MiB ceiling still builds small overlays and stops
#   a large one with "fatal error: runtime: cannot allocate memory". GOMEMLIMIT (90% of the
#   ceiling) makes Go's collector work harder before the hard limit is hit;
# - a parent-death signal (Linux prctl PR_SET_PDEATHSIG = SIGKILL), so a child dies with the
#   tool even when the tool is SIGKILLed. It fires when the *thread* that forked exits; every
#   spawning thread waits for (and reaps) its child before it returns, so that thread always
#   outlives the child;
# - its own session (process group), killed as a whole at the timeout, on too much output, on
#   a stop (SIGINT/SIGTERM, see `stop_all`), or when the caller unwinds;
# - the timeout and the output cap.

PR_SET_PDEATHSIG = 1
_libc: Any = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        _libc = ctypes.CDLL(None, use_errno=True)

_live_lock = threading.RLock()
_live: set[subprocess.Popen[bytes]] = set()
_stopping = threading.Event()


def _child_setup(memory: int | None, parent: int) -> Callable[[], None]:
    """The function run in the child between fork and exec (only async-safe work: rlimits,
    prctl; everything it needs is bound before the fork)."""
    prctl = _libc.prctl if _libc is not None else None
    data = resource.RLIMIT_DATA

    def setup() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os.kill(os.getpid(), signal.SIGKILL)
        if memory is not None:
            _soft, hard = resource.getrlimit(data)
            cap = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
            resource.setrlimit(data, (cap, cap))

    return setup


def stop_all() -> int:
    """Start no more children and SIGKILL the process group of every running one (the SIGINT
    and SIGTERM handlers call it). Returns how many were running."""
    _stopping.set()
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return len(procs)


def stopping() -> bool:
    return _stopping.is_set()


def run_child(argv: Sequence[str], *, cwd: str | Path | None, timeout: float, max_bytes: int,
              memory: int | None, what: str = "kustomize build",
              stdin: int | None = subprocess.DEVNULL) -> tuple[int, bytes, bytes]:
    """Run one child within the bounds above: (exit code, stdout, start of stderr).

    Raises BuildTimeout, BuildError (output over `max_bytes`), OutOfMemory (the child died at
    its ceiling; the message names it, the caller adds where) or Cancelled (the run is
    stopping). OSError when the program cannot be started.
    """
    if _stopping.is_set():
        raise Cancelled(f"{what} not started: llmops-gate is stopping")
    env = dict(os.environ)
    if memory is not None and "GOMEMLIMIT" not in env:
        env["GOMEMLIMIT"] = str(memory // 10 * 9)
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin,
        start_new_session=True,
        cwd=cwd,
        env=env,
        preexec_fn=_child_setup(memory, os.getpid()),
    )
    with _live_lock:
        _live.add(proc)
    try:
        if _stopping.is_set():  # stop_all ran between the check above and the registration
            raise Cancelled(f"{what} stopped: llmops-gate is stopping")
        out, err = _collect(proc, timeout, max_bytes, what)
    except BaseException:
        if proc.returncode is None:
            _kill_group(proc)
        raise
    finally:
        with _live_lock:
            _live.discard(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    if _stopping.is_set() and proc.returncode != 0:
        raise Cancelled(f"{what} stopped: llmops-gate is stopping")
    if proc.returncode != 0 and memory is not None and any(m in err for m in OOM_MARKERS):
        raise OutOfMemory(f"ran out of its {memory_label(memory)} memory limit "
                          "(limits.kustomize_memory)")
    assert proc.returncode is not None
    return proc.returncode, out, err


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL every process of the child's session, then reap the leader.

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


def _collect(proc: subprocess.Popen[bytes], timeout: float, max_bytes: int,
             what: str = "kustomize build") -> tuple[bytes, bytes]:
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
                raise BuildTimeout(f"{what} timed out after {timeout:g}s (its "
                                   "processes were killed)")
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.fileobj is proc.stdout:
                    out += chunk
                    if len(out) > max_bytes:
                        _kill_group(proc)
                        raise BuildError(f"{what.split()[0]} output is over {max_bytes} bytes "
                                         "(limits.max_stream_bytes)")
                elif len(err) < STDERR_KEEP:
                    err += chunk
    exited = _leader_exited(proc, deadline)
    _kill_group(proc)
    if not exited:
        raise BuildTimeout(f"{what} timed out after {timeout:g}s (its processes "
                           "were killed)")
    return bytes(out), bytes(err)


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
                                       max_bytes=limit, memory=ceiling)
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
