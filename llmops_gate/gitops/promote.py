"""Promotion: plan -> apply -> verify -> commit.

The plan and the verify work on a private export of HEAD, so the user's work tree is only
written once the result is known to render as intended and to pass the validators. Then the
edited files are written into the work tree (journalled, each atomically) and committed in
one commit; that commit is the point where the promotion happens.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from llmops_gate import interrupt, yamlio
from llmops_gate.config import Config, Environment, load_config, promotion_order
from llmops_gate.errors import GateError
from llmops_gate.gitops import journal
from llmops_gate.gitops.edit import (
    ImageEntry,
    edit_kustomization,
    remove_patch,
    render_patch_file,
)
from llmops_gate.gitops.git import Repo, parse_trailers
from llmops_gate.gitops.values import (
    ISVC,
    MODEL_FIELDS,
    RUNTIME_KINDS,
    Key,
    Rules,
    base_name,
    container_lists,
    extract,
    short,
    split_image,
    strip,
)
from llmops_gate.model import Finding, Resource, Severity, Unit
from llmops_gate.repo.discover import KUSTOMIZATION_NAMES, RepoScan, discover_units, scan_repo
from llmops_gate.repo.guard import check_overlay
from llmops_gate.repo.kustomize import DEFAULT_TIMEOUT, Kustomize, choose_kustomize, render_unit
from llmops_gate.yamlio import fsutil
from llmops_gate.yamlio.fsutil import atomic_write
from llmops_gate.yamlio.sourcemap import SourceMap

Say = Callable[[str], None]

# The suffix Kustomize gives a generated ConfigMap or Secret: `-` and ten characters of its
# hash alphabet (hex without the letters and digits that could spell words).
_GENERATED_HASH = re.compile(r"-[2456789bcdfghkmt]{10}$")


class Refused(Exception):
    """A promotion check failed (verify, validators, order gate): exit 1, nothing written."""

    def __init__(self, message: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


@dataclass
class EnvRender:
    env: str
    units: list[Unit]
    resources: dict[Key, Resource] = field(default_factory=dict)
    patch_names: dict[Key, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    env: str
    key: Key
    label: str
    old: Any
    new: Any

    def line(self) -> str:
        return f"{self.env} {self.key} {self.label}: {short(self.old)} -> {short(self.new)}"


@dataclass
class TargetPlan:
    env: str
    before: EnvRender
    expected: dict[Key, dict[str, Any]]
    changes: list[Change]
    files: dict[str, str]  # repo-relative path -> new text
    own: EnvRender | None = None  # the target rendered without the tool's patch file
    # Objects the source renders and this target does not: a promotion never creates objects,
    # so these are named to the user instead of being passed over.
    missing: list[Key] = field(default_factory=list)


@dataclass
class Plan:
    source: str
    source_commit: str
    targets: list[TargetPlan]
    originals: dict[str, str | None]

    @property
    def changes(self) -> list[Change]:
        return [c for t in self.targets for c in t.changes]

    @property
    def target_names(self) -> list[str]:
        return [t.env for t in self.targets]

    def notes(self) -> list[str]:
        """One line per object the source has and a target lacks (not promoted)."""
        return [f"{key} is in {self.source} but not in {t.env}: not promoted (a promotion "
                f"only changes objects both render; add it to {t.env}'s overlay to carry it)"
                for t in self.targets for key in t.missing]

    def promotion_id(self) -> str:
        blob = json.dumps([self.source, self.source_commit,
                           [(t.env, sorted((str(k), v) for k, v in t.expected.items()))
                            for t in self.targets]], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """The environments in promotion order: the config's `environments:`, else the ones
    `validate` finds from overlay folder names (dev -> qa or test -> staging -> production)."""

    names: tuple[str, ...]
    from_config: bool
    ambiguous: tuple[str, ...] = ()  # found from folders, with no place of their own

    @classmethod
    def of(cls, config: Config, units: Sequence[Unit]) -> Chain:
        if config.environment_names:
            return cls(tuple(config.environment_names), from_config=True)
        names, ambiguous = promotion_order(u.environment for u in units if u.environment)
        return cls(tuple(names), from_config=False, ambiguous=tuple(ambiguous))

    def describe(self) -> str:
        where = "" if self.from_config else ", found from overlay folder names"
        return f"{', '.join(self.names)}{where}"


@dataclass
class Tree:
    """A readable tree (an export of a commit) with its config, scan and Kustomize."""

    root: Path
    config: Config
    scan: RepoScan
    units: list[Unit]
    kustomize: Kustomize
    timeout: float
    chain: Chain
    sources: SourceMap

    @classmethod
    def open(cls, root: Path, kustomize: str | None = None, origin: Path | None = None) -> Tree:
        """`origin`: the repository `root` was exported from; a Kustomize inside either is
        refused, and a relative `kustomize.path` resolves against it (as `validate` does)."""
        config = load_config(root)
        yamlio.configure(config.limits)
        kcfg = config.section("kustomize")
        # The same door as `validate`, before anything is read further or run.
        chosen = choose_kustomize(origin or root, config, kustomize,
                                  also_inside=(root,) if origin is not None else ())
        scan = scan_repo(root, config)
        units = [u for u in discover_units(scan, config) if u.kind == "overlay"]
        return cls(root=root, config=config, scan=scan, units=units, kustomize=chosen,
                   timeout=float(kcfg.get("timeout") or DEFAULT_TIMEOUT),
                   chain=Chain.of(config, units), sources=SourceMap(root))

    def env_units(self, env: str) -> list[Unit]:
        return [u for u in self.units if u.environment == env]

    def _overlay_affixes(self, unit: Unit) -> tuple[str, str]:
        k = self.scan.kustomizations.get(unit.path)
        data = k.data if k else {}
        return str(data.get("namePrefix") or ""), str(data.get("nameSuffix") or "")

    def _key_name(self, res: Resource, prefix: str, suffix: str, named: bool) -> str:
        """The name an object has in every environment. Unless the config names the
        environment's prefix/suffix, it is the name its source document is written with, so
        affixes set anywhere (the overlay, an intermediate kustomization, a component) come off;
        a generated ConfigMap or Secret also loses Kustomize's content hash, which differs
        between environments whose data differs."""
        name = base_name(res.name, prefix, suffix)
        source = res.source_file
        if source is None:
            return name
        if PurePosixPath(source).name in KUSTOMIZATION_NAMES:
            if res.kind in ("ConfigMap", "Secret"):
                name = _GENERATED_HASH.sub("", name)
            return name
        if named:
            return name
        doc = self.sources.find_document(source, res.kind, res.name)
        return doc.name if doc is not None and doc.name and doc.name in res.name else name

    def render(self, env: str, what: str = "environment") -> EnvRender:
        cfg_env = self.config.environment(env) or Environment(name=env)
        out = EnvRender(env=env, units=self.env_units(env))
        if not out.units:
            raise GateError(f"{what} '{env}' has no overlay in this repo")
        for unit in out.units:
            # The same guard as `validate`: no remote bases, Helm, plugins or paths that
            # leave the repo, so a promotion never runs Kustomize on what validation refuses.
            refused = check_overlay(self.root, self.scan, unit)
            if refused:
                first = refused[0]
                where = f"{first.file}:{first.line}" if first.file and first.line else unit.path
                raise GateError(f"{what} '{env}' cannot be built safely ({where}): "
                                f"{first.message}")
            result = render_unit(self.kustomize, unit, self.root, self.timeout)
            if result.error:
                raise GateError(f"{what} '{env}' does not build ({unit.path}): {result.error}")
            own_prefix, own_suffix = self._overlay_affixes(unit)
            named = cfg_env.prefix is not None or cfg_env.suffix is not None
            prefix = cfg_env.prefix if cfg_env.prefix is not None else own_prefix
            suffix = cfg_env.suffix if cfg_env.suffix is not None else own_suffix
            for res in result.resources:
                key = Key(res.kind, self._key_name(res, prefix, suffix, named))
                if key in out.resources:
                    continue
                out.resources[key] = res
                out.patch_names[key] = self._key_name(res, own_prefix, own_suffix, True)
        return out


def render_text(render: EnvRender) -> str:
    """An environment's render as YAML, objects keyed and sorted, for rendered diffs."""
    return docs_text([render.resources[k].doc for k in sorted(render.resources)])


