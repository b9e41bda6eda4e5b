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

It also screens, before Kustomize reads them, every file the build would read (resources,
components, patch and strategic-merge patch files, generator `files`/`envs`, `configurations`,
`crds`, replacement sources, plugin configs, and patches written inline) with the limits of the
`parse` validator (`llmops_gate.yamlio`: size, alias count and expansion, depth, binary data,
encoding), because Kustomize has none: an alias bomb in a base makes `kubectl kustomize` grow
to many GiB. A refused input is `build-input-unsafe`, naming the input's own file and line.
And it counts the files the build reads as Kustomize does, building a base again at each
inclusion: over `limits.max_build_files` is `build-too-large` (bases that include each other's
siblings multiply a build without any file being large).

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
from llmops_gate.model import Finding, RuleDoc, Severity, Unit
from llmops_gate.repo.discover import (
    KUSTOMIZATION_NAMES,
    Kustomization,
    RepoScan,
    read_kustomization,
)
from llmops_gate.repo.references import (
    FOLDER_KEYS,
    PLUGIN_KEYS,
    Reference,
    Role,
    inline_patches,
    looks_remote,
    references,
    strings,
)
from llmops_gate.yamlio.snapshot import Snapshot

HELM_KEYS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")

def _rule(rule: str, summary: str, why: str, fix: str) -> RuleDoc:
    return RuleDoc(rule, Severity.ERROR, summary, why, fix, validator="build")


# What the guard refuses before Kustomize runs; reported by the `build` validator.
RULES: dict[str, RuleDoc] = {d.id: d for d in (
    _rule("remote-resource", "No overlay fetches a remote base or resource.",
          "Kustomize would fetch and build code from the network: what is validated is then "
          "not what the repository holds, and the fetch may hang or be hostile.",
          "vendor the remote base into the repository, or run with --allow-remote if this "
          "repository's remote bases are trusted"),
    _rule("kustomize-helm", "No overlay inflates a Helm chart.",
          "Helm inside Kustomize downloads charts and runs the helm program.",
          "render the chart into plain manifests and commit them; llmops-gate never enables "
          "Helm inside Kustomize"),
    _rule("kustomize-plugin", "No overlay uses an exec or KRM-function plugin.",
          "A plugin is a program the repository names; validating must never run one.",
          "use built-in transformers and generators only; llmops-gate never runs exec or "
          "KRM-function plugins"),
    _rule("path-outside-repo", "Every file an overlay uses is inside the repository.",
          "A file outside the repository is not reviewed with it (`..` above the root, a "
          "symlink out of it) and may be anything on the machine.",
          "keep every file an overlay uses inside the repository (no `..` above the root, no "
          "symlinks that lead out of it)"),
    _rule("kustomization-cycle", "No kustomization includes itself through its bases.",
          "Kustomize cannot build a cycle.",
          "remove the entry that includes a kustomization from its own bases"),
    _rule("kustomization-invalid", "Every kustomization file can be read.",
          "A kustomization that does not parse cannot be checked or built.",
          "fix the kustomization file so it can be read"),
    _rule("build-input-unsafe",
          "Every file an overlay's build reads passes the YAML safety limits first.",
          "Before Kustomize runs, every file its build would read (resources, components, "
          "patches, generator sources, configurations, CRDs, replacement sources) is screened "
          "with the `parse` limits: size, alias count and expansion, depth, binary data, "
          "encoding. Kustomize has no such limits (an alias bomb makes it grow without bound), "
          "so an overlay with a refused input is not built.",
          "fix the file named (the `parse` finding on it says the same); Kustomize is never "
          "run on input the YAML limits refuse"),
    _rule("build-too-large", "An overlay's build reads at most limits.max_build_files files.",
          "Kustomize builds a base again every time it is included, so bases that include "
          "each other's siblings can make one build read a file thousands of times. The count "
          "is made before Kustomize runs.",
          "include each base once (bases that include each other's siblings multiply the "
          "build), or raise limits.max_build_files"),
)}

def screen(snapshot: Snapshot, rel: str, as_yaml: bool = True
           ) -> tuple[str, str, int | None, int | None] | None:
    """(rule, problem, line, column) of a file's refusal by the YAML limits, else None.

    Through the run's snapshot, so the bases many overlays share are read and parsed once per
    run, and what `lint` and `parse` say of the file comes from the same reading. A generator
    source Kustomize only copies (not a YAML file) is screened for its size alone."""
    try:
        if as_yaml:
            snapshot.parsed(rel)
        else:
            snapshot.raw(rel)
    except yamlio.UnsafeYAML as exc:
        line, column = yamlio.yaml_error_position(exc)
        return exc.rule, str(exc.problem), line, column
    except (OSError, yaml.YAMLError):
        return None  # unreadable or a syntax error: Kustomize reports it, within its bounds
    return None


