"""Turning Kustomize's error output into one useful line, with the file and line it is about.

Kustomize wraps the real cause in a chain of "accumulating resources ... must resolve to a
file ... recursed accumulation of path ..." clauses, one pair for every base it descended
into, all with absolute paths (and ours include the throw-away wrapper folder). `explain`
peels those clauses off, keeps the innermost cause, rewrites paths relative to the repo root,
and, where the cause names a file (a YAML error in a resource, an unknown field in a
kustomization, a patch that does not parse, a missing file named by a kustomization), points
at that file and line. Anything it does not recognise is kept, only flattened to one line.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmops_gate import yamlio
from llmops_gate.yamlio.sourcemap import SourceMap

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class BuildFailure:
    """Why a build failed: a one-line message and, when known, the repo-relative file/line."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None


# kubectl logs through klog: `E1125 18:22:35.428759   7679 run.go:72] "command failed" err=...`
_KLOG = re.compile(r'^[EWF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] "command failed" err=', re.M)
_DESCEND = re.compile(
    r"accumulating resources: accumulation err='accumulating resources from '([^']*)': "
    r"'[^']*' must resolve to a file': (?:recursed accumulation of|couldn't make target for) "
    r"path '([^']*)': ")
_TARGET = re.compile(r"couldn't make target for path '([^']*)': ")
_RESOURCE_EITHER = re.compile(
    r"accumulating resources: accumulation err='(?:accumulating|merging) resources from "
    r"'([^']*)': (.*?)': must build at directory: (.*)$", re.S)
_RESOURCE = re.compile(r"accumulating resources: accumulating resources from '([^']*)': ")
_TRANSFORMER = re.compile(r"trouble configuring builtin (\w+) with config: `(.*?)`: ", re.S)
_MALFORMED = re.compile(r"MalformedYAMLError: yaml: line (\d+): (.*?) in File: (\S+)$", re.S)
_KYAML_LINE = re.compile(r"^(?:invalid Kustomization: )?yaml: line (\d+): (.*)$", re.S)
_UNKNOWN_FIELD = re.compile(r'invalid Kustomization: json: unknown field "([^"]+)"')
_SYMLINK = re.compile(r"evalsymlink failure on '[^']*' : (?:lstat )?")
_PATCH_PARSE = re.compile(r"unable to parse SM or JSON patch from \[.*\]$", re.S)
_FILE_SOURCES = re.compile(r"file sources: \[([^\]]*)\]: ")
_PATCH_FILE = re.compile(r"failed to get the patch file from path\([^)]*\): ")
# Go's dump of the object Kustomize could not read (`missing kind in object {{ } {{x } ...}}`).
_GO_DUMP = re.compile(r" in object \{\{.*\}\}$", re.S)


def unwrap(stderr: str) -> str:
    """The error text itself, without kubectl's klog prefix, quoting, or `Error:` label."""
    text = stderr.strip()
    match = _KLOG.search(text)
    if match:
        body = text[match.end():].strip()
        if body.startswith("<"):
            # klog's multi-line form: `err=<` then tab-indented lines, then ` >`.
            inner = body[1:].rsplit(">", 1)[0]
            text = "\n".join(ln[1:] if ln.startswith("\t") else ln
                             for ln in inner.strip("\n").splitlines()).strip()
        elif body.startswith('"'):
            text = _go_unquote(body.splitlines()[0] if body.count("\n") == 0 else body)
        else:
            text = body
    else:
        # `kustomize build` prints warnings first, then `Error: ...`.
        for marker in ("\nError: ", "\nerror: "):
            if marker in "\n" + text:
                text = ("\n" + text).rsplit(marker, 1)[1]
                break
    return text.strip()


def _go_unquote(quoted: str) -> str:
    quoted = quoted.strip()
    try:
        value = json.loads(quoted)
        return str(value)
    except ValueError:
        inner = quoted[1:-1] if quoted.endswith('"') else quoted[1:]
        return (inner.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t")
                .replace("\\\\", "\\"))