def docs_text(docs: Iterable[Mapping[str, Any]]) -> str:
    return "".join("---\n" + yaml.safe_dump(dict(d), sort_keys=True, width=4096) for d in docs)


# --- plan --------------------------------------------------------------------------------------


def source_values(render: EnvRender, rules: Rules) -> dict[Key, dict[str, Any]]:
    return {k: extract(r.doc, rules) for k, r in render.resources.items()}


def chain_targets(chain: Chain, source: str | None,
                  targets: Sequence[str]) -> tuple[str, list[str]]:
    names = list(chain.names)
    if not names:
        raise GateError("no environments: .llmops-gate.yaml has no `environments:` chain and "
                        "no overlay folder is named after one (dev, qa, test, staging, "
                        "production); list them in promotion order under `environments:`")
    for env in [source, *targets]:
        if env is not None and env not in names:
            raise GateError(f"unknown environment '{env}' (known: {chain.describe()})")
    unordered = [t for t in targets if t in chain.ambiguous]
    if chain.ambiguous and (source is None or not targets or len(unordered) > 1):
        raise GateError(f"the environments found from overlay folder names "
                        f"({', '.join(names)}) have no clear promotion order "
                        f"({' and '.join(chain.ambiguous)} share a place); name them with "
                        "--from ENV --to ENV, or list them in promotion order under "
                        "`environments:` in .llmops-gate.yaml")
    src = source or names[0]
    wanted = set(targets)
    chosen = [n for n in names if n in wanted] if targets else names[names.index(src) + 1:]
    if src in chosen:
        raise GateError(f"cannot promote '{src}' into itself")
    if not chosen:
        raise GateError(f"nothing after '{src}' in the environment chain; name targets with --to")
    return src, chosen


