"""Promotion: plan -> apply -> verify -> commit, in four modules this one gathers.

`snapshot` (a tree export, rendered per environment), `plan` (the edits each target needs),
`verify` (render again, compare) and `run` (the journalled, locked run that commits). Import
from here when you want the whole of it.
"""

from __future__ import annotations

from llmops_gate.gitops.plan import (
    Change,
    Plan,
    Refused,
    Request,
    TargetPlan,
    chain_targets,
    check_previous,
    kept_containers,
    plan_promotion,
    plan_target,
    source_values,
)
from llmops_gate.gitops.run import Outcome, commit_message, file_diff, preflight, recover, run
from llmops_gate.gitops.snapshot import EnvRender, Say, Tree, docs_text, render_text
from llmops_gate.gitops.verify import RULES, VERIFY, verify
from llmops_gate.repo.envs import Chain

__all__ = [
    "RULES", "VERIFY", "Chain", "Change", "EnvRender", "Outcome", "Plan", "Refused", "Request",
    "Say", "TargetPlan", "Tree", "chain_targets", "check_previous", "commit_message", "docs_text",
    "file_diff", "kept_containers", "plan_promotion", "plan_target", "preflight", "recover",
    "render_text", "run", "source_values", "verify",
]
