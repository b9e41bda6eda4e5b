"""Which units a Git change can affect: the `--changed-since REV` selection.

The changed paths are everything that differs between the merge base of REV and HEAD and the
work tree: commits since REV, staged and unstaged edits, deletions, renames (both names) and
new untracked files. A changed path reaches:

- every overlay whose closure (its kustomization, the files it names, and the same for every
  base and component it includes, transitively) contains it, or whose closure's kustomization
  folders hold it (Kustomize reads unnamed files there too: Helm charts, OpenAPI schemas);
- the plain manifest it is, and every ArgoCD Application manifest whose source path names an
  affected or removed overlay;
- everything, when it changes how validation works: `.llmops-gate.yaml`, the yamllint config,
  or a local file or folder the config names (schema locations and the like).

`closure()` reads the current tree, so a path that no longer exists (deleted, or the old name
of a rename) is also looked up in the kustomizations as they were at the base revision, which
is extracted from Git into a temporary folder. Units that existed there and exist no more are
reported as removed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from llmops_gate.config import CONFIG_NAMES, Config, load_config
from llmops_gate.errors import GateError
from llmops_gate.model import Unit
from llmops_gate.repo.discover import (
    KUSTOMIZATION_NAMES,
    RepoScan,
    closure,
    discover_units,
    scan_repo,
)
from llmops_gate.repo.git import export_tree, git, git_text
from llmops_gate.yamlio import fsutil

# Files whose change alters how every unit is validated.
VALIDATION_FILES = frozenset({*CONFIG_NAMES, ".yamllint", ".yamllint.yaml", ".yamllint.yml"})


@dataclass(frozen=True)
class ChangeSet:
    """The outcome of a selection: what to validate, what was skipped, what is gone."""

    base: str
    merge_base: str
    changed: frozenset[str]
    all: bool
    reason: str | None
    units: tuple[Unit, ...]
    skipped: tuple[Unit, ...] = ()
    removed: tuple[Unit, ...] = ()
    why: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _git(repo: Path, *args: str) -> bytes:
    return git(repo, *args, needed_for="--changed-since")


def _git_text(repo: Path, *args: str) -> str:
    return git_text(repo, *args, needed_for="--changed-since").strip()


def resolve_commit(repo: Path, rev: str, what: str = "--changed-since") -> str:
    """The commit REV names in `repo`; GateError (naming the option `what`) when it names none."""
    if rev.startswith("-"):
        raise GateError(f"{what}: '{rev}' is not a revision")
    try:
        _git_text(repo, "rev-parse", "--is-inside-work-tree")
    except GateError:
        raise GateError(f"{what}: {repo} is not inside a Git work tree") from None
    try:
        return _git_text(repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                         f"{rev}^{{commit}}")
    except GateError:
        raise GateError(f"{what}: unknown revision '{rev}' in {repo}") from None


def resolve_base(repo: Path, rev: str, head: str = "HEAD",
                 what: str = "--changed-since") -> tuple[str, str]:
    """(commit of REV, merge base of REV and `head`); raises GateError for a bad revision."""
    commit = resolve_commit(repo, rev, what)
    try:
        merge_base = _git_text(repo, "merge-base", commit, head)
    except GateError:
        # No common history (or a shallow clone without it): compare with REV itself.
        merge_base = commit
    return commit, merge_base or commit


def _split_z(data: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in data.split(b"\0") if p]


def changed_paths(repo: Path, base: str, head: str | None = None,
                  tree: Path | None = None) -> tuple[set[str], set[str]]:
    """(every changed path, the ones that no longer exist in the work tree), repo-relative.

    Paths outside `repo` (when it is a subfolder of the Git work tree) are left out. With
    `head`, the change is the one between two commits (no work tree, no untracked files), and
    `tree` is the folder holding `head`'s files (an export of it).
    """
    revs = [base] if head is None else [base, head]
    out = _git(repo, "diff", "--relative", "--name-status", "-z", "-M", "--no-ext-diff",
               *revs, "--", ".")
    parts = _split_z(out)
    changed: set[str] = set()
    gone: set[str] = set()
    i = 0
    while i < len(parts):
        status = parts[i]
        if status[:1] in ("R", "C"):
            old, new = parts[i + 1], parts[i + 2]
            changed |= {old, new}
            if status[:1] == "R":
                gone.add(old)
            i += 3
            continue
        path = parts[i + 1]
        changed.add(path)
        if status[:1] == "D":
            gone.add(path)
        i += 2
    if head is None:
        untracked = _git(repo, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
        changed |= set(_split_z(untracked))
    root = tree if tree is not None else repo
    gone = {p for p in gone if not (root / p).exists()}
    return changed, gone


def _under(path: str, files: set[str]) -> bool:
    """`path` is in `files`, or a folder named in `files` holds it."""
    if path in files:
        return True
    parent = PurePosixPath(path).parent
    while str(parent) not in (".", ""):
        if str(parent) in files:
            return True
        parent = parent.parent
    return False


def _config_paths(config: Config, repo: Path) -> set[str]:
    """Repo-relative local files and folders that the config names (schema locations, a lint
    config, ...): a change in them changes how everything validates."""
    out: set[str] = set()

    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, Mapping):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    root = repo.resolve()
    for section in ("lint", "schema", "policy"):
        for text in strings(config.raw.get(section)):
            if not text or "\n" in text or "://" in text or "{{" in text or len(text) > 400:
                continue
            candidate = (root / text).resolve()
            try:
                rel = candidate.relative_to(root).as_posix()
            except ValueError:
                continue
            # Only what exists: policy settings hold many strings that merely look like paths
            # (registries, resource names).
            if rel != "." and candidate.exists():
                out.add(rel)
    if config.path is not None:
        with contextlib.suppress(ValueError):
            out.add(config.path.resolve().relative_to(root).as_posix())
    return out


def validation_change(changed: Iterable[str], config: Config, repo: Path) -> str | None:
    """The first changed path that changes how every unit validates, if any."""
    named = _config_paths(config, repo)
    for path in sorted(changed):
        if PurePosixPath(path).name in VALIDATION_FILES and "/" not in path:
            return path
        if _under(path, named):
            return path
    return None


def _application_paths(scan: RepoScan, manifest: str) -> set[str]:
    """Overlay folders the ArgoCD Applications in a manifest file deploy (source paths)."""
    try:
        docs = scan.snapshot.documents(manifest)  # bounded, and the run's one reading of it
    except (OSError, yaml.YAMLError):  # unreadable files are the validators' business
        return set()
    out: set[str] = set()
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") not in ("Application", "ApplicationSet"):
            continue
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        if doc.get("kind") == "ApplicationSet":
            template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
            assert isinstance(template, dict)
            spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
            assert isinstance(spec, dict)
        sources = [spec.get("source"), *list(spec.get("sources") or [])]
        for source in sources:
            if isinstance(source, dict) and isinstance(source.get("path"), str):
                out.add(os.path.normpath(source["path"]).strip("/"))
    return out


def export_revision(repo: Path, commit: str, dest: Path) -> None:
    """The repo folder's tree at `commit`, written under `dest` (the export promotion uses)."""
    prefix = _git_text(repo, "rev-parse", "--show-prefix")
    treeish = f"{commit}:{prefix}" if prefix else commit
    export_tree(repo, treeish, dest)


