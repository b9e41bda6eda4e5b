"""`llmops-gate plan`: the units a Git change affects, as JSON, for a CI fan-out.

A Tekton pipeline feeds `overlays` into a `matrix` so a large repo validates only its affected
overlays, in parallel pods. Nothing is built; the selection is the one `validate
--changed-since` uses (see `llmops_gate.repo.changes`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmops_gate.model import Unit


def _unit(u: Unit) -> dict[str, Any]:
    return {"path": u.path, "environment": u.environment}


def plan_data(repo: Path, changed_since: str | None, envs: list[str], only: list[str],
              skip: list[str], config_path: Path | None) -> dict[str, Any]:
    from llmops_gate import validators
    from llmops_gate.config import load_config
    from llmops_gate.engine import select_units
    from llmops_gate.errors import GateError
    from llmops_gate.repo.discover import discover_units, scan_repo

    repo = repo.resolve() if repo.exists() else repo
    if not repo.is_dir():
        raise GateError(f"{repo}: not a folder (or not readable)")
    config = load_config(repo, config_path)
    chosen = validators.select(only, skip)
    scan = scan_repo(repo, config)
    units = select_units(discover_units(scan, config), envs, config)
    if not any(u.kind == "overlay" for u in units):
        raise GateError(f"{repo}: no Kustomize overlay found (no kustomization.yaml that other "
                        "kustomizations do not use)")
    data: dict[str, Any] = {"base": changed_since, "mergeBase": None, "all": True,
                            "reason": None if changed_since else "no --changed-since given"}
    selected: list[Unit] = units
    removed: list[Unit] = []
    why: dict[str, list[str]] = {}
    if changed_since is not None:
        from llmops_gate.repo.changes import select_changed

        change = select_changed(repo, changed_since, config, scan, units)
        selected = list(change.units)
        removed = list(change.removed)
        data.update(mergeBase=change.merge_base, all=change.all, reason=change.reason)
        why = {k: list(v) for k, v in change.why.items()}
    overlays = [u for u in selected if u.kind == "overlay"]
    data.update(
        overlays=[_unit(u) for u in overlays],
        manifests=[_unit(u) for u in selected if u.kind == "manifest"],
        removed=[{**_unit(u), "kind": u.kind} for u in removed],
        skipped=len(units) - len(selected),
        validators=list(chosen),
        overlayPaths=[u.path for u in overlays],
        why=why,
    )
    return data


