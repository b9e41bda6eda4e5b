"""Promotion: plan -> apply -> verify -> commit.

The plan and the verify work on a private export of HEAD, so the user's work tree is only
written once the result is known to render as intended and to pass the validators. Then the
edited files are written into the work tree (journalled, each atomically) and committed in
one commit; that commit is the point where the promotion happens.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from llmops_gate import interrupt
from llmops_gate.errors import GateError
from llmops_gate.gitops import journal
from llmops_gate.gitops.git import Repo, parse_trailers
from llmops_gate.gitops.plan import Plan, Refused, Request, chain_targets, plan_promotion
from llmops_gate.gitops.snapshot import Say, Tree, render_text
from llmops_gate.gitops.values import (
    Rules,
)
from llmops_gate.gitops.verify import verify
from llmops_gate.yamlio import fsutil
from llmops_gate.yamlio.fsutil import atomic_write


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
            files = {rel: text for t in plan.targets for rel, text in t.files.items()}
            # From here on the export is the promoted tree: each target is rendered once in
            # it, for the dry run's diff or for verify and the validators alike.
            tree.apply(files, "promoted")
            if request.dry_run:
                text = file_diff(plan)
                for t in plan.targets:
                    after = render_text(tree.render(t.env))
                    text += "".join(difflib.unified_diff(
                        render_text(t.before).splitlines(keepends=True),
                        after.splitlines(keepends=True),
                        fromfile=f"{t.env} (rendered, now)",
                        tofile=f"{t.env} (rendered, promoted)"))
                return Outcome("dry-run", plan=plan, text=text, base_branch=base_branch)
            problems = verify(tree, plan, rules)
            if problems:
                raise Refused("the promoted overlays do not render as planned; nothing was "
                              "written", problems)
            if request.validate:
                from llmops_gate.engine import Options, validate_repo

                # The Kustomize the door chose for this promotion, not the export's config;
                # the targets as verify rendered them (the same files), not built again; the
                # promoted tree's files as its scan read them, not read again.
                prebuilt = {r.unit.path: r for t in plan.targets
                            for r in tree.render(t.env).results}
                report = validate_repo(export, Options(envs=list(plan.target_names),
                                                       kustomize=tree.kustomize.argv[0],
                                                       prebuilt=prebuilt),
                                       snapshot=tree.scan.snapshot)
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
