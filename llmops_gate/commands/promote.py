"""The `promote`, `diff`, `history` and `rollback` commands (registered in cli.LAZY_COMMANDS)."""

from __future__ import annotations

import difflib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from llmops_gate.commands.output import EXIT_FINDINGS, EXIT_OK, split_csv
from llmops_gate.errors import GateError
from llmops_gate.gitops import forge, journal
from llmops_gate.gitops.git import GitFailed, Repo
from llmops_gate.gitops.history import promotions
from llmops_gate.gitops.promote import (
    EnvRender,
    Outcome,
    Plan,
    Refused,
    Request,
    Tree,
    chain_targets,
    docs_text,
    run,
    source_values,
)
from llmops_gate.gitops.values import Key, Rules, extract, short
from llmops_gate.yamlio import fsutil

REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "failed to push some refs",
            "stale info", "[remote rejected]")


def _say(text: str) -> None:
    click.echo(text, err=True)


def _refused(exc: Refused) -> None:
    click.echo(f"llmops-gate: refused: {exc}", err=True)
    for f in exc.findings:
        where = f.file or f.overlay or ""
        line = f":{f.line}" if f.line else ""
        env = f" [{f.environment}]" if f.environment else ""
        click.echo(f"  {f.severity.value}: {where}{line}{env} {f.rule}: {f.message}", err=True)
    sys.exit(EXIT_FINDINGS)


@dataclass
class PushOptions:
    remote: str
    retries: int


def _fetch(repo: Repo, remote: str, branch: str) -> str | None:
    """Fetch `remote`; the remote tip of `branch`, or None when it has no such branch."""
    try:
        repo.run("fetch", "-q", remote)
    except GitFailed as exc:
        raise GateError(f"cannot reach remote '{remote}': {exc}; nothing was changed") from None
    try:
        return repo.run("rev-parse", "--verify", "-q",
                        f"refs/remotes/{remote}/{branch}").strip() or None
    except GitFailed:
        return None


def _sync_before(repo_path: Path, remote: str) -> None:
    """Before promoting with --push: refuse a diverged branch, fast-forward a behind one."""
    repo = Repo(repo_path)
    try:
        branch = repo.branch()
        if branch is None:
            raise GateError("HEAD is detached: check out the branch to promote on first")
        tip = _fetch(repo, remote, branch)
        head = repo.head_sha()
        if tip is None or tip == head or repo.is_ancestor(tip, head):
            return
        if repo.is_ancestor(head, tip):
            try:
                repo.run("merge", "-q", "--ff-only", tip)
            except GitFailed as exc:
                raise GateError(f"'{branch}' is behind {remote}/{branch} and cannot be "
                                f"fast-forwarded: {exc}") from None
            return
        raise GateError(f"'{branch}' has diverged from {remote}/{branch}: pull (or rebase) and "
                        "resolve first; nothing was changed")
    finally:
        repo.close()


def _push_loop(request: Request, push: PushOptions, run_hooks: bool) -> Outcome:
    """Promote and push; on a rejected push, re-plan on the new remote tip (bounded)."""
    _sync_before(request.repo, push.remote)
    attempt = 0
    while True:
        outcome = run(request, _say)
        if outcome.status == "dry-run":
            return outcome
        repo = Repo(request.repo)
        try:
            branch = repo.branch()
            assert branch is not None
            request.branch = None if request.branch is None else branch
            tip = _fetch(repo, push.remote, branch)
            head = repo.head_sha()
            if tip == head or (tip is not None and repo.is_ancestor(head, tip)):
                return outcome
            journal.checkpoint("push")
            try:
                repo.run("push", "--porcelain", push.remote, f"HEAD:refs/heads/{branch}",
                         hooks=run_hooks)
                return outcome
            except GitFailed as exc:
                text = str(exc)
                if not any(marker in text for marker in REJECTED):
                    raise GateError(f"committed locally as {head[:7]} on '{branch}', but the "
                                    f"push to {push.remote} failed: {text}. Rerun with --push "
                                    "to push it") from None
                if attempt >= push.retries:
                    raise GateError(
                        f"the push to {push.remote}/{branch} was rejected {attempt + 1} times "
                        f"(others promoted meanwhile). Local '{branch}' has the promotion "
                        f"commit {head[:7]}; run `git pull --rebase` and push, or rerun "
                        "`llmops-gate promote --push`") from None
            attempt += 1
            tip = _fetch(repo, push.remote, branch)
            _say(f"push rejected: {push.remote}/{branch} moved; re-planning on "
                 f"{(tip or '')[:7]} (attempt {attempt + 1} of {push.retries + 1})")
            if outcome.status == "promoted" and tip is not None:
                # Drop our commit (only target overlay files) and start from the new tip.
                repo.run("reset", "-q", "--keep", tip)
            elif tip is not None:
                repo.run("merge", "-q", "--ff-only", tip)
        finally:
            repo.close()


