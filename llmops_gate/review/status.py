"""What runs where: each environment's model, runtime, vLLM arguments, size, last promotion
and Application sync policy, read from the repo as it is (renders of the work tree and the
branch's promotion trailers), compared along the environment chain.

The promoted values (model, runtime image, vLLM arguments) are what an environment "runs" for
the question "does production run what staging tested"; sizes and sync policies are each
environment's own and are shown, not compared.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops_gate.errors import GateError
from llmops_gate.gitops.git import Repo
from llmops_gate.gitops.history import Promotion, promotions
from llmops_gate.gitops.promote import Tree
from llmops_gate.review.render import applications
from llmops_gate.review.summary import env_values, sync_policy_text

FIELDS = ("model", "image", "args", "gpus", "replicas", "promotion", "sync")
LABELS = {"model": "model", "image": "runtime image", "args": "vLLM arguments", "gpus": "GPUs",
          "replicas": "replicas", "promotion": "last promotion", "sync": "sync policy"}
# What a promotion carries: equal along the chain means the later env runs what the earlier
# one tested.
PROMOTED = ("model", "image", "args")


@dataclass(frozen=True)
class EnvStatus:
    name: str
    overlays: tuple[str, ...]
    values: Mapping[str, Any]
    promotion: Promotion | None = None
    application: str | None = None
    sync: str | None = None
    differs: tuple[str, ...] = ()  # promoted fields unlike the environment before it
    error: str | None = None

    def cell(self, name: str, now: float) -> str:
        if self.error is not None:
            return "(does not render)" if name in PROMOTED else "-"
        if name == "promotion":
            if self.promotion is None:
                return "(none)"
            return f"{self.promotion.promotion_id} ({age(now - self.promotion.when)} ago)"
        if name == "sync":
            return self.sync or "(no Application)"
        value = self.values.get(name)
        if name == "args":
            return " ".join(value) if value else "(none)"
        return "(unset)" if value is None else str(value)


@dataclass(frozen=True)
class Status:
    envs: tuple[EnvStatus, ...]
    now: float = field(default_factory=time.time)

    def last_tested(self) -> dict[str, Any] | None:
        """Whether the last environment runs what the one before it runs (production vs
        staging)."""
        if len(self.envs) < 2:
            return None
        last, prev = self.envs[-1], self.envs[-2]
        differs = [f for f in PROMOTED if last.values.get(f) != prev.values.get(f)]
        return {"environment": last.name, "previous": prev.name, "same": not differs,
                "differs": differs}


def age(seconds: float) -> str:
    """`3d 4h`, `2h 5m`, `7m`, `40s`."""
    rest = max(0, int(seconds))
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def _app_for(apps: Sequence[Mapping[str, Any]], name: str | None,
             overlays: Sequence[str]) -> Mapping[str, Any] | None:
    import os

    for app in apps:
        meta = app.get("metadata") if isinstance(app.get("metadata"), Mapping) else {}
        assert isinstance(meta, Mapping)
        if name and meta.get("name") == name:
            return app
    for app in apps:
        spec = app.get("spec") if isinstance(app.get("spec"), Mapping) else {}
        assert isinstance(spec, Mapping)
        source = spec.get("source") if isinstance(spec.get("source"), Mapping) else {}
        assert isinstance(source, Mapping)
        path = source.get("path")
        if isinstance(path, str) and os.path.normpath(path).strip("/") in overlays:
            return app
    return None


def status(repo: Path, kustomize: str | None = None, now: float | None = None) -> Status:
    root = repo.resolve()
    tree = Tree.open(root, kustomize)
    names = tree.config.environment_names
    if not names:
        raise GateError("no environments in .llmops-gate.yaml: status needs the "
                        "`environments:` chain (for example dev, staging, production)")
    history: list[Promotion] = []
    try:
        git = Repo(root)
    except GateError:
        git = None  # not a Git work tree: no promotion history to show
    if git is not None:
        try:
            history = promotions(git)
        finally:
            git.close()
    apps = list(applications(root, tree.scan, tree.config))
    out: list[EnvStatus] = []
    for name in names:
        env = tree.config.environment(name)
        assert env is not None
        overlays = tuple(u.path for u in tree.env_units(name))
        last = next((p for p in history if name in p.targets), None)
        app = _app_for(apps, env.application, overlays)
        app_name = None
        if app is not None:
            meta = app.get("metadata")
            app_name = str(meta.get("name")) if isinstance(meta, Mapping) else None
        sync = sync_policy_text(app) if app is not None else None
        try:
            render = tree.render(name)
        except GateError as exc:
            out.append(EnvStatus(name=name, overlays=overlays, values={}, promotion=last,
                                 application=app_name, sync=sync, error=str(exc)))
            continue
        docs = [render.resources[k].doc for k in sorted(render.resources)]
        values = env_values(docs)
        differs: tuple[str, ...] = ()
        if out and out[-1].error is None:
            differs = tuple(f for f in PROMOTED if values.get(f) != out[-1].values.get(f))
        out.append(EnvStatus(name=name, overlays=overlays, values=values, promotion=last,
                             application=app_name, sync=sync, differs=differs))
    return Status(envs=tuple(out), now=time.time() if now is None else now)


def as_dict(st: Status) -> dict[str, Any]:
    from llmops_gate import __version__

    return {
        "tool": "llmops-gate",
        "version": __version__,
        "kind": "status",
        "environments": [{
            "name": e.name,
            "overlays": list(e.overlays),
            "model": e.values.get("model"),
            "image": e.values.get("image"),
            "args": e.values.get("args"),
            "gpus": e.values.get("gpus"),
            "replicas": e.values.get("replicas"),
            "promotion": None if e.promotion is None else {
                **e.promotion.to_json(), "ageSeconds": max(0, int(st.now - e.promotion.when))},
            "application": e.application,
            "sync": e.sync,
            "differsFromPrevious": list(e.differs),
            "error": e.error,
        } for e in st.envs],
        "lastRunsWhatPreviousTested": st.last_tested(),
    }


def render_json(st: Status) -> str:
    return json.dumps(as_dict(st), indent=2) + "\n"


def _verdict(st: Status) -> str:
    last = st.last_tested()
    if last is None:
        return ""
    if last["same"]:
        return f"{last['environment']} runs what {last['previous']} tested."
    return (f"{last['environment']} does NOT run what {last['previous']} tested: "
            f"{', '.join(LABELS[f] for f in last['differs'])} differ(s).")


def render_text(st: Status) -> str:
    """One block per environment (the values are too long for side-by-side columns)."""
    width = max(len(v) for v in LABELS.values())
    lines: list[str] = []
    for e in st.envs:
        where = ", ".join(e.overlays) or "no overlay"
        lines.append(f"{e.name} ({where})")
        for name in FIELDS:
            mark = "*" if name in e.differs else " "
            lines.append(f" {mark} {LABELS[name].ljust(width)}  {e.cell(name, st.now)}")
        if e.error:
            lines.append(f"   error: {e.error}")
        lines.append("")
    lines.append("* differs from the environment before it in the chain")
    verdict = _verdict(st)
    if verdict:
        lines.append(verdict)
    return "\n".join(lines) + "\n"


def render_markdown(st: Status) -> str:
    from llmops_gate.review.markdown import code, text

    rows = ["| | " + " | ".join(f"**{text(e.name)}**" for e in st.envs) + " |",
            "|---|" + "---|" * len(st.envs)]
    for name in FIELDS:
        cells = []
        for e in st.envs:
            value = code(e.cell(name, st.now))
            cells.append(f"{value} ≠" if name in e.differs else value)
        rows.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    out = "\n".join(rows) + "\n\n≠ differs from the environment before it in the chain.\n"
    verdict = _verdict(st)
    if verdict:
        out += f"\n**{text(verdict)}**\n"
    return out
