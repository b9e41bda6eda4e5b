"""Many overlays in one Kustomize process, split back into overlays exactly.

Most of a Kustomize run on a small overlay is the process starting, so overlays are built in
batches: a throw-away wrapper kustomization, in a temporary folder outside the repo, lists one
member folder per overlay, and each member lists its overlay as its only resource plus one
inline builtin `AnnotationsTransformer` whose only field spec is `metadata/annotations`. It marks
every object with the member it came from (origin annotations cannot: they name the base file,
which several overlays share) and touches nothing else: no selector, pod template, name or
label changes (a `commonLabels`, `commonAnnotations` or `namePrefix` in the member would).
The marker is removed, with the build annotations, before any check sees the object, and the
transformations annotation entry it leaves points outside the repo, so it is dropped too.

Anything unusual makes the overlay concerned fall back to its own process (`render_unit`,
today's path), so what is reported about an overlay never depends on its batch:
- Kustomize fails: its message names the member it was accumulating; that overlay is built on
  its own (its error has the same message and location as without batching), and the others
  are tried again as a batch; if that fails too, each is built on its own.
- Two members render the same object id (Kustomize refuses duplicates): the later one moves
  to a later batch.
- The batch times out or outputs too much, an object comes back without a marker, or one
  overlay's share of the stream is over the per-overlay limit: its own process decides.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from llmops_gate import yamlio
from llmops_gate.model import Resource, Unit, UnitResult
from llmops_gate.repo.child import BuildError, run_child
from llmops_gate.repo.discover import RepoScan
from llmops_gate.repo.kustomize import (
    BUILD_METADATA,
    DEFAULT_TIMEOUT,
    Kustomize,
    kustomization_text,
    parse_docs,
    render_unit,
)
from llmops_gate.repo.references import Role, references
from llmops_gate.yamlio import fsutil
from llmops_gate.yamlio.sourcemap import SourceMap, child

MARKER = "llmops-gate.internal/batch-member"
MEMBER = "m"
_FAILED_MEMBER = re.compile(r"accumulating resources from '" + MEMBER + r"(\d+)'")
_DUPLICATE = "may not add resource with an already registered id"
# A batch that fails this often is given up: its overlays are built one process each.
MAX_FAILURES = 2


Id = tuple[str, str, str]  # kind, name, namespace ("" when none is set)
# Kinds the namespace transformer leaves alone; a wrong guess only costs a retry.
CLUSTER_KINDS = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding",
                           "CustomResourceDefinition", "PersistentVolume", "StorageClass",
                           "PriorityClass", "MutatingWebhookConfiguration",
                           "ValidatingWebhookConfiguration", "APIService"})


class IdGuess:
    """The object ids an overlay will probably render, from its sources alone: so overlays
    that would collide go to different batches (Kustomize refuses duplicate ids in one
    build). Resource files' kinds and names, with each kustomization's namePrefix,
    nameSuffix and namespace on the way out, and generator names. Patches that rename
    and the like are not followed: a wrong guess only costs a retry (see `build_batch`)."""

    def __init__(self, scan: RepoScan, sources: SourceMap) -> None:
        self.scan = scan
        self.sources = sources
        self.memo: dict[str, frozenset[Id]] = {}

    def of(self, folder: str, depth: int = 0) -> frozenset[Id]:
        known = self.memo.get(folder)
        if known is not None:
            return known
        k = self.scan.kustomizations.get(folder)
        if k is None or depth > 50:  # a cycle is the guard's to report
            return frozenset()
        self.memo[folder] = frozenset()
        data = k.data
        ids: set[Id] = set()
        for ref in references(data):
            if ref.role is not Role.INCLUDE:
                continue
            rel = posixpath.normpath(posixpath.join(folder, ref.ref))
            if rel in self.scan.kustomizations:
                ids.update(self.of(rel, depth + 1))
            elif ref.key != "components" and not rel.startswith("../"):
                ids.update(self._file_ids(rel))
        for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            for gen in data.get(key) or [] if isinstance(data.get(key), list) else []:
                if isinstance(gen, dict) and gen.get("behavior") in (None, "create"):
                    ids.add((kind, str(gen.get("name") or ""), str(gen.get("namespace") or "")))
        prefix, suffix, namespace = (_text(data.get(key))
                                     for key in ("namePrefix", "nameSuffix", "namespace"))
        out = frozenset(
            (kind, prefix + name + suffix,
             namespace if namespace and kind not in CLUSTER_KINDS else ns)
            for kind, name, ns in ids)
        self.memo[folder] = out
        return out

    def _file_ids(self, rel: str) -> set[Id]:
        out: set[Id] = set()
        for doc in self.sources.documents(rel):
            meta = child(doc.node, "metadata")
            ns = child(meta, "namespace") if meta is not None else None
            out.add((doc.kind, doc.name, str(getattr(ns, "value", "") or "")))
        return out


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def group(units: Sequence[int], ids: Sequence[frozenset[Id]], size: int) -> list[list[int]]:
    """`units` in batches of at most `size`, no two members of a batch with an id in
    common (greedy, first fit, keeping the order)."""
    batches: list[tuple[list[int], set[Id]]] = []
    for i, own in zip(units, ids, strict=True):
        for members, seen in batches:
            if len(members) < size and seen.isdisjoint(own):
                members.append(i)
                seen.update(own)
                break
        else:
            batches.append(([i], set(own)))
    return [members for members, _ in batches]


def disabled() -> bool:
    """`LLMOPS_GATE_NO_BATCH=1` builds every overlay in its own process (the parity tests run
    both ways and compare the reports byte for byte)."""
    return bool(os.environ.get("LLMOPS_GATE_NO_BATCH"))


@functools.lru_cache(maxsize=256)
def _marker_transformer(member: int) -> str:
    # Inline (a string entry of `transformers`), so a member is one folder with one file.
    # The same for member i in every batch: dumped once (PyYAML's emitter is pure Python,
    # and the build threads that write the wrappers share the GIL with the validators).
    return yaml.safe_dump({
        "apiVersion": "builtin",
        "kind": "AnnotationsTransformer",
        "metadata": {"name": "llmops-gate-batch-marker"},
        "annotations": {MARKER: str(member)},
        "fieldSpecs": [{"path": "metadata/annotations", "create": True}],
    })


def write_wrapper(tmp: Path, folders: Sequence[Path]) -> None:
    """The batch wrapper in `tmp`: one member folder per overlay, in order."""
    members = []
    real_tmp = os.path.realpath(tmp)
    for i, folder in enumerate(folders):
        name = f"{MEMBER}{i}"
        member = os.path.join(real_tmp, name)
        os.mkdir(member)
        rel = os.path.relpath(os.path.realpath(folder), member)
        with open(os.path.join(member, "kustomization.yaml"), "w", encoding="utf-8") as fh:
            fh.write(kustomization_text([rel], transformers=[_marker_transformer(i)]))
        members.append(name)
    (tmp / "kustomization.yaml").write_text(
        kustomization_text(members, buildMetadata=BUILD_METADATA), encoding="utf-8")


class _Failed(Exception):
    """A batch did not give a usable stream; `member` is the one Kustomize named, if any."""

    def __init__(self, member: int | None = None, duplicate: bool = False) -> None:
        super().__init__(member)
        self.member = member
        self.duplicate = duplicate


def split_stream(text: str, units: Sequence[Unit], wrapper_dir: Path, repo: Path, limit: int
                 ) -> list[list[Resource] | None]:
    """Each member's resources, as `parse_stream` would give for its own build; None for a
    member whose own build must decide (its share is over `limit`, or not YAML)."""
    chunks: list[list[str]] = [[] for _ in units]
    sizes = [0] * len(units)
    # Kustomize separates documents with a `---` line at the left margin; inside a document
    # such a line cannot occur (block scalars are indented), so the split is exact.
    # The newline before each separator belongs to the document (a block scalar's last line
    # break), so it is given back to every chunk but the last, which keeps the stream's end.
    parts = ("\n" + text).split("\n---\n")
    for n, chunk in enumerate(parts):
        if not chunk.strip():
            continue
        if n < len(parts) - 1:
            chunk += "\n"
        member = _member_of(chunk)
        if member is None or member >= len(units):
            raise _Failed()
        chunks[member].append(chunk)
        sizes[member] += len(chunk) + 5
    out: list[list[Resource] | None] = []
    for i, unit in enumerate(units):
        if sizes[i] > limit:
            out.append(None)
            continue
        try:
            docs = [yamlio.load(c, loader=yamlio.KubeLoader) for c in chunks[i]]
        except yaml.YAMLError:
            out.append(None)
            continue
        for doc in docs:
            if not isinstance(doc, dict) or not _strip_marker(doc, i):
                raise _Failed()
        out.append(parse_docs(docs, unit, wrapper_dir, repo))
    return out


_MARKER_LINE = re.compile(r"^    " + re.escape(MARKER) + r": \"?(\d+)\"?$", re.M)


def _member_of(chunk: str) -> int | None:
    """The member a document's marker names (read from the text, checked again after
    loading by `_strip_marker`)."""
    found = _MARKER_LINE.findall(chunk)
    return int(found[0]) if len(found) == 1 else None


def _strip_marker(doc: dict[str, object], member: int) -> bool:
    meta = doc.get("metadata")
    ann = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(ann, dict) or ann.get(MARKER) != str(member):
        return False
    del ann[MARKER]
    return True


def _attempt(kustomize: Kustomize, units: Sequence[Unit], repo: Path, timeout: float
             ) -> tuple[list[list[Resource] | None], float]:
    limit = yamlio.current().max_stream_bytes
    start = time.perf_counter()
    with fsutil.temp_dir("llmops-gate-batch-") as tmp:
        write_wrapper(Path(tmp), [repo / u.path for u in units])
        try:
            # The same door and bounds as a single build (the memory ceiling is per process;
            # a batch of BATCH_MAX small overlays needs about 10 MB more than one).
            code, out, err = run_child([*kustomize.argv, tmp], cwd=tmp, timeout=timeout,
                                       max_bytes=limit * len(units),
                                       memory=yamlio.current().kustomize_memory, threads=1)
        except BuildError:  # timed out, too much output, out of memory, stopping: each
            raise _Failed() from None  # overlay's own build decides, and says so
        if code != 0:
            message = err.decode("utf-8", "replace")
            m = _FAILED_MEMBER.search(message)
            raise _Failed(int(m.group(1)) if m else None, _DUPLICATE in message)
        text = out.decode("utf-8", "replace")
        split = split_stream(text, units, Path(tmp).resolve(), repo.resolve(), limit)
    return split, time.perf_counter() - start


def build_batch(kustomize: Kustomize, units: Sequence[Unit], repo: Path,
                timeout: float = DEFAULT_TIMEOUT) -> list[UnitResult]:
    """`render_unit` of each of `units`, in order, from as few Kustomize processes as can be."""
    results: dict[int, UnitResult] = {}
    pending = list(range(len(units)))
    later: list[int] = []
    failures = 0
    while pending:
        if len(pending) == 1 or failures >= MAX_FAILURES:
            for i in pending:
                results[i] = render_unit(kustomize, units[i], repo, timeout)
            break
        try:
            split, seconds = _attempt(kustomize, [units[i] for i in pending], repo, timeout)
        except _Failed as failed:
            failures += 1
            if failed.member is None or failed.member >= len(pending):
                failures = MAX_FAILURES
                continue
            culprit = pending.pop(failed.member)
            if failed.duplicate:
                later.append(culprit)
            else:
                results[culprit] = render_unit(kustomize, units[culprit], repo, timeout)
            continue
        share = seconds / len(pending)
        for i, resources in zip(pending, split, strict=True):
            if resources is None:
                results[i] = render_unit(kustomize, units[i], repo, timeout)
            else:
                results[i] = UnitResult(unit=units[i], resources=resources, seconds=share)
        break
    if later:
        for i, result in zip(later, build_batch(kustomize, [units[i] for i in later], repo,
                                                timeout), strict=True):
            results[i] = result
    return [results[i] for i in range(len(units))]
