"""What an overlay may make Kustomize do, checked before Kustomize runs.

The repository under validation is untrusted, and `kustomize build` would otherwise fetch remote
bases, inflate Helm charts, run plugins, and read any folder a `resources:` entry names, however
many `../` it takes or wherever a symlink leads. So before an overlay is built, every
kustomization it includes (transitively, over bases, components and plugin folders) is read
here, and the overlay is refused, with a finding naming the file and line, when one of them:

- names a remote resource, base or component (`https://`, `git::`, `github.com/...`), unless the
  run allows it (`--allow-remote`): `remote-resource`;
- asks for Helm chart inflation (`helmCharts`, `helmGlobals`, `helmChartInflationGenerator`):
  `kustomize-helm` (llmops-gate never passes `--enable-helm`);
- configures an exec or KRM-function plugin in `generators`, `transformers` or `validators`:
  `kustomize-plugin` (never `--enable-alpha-plugins` or `--enable-exec`);
- names a resource, patch, generator file or other path that resolves, through `..` or a
  symlink, outside the repository root: `path-outside-repo`;
- includes itself through its bases: `kustomization-cycle`;
- cannot be read safely: `kustomization-invalid`.

Kustomize's own load restrictor stays at its default (`LoadRestrictionsRootOnly`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.model import Finding, Severity, Unit
from llmops_gate.repo.discover import (
    KUSTOMIZATION_NAMES,
    Kustomization,
    RepoScan,
    read_kustomization,
    strings,
)

HELM_KEYS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
PLUGIN_KEYS = ("generators", "transformers", "validators")
FOLDER_KEYS = ("resources", "bases", "components")
REMOTE_PREFIXES = ("git::", "git@", "github.com/", "gitlab.com/", "bitbucket.org/", "ssh:")
REMOTE_MARKERS = ("://", "?ref=", "?version=", "?timeout=", "?submodules=")
FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")

HINTS = {
    "remote-resource": "vendor the remote base into the repository, or run with --allow-remote "
                       "if this repository's remote bases are trusted",
    "kustomize-helm": "render the chart into plain manifests and commit them; llmops-gate never "
                      "enables Helm inside Kustomize",
    "kustomize-plugin": "use built-in transformers and generators only; llmops-gate never runs "
                        "exec or KRM-function plugins",
    "path-outside-repo": "keep every file an overlay uses inside the repository (no `..` above "
                         "the root, no symlinks that lead out of it)",
    "kustomization-cycle": "remove the entry that includes a kustomization from its own bases",
    "kustomization-invalid": "fix the kustomization file so it can be read",
}


def looks_remote(ref: str) -> bool:
    """Whether Kustomize would fetch `ref` (given that no local path of that name exists)."""
    if ref.startswith(REMOTE_PREFIXES) or any(m in ref for m in REMOTE_MARKERS):
        return True
    first = ref.split("/", 1)[0]
    return "/" in ref and "." in first.strip(".")


def _paths(items: Any) -> Iterator[str]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            yield item["path"]


def file_refs(data: dict[str, Any]) -> Iterator[str]:
    """Every local file path a kustomization names, as written."""
    for ref in strings(data.get("patchesStrategicMerge")):
        if "\n" not in ref:
            yield ref
    for key in ("patches", "patchesJson6902", "replacements"):
        yield from _paths(data.get(key))
    for key in ("configMapGenerator", "secretGenerator"):
        for gen in data.get(key) or []:
            if isinstance(gen, dict):
                for entry in [*strings(gen.get("files")), *strings(gen.get("envs"))]:
                    yield entry.split("=", 1)[-1]
                if isinstance(gen.get("env"), str):
                    yield gen["env"]
    for key in ("configurations", "crds"):
        yield from strings(data.get(key))
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield openapi["path"]


def _is_plugin(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    meta = doc.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(annotations, dict) and any(a in annotations for a in FUNCTION_ANNOTATIONS):
        return True
    return str(doc.get("apiVersion") or "") != "builtin"


class _Walk:
    def __init__(self, repo: Path, scan: RepoScan, unit: Unit, allow_remote: bool) -> None:
        self.repo = repo
        self.root = repo.resolve()
        self.scan = scan
        self.unit = unit
        self.allow_remote = allow_remote
        self.findings: list[Finding] = []

    def finding(self, rule: str, message: str, k: Kustomization, text: str | None) -> None:
        self.findings.append(Finding(
            validator="build", rule=rule, severity=Severity.ERROR, message=message,
            overlay=self.unit.path, environment=self.unit.environment, file=k.file,
            line=k.line_of(text) if text else None, hint=HINTS[rule]))

    def rel(self, path: Path) -> str:
        rel = path.resolve().relative_to(self.root).as_posix()
        return rel or "."

    def local(self, k: Kustomization, ref: str) -> Path:
        return Path(ref) if os.path.isabs(ref) else self.repo / k.folder / ref

    def load(self, folder: str) -> Kustomization | None:
        for name in KUSTOMIZATION_NAMES:
            path = self.repo / folder / name
            if not os.path.lexists(path):
                continue
            file = PurePosixPath(folder, name).as_posix() if folder != "." else name
            if not yamlio.inside(path, self.root):
                k = Kustomization(folder=folder, file=file, kind="Kustomization", data={})
                self.finding("path-outside-repo", f"'{file}' is a symlink to a file outside the "
                             "repository", k, None)
                return None
            known = self.scan.kustomizations.get(folder)
            return known if known is not None and known.file == file else read_kustomization(
                self.repo, file)
        return None

    def visit(self, k: Kustomization) -> list[str]:
        """Check one kustomization; return the repo-relative folders it includes."""
        if k.error is not None:
            self.finding("kustomization-invalid", f"cannot read kustomization: {k.error}", k,
                         None)
            self.findings[-1] = replace(self.findings[-1], line=k.error_line)
            return []
        data = k.data
        for key in HELM_KEYS:
            if key in data:
                self.finding("kustomize-helm", f"'{key}': Helm chart inflation is never enabled "
                             "by llmops-gate", k, key)
        folders: list[str] = []
        for key in FOLDER_KEYS:
            for ref in strings(data.get(key)):
                folders.extend(self.folder_ref(k, key, ref))
        for ref in file_refs(data):
            self.file_ref(k, ref)
        for key in PLUGIN_KEYS:
            for item in data.get(key) or [] if isinstance(data.get(key), list) else []:
                if isinstance(item, dict):
                    if _is_plugin(item):
                        self.plugin(k, key, str(item.get("kind") or key))
                elif isinstance(item, str):
                    folders.extend(self.plugin_ref(k, key, item))
        return folders

    def plugin(self, k: Kustomization, key: str, what: str) -> None:
        self.finding("kustomize-plugin", f"'{key}' configures the plugin '{what}', and exec and "
                     "KRM-function plugins are never run by llmops-gate", k, what)

    def folder_ref(self, k: Kustomization, key: str, ref: str) -> Iterable[str]:
        path = self.local(k, ref)
        if not os.path.lexists(path):
            if not looks_remote(ref):
                self.lexical(k, key, ref, path)
            elif not self.allow_remote:
                self.finding("remote-resource", f"'{key}' names the remote '{ref}'; remote "
                             "resources are not fetched (the repository under validation is "
                             "untrusted)", k, ref)
            return ()
        if not yamlio.inside(path, self.root):
            self.finding("path-outside-repo", f"'{key}' entry '{ref}' resolves to "
                         f"{'a symlink target ' if path.is_symlink() else ''}outside the "
                         "repository", k, ref)
            return ()
        return (self.rel(path),) if path.is_dir() else ()

    def lexical(self, k: Kustomization, key: str, ref: str, path: Path) -> None:
        """A path that does not exist may still climb out of the repository with `..`."""
        if not yamlio.inside(Path(os.path.normpath(path)), self.root):
            self.finding("path-outside-repo", f"'{key}' entry '{ref}' points outside the "
                         "repository", k, ref)

    def file_ref(self, k: Kustomization, ref: str) -> None:
        path = self.local(k, ref)
        if not os.path.lexists(path):
            self.lexical(k, "path", ref, path)
        elif not yamlio.inside(path, self.root):
            self.finding("path-outside-repo", f"'{ref}' resolves to "
                         f"{'a symlink target ' if path.is_symlink() else ''}outside the "
                         "repository", k, ref)

    def plugin_ref(self, k: Kustomization, key: str, ref: str) -> Iterable[str]:
        path = self.local(k, ref)
        if not os.path.lexists(path):
            return ()
        if not yamlio.inside(path, self.root):
            self.finding("path-outside-repo", f"'{key}' entry '{ref}' resolves outside the "
                         "repository", k, ref)
            return ()
        if path.is_dir():
            return (self.rel(path),)
        try:
            docs = list(yamlio.load_all(yamlio.read_text(path, root=self.root)))
        except (OSError, yaml.YAMLError):
            return ()  # the `parse` validator reports the file; Kustomize fails on it
        for doc in docs:
            if _is_plugin(doc):
                self.plugin(k, key, ref)
                break
        return ()

    def run(self) -> list[Finding]:
        start = self.rel(self.repo / self.unit.path)
        on_path: set[str] = set()
        done: set[str] = set()
        stack: list[tuple[str, bool, Kustomization | None, str | None]] = [
            (start, False, None, None)]
        while stack:
            folder, leaving, parent, ref = stack.pop()
            if leaving:
                on_path.discard(folder)
                done.add(folder)
                continue
            if folder in done:
                continue
            if folder in on_path:
                if parent is not None:
                    self.finding("kustomization-cycle", f"'{ref}' includes '{folder}', which "
                                 "already includes this kustomization (a cycle)", parent, ref)
                continue
            k = self.load(folder)
            if k is None:
                done.add(folder)
                continue
            on_path.add(folder)
            stack.append((folder, True, None, None))
            for child in self.visit(k):
                if child in on_path:
                    raw = next((r for r in self._refs(k) if self._target(k, r) == child), child)
                    self.finding("kustomization-cycle", f"'{raw}' includes '{child}', which "
                                 "already includes this kustomization (a cycle)", k, raw)
                elif child not in done:
                    stack.append((child, False, k, child))
        return self.findings

    def _refs(self, k: Kustomization) -> Iterator[str]:
        for key in (*FOLDER_KEYS, *PLUGIN_KEYS):
            yield from strings(k.data.get(key))

    def _target(self, k: Kustomization, ref: str) -> str | None:
        path = self.local(k, ref)
        try:
            return self.rel(path)
        except (ValueError, OSError):
            return None


def check_overlay(repo: Path, scan: RepoScan, unit: Unit, allow_remote: bool = False
                  ) -> list[Finding]:
    """The findings that refuse building `unit`; empty when Kustomize may run on it."""
    if unit.kind != "overlay":
        return []
    return _Walk(repo, scan, unit, allow_remote).run()