def _print_outcome(outcome: Outcome) -> None:
    if outcome.status == "up-to-date":
        click.echo("already up to date: every target already runs the source's values")
        return
    if outcome.status == "dry-run":
        click.echo(outcome.text, nl=False)
        return
    plan = outcome.plan
    assert plan is not None and outcome.commit is not None
    click.echo(f"promoted {plan.source}@{plan.source_commit[:7]} -> "
               f"{', '.join(plan.target_names)}: {len(plan.changes)} value(s) in commit "
               f"{outcome.commit[:7]} on '{outcome.branch}' (Promotion-Id: "
               f"{outcome.promotion_id})")
    for change in plan.changes:
        click.echo(f"  {change.line()}")


def _forge_target(request: Request, remote: str) -> forge.Forge:
    """Where --open-pr opens its request; resolved before anything is committed or pushed,
    so a missing token or forge setting changes nothing."""
    repo = Repo(request.repo)
    try:
        try:
            url = repo.run("remote", "get-url", remote).strip()
        except GitFailed:
            url = None
        tree_rules = Rules.from_config(Tree.open(repo.root, request.kustomize).config)
    finally:
        repo.close()
    return forge.resolve(tree_rules.forge, url)


def _request_body(target: forge.Forge, outcome: Outcome, lead: str, repo: Path,
                  kustomize: str | None) -> str:
    """The commit body, then what the promotion does on the cluster: the release summary and
    the rendered diffs of the targets (within the forge's size limit)."""
    from llmops_gate.review import budget
    from llmops_gate.review.render import RenderOptions
    from llmops_gate.review.report import review

    assert outcome.plan is not None and outcome.commit is not None
    try:
        result = review(repo, outcome.plan.source_commit, outcome.commit,
                        RenderOptions(kustomize=kustomize, validate=False))
    except GateError as exc:
        return f"{lead}\n\n(llmops-gate could not render the review of this promotion: {exc})"
    return budget.request_body(result, lead, result.settings.limit(target.provider))


def _open_pr(target: forge.Forge, outcome: Outcome, repo: Path,
             kustomize: str | None = None) -> None:
    if outcome.status != "promoted" or outcome.plan is None:
        return
    subject, _, body = outcome.text.partition("\n")
    link = forge.open_request(target, head=str(outcome.branch),
                              base=str(outcome.base_branch), title=subject,
                              body=_request_body(target, outcome, body.strip(), repo,
                                                kustomize))
    click.echo(f"opened {'pull' if target.provider == 'github' else 'merge'} request: {link}")


COMMON = [
    click.option("--repo", "repo", type=click.Path(path_type=Path, file_okay=False),
                 default=".", show_default=True, help="The GitOps repo (a Git work tree)."),
    click.option("--kustomize", "kustomize_path", metavar="PATH",
                 help="A kustomize (or kubectl) binary to use."),
]


def _common(fn: Any) -> Any:
    for option in reversed(COMMON):
        fn = option(fn)
    return fn


@click.command()
@click.option("--from", "source", metavar="ENV", help="Source environment (default: the first).")
@click.option("--to", "targets", multiple=True, metavar="ENV[,ENV]",
              help="Target environment(s) (default: every later one).")