def plan_target(tree: Tree, env: str, src: Mapping[Key, Mapping[str, Any]],
                rules: Rules) -> TargetPlan:
    before = tree.render(env, "target environment")
    expected: dict[Key, dict[str, Any]] = {}
    changes: list[Change] = []
    for key, res in sorted(before.resources.items()):
        if key not in src:
            continue
        have = extract(res.doc, rules)
        want: dict[str, Any] = {}
        for label, value in src[key].items():
            if label.startswith("container.") and label not in have:
                continue  # the target has no such container: nothing to carry it into
            if rules.pinned(env, key.kind, key.name, label):
                continue
            want[label] = value
            if have.get(label) != value:
                changes.append(Change(env, key, label, have.get(label), value))
        if want:
            expected[key] = want
    own = _render_own(tree, env, rules, before) if expected else before
    files = _edits(tree, before, own, expected, rules)
    missing = sorted(key for key in src if key not in before.resources)
    return TargetPlan(env=env, before=before, expected=expected, changes=changes, files=files,
                      own=own, missing=missing)


def _render_own(tree: Tree, env: str, rules: Rules, before: EnvRender) -> EnvRender:
    """The target as it renders without the tool's patch file: where the fields a promotion
    does not carry (a runtime container's ports, mounts, command) come from, so base edits to
    them reach the target at its next promotion. `tree` is a private export: edited in place
    and put back."""
    saved: dict[Path, str] = {}
    try:
        for unit in tree.env_units(env):
            k = tree.scan.kustomizations.get(unit.path)
            if k is None or not any(isinstance(p, dict) and p.get("path") == rules.patch_file
                                    for p in k.data.get("patches") or []):
                continue
            path = tree.root / k.file
            saved[path] = path.read_text(encoding="utf-8")
            atomic_write(path, remove_patch(saved[path], rules.patch_file))
        if not saved:
            return before
        try:
            return tree.render(env, "target environment")
        except GateError:
            return before
    finally:
        for path, text in saved.items():
            atomic_write(path, text)