class _Paths:
    """Rewrites absolute paths (and the wrapper folder's relative ones) to repo-relative."""

    def __init__(self, repo: Path | None, wrapper: str | None, folder: Path) -> None:
        self.repo = repo.resolve() if repo is not None else None
        self.folder = folder.resolve()
        self.pairs: list[tuple[str, str]] = []
        if wrapper is not None:
            rel_from_wrapper = os.path.relpath(self.folder, Path(wrapper).resolve())
            self.pairs.append((rel_from_wrapper, self.show(str(self.folder))))
            for w in {str(Path(wrapper).resolve()), wrapper}:
                self.pairs.append((w, "<build>"))

    def rel(self, absolute: str) -> str | None:
        """Repo-relative POSIX path of an absolute path inside the repo, else None."""
        if self.repo is None:
            return None
        try:
            return Path(os.path.normpath(absolute)).relative_to(self.repo).as_posix() or "."
        except ValueError:
            return None

    def show(self, absolute: str) -> str:
        return self.rel(absolute) or absolute

    def clean(self, text: str) -> str:
        for old, new in self.pairs:
            text = text.replace(old, new)
        if self.repo is not None:
            root = str(self.repo)
            text = re.sub(re.escape(root) + r"(/[^\s'\"`:,)\]]*)?(?=$|[\s'\"`:,)\]])",
                          lambda m: self.show(m.group(0)), text)
        return text


def _kustomization_file(folder: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _yaml_problem(text: str) -> tuple[str, int | None, int | None] | None:
    """PyYAML's verdict on `text`: (summary, line, column) if it is not YAML, else None."""
    try:
        list(yamlio.load_all(text))
    except yaml.YAMLError as exc:
        line, col = yamlio.yaml_error_position(exc)
        return yamlio.yaml_error_summary(exc), line, col
    return None


def _entry_line(sources: SourceMap, kfile: str, key: str,
                match: Any) -> tuple[int | None, int | None]:
    """Line of the item of list `key` in a kustomization that `match` selects."""
    docs = sources.documents(kfile)
    if not docs:
        return None, None
    node = docs[0].node
    if not isinstance(node, yaml.MappingNode):
        return None, None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.SequenceNode):
            for item in v.value:
                if match(item):
                    return int(item.start_mark.line) + 1, int(item.start_mark.column) + 1
    return None, None


def _scalar_line(sources: SourceMap, kfile: str, key: str,
                 value: str) -> tuple[int | None, int | None]:
    """Where the scalar `value` (or `name=value`) first appears under top-level `key`."""
    docs = sources.documents(kfile)
    top = _mapping_value(docs[0].node, key) if docs else None
    stack: list[yaml.Node] = [top] if top is not None else []
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.ScalarNode):
            if node.value == value or node.value.endswith("=" + value):
                return int(node.start_mark.line) + 1, int(node.start_mark.column) + 1
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for _, v in node.value)
    return None, None


def _mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                value: yaml.Node = v
                return value
    return None


def _key_line(sources: SourceMap, kfile: str, key: str) -> int | None:
    docs = sources.documents(kfile)
    if not docs or not isinstance(docs[0].node, yaml.MappingNode):
        return None
    for k, _ in docs[0].node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return int(k.start_mark.line) + 1
    return None


def _plain(node: yaml.Node | None) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    return {k.value: v.value for k, v in node.value
            if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)}


def _describe_target(target: Any) -> str:
    if not isinstance(target, dict):
        return ""
    parts = [str(target[k]) for k in ("kind", "name") if target.get(k)]
    return "/".join(parts)


