"""Planning a promotion: the source's promotable values, the edits each target needs (a
kustomization's `images:`, a patch file of the tool's own), and the order gate.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops_gate.errors import GateError
from llmops_gate.gitops.edit import (
    ImageEntry,
    edit_kustomization,
    remove_patch,
    render_patch_file,
)
from llmops_gate.gitops.snapshot import EnvRender, Tree
from llmops_gate.gitops.values import (
    MODEL_FIELDS,
    Key,
    Rules,
    container_lists,
    extract,
    short,
)
from llmops_gate.kinds import ISVC, RUNTIME_KINDS, split_image
from llmops_gate.model import Finding
from llmops_gate.repo.envs import Chain


class Refused(Exception):
    """A promotion check failed (verify, validators, order gate): exit 1, nothing written."""

    def __init__(self, message: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


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
    edits: dict[str, str] = {}
    for unit in tree.env_units(env):
        k = tree.scan.kustomizations.get(unit.path)
        if k is None or not any(isinstance(p, dict) and p.get("path") == rules.patch_file
                                for p in k.data.get("patches") or []):
            continue
        edits[k.file] = remove_patch((tree.root / k.file).read_text(encoding="utf-8"),
                                     rules.patch_file)
    if not edits:
        return before
    try:
        with tree.trying(edits, f"{tree.state}, without {rules.patch_file}"):
            return tree.render(env, "target environment")
    except GateError:
        return before


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