def _edits(tree: Tree, before: EnvRender, own: EnvRender,
           expected: Mapping[Key, Mapping[str, Any]], rules: Rules) -> dict[str, str]:
    """The new text of every file of the target's overlays that the promotion writes."""
    per_overlay: dict[str, tuple[dict[str, ImageEntry], list[dict[str, Any]]]] = {}
    for key, want in sorted(expected.items()):
        res = before.resources[key]
        overlay = res.unit.path
        k = tree.scan.kustomizations[overlay]
        images, docs = per_overlay.setdefault(overlay, ({}, []))
        existing = [e for e in (k.data.get("images") or []) if isinstance(e, dict)]
        runtime = key.kind in RUNTIME_KINDS
        for label, value in want.items():
            if not (label.endswith(".image") and label.startswith("container.")) or not value:
                continue
            repo, tag, digest = split_image(str(value))
            if runtime:
                name = repo
            else:
                current = _container(res.doc, label.split(".")[1])
                cur_repo = split_image(str((current or {}).get("image") or repo))[0]
                name = cur_repo
                for e in existing:
                    if (e.get("newName") or e.get("name")) == cur_repo:
                        name = str(e.get("name"))
                        break
            entry = ImageEntry(name=name, new_name=repo if repo != name else None,
                               new_tag=tag, digest=digest)
            if images.get(name, entry) != entry:
                raise GateError(f"{before.env}: two different images would both replace "
                                f"'{name}' in {overlay}; pin one of them in .llmops-gate.yaml")
            images[name] = entry
        own_res = own.resources.get(key, res)
        doc = _patch_doc(res.doc, own_res.doc, before.patch_names[key], want, rules)
        if doc is not None:
            docs.append(doc)
    files: dict[str, str] = {}
    for overlay, (images, docs) in sorted(per_overlay.items()):
        k = tree.scan.kustomizations[overlay]
        old = (tree.root / k.file).read_text(encoding="utf-8")
        patch_rel = f"{overlay}/{rules.patch_file}" if overlay != "." else rules.patch_file
        try:
            new = edit_kustomization(old, list(images.values()),
                                     rules.patch_file if docs else None)
        except Exception as exc:  # ruamel raises many types on odd YAML
            raise GateError(f"{k.file}: cannot edit it: {exc}") from None
        if new != old:
            files[k.file] = new
        if docs:
            text = render_patch_file(docs)
            path = tree.root / patch_rel
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                files[patch_rel] = text
    return files