@click.option("--dry-run", is_flag=True, help="Print the file and rendered diffs; write nothing.")
@click.option("--branch", is_flag=False, flag_value="", default=None, metavar="[NAME]",
              help="Commit on a new branch (default name promote/<from>-to-<targets>-<sha>).")
@click.option("--author", metavar="'NAME <EMAIL>'", help="Commit author (default: Git config).")
@click.option("--push", is_flag=True, help="Push the commit (fetches first; retries rejected "
                                            "pushes by re-planning).")
@click.option("--remote", default="origin", show_default=True, help="Remote for --push.")
@click.option("--open-pr", is_flag=True, help="Open a pull/merge request (implies --push and "
                                               "--branch).")
@click.option("--run-hooks", is_flag=True, help="Run the repository's Git hooks on commit/push.")
@click.option("--no-validate", is_flag=True, help="Skip the validators (verify still runs).")
@_common
def promote(source: str | None, targets: tuple[str, ...], dry_run: bool, branch: str | None,
            author: str | None, push: bool, remote: str, open_pr: bool, run_hooks: bool,
            no_validate: bool, repo: Path, kustomize_path: str | None) -> None:
    """Carry the source environment's model and runtime into the later environments."""
    if open_pr:
        push = True
        branch = "" if branch is None else branch
    request = Request(repo=repo, source=source, targets=split_csv(targets), dry_run=dry_run,
                      branch=branch, author=author, run_hooks=run_hooks,
                      kustomize=kustomize_path, validate=not no_validate)
    target = _forge_target(request, remote) if open_pr and not dry_run else None
    try:
        if push and not dry_run:
            retries = _retries(repo, kustomize_path)
            outcome = _push_loop(request, PushOptions(remote, retries), run_hooks)
        else:
            outcome = run(request, _say)
    except Refused as exc:
        _refused(exc)
        return
    _print_outcome(outcome)
    if target is not None:
        _open_pr(target, outcome, repo, kustomize_path)
    sys.exit(EXIT_OK)


def _retries(repo: Path, kustomize: str | None) -> int:
    from llmops_gate.config import load_config

    return Rules.from_config(load_config(repo)).retries


@click.command("diff")
@click.option("--from", "source", metavar="ENV", help="Source environment (default: the first).")
@click.option("--to", "target", metavar="ENV", required=True, help="Environment to compare.")
@_common
def diff_command(source: str | None, target: str, repo: Path,
                 kustomize_path: str | None) -> None:
    """The rendered difference between two environments, promoted fields marked."""
    tree = Tree.open(repo.resolve(), kustomize_path)
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
    click.echo(f"promoted fields where {target} differs from {src_name} "
               f"({target}'s value -> {src_name}'s), marked *:")
    click.echo("\n".join(marks) if marks else "  (none: promote would change nothing)")
    click.echo("")
    text = "".join(difflib.unified_diff(
        _normalised(dst).splitlines(keepends=True), _normalised(src).splitlines(keepends=True),
        fromfile=f"{target} (rendered)", tofile=f"{src_name} (rendered)"))
    click.echo(text or "(the renders are the same apart from names and namespaces)", nl=False)
    sys.exit(EXIT_OK)


def _normalised(render: EnvRender) -> str:
    """A render with env names and namespaces taken out, so only real differences show."""
    import copy

    docs = []
    for key, res in sorted(render.resources.items()):
        doc = copy.deepcopy(res.doc)
        meta = doc.get("metadata")
        if isinstance(meta, dict):
            meta["name"] = key.name
            meta.pop("namespace", None)
        docs.append(doc)
    return docs_text(docs)


@click.command()
@click.option("--env", metavar="ENV", help="Only promotions into this environment.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--repo", "repo", type=click.Path(path_type=Path, file_okay=False), default=".",
              show_default=True, help="The GitOps repo (a Git work tree).")