def explain(stderr: str, folder: Path, repo: Path | None = None,
            wrapper: str | None = None) -> BuildFailure:
    """One line saying why Kustomize failed on `folder`, and the file/line it is about."""
    paths = _Paths(repo, wrapper, folder)
    text = unwrap(stderr)
    if not text:
        return BuildFailure("kustomize build failed (no message)")
    # The folders Kustomize descended into, each with the reference that led there.
    trail: list[tuple[str, Path]] = [("", paths.folder)]
    while True:
        m = _DESCEND.search(text)
        if not m:
            break
        trail.append((m.group(1), Path(m.group(2))))
        text = text[:m.start()] + text[m.end():]
    m = _TARGET.search(text)
    if m:
        trail.append(("", Path(m.group(1))))
        text = text[:m.start()] + text[m.end():]
    where = trail[-1][1]
    sources = SourceMap(paths.repo) if paths.repo is not None else None
    kpath = _kustomization_file(where)
    kfile = paths.rel(str(kpath)) if kpath is not None else None
    if kpath is None and trail[-1][0] and len(trail) > 2 and sources is not None:
        # A folder used as a base has no kustomization: point at the entry that names it.
        ref, parent = trail[-1][0], trail[-2][1]
        parent_k = _kustomization_file(parent)
        if parent_k is not None:
            pfile = paths.rel(str(parent_k))
            if pfile is not None:
                line, col = _entry_line(sources, pfile, "resources",
                                        lambda n: isinstance(n, yaml.ScalarNode)
                                        and n.value == ref)
                message = _one_line(paths.clean(text.strip()))
                return BuildFailure(f"resource '{ref}': {message}", pfile, line, col)
    failure = _explain_cause(text.strip(), where, kfile, paths, sources)
    return BuildFailure(_one_line(paths.clean(failure.message)), failure.file, failure.line,
                        failure.column)


def _explain_cause(text: str, where: Path, kfile: str | None, paths: _Paths,
                   sources: SourceMap | None) -> BuildFailure:
    text = _SYMLINK.sub("", text)
    text = _PATCH_FILE.sub("", text)
    text = _GO_DUMP.sub("", text)

    m = _RESOURCE_EITHER.search(text)
    if m:
        ref, as_file, as_dir = m.group(1), m.group(2), m.group(3)
        cause = as_dir if "must resolve to a file" in as_file else as_file
        line = col = None
        if sources is not None and kfile is not None:
            line, col = _entry_line(sources, kfile, "resources",
                                    lambda n: isinstance(n, yaml.ScalarNode) and n.value == ref)
        cause = _GO_DUMP.sub("", _SYMLINK.sub("", cause))
        return BuildFailure(f"resource '{ref}': {cause}", kfile, line, col)

    m = _RESOURCE.search(text)
    ref_prefix = ""
    entry: tuple[int | None, int | None] = (None, None)
    if m:
        ref = m.group(1)
        ref_prefix = f"resource '{ref}': "
        text = text[m.end():]
        if sources is not None and kfile is not None:
            entry = _entry_line(sources, kfile, "resources",
                                lambda n: isinstance(n, yaml.ScalarNode) and n.value == ref)

    m = _MALFORMED.search(text)
    if m:
        file_abs = str(where / m.group(3))
        return _yaml_file_failure(file_abs, int(m.group(1)), m.group(2), paths,
                                  ref_prefix + "YAML syntax error")

    m = _KYAML_LINE.search(text)
    kpath = _kustomization_file(where)
    if m and kpath is not None:
        return _yaml_file_failure(str(kpath), int(m.group(1)), m.group(2), paths,
                                  "invalid kustomization: YAML syntax error")

    m = _UNKNOWN_FIELD.search(text)
    if m:
        line = _key_line(sources, kfile, m.group(1)) if sources and kfile else None
        return BuildFailure(f"invalid kustomization: unknown field '{m.group(1)}'", kfile, line)

    m = _FILE_SOURCES.search(text)
    if m and sources is not None and kfile is not None:
        names = [n.strip() for n in m.group(1).split()]
        line = col = None
        for key in ("configMapGenerator", "secretGenerator"):
            for name in names:
                line, col = _scalar_line(sources, kfile, key, name)
                if line:
                    break
            if line:
                break
        label = f"generator file '{', '.join(names)}': "
        return BuildFailure(ref_prefix + label + text[m.end():], kfile, line, col)

    m = _TRANSFORMER.search(text)
    if m:
        return _transformer_failure(m.group(1), m.group(2), text[m.end():], where, kfile,
                                    paths, sources)
    return BuildFailure(ref_prefix + text, kfile, *entry)