def _container(doc: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    for items in container_lists(doc):
        for c in items:
            if isinstance(c, dict) and c.get("name") == name:
                return c
    return None


def _patch_doc(doc: Mapping[str, Any], own: Mapping[str, Any], name: str,
               want: Mapping[str, Any], rules: Rules) -> dict[str, Any] | None:
    """The strategic-merge document carrying `want` (whole values) into one object."""
    out: dict[str, Any] = {"apiVersion": doc.get("apiVersion"), "kind": doc.get("kind"),
                           "metadata": {"name": name}}
    used = False
    annotations = {label[len("annotation."):]: value for label, value in want.items()
                   if label.startswith("annotation.")}
    if annotations:
        out["metadata"]["annotations"] = annotations
        used = True
    kind = str(doc.get("kind") or "")
    if kind in RUNTIME_KINDS and any(label.startswith("container.") for label in want):
        # Kustomize replaces whole lists of custom resources, so the container list is
        # written whole: the target's own containers (without this file) with the promotable
        # fields it runs now, then the promoted ones set.
        out_spec = kept_containers(doc, own)
        for items in out_spec.values():
            for c in items:
                if isinstance(c, dict):
                    _promote_container(c, want, rules)
        out["spec"] = out_spec
        used = True
    if kind == ISVC:
        model_old = doc.get("spec", {}).get("predictor", {}).get("model", {})
        model: dict[str, Any] = {}
        for name_ in MODEL_FIELDS:
            label = f"model.{name_}"
            if label not in want:
                continue
            value = copy.deepcopy(want[label])
            old = model_old.get(name_) if isinstance(model_old, dict) else None
            if value is None and old is None:
                continue
            if isinstance(value, dict) and isinstance(old, dict):
                value.update({k: None for k in old if k not in value})
            model[name_] = value
        if model:
            out["spec"] = {"predictor": {"model": model}}
            used = True
    return out if used else None


def kept_containers(doc: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, list[Any]]:
    """A runtime's container lists as they stand before promoting: `own`'s containers (the
    target without the tool's patch) with the promotable parts (image, args, env) that `doc`
    (the target as it renders now) has."""
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    own_spec = own.get("spec") if isinstance(own.get("spec"), dict) else {}
    assert isinstance(spec, dict) and isinstance(own_spec, dict)
    out: dict[str, list[Any]] = {}
    for list_key in ("containers", "initContainers"):
        items = own_spec.get(list_key)
        if not isinstance(items, list):
            continue
        now = {c.get("name"): c for c in spec.get(list_key) or [] if isinstance(c, dict)}
        new_items = []
        for c in copy.deepcopy(items):
            current = now.get(c.get("name")) if isinstance(c, dict) else None
            if isinstance(c, dict) and current is not None:
                for part in ("image", "args", "env"):
                    if part in current:
                        c[part] = copy.deepcopy(current[part])
                    else:
                        c.pop(part, None)
            new_items.append(c)
        out[list_key] = new_items
    return out


def _promote_container(c: dict[str, Any], want: Mapping[str, Any], rules: Rules) -> None:
    base = f"container.{c.get('name')}"
    if f"{base}.image" in want:
        value = want[f"{base}.image"]
        if value:
            c["image"] = split_image(str(value))[0]
        else:
            c.pop("image", None)
    if f"{base}.args" in want:
        if want[f"{base}.args"] is None:
            c.pop("args", None)
        else:
            c["args"] = copy.deepcopy(want[f"{base}.args"])
    if f"{base}.env" in want:
        kept = [e for e in c.get("env") or [] if isinstance(e, dict)
                and e.get("name") in rules.keep_env]
        env = list(copy.deepcopy(want[f"{base}.env"]) or []) + kept
        if env:
            c["env"] = env
        else:
            c.pop("env", None)


def check_previous(tree: Tree, source: str, targets: Sequence[str],
                   src: Mapping[Key, Mapping[str, Any]], rules: Rules) -> None:
    """`require_previous`: each target only gets what the environment before it runs."""
    names = list(tree.chain.names)
    if tree.chain.ambiguous:
        raise GateError("promotion.require_previous needs the environments' order: list them "
                        "under `environments:` in .llmops-gate.yaml")
    problems: list[str] = []
    for env in targets:
        prev = names[names.index(env) - 1]
        if prev == source:
            continue
        runs = source_values(tree.render(prev), rules)
        for key, values in sorted(src.items()):
            for label, value in values.items():
                if key in runs and runs[key].get(label) != value:
                    problems.append(f"{env} {key} {label}: {source} has {short(value)}, "
                                    f"{prev} runs {short(runs[key].get(label))}")
    if problems:
        raise Refused("promotion.require_previous: refused, the environment before each "
                      "target does not run these values yet:\n  " + "\n  ".join(problems))


# --- verify ------------------------------------------------------------------------------------


def verify(tree: Tree, plan: Plan, rules: Rules) -> list[Finding]:
    """Render each target again: promoted fields equal the source, everything else as it was."""
    found: list[Finding] = []
    for target in plan.targets:
        after = tree.render(target.env, "target environment")
        unit = target.before.units[0].path

        def bad(message: str, key: Key | None = None, _env: str = target.env,
                _unit: str = unit) -> None:
            found.append(Finding(validator="promote", rule="promote-verify",
                                 severity=Severity.ERROR, message=message, overlay=_unit,
                                 environment=_env))

        if set(after.resources) != set(target.before.resources):
            gone = sorted(set(target.before.resources) - set(after.resources))
            new = sorted(set(after.resources) - set(target.before.resources))
            bad(f"objects changed: removed {[str(k) for k in gone]}, added "
                f"{[str(k) for k in new]}")
        for key, res in sorted(after.resources.items()):
            want = target.expected.get(key, {})
            have = extract(res.doc, rules)
            for label, value in want.items():
                if have.get(label) != value:
                    bad(f"{key} {label}: rendered {short(have.get(label))}, expected "
                        f"{short(value)} from {plan.source}", key)
            old = target.before.resources.get(key)
            if old is None:
                continue
            old_doc = old.doc
            own = target.own.resources.get(key) if target.own else None
            if key.kind in RUNTIME_KINDS and own is not None:
                old_doc = copy.deepcopy(old.doc)
                old_doc.setdefault("spec", {}).update(kept_containers(old.doc, own.doc))
            kept_old = strip(old_doc, want, rules)
            kept_new = strip(res.doc, want, rules)
            for path in _differences(kept_old, kept_new):
                bad(f"{key} {path}: changed by the promotion but not promoted "
                    "(kept per environment or pinned)", key)
    return found


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            out += _differences(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _differences(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path or "(object)"]


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Request:
    repo: Path
    source: str | None = None
    targets: Sequence[str] = ()
    dry_run: bool = False
    branch: str | None = None  # "" = the default promote/... name
    author: str | None = None
    run_hooks: bool = False
    kustomize: str | None = None
    validate: bool = True
    # rollback: values come from this tree instead of a live source environment
    values_from: Callable[[Tree, Rules], tuple[str, dict[Key, dict[str, Any]]]] | None = None
    message: Callable[[Plan, str], str] | None = None


@dataclass
class Outcome:
    status: str  # "promoted", "up-to-date", "dry-run"
    plan: Plan | None = None
    commit: str | None = None
    promotion_id: str | None = None
    text: str = ""
    branch: str | None = None
    base_branch: str | None = None


def preflight(repo: Repo, paths: Iterable[str]) -> str:
    branch = repo.branch()
    if branch is None:
        raise GateError("HEAD is detached: check out the branch to promote on first "
                        "(git switch BRANCH)")
    what = repo.operation_in_progress()
    if what:
        raise GateError(f"{what} is in progress: finish or abort it before promoting")
    dirty = repo.dirty(sorted(set(paths)))
    if dirty:
        raise GateError("target overlay files have uncommitted changes; commit or stash "
                        "them first: " + ", ".join(dirty))
    return branch


def recover(repo: Repo, say: Say) -> None:
    """Finish what an interrupted promotion left: see the module doc of `journal`."""
    data = journal.read_journal(repo.git_dir)
    if data is None:
        return
    pid = str(data.get("promotion_id") or "")
    head_message = repo.run("log", "-1", "--format=%B").strip()
    if pid and parse_trailers(head_message).get("Promotion-Id") == pid:
        journal.clear_journal(repo.git_dir)
        say(f"an interrupted promotion ({pid}) had already committed; nothing to restore")
        return
    files = {str(k): v for k, v in (data.get("files") or {}).items()}
    planned = {str(k): v for k, v in (data.get("new_files") or {}).items()}
    where = journal.journal_path(repo.git_dir)
    if data.get("head") and data.get("head") != repo.head_sha():
        raise GateError(f"an interrupted promotion ({pid}) started at {str(data['head'])[:7]}, "
                        "but HEAD has moved since; check its files with `git status`, restore "
                        f"what you need, then delete {where}")
    for rel, original in sorted(files.items()):
        path = repo.root / rel
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current not in (original, planned.get(rel, original)):
            raise GateError(f"an interrupted promotion ({pid}) left {rel}, and it has been "
                            f"edited since; keep or discard your edit, then delete {where}")
    restored = journal.restore_files(repo.root, files)
    repo.reset_paths(sorted(files))
    _leave_branch(repo, str(data.get("branch") or ""), str(data.get("base_branch") or ""),
                  str(data.get("head") or ""))
    journal.clear_journal(repo.git_dir)
    say(f"recovered from an interrupted promotion ({pid or 'unknown'}): restored "
        f"{len(restored)} file(s) to their state before it; running it again")


def plan_promotion(tree: Tree, request: Request, rules: Rules,
                   head: str) -> tuple[Plan, str]:
    """Plan in `tree` (an export of HEAD). Returns the plan and the source env name."""
    if request.values_from is not None:
        src_env, src = request.values_from(tree, rules)
        source, targets = src_env, list(request.targets)
    else:
        source, targets = chain_targets(tree.chain, request.source, request.targets)
        src = source_values(tree.render(source, "source environment"), rules)
        if rules.require_previous:
            check_previous(tree, source, targets, src, rules)
    plans = [plan_target(tree, env, src, rules) for env in targets]
    originals: dict[str, str | None] = {}
    for t in plans:
        for rel in t.files:
            path = tree.root / rel
            originals[rel] = path.read_text(encoding="utf-8") if path.exists() else None
    return Plan(source=source, source_commit=head, targets=plans, originals=originals), source


def commit_message(plan: Plan, pid: str) -> str:
    targets = ", ".join(plan.target_names)
    lines = [f"promote: {plan.source}@{plan.source_commit[:7]} -> {targets}", ""]
    lines += [c.line() for c in plan.changes]
    lines += ["", *plan.notes()] if plan.notes() else []
    lines += ["", f"Promoted-From: {plan.source}", f"Promoted-To: {targets}",
              f"Source-Commit: {plan.source_commit}", f"Promotion-Id: {pid}"]
    return "\n".join(lines) + "\n"


def file_diff(plan: Plan) -> str:
    out: list[str] = []
    for t in plan.targets:
        for rel, new in sorted(t.files.items()):
            old = plan.originals.get(rel)
            out += difflib.unified_diff((old or "").splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{rel}" if old is not None else "/dev/null",
                                        tofile=f"b/{rel}")
    return "".join(out)


def run(request: Request, say: Say) -> Outcome:
    """One promotion attempt on the current HEAD (the CLI adds push and retries)."""
    repo = Repo(request.repo)
    try:
        return _run(repo, request, say)
    finally:
        repo.close()


def _run(repo: Repo, request: Request, say: Say) -> Outcome:
    with journal.lock(repo.git_dir):
        journal.checkpoint("locked")
        recover(repo, say)
        head = repo.head_sha()
        with fsutil.temp_dir("llmops-gate-promote-") as tmp:
            export = Path(tmp) / "tree"
            export.mkdir()
            repo.export(head, export)
            tree = Tree.open(export, request.kustomize, origin=repo.root)
            rules = Rules.from_config(tree.config)
            targets = (request.targets if request.values_from is not None else
                       chain_targets(tree.chain, request.source, request.targets)[1])
            overlay_paths = [u.path for env in targets for u in tree.env_units(env)]
            base_branch = preflight(repo, overlay_paths)
            plan, _ = plan_promotion(tree, request, rules, head)
            for note in plan.notes():
                say(f"warning: {note}")
            if not plan.changes:
                return Outcome("up-to-date", plan=plan, text="already up to date",
                               base_branch=base_branch, branch=base_branch)
            for t in plan.targets:
                for rel, text in t.files.items():
                    atomic_write(tree.root / rel, text)
            if request.dry_run:
                text = file_diff(plan)
                tree2 = Tree.open(export, request.kustomize, origin=repo.root)
                for t in plan.targets:
                    after = render_text(tree2.render(t.env))
                    text += "".join(difflib.unified_diff(
                        render_text(t.before).splitlines(keepends=True),
                        after.splitlines(keepends=True),
                        fromfile=f"{t.env} (rendered, now)",
                        tofile=f"{t.env} (rendered, promoted)"))
                return Outcome("dry-run", plan=plan, text=text, base_branch=base_branch)
            tree_after = Tree.open(export, request.kustomize, origin=repo.root)
            problems = verify(tree_after, plan, rules)
            if problems:
                raise Refused("the promoted overlays do not render as planned; nothing was "
                              "written", problems)
            if request.validate:
                from llmops_gate.engine import Options, validate_repo

                # The Kustomize the door chose for this promotion, not the export's config.
                report = validate_repo(export, Options(envs=list(plan.target_names),
                                                       kustomize=tree.kustomize.argv[0]))
                if not report.passed:
                    raise Refused("the validators found errors in the promoted targets; "
                                  "nothing was written", report.active)
            journal.checkpoint("planned")
        pid = plan.promotion_id()
        message = (request.message or commit_message)(plan, pid)
        branch = base_branch
        if request.branch is not None:
            branch = request.branch or (f"promote/{plan.source}-to-"
                                        f"{'-'.join(plan.target_names)}-{head[:7]}")
            _switch_branch(repo, branch, head)
        files = {rel: text for t in plan.targets for rel, text in t.files.items()}
        commit: str | None = None
        try:
            journal.write_journal(repo.git_dir, {"promotion_id": pid, "head": head,
                                                 "branch": branch, "base_branch": base_branch,
                                                 "files": plan.originals, "new_files": files})
            journal.checkpoint("journal")
            for i, (rel, text) in enumerate(sorted(files.items())):
                (repo.root / rel).parent.mkdir(parents=True, exist_ok=True)
                atomic_write(repo.root / rel, text)
                if i == 0:
                    journal.checkpoint("write")
            journal.checkpoint("written")
            # SIGINT/SIGTERM during the commit is acted on once it is done (a commit cut in
            # two would leave HEAD and the files disagreeing), see llmops_gate.interrupt.
            with interrupt.deferred():
                commit = repo.commit_paths(sorted(files), message, request.author,
                                           request.run_hooks)
        except BaseException:
            if commit is not None:  # stopped right after the commit: fully promoted
                journal.clear_journal(repo.git_dir)
                raise
            # Stopped (an error, SIGINT/SIGTERM) before it: put everything back as it was.
            journal.restore_files(repo.root, plan.originals)
            try:
                repo.reset_paths(sorted(plan.originals))
                _leave_branch(repo, branch, base_branch, head)
            finally:
                journal.clear_journal(repo.git_dir)
            raise
        try:
            journal.checkpoint("committed")
        finally:  # committed: the journal has nothing left to restore, even if stopped here
            journal.clear_journal(repo.git_dir)
        return Outcome("promoted", plan=plan, commit=commit, promotion_id=pid,
                       text=message, branch=branch, base_branch=base_branch)


def _leave_branch(repo: Repo, branch: str, base_branch: str, head: str) -> None:
    """Undo `_switch_branch` for a promotion that did not commit: back to the branch it
    started on, and the new branch (still at the start commit) removed."""
    if not branch or not base_branch or branch == base_branch or repo.branch() != branch:
        return
    if repo.head_sha() != head:
        return
    repo.run("switch", "-q", base_branch)
    repo.run("branch", "-q", "-D", branch)


def _switch_branch(repo: Repo, branch: str, head: str) -> None:
    current = repo.branch()
    if current == branch:
        return
    try:
        at = repo.run("rev-parse", "--verify", "-q", f"refs/heads/{branch}").strip()
    except GateError:
        at = ""
    if at and at != head:
        raise GateError(f"branch '{branch}' already exists at another commit; name another "
                        "with --branch NAME")
    if at:
        repo.run("switch", "-q", branch)
    else:
        repo.run("switch", "-q", "-c", branch)
