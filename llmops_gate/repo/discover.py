"""Finding what a repo holds: kustomizations, overlays, plain manifests, YAML sources.

An overlay is a folder with a kustomization that no other kustomization uses as a resource,
base or component and that is not itself a `kind: Component`. A plain manifest is a YAML file
holding Kubernetes objects that no kustomization uses (such as `argocd-apps/*.yaml`).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.config import Config, environment_from_folder
from llmops_gate.errors import GateError
from llmops_gate.model import Unit
from llmops_gate.repo.references import Role, references
from llmops_gate.yamlio.snapshot import KUSTOMIZATION_NAMES as KUSTOMIZATION_NAMES
from llmops_gate.yamlio.snapshot import TOOL_FILES, Snapshot

YAML_SUFFIXES = (".yaml", ".yml")
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}
# Files that are YAML but never Kubernetes objects of the user's.
NOT_MANIFESTS = set(TOOL_FILES)


@dataclass
class Kustomization:
    """One kustomization file and the local paths it uses (repo-relative, POSIX)."""

    folder: str
    file: str
    kind: str
    data: dict[str, Any]
    uses_dirs: set[str] = field(default_factory=set)
    uses_files: set[str] = field(default_factory=set)
    remote: list[str] = field(default_factory=list)
    error: str | None = None
    # Where things are written: the first line of each scalar (keys and values) in the file.
    lines: dict[str, int] = field(default_factory=dict)
    error_line: int | None = None
    error_rule: str | None = None

    def line_of(self, text: str) -> int | None:
        return self.lines.get(text)

    @property
    def is_component(self) -> bool:
        return self.kind == "Component"


@dataclass
class RepoScan:
    repo: Path
    yaml_files: list[str]
    kustomizations: dict[str, Kustomization]
    # The run's source files, each read and parsed once (`yamlio.snapshot`).
    snap: Snapshot | None = None

    @property
    def snapshot(self) -> Snapshot:
        if self.snap is None:
            self.snap = Snapshot(self.repo)
        return self.snap

    @property
    def overlays(self) -> list[str]:
        used: set[str] = set()
        for k in self.kustomizations.values():
            used |= k.uses_dirs
        return sorted(folder for folder, k in self.kustomizations.items()
                      if folder not in used and not k.is_component)

    @property
    def used_files(self) -> set[str]:
        out: set[str] = set()
        for k in self.kustomizations.values():
            out.add(k.file)
            out |= k.uses_files
        return out


def _excluded(rel: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(rel + "/", p) or
               PurePosixPath(rel).match(p) for p in patterns)


def walk_files(repo: Path, exclude: Sequence[str] = ()) -> Iterator[str]:
    """Every regular file under `repo` as a repo-relative POSIX path, sorted, skipping VCS and
    virtualenv folders and the excluded globs. Symlinks are not followed."""
    for root, dirs, files in os.walk(repo):
        rel_root = os.path.relpath(root, repo)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not _excluded(
            PurePosixPath(rel_root, d).as_posix() if rel_root != "." else d, exclude))
        for name in sorted(files):
            rel = name if rel_root == "." else PurePosixPath(rel_root, name).as_posix()
            if not _excluded(rel, exclude):
                yield rel


def _norm(folder: str, ref: str) -> str:
    return os.path.normpath(PurePosixPath(folder, ref).as_posix()).replace(os.sep, "/")


def scalar_lines(nodes: Iterable[yaml.Node]) -> dict[str, int]:
    """The 1-based first line of every scalar (keys and values) under `nodes`."""
    out: dict[str, int] = {}
    stack: list[yaml.Node] = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            line = int(node.start_mark.line) + 1
            if out.get(str(node.value), line + 1) > line:
                out[str(node.value)] = line
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
    return out


def read_kustomization(snapshot: Snapshot, file: str) -> Kustomization:
    """One kustomization, from the run's snapshot, and the local paths it uses (through the
    one reference walker, `repo.references`)."""
    folder = str(PurePosixPath(file).parent)
    k = Kustomization(folder=folder, file=file, kind="Kustomization", data={})
    try:
        docs = snapshot.documents(file)
        k.lines = scalar_lines(snapshot.parsed(file).nodes)
    except OSError as exc:
        k.error = f"cannot read file: {exc.strerror or exc}"
        k.error_rule = "yaml-unreadable"
        return k
    except yaml.YAMLError as exc:
        k.error = yamlio.yaml_error_summary(exc)
        k.error_line = yamlio.yaml_error_position(exc)[0]
        k.error_rule = yamlio.error_rule(exc)
        return k
    if len(docs) > 1:
        # yaml.safe_load refuses a stream of several documents, and so did this reader.
        k.error = "expected a single document in the stream, but found another document"
        k.error_line = int(snapshot.parsed(file).nodes[1].start_mark.line) + 1
        k.error_rule = "yaml-syntax"
        return k
    data = docs[0] if docs else None
    if not isinstance(data, dict):
        data = {}
    k.data = data
    k.kind = str(data.get("kind") or "Kustomization")
    repo = snapshot.root
    for ref in references(data):
        target = _norm(folder, ref.ref)
        if ref.role is Role.INCLUDE and not (repo / target).exists() and ref.remote:
            k.remote.append(ref.ref)
        elif ref.role in (Role.INCLUDE, Role.PLUGIN) and (repo / target).is_dir():
            k.uses_dirs.add(target)
        else:
            k.uses_files.add(target)
    return k


def scan_repo(repo: Path, config: Config, snapshot: Snapshot | None = None) -> RepoScan:
    """The repo's YAML sources and kustomizations, read through `snapshot` (a new one unless
    the run has one already)."""
    if not repo.is_dir():
        raise GateError(f"{repo}: not a folder (or not readable)")
    snapshot = snapshot if snapshot is not None else Snapshot(repo)
    files = list(walk_files(repo, config.exclude))
    yaml_files = [f for f in files if f.endswith(YAML_SUFFIXES) or
                  PurePosixPath(f).name in ("Kustomization", ".yamllint")]
    kustomizations: dict[str, Kustomization] = {}
    for f in files:
        if PurePosixPath(f).name in KUSTOMIZATION_NAMES:
            k = read_kustomization(snapshot, f)
            kustomizations.setdefault(k.folder, k)
    return RepoScan(repo=repo, yaml_files=yaml_files, kustomizations=kustomizations,
                    snap=snapshot)


def _holds_objects(snapshot: Snapshot, file: str) -> bool:
    try:
        text = snapshot.text(file)
    except (OSError, yaml.YAMLError):
        return False
    try:
        return any(isinstance(d, dict) and "kind" in d and "apiVersion" in d
                   for d in snapshot.documents(file))
    except yaml.YAMLError:
        # Malformed YAML that looks like a manifest is still reported as one, so the
        # parse error lands in the report rather than disappearing.
        return "apiVersion:" in text and "kind:" in text


def manifest_files(scan: RepoScan, config: Config) -> list[str]:
    if config.manifests is not None:
        return sorted({f for f in scan.yaml_files
                       if any(fnmatch.fnmatch(f, p) or PurePosixPath(f).match(p)
                              for p in config.manifests)})
    used = scan.used_files
    out = []
    for f in scan.yaml_files:
        name = PurePosixPath(f).name
        if f in used or name in NOT_MANIFESTS or name in KUSTOMIZATION_NAMES:
            continue
        if _holds_objects(scan.snapshot, f):
            out.append(f)
    return out


def discover_units(scan: RepoScan, config: Config) -> list[Unit]:
    """The overlays (environment from config, else folder name) and the plain manifests."""
    return overlay_units(scan, config) + manifest_units(scan, config)


def overlay_units(scan: RepoScan, config: Config) -> list[Unit]:
    """The overlays, in the order of `discover_units` (which lists them first)."""
    env_of: dict[str, str] = {}
    for env in config.environments:
        for pattern in env.overlays:
            matches = [o for o in scan.kustomizations if fnmatch.fnmatch(o, pattern)]
            if not matches:
                raise GateError(f"{config.path}: environment '{env.name}': overlay '{pattern}' "
                                "has no kustomization")
            for m in matches:
                env_of[m] = env.name
    order = {name: i for i, name in enumerate(config.environment_names)}
    overlays = sorted(set(scan.overlays) | set(env_of),
                      key=lambda o: (order.get(env_of.get(o, ""), len(order)), o))
    return [Unit(path=o, kind="overlay",
                 environment=env_of.get(o) or (None if config.environments
                                               else environment_from_folder(o)))
            for o in overlays]


def manifest_units(scan: RepoScan, config: Config) -> list[Unit]:
    """The plain manifests, in the order of `discover_units` (after the overlays)."""
    return [Unit(path=m, kind="manifest", environment=_manifest_env(m, config))
            for m in manifest_files(scan, config)]


def _manifest_env(path: str, config: Config) -> str | None:
    if config.environments:
        stem = PurePosixPath(path).stem.lower()
        for env in config.environments:
            if stem.startswith(env.name) or (env.application and env.application in stem):
                return env.name
        return None
    return None


def closure(scan: RepoScan, folder: str) -> set[str]:
    """Every local file an overlay can read: its kustomization, the files it names, and the
    same for every base and component it includes, transitively (cycles tolerated)."""
    files: set[str] = set()
    seen: set[str] = set()
    stack = [folder]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        k = scan.kustomizations.get(current)
        if k is None:
            continue
        files.add(k.file)
        files |= k.uses_files
        stack.extend(k.uses_dirs)
    return files


def select_units(units: list[Unit], envs: Sequence[str], config: Config) -> list[Unit]:
    if not envs:
        return units
    known = set(config.environment_names) | {u.environment for u in units if u.environment}
    for env in envs:
        if env not in known:
            raise GateError(f"unknown environment '{env}' (known: {', '.join(sorted(known))})")
    return [u for u in units if u.environment in envs]
