"""The source files of one run, each read, bounded and parsed once.

A `validate` run looks at the same source file from many places: discovery (is it a
kustomization, does it hold objects), the guard (may Kustomize read it), the `lint` and `parse`
validators, the source map (which line wrote a field), redaction (which strings are secrets),
and the plain-manifest reader. They all ask one `Snapshot`, which for each file:

- reads it once (`raw`/`text`: inside the root, within `limits.max_file_bytes`, UTF-8), and
- parses it once (`parsed`): one pass of libyaml's parser over the text, whose event stream is
  both checked against the limits (depth, aliases, size: `yamlio.walk`) and kept, so the
  nodes are composed from those same events, not from a second parse. The nodes follow the
  file's reading (`reading_of`): kustomizations and the tools' own config files as PyYAML's
  safe loader reads them (as before), every other file as Kubernetes reads a manifest
  (`KubeLoader`: sigs.k8s.io/yaml over go-yaml v2). The source map only looks at nodes'
  text, lines and styles, which no reading changes.
- constructs its data once from those nodes (`documents`).

Every answer is kept, refusals and syntax errors too, so a hostile file costs one read and one
parse however many parts of the run look at it. `counts()` says how often each file was read
and parsed, which is how the tests hold the "once" to account. yamllint is the one reader that
tokenizes a text again: its rules work on tokens and comments, which parsed data does not keep;
it is handed the snapshot's text, not the file.

Safe to share between threads: each file is worked out under its own lock.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from llmops_gate import yamlio
from llmops_gate.yamlio import reading

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# The tools' own files: YAML, but never Kubernetes objects of the user's.
TOOL_FILES = (".llmops-gate.yaml", ".llmops-gate.yml", ".yamllint", ".yamllint.yaml",
              ".yamllint.yml", ".pre-commit-config.yaml", ".pre-commit-hooks.yaml")


class _Events:
    """The parser side of PyYAML's `Composer`, over events already parsed."""

    def __init__(self, events: Sequence[yaml.Event]) -> None:
        self._events = events
        self._at = 0

    def check_event(self, *choices: type) -> bool:
        if self._at >= len(self._events):
            return False
        return not choices or isinstance(self._events[self._at], choices)

    def peek_event(self) -> yaml.Event | None:
        return self._events[self._at] if self._at < len(self._events) else None

    def get_event(self) -> yaml.Event:
        event = self._events[self._at]
        self._at += 1
        return event

    def dispose(self) -> None:
        pass


class _SafeReplay(_Events, Composer, SafeConstructor, Resolver):
    """Nodes and data as `yaml.safe_load` makes them, from kept events."""

    def __init__(self, events: Sequence[yaml.Event]) -> None:
        _Events.__init__(self, events)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


class _KubeReplay(reading._GoConstructor, _SafeReplay):
    """Nodes and data as `KubeLoader` makes them (the Kubernetes reading), from kept events."""

    rules = reading.KUBERNETES


reading._register(_KubeReplay)

SAFE = "safe"
KUBERNETES = "kubernetes"
_REPLAYS: dict[str, Callable[[Sequence[yaml.Event]], _SafeReplay]] = {
    SAFE: _SafeReplay, KUBERNETES: _KubeReplay}


def reading_of(rel: str) -> str:
    """How a source file is read: kustomizations and tool configs by PyYAML's safe rules (as
    llmops-gate always read them), every other file as Kubernetes reads a manifest."""
    name = PurePosixPath(rel).name
    return SAFE if name in KUSTOMIZATION_NAMES or name in TOOL_FILES else KUBERNETES


@dataclass(frozen=True)
class Parsed:
    """One file's documents as nodes (an empty document is a null scalar, as PyYAML composes
    it), and its duplicate keys."""

    nodes: tuple[yaml.Node, ...]
    duplicates: tuple[yamlio.DuplicateKey, ...]
    reading: str


class _Entry:
    __slots__ = ("data", "lock", "parsed", "raw")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.raw: bytes | BaseException | None = None
        self.parsed: Parsed | BaseException | None = None
        self.data: list[Any] | BaseException | None = None