def _units_using(scan: RepoScan, units: Sequence[Unit], paths: set[str]) -> dict[str, set[str]]:
    """overlay path -> the changed paths its closure includes."""
    hits: dict[str, set[str]] = {}
    if not paths:
        return hits
    for unit in units:
        if unit.kind != "overlay":
            continue
        files = closure(scan, unit.path)
        # Kustomize also reads files a kustomization does not name in `resources` or
        # `patches` (Helm charts, OpenAPI schemas, plugin configs): anything in the folder of a
        # kustomization the overlay uses counts. A folder the closure names as a whole (a base
        # that no longer exists) covers the paths under it too.
        files |= {str(PurePosixPath(f).parent) for f in files
                  if PurePosixPath(f).name in KUSTOMIZATION_NAMES}
        found = {p for p in paths if _under(p, files)}
        if found:
            hits[unit.path] = found
    return hits


def _inside(path: Path, repo: Path) -> bool:
    try:
        path.resolve().relative_to(repo.resolve())
    except ValueError:
        return False
    return True


def _old_units(repo: Path, commit: str, config: Config, units: Sequence[Unit],
               gone: set[str], root: Path | None = None
               ) -> tuple[list[Unit], dict[str, set[str]], bool]:
    """Against the tree at `commit`: (units gone since, current overlays whose old closure
    held a path in `gone`, whether the config still fits the old tree)."""
    with fsutil.temp_dir("llmops-gate-base-") as tmp:
        old_root = Path(tmp, "tree")
        old_root.mkdir()
        export_revision(repo, commit, old_root)
        old_config = config
        if config.path is None or _inside(config.path, root or repo):
            # The environments as they were then, so a removed overlay keeps its name.
            try:
                old_config = load_config(old_root)
            except GateError:
                old_config = config
        old_scan = scan_repo(old_root, old_config)
        try:
            old_units = discover_units(old_scan, old_config)
        except GateError:
            # The config names an overlay that did not exist then: no unit-by-unit comparison.
            return [], {}, False
        current = {u.path for u in units}
        still = [u for u in old_units if u.path in current]
        hits = _units_using(old_scan, still, gone)
        return [u for u in old_units if u.path not in current], hits, True


