"""Reading YAML fast and safely: PyYAML's C loader, behind checks for hostile input.

The repository under validation is untrusted (anyone who can open a pull request writes it), so
every YAML text the tool reads goes through here:

- `read_text` refuses files over `Limits.max_file_bytes` (from their size, before reading),
  binary files, text that is not UTF-8, and paths that resolve outside the repository root;
- `load`, `load_all` and `compose_all` first walk the parser's *event* stream (libyaml keeps no
  recursion there) and refuse documents nested deeper than `max_depth`, with more than
  `max_aliases` aliases, or whose aliases would expand to more than `max_alias_expansion`
  nodes (a "billion laughs" document is refused after reading its few hundred bytes);
- `inspect` does the same walk and also returns duplicate mapping keys, which PyYAML (and the
  cluster) would silently resolve to the last value.

`KubeLoader` reads a plain manifest as kubectl and ArgoCD do (sigs.k8s.io/yaml over go-yaml
v2: `N` is false, `1e3` is 1000, `12:30:00` a string) and `KustomizeLoader` a Kustomize source
as Kustomize does (llmops_gate.yamlio.reading); `load*` and `compose_all` take either as `loader`.

Every refusal is an `UnsafeYAML`, a `yaml.YAMLError` with a rule id, line and column, so code
that already catches `yaml.YAMLError` turns it into a finding instead of a traceback.
"""

from __future__ import annotations

import codecs
import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from yaml import events

from llmops_gate.yamlio.reading import KubeLoader as KubeLoader
from llmops_gate.yamlio.reading import KustomizeLoader as KustomizeLoader

try:
    SafeLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    SafeLoader = yaml.SafeLoader

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much YAML the tool accepts; the `limits` section of `.llmops-gate.yaml`."""

    max_file_bytes: int = 8 * MiB
    max_stream_bytes: int = 64 * MiB
    max_depth: int = 100
    max_aliases: int = 10_000
    max_alias_expansion: int = 100_000
    # Not YAML limits, but bounds on what one overlay's build may cost (llmops_gate.guard and
    # llmops_gate.kustomize): files its build reads, counting each inclusion of a base, and
    # the memory ceiling of every Kustomize (and kubeconform) process.
    max_build_files: int = 5_000
    kustomize_memory: int = 2 * 1024 * MiB

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Limits:
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known})


# Upper bounds for configured limits, so a config inside the untrusted repo cannot switch the
# protection off. `max_depth` stays well below Python's recursion limit for later walks.
CEILINGS: dict[str, int] = {
    "max_file_bytes": 1024 * MiB,
    "max_stream_bytes": 4096 * MiB,
    "max_depth": 500,
    "max_aliases": 1_000_000,
    "max_alias_expansion": 10_000_000,
    "max_build_files": 1_000_000,
    "kustomize_memory": 8 * 1024 * MiB,
}
# Lower bounds where 1 would make no sense (a Go binary does not start in less).
FLOORS: dict[str, int] = {"kustomize_memory": 16 * MiB}

_default = Limits()


def configure(limits: Limits) -> None:
    """Set the limits for this process's later reads (the engine does it once per run)."""
    global _default
    _default = limits


def current() -> Limits:
    return _default


class UnsafeYAML(yaml.MarkedYAMLError):
    """Input refused by a limit or check. `rule` is the finding's rule id."""

    def __init__(self, rule: str, problem: str, line: int | None = None,
                 column: int | None = None, name: str = "<text>") -> None:
        mark = yaml.Mark(name, 0, line - 1, (column or 1) - 1, None, 0) if line else None
        super().__init__(problem=problem, problem_mark=mark)
        self.rule = rule

    def __str__(self) -> str:
        return str(self.problem)


@dataclass(frozen=True)
class DuplicateKey:
    key: str
    line: int
    column: int
    first_line: int


def _mark(mark: Any) -> tuple[int | None, int | None]:
    if mark is None:
        return None, None
    return int(mark.line) + 1, int(mark.column) + 1