def history(env: str | None, fmt: str, repo: Path) -> None:
    """List promotions (newest first) from their commit trailers."""
    r = Repo(repo)
    try:
        items = promotions(r, env)
    finally:
        r.close()
    if fmt == "json":
        click.echo(json.dumps([p.to_json() for p in items], indent=2))
    elif not items:
        click.echo("no promotions found" + (f" into {env}" if env else ""))
    for p in items if fmt == "text" else []:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(p.when))
        click.echo(f"{p.promotion_id}  {p.sha[:7]}  {when}  {p.source} -> "
                   f"{', '.join(p.targets)}  {p.subject}")
    sys.exit(EXIT_OK)


@click.command()
@click.option("--env", "env", required=True, metavar="ENV", help="Environment to roll back.")
@click.option("--to", "promotion_id", metavar="PROMOTION_ID",
              help="Undo this promotion (default: the environment's last one).")
@click.option("--author", metavar="'NAME <EMAIL>'", help="Commit author.")
@click.option("--run-hooks", is_flag=True, help="Run the repository's Git hooks on commit.")
@click.option("--dry-run", is_flag=True, help="Print the diffs; write nothing.")
@click.option("--no-validate", is_flag=True, help="Skip the validators (verify still runs).")
@_common
def rollback(env: str, promotion_id: str | None, author: str | None, run_hooks: bool,
             dry_run: bool, no_validate: bool, repo: Path, kustomize_path: str | None) -> None:
    """Restore an environment's promoted values to what they were before a promotion."""
    r = Repo(repo)
    try:
        found = promotions(r, env)
    finally:
        r.close()
    if promotion_id:
        found = [p for p in found if p.promotion_id == promotion_id]
        if not found:
            raise GateError(f"no promotion '{promotion_id}' into '{env}' in this branch's "
                            "history (see `llmops-gate history`)")
    if not found:
        raise GateError(f"no promotion into '{env}' in this branch's history")
    target = found[0]
    r = Repo(repo)
    try:
        parent = r.run("rev-parse", "--verify", "-q", f"{target.sha}^").strip()
    except GitFailed:
        raise GateError(f"promotion {target.promotion_id} has no parent commit to return "
                        "to") from None
    finally:
        r.close()

    def values_from(tree: Tree, rules: Rules) -> tuple[str, dict[Key, dict[str, Any]]]:
        if env not in tree.chain.names:
            raise GateError(f"unknown environment '{env}' (known: {tree.chain.describe()})")
        r2 = Repo(repo)
        try:
            with fsutil.temp_dir("llmops-gate-rollback-") as tmp:
                old_root = Path(tmp) / "tree"
                old_root.mkdir()
                r2.export(parent, old_root)
                old = Tree.open(old_root, kustomize_path, origin=Path(repo).resolve())
                return env, source_values(old.render(env, "environment (before)"), rules)
        finally:
            r2.close()

    def message(plan: Plan, pid: str) -> str:
        lines = [f"rollback: {env} to before {target.promotion_id}", ""]
        lines += [c.line() for c in plan.changes]
        lines += ["", *plan.notes()] if plan.notes() else []
        lines += ["", f"Promoted-From: {env}", f"Promoted-To: {env}",
                  f"Source-Commit: {parent}", f"Promotion-Id: {pid}",
                  f"Rollback-Of: {target.promotion_id}"]
        return "\n".join(lines) + "\n"

    request = Request(repo=repo, targets=[env], dry_run=dry_run, author=author,
                      run_hooks=run_hooks, kustomize=kustomize_path, values_from=values_from,
                      message=message, validate=not no_validate)
    try:
        outcome = run(request, _say)
    except Refused as exc:
        _refused(exc)
        return
    if outcome.status == "promoted":
        assert outcome.commit is not None
        click.echo(f"rolled back {env} to before {target.promotion_id}: commit "
                   f"{outcome.commit[:7]} (Promotion-Id: {outcome.promotion_id})")
        for change in outcome.plan.changes if outcome.plan else []:
            click.echo(f"  {change.line()}")
    elif outcome.status == "up-to-date":
        click.echo(f"already up to date: {env} already runs what it ran before "
                   f"{target.promotion_id}")
    else:
        _print_outcome(outcome)
    sys.exit(EXIT_OK)


__all__: Sequence[str] = ("diff_command", "history", "promote", "rollback")