def select_changed(repo: Path, rev: str, config: Config, scan: RepoScan,
                   units: Sequence[Unit], head: str | None = None,
                   tree: Path | None = None) -> ChangeSet:
    """The units among `units` that the change since `rev` can affect.

    By default the change reaches the work tree of `repo`; with `head` (a commit) it ends
    there instead, and `tree` is an export of that commit which `scan` and `units` describe.
    """
    _, merge_base = resolve_base(repo, rev, head or "HEAD")
    changed, gone = changed_paths(repo, merge_base, head, tree)
    root = tree if tree is not None else repo
    reason = validation_change(changed, config, root)
    removed: list[Unit] = []
    why: dict[str, set[str]] = {}
    if gone:
        removed, why, fits = _old_units(repo, merge_base, config, units, gone, root)
        if not fits and reason is None:
            reason = "the config does not fit the base revision"
    if reason is not None:
        return ChangeSet(base=rev, merge_base=merge_base, changed=frozenset(changed), all=True,
                         reason=reason if reason.startswith("the ") else f"{reason} changed",
                         units=tuple(units), removed=tuple(removed))
    for path, found in _units_using(scan, units, changed).items():
        why.setdefault(path, set()).update(found)
    for unit in units:
        if unit.kind == "manifest" and unit.path in changed:
            why.setdefault(unit.path, set()).add(unit.path)
    # An Application that deploys a removed overlay now points at nothing.
    gone_overlays = {u.path for u in removed if u.kind == "overlay"}
    for unit in units:
        if unit.kind == "manifest" and unit.path not in why and gone_overlays:
            hit = sorted(_application_paths(scan, unit.path) & gone_overlays)
            if hit:
                why[unit.path] = {f"{hit[0]} (removed; deployed by it)"}
    selected = tuple(u for u in units if u.path in why)
    skipped = tuple(u for u in units if u.path not in why)
    return ChangeSet(base=rev, merge_base=merge_base, changed=frozenset(changed), all=False,
                     reason=None, units=selected, skipped=skipped, removed=tuple(removed),
                     why={k: tuple(sorted(v)) for k, v in why.items()})