def _answer(value: Any) -> Any:
    if isinstance(value, BaseException):
        raise value
    return value


class Snapshot:
    """The source files under `root`, named repo-relative (POSIX), for one run.

    `limits` apply to every read and parse (the engine sets the repo's once its config is
    read; the config file itself is read under the defaults, as before).
    """

    def __init__(self, root: Path, limits: yamlio.Limits | None = None) -> None:
        self.root = root
        self.limits = limits or yamlio.current()
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._reads: dict[str, int] = {}
        self._parses: dict[str, int] = {}

    def _entry(self, rel: str) -> _Entry:
        # `base/../x.yaml` and `x.yaml` are one file, as for Kustomize (Go's filepath.Join
        # folds `..` the same way); the read still checks the path against the root.
        rel = posixpath.normpath(rel)
        with self._lock:
            entry = self._entries.get(rel)
            if entry is None:
                entry = self._entries[rel] = _Entry()
            return entry

    def _count(self, table: dict[str, int], rel: str) -> None:
        rel = posixpath.normpath(rel)
        with self._lock:
            table[rel] = table.get(rel, 0) + 1

    def raw(self, rel: str) -> bytes:
        """The file's bytes; OSError when it cannot be read, UnsafeYAML when it lies outside
        the root, is not a regular file, or is over `limits.max_file_bytes`."""
        entry = self._entry(rel)
        with entry.lock:
            if entry.raw is None:
                self._count(self._reads, rel)
                try:
                    entry.raw = yamlio.read_bytes(self.root / posixpath.normpath(rel),
                                                  self.limits.max_file_bytes,
                                                  self.root)
                except (OSError, yamlio.UnsafeYAML) as exc:
                    entry.raw = exc
            raw: bytes = _answer(entry.raw)
        if len(raw) > self.limits.max_file_bytes:  # read under larger limits (the config)
            raise yamlio.UnsafeYAML("yaml-too-large", f"file is {len(raw)} bytes, over the "
                                    f"limit of {self.limits.max_file_bytes} "
                                    "(limits.max_file_bytes)", name=PurePosixPath(rel).name)
        return raw

    def text(self, rel: str) -> str:
        """The file as text (see `raw`); UnsafeYAML for binary data or another encoding."""
        return yamlio.decode(self.raw(rel), PurePosixPath(rel).name)

    def parsed(self, rel: str) -> Parsed:
        """The file parsed once; raises what `text` raises, UnsafeYAML for what the limits
        refuse, and `yaml.YAMLError` for a syntax error."""
        entry = self._entry(rel)
        with entry.lock:
            if entry.parsed is None:
                try:
                    text = self.text(rel)
                    self._count(self._parses, rel)
                    events: list[yaml.Event] = []
                    dupes = yamlio.walk(text, self.limits, PurePosixPath(rel).name, events)
                    how = reading_of(rel)
                    replay = _REPLAYS[how](events)
                    nodes: list[yaml.Node] = []
                    while replay.check_node():
                        node = replay.get_node()
                        if node is not None:
                            nodes.append(node)
                    entry.parsed = Parsed(tuple(nodes), tuple(dupes), how)
                except (OSError, yaml.YAMLError) as exc:
                    entry.parsed = exc
            parsed: Parsed = _answer(entry.parsed)
            return parsed

    def documents(self, rel: str) -> list[Any]:
        """The file's documents as data (an empty one is None), in the file's reading;
        raises what `parsed` raises, and `yaml.YAMLError` for a value that reading refuses."""
        entry = self._entry(rel)
        parsed = self.parsed(rel)
        with entry.lock:
            if entry.data is None:
                try:
                    build = _REPLAYS[parsed.reading](())
                    entry.data = [build.construct_document(node) for node in parsed.nodes]
                except yaml.YAMLError as exc:
                    entry.data = exc
            data: list[Any] = _answer(entry.data)
            return data

    def counts(self) -> dict[str, tuple[int, int]]:
        """file -> (times read, times parsed) so far."""
        with self._lock:
            return {rel: (n, self._parses.get(rel, 0)) for rel, n in self._reads.items()}