def _reads(data: dict[str, Any]) -> list[Reference]:
    """The files a kustomization has Kustomize read (not the folders it includes)."""
    return [r for r in references(data) if r.role in (Role.READ, Role.COPY)]


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
        self.limit = yamlio.current().max_build_files
        self.distinct = 0  # files screened so far; past the limit the rest are not read
        self.entries = 0  # entries of the distinct kustomizations visited so far
        self.too_large = False
        self.own: dict[str, int] = {}  # kustomization folder -> files it reads itself
        self.children: dict[str, list[str]] = {}  # -> folders it includes, as often as it does
        self.weight: dict[str, int] = {}  # -> files one build of it reads, inclusions counted

    def read(self, k: Kustomization, ref: str, path: Path, as_yaml: bool = True) -> bool:
        """Count and screen one file the build reads; False when it is refused."""
        self.own[k.folder] = self.own.get(k.folder, 0) + 1
        self.distinct += 1
        if self.distinct > self.limit or not path.is_file():
            return True
        refused = screen(self.scan.snapshot, self.rel(path), as_yaml)
        if refused is None:
            return True
        rule, problem, line, column = refused
        where = f"{k.file}:{k.line_of(ref)}" if k.line_of(ref) else k.file
        self.findings.append(Finding(
            validator="build", rule="build-input-unsafe", severity=Severity.ERROR,
            message=f"not built: '{self.rel(path)}', which the build reads (listed in "
                    f"{where}), is refused before Kustomize runs ({rule}): {problem}",
            overlay=self.unit.path, environment=self.unit.environment, file=self.rel(path),
            line=line, column=column, hint=RULES["build-input-unsafe"].fix))
        return False

    def inline(self, k: Kustomization, text: str) -> None:
        """A patch written inside the kustomization is YAML that Kustomize parses as well."""
        try:
            yamlio.inspect(text)
        except yamlio.UnsafeYAML as exc:
            line, column = yamlio.yaml_error_position(exc)
            start = k.line_of(text)
            self.findings.append(Finding(
                validator="build", rule="build-input-unsafe", severity=Severity.ERROR,
                message=f"not built: a patch written inline in {k.file} is refused before "
                        f"Kustomize runs ({exc.rule}): {exc.problem}",
                overlay=self.unit.path, environment=self.unit.environment, file=k.file,
                line=start + line if start and line else start, column=column,
                hint=RULES["build-input-unsafe"].fix))
        except yaml.YAMLError:
            pass  # a syntax error: Kustomize reports it

    def finding(self, rule: str, message: str, k: Kustomization, text: str | None) -> None:
        self.findings.append(Finding(
            validator="build", rule=rule, severity=Severity.ERROR, message=message,
            overlay=self.unit.path, environment=self.unit.environment, file=k.file,
            line=k.line_of(text) if text else None, hint=RULES[rule].fix))

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
                self.scan.snapshot, file)
        return None

    def visit(self, k: Kustomization) -> list[str]:
        """Check one kustomization; return the repo-relative folders it includes."""
        if k.error is not None:
            self.finding("kustomization-invalid", f"cannot read kustomization: {k.error}", k,
                         None)
            self.findings[-1] = replace(self.findings[-1], line=k.error_line)
            return []
        data = k.data
        # Entries are counted before any of them is looked at, so a kustomization listing
        # thousands of files is refused without touching them.
        reads = _reads(data)
        self.entries += 1 + sum(len(list(strings(data.get(key)))) for key in FOLDER_KEYS) + len(
            reads) + sum(
            len(data[key]) for key in PLUGIN_KEYS if isinstance(data.get(key), list))
        if self.entries > self.limit:
            self.too_large = True
            return []
        for key in HELM_KEYS:
            if key in data:
                self.finding("kustomize-helm", f"'{key}': Helm chart inflation is never enabled "
                             "by llmops-gate", k, key)
        folders: list[str] = []
        for key in FOLDER_KEYS:
            for ref in strings(data.get(key)):
                folders.extend(self.folder_ref(k, key, ref))
        for read in reads:
            self.file_ref(k, read.ref, read.as_yaml)
        for text in inline_patches(data):
            self.inline(k, text)
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
        if path.is_dir():
            return (self.rel(path),)
        self.read(k, ref, path)
        return ()

    def lexical(self, k: Kustomization, key: str, ref: str, path: Path) -> None:
        """A path that does not exist may still climb out of the repository with `..`."""
        if not yamlio.inside(Path(os.path.normpath(path)), self.root):
            self.finding("path-outside-repo", f"'{key}' entry '{ref}' points outside the "
                         "repository", k, ref)

    def file_ref(self, k: Kustomization, ref: str, as_yaml: bool = True) -> None:
        path = self.local(k, ref)
        if not os.path.lexists(path):
            self.lexical(k, "path", ref, path)
        elif not yamlio.inside(path, self.root):
            self.finding("path-outside-repo", f"'{ref}' resolves to "
                         f"{'a symlink target ' if path.is_symlink() else ''}outside the "
                         "repository", k, ref)
        else:
            self.read(k, ref, path, as_yaml)

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
        if not self.read(k, ref, path):
            return ()
        try:
            docs = self.scan.snapshot.documents(self.rel(path))
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
        first: Kustomization | None = None
        while stack and not self.too_large:
            folder, leaving, parent, ref = stack.pop()
            if leaving:
                # Kustomize builds an included base again at each inclusion: so does the count.
                total = 1 + self.own.get(folder, 0) + sum(
                    self.weight.get(c, 0) for c in self.children.get(folder, ())
                    if c not in on_path)
                self.weight[folder] = min(total, self.limit + 1)
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
            if folder == start:
                first = k
            self.children[folder] = children = self.visit(k)
            for child in children:
                if child in on_path:
                    raw = next((r for r in self._refs(k) if self._target(k, r) == child), child)
                    self.finding("kustomization-cycle", f"'{raw}' includes '{child}', which "
                                 "already includes this kustomization (a cycle)", k, raw)
                elif child not in done:
                    stack.append((child, False, k, child))
        if first is not None and (self.too_large or self.weight.get(start, 0) > self.limit):
            self.findings.append(Finding(
                validator="build", rule="build-too-large", severity=Severity.ERROR,
                message=f"not built: building this overlay reads more than {self.limit} files "
                        "(limits.max_build_files), counting each inclusion of a base, as "
                        "Kustomize builds it again each time",
                overlay=self.unit.path, environment=self.unit.environment, file=first.file,
                line=1, hint=RULES["build-too-large"].fix))
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