def decode(raw: bytes, name: str = "<text>") -> str:
    """UTF-8 text of `raw`, else UnsafeYAML `binary-file` or `yaml-encoding`."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
                       codecs.BOM_UTF32_BE)):
        raise UnsafeYAML("yaml-encoding", "file is UTF-16 or UTF-32 text; save it as UTF-8",
                         1, 1, name)
    if b"\x00" in raw[:8192]:
        raise UnsafeYAML("binary-file", "binary file (it contains NUL bytes), not YAML text",
                         name=name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UnsafeYAML("yaml-encoding", f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                         line, column, name) from None
    return text[1:] if text.startswith("\ufeff") else text


# Resolved paths (every symlink followed), remembered while `one_run()` is active: one run
# checks the same files and folders many times over (the guard, every read), and each
# `Path.resolve()` costs an lstat per path component. (Source texts are kept by the run's
# `yamlio.snapshot`, which reads each file once.)
_resolved: dict[str, str] | None = None


@contextlib.contextmanager
def one_run() -> Iterator[None]:
    """Within this block (one run), `inside` resolves each path prefix once."""
    global _resolved
    outer = _resolved
    if _resolved is None:
        _resolved = {}
    try:
        yield
    finally:
        _resolved = outer


def _resolve(path: str, cache: dict[str, str]) -> str:
    """`Path(path).resolve()` for an absolute path, from the resolved prefixes in `cache`."""
    hit = cache.get(path)
    if hit is not None:
        return hit
    head, tail = os.path.split(path)
    if not tail:
        return path if head == path else _resolve(head, cache)
    base = _resolve(head, cache)
    if tail == ".":
        out = base
    elif tail == "..":
        out = os.path.dirname(base)
    else:
        candidate = os.path.join(base, tail)
        # Only a symlink needs resolving (and may loop: Path.resolve raises then).
        out = str(Path(candidate).resolve()) if os.path.islink(candidate) else candidate
    cache[path] = out
    return out


def _absolute(path: Path) -> str:
    # Not os.path.abspath: it would fold `..` before symlinks are resolved.
    text = os.fspath(path)
    return text if os.path.isabs(text) else os.path.join(os.getcwd(), text)


def inside(path: Path, root: Path) -> bool:
    """True when `path`, with every symlink resolved, lies within `root`."""
    cache = _resolved
    try:
        if cache is None:
            path.resolve().relative_to(root.resolve())
            return True
        full, top = (_resolve(_absolute(p), cache) for p in (path, root))
    except (ValueError, OSError, RuntimeError):
        return False
    return full == top or full.startswith(top.rstrip("/") + "/")


def read_bytes(path: Path, limit: int, root: Path | None = None) -> bytes:
    """At most `limit` bytes of a regular file inside `root`; UnsafeYAML otherwise.

    Raises OSError when the file cannot be read at all.
    """
    name = path.name
    if root is not None and not inside(path, root):
        raise UnsafeYAML("path-outside-repo",
                         "file resolves (through a symlink) to a path outside the repository",
                         name=name)
    if not path.is_file():
        raise UnsafeYAML("yaml-unreadable", "not a regular file", name=name)
    size = path.stat().st_size
    if size > limit:
        raise UnsafeYAML("yaml-too-large",
                         f"file is {size} bytes, over the limit of {limit} "
                         "(limits.max_file_bytes)", name=name)
    with path.open("rb") as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise UnsafeYAML("yaml-too-large", f"file is over the limit of {limit} bytes "
                         "(limits.max_file_bytes)", name=name)
    return raw


def read_text(path: Path, root: Path | None = None, limits: Limits | None = None) -> str:
    """A YAML source file as text, refusing what `read_bytes` and `decode` refuse."""
    lim = limits or _default
    return decode(read_bytes(path, lim.max_file_bytes, root), path.name)


class _Frame:
    __slots__ = ("anchor", "depth", "expect_key", "keys", "size")

    def __init__(self, anchor: str | None, mapping: bool) -> None:
        self.anchor = anchor
        self.size = 1
        self.depth = 1
        self.keys: dict[str, int] | None = {} if mapping else None
        self.expect_key = mapping


def walk(text: str, limits: Limits, name: str = "<text>",
         keep: list[yaml.Event] | None = None) -> list[DuplicateKey]:
    """Check `text` against the limits on its event stream; return its duplicate keys.

    With `keep`, every event is appended to it as well, so nodes can be composed from the
    same parse (`yamlio.snapshot`) instead of parsing the text a second time. Kept events
    (and so the nodes made of them) end where they start: nothing reads a node's end, and a
    run's snapshot holds a node per scalar of every source file (half its marks' memory)."""
    if len(text) > limits.max_stream_bytes:
        raise UnsafeYAML("yaml-too-large", f"YAML text is {len(text)} characters, over the limit "
                         f"of {limits.max_stream_bytes} (limits.max_stream_bytes)", name=name)
    dupes: list[DuplicateKey] = []
    stack: list[_Frame] = []
    anchors: dict[str, tuple[int, int]] = {}
    aliases = expansion = 0

    def close(size: int, depth: int, anchor: str | None) -> None:
        if anchor:
            anchors[anchor] = (size, depth)
        if stack:
            parent = stack[-1]
            parent.size += size
            parent.depth = max(parent.depth, depth + 1)
            if parent.keys is not None:
                parent.expect_key = not parent.expect_key

    try:
        for ev in yaml.parse(text, Loader=SafeLoader):
            if keep is not None:
                ev.end_mark = ev.start_mark
                keep.append(ev)
            kind = type(ev)
            if kind is events.ScalarEvent:
                assert isinstance(ev, events.ScalarEvent)
                if stack and stack[-1].expect_key and stack[-1].keys is not None:
                    seen = stack[-1].keys
                    line, column = _mark(ev.start_mark)
                    key = ev.value
                    if key in seen and key != "<<":
                        dupes.append(DuplicateKey(key, line or 0, column or 0, seen[key]))
                    else:
                        seen.setdefault(key, line or 0)
                close(1, 0, ev.anchor)
            elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
                assert isinstance(ev, events.CollectionStartEvent)
                stack.append(_Frame(ev.anchor, kind is events.MappingStartEvent))
                if len(stack) > limits.max_depth:
                    line, column = _mark(ev.start_mark)
                    raise UnsafeYAML("yaml-too-deep", f"YAML is nested more than "
                                     f"{limits.max_depth} levels deep (limits.max_depth)",
                                     line, column, name)
            elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                frame = stack.pop()
                close(frame.size, frame.depth, frame.anchor)
            elif kind is events.AliasEvent:
                assert isinstance(ev, events.AliasEvent)
                size, depth = anchors.get(str(ev.anchor), (1, 0))
                aliases += 1
                expansion += size
                line, column = _mark(ev.start_mark)
                if aliases > limits.max_aliases:
                    raise UnsafeYAML("yaml-aliases", f"more than {limits.max_aliases} YAML "
                                     "aliases in one document (limits.max_aliases)",
                                     line, column, name)
                if expansion > limits.max_alias_expansion:
                    raise UnsafeYAML("yaml-aliases", "YAML aliases expand to more than "
                                     f"{limits.max_alias_expansion} nodes (a \"billion laughs\" "
                                     "document; limits.max_alias_expansion)", line, column, name)
                if len(stack) + depth > limits.max_depth:
                    raise UnsafeYAML("yaml-too-deep", f"YAML alias nests more than "
                                     f"{limits.max_depth} levels deep (limits.max_depth)",
                                     line, column, name)
                close(size, depth, None)
            elif kind is events.DocumentStartEvent:
                anchors.clear()
                aliases = expansion = 0
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise UnsafeYAML("yaml-encoding", f"the character #x{exc.character:04x} is not allowed "
                         "in YAML (a control character)", line, column, name) from None
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem or ""):
            line, column = _mark(exc.problem_mark)
            raise UnsafeYAML("yaml-too-deep", f"YAML is nested more than {limits.max_depth} "
                             "levels deep (limits.max_depth)", line, column, name) from None
        raise
    except RecursionError:  # pragma: no cover - only the pure-Python parser recurses
        raise UnsafeYAML("yaml-too-deep", "YAML is nested too deeply", name=name) from None
    return dupes


def inspect(text: str, limits: Limits | None = None, name: str = "<text>") -> list[DuplicateKey]:
    """Raise UnsafeYAML or a YAML syntax error for `text`; return its duplicate mapping keys."""
    return walk(text, limits or _default, name)


def check(text: str, limits: Limits | None = None) -> None:
    walk(text, limits or _default)


Loader = type[yaml.SafeLoader]


def load(text: str, limits: Limits | None = None, loader: Loader = SafeLoader) -> Any:
    check(text, limits)
    return yaml.load(text, Loader=loader)


def load_all(text: str, limits: Limits | None = None,
             loader: Loader = SafeLoader) -> Iterator[Any]:
    check(text, limits)
    return yaml.load_all(text, Loader=loader)


def compose_all(text: str, limits: Limits | None = None,
                loader: Loader = SafeLoader) -> Iterator[yaml.Node | None]:
    check(text, limits)
    return yaml.compose_all(text, Loader=loader)


def load_file(path: Path, root: Path | None = None) -> Any:
    return load(read_text(path, root))


def yaml_error_position(exc: yaml.YAMLError) -> tuple[int | None, int | None]:
    """1-based (line, column) of a PyYAML error, where it has one."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return None, None
    return int(mark.line) + 1, int(mark.column) + 1


def yaml_error_summary(exc: yaml.YAMLError) -> str:
    if isinstance(exc, UnsafeYAML):
        return str(exc.problem)
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    parts = [p for p in (context, problem) if p]
    return ", ".join(parts) if parts else str(exc).splitlines()[0]


def error_rule(exc: yaml.YAMLError) -> str:
    """The finding rule id for a YAML error: the refusal's own, else `yaml-syntax`."""
    return exc.rule if isinstance(exc, UnsafeYAML) else "yaml-syntax"