def _yaml_file_failure(file_abs: str, kline: int, kmsg: str, paths: _Paths,
                       label: str) -> BuildFailure:
    """A YAML error in a file: PyYAML's position (the one yamllint reports) when it finds the
    problem too, else Kustomize's."""
    rel = paths.rel(file_abs)
    line: int | None = kline
    col: int | None = None
    msg = kmsg
    try:
        problem = _yaml_problem(Path(file_abs).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        problem = None
    if problem is not None and problem[1] is not None:
        msg, line, col = problem
    shown = rel or file_abs
    return BuildFailure(f"{label} in {shown} line {line}: {msg}", rel, line, col)


def _transformer_failure(name: str, config_text: str, cause: str, where: Path,
                         kfile: str | None, paths: _Paths,
                         sources: SourceMap | None) -> BuildFailure:
    try:
        config = yamlio.load(config_text)
    except yaml.YAMLError:
        config = None
    config = config if isinstance(config, dict) else {}
    cause = cause.strip()
    if name != "PatchTransformer":
        return BuildFailure(f"{name}: {cause}", kfile)
    patch_path = config.get("path")
    inline = config.get("patch")
    target = _describe_target(config.get("target"))
    line = col = None
    if sources is not None and kfile is not None:
        def same_entry(node: yaml.Node) -> bool:
            if isinstance(node, yaml.ScalarNode):
                return bool(patch_path) and node.value == patch_path
            if patch_path:
                value = _mapping_value(node, "path")
                return isinstance(value, yaml.ScalarNode) and value.value == patch_path
            value = _mapping_value(node, "patch")
            if isinstance(value, yaml.ScalarNode) and value.value.strip() == str(
                    inline or "").strip():
                return True
            # Fall back on the target when Kustomize re-wrapped the patch text.
            return bool(target) and _describe_target(_plain(_mapping_value(node, "target")))\
                == target
        for key in ("patches", "patchesJson6902", "patchesStrategicMerge"):
            line, col = _entry_line(sources, kfile, key, same_entry)
            if line:
                break
    if isinstance(patch_path, str):
        label = f"patch '{patch_path}'"
        if _PATCH_PARSE.search(cause):
            file_abs = str(where / patch_path)
            try:
                problem = _yaml_problem(Path(file_abs).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                problem = None
            rel = paths.rel(file_abs)
            if problem is not None:
                msg, pline, pcol = problem
                return BuildFailure(f"{label}: YAML syntax error in {rel or file_abs} line "
                                    f"{pline}: {msg}", rel, pline, pcol)
            return BuildFailure(f"{label}: not a strategic-merge or JSON 6902 patch", rel)
        return BuildFailure(f"{label}: {cause}", kfile, line, col)
    label = f"inline patch (target {target})" if target else "inline patch"
    if _PATCH_PARSE.search(cause) and isinstance(inline, str):
        problem = _yaml_problem(inline)
        if problem is not None:
            msg, pline, pcol = problem
            start = _inline_patch_start(sources, kfile, line) if line else None
            if start is not None and pline is not None:
                return BuildFailure(f"{label}: YAML syntax error at line {start + pline - 1}: "
                                    f"{msg}", kfile, start + pline - 1, None)
            return BuildFailure(f"{label}: YAML syntax error in the patch's line {pline}: "
                                f"{msg}", kfile, line, col)
        return BuildFailure(f"{label}: not a strategic-merge or JSON 6902 patch", kfile, line,
                            col)
    return BuildFailure(f"{label}: {cause}", kfile, line, col)


def _inline_patch_start(sources: SourceMap | None, kfile: str | None,
                        entry_line: int) -> int | None:
    """First line of the text of the inline `patch: |` block of the entry at `entry_line`."""
    if sources is None or kfile is None:
        return None
    docs = sources.documents(kfile)
    if not docs:
        return None
    for key in ("patches", "patchesJson6902"):
        seq = _mapping_value(docs[0].node, key)
        if not isinstance(seq, yaml.SequenceNode):
            continue
        for item in seq.value:
            if int(item.start_mark.line) + 1 != entry_line:
                continue
            value = _mapping_value(item, "patch")
            if isinstance(value, yaml.ScalarNode):
                # A block scalar's text starts on the line after its `|` indicator.
                first = int(value.start_mark.line) + 1
                return first + 1 if value.style in ("|", ">") else first
    return None
