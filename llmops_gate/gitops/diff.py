"""`diff`: the rendered difference between two environments, promoted fields marked."""

from __future__ import annotations

import copy
import difflib
from pathlib import Path

from llmops_gate.gitops.plan import chain_targets, source_values
from llmops_gate.gitops.snapshot import EnvRender, Tree, docs_text
from llmops_gate.gitops.values import Rules, extract, short


def normalised(render: EnvRender) -> str:
    """A render with env names and namespaces taken out, so only real differences show."""
    docs = []
    for key, res in sorted(render.resources.items()):
        doc = copy.deepcopy(res.doc)
        meta = doc.get("metadata")
        if isinstance(meta, dict):
            meta["name"] = key.name
            meta.pop("namespace", None)
        docs.append(doc)
    return docs_text(docs)


def env_diff(repo: Path, source: str | None, target: str, kustomize: str | None) -> str:
    """The marked promoted fields, then a unified diff of the two normalised renders."""
    tree = Tree.open(repo.resolve(), kustomize)
    rules = Rules.from_config(tree.config)
    src_name, _ = chain_targets(tree.chain, source, [target])
    src = tree.render(src_name, "source environment")
    dst = tree.render(target, "target environment")
    values = source_values(src, rules)
    marks = []
    for key, res in sorted(dst.resources.items()):
        have = extract(res.doc, rules)
        for label, value in values.get(key, {}).items():
            if (label in have or not label.startswith("container.")) and \
                    have.get(label) != value:
                pinned = " (pinned)" if rules.pinned(target, key.kind, key.name,
                                                     label) else ""
                marks.append(f"* {key} {label}: {short(have.get(label))} -> "
                             f"{short(value)}{pinned}")
    head = (f"promoted fields where {target} differs from {src_name} "
            f"({target}'s value -> {src_name}'s), marked *:\n")
    head += ("\n".join(marks) if marks else "  (none: promote would change nothing)") + "\n\n"
    text = "".join(difflib.unified_diff(
        normalised(dst).splitlines(keepends=True), normalised(src).splitlines(keepends=True),
        fromfile=f"{target} (rendered)", tofile=f"{src_name} (rendered)"))
    return head + (text or "(the renders are the same apart from names and namespaces)")
