"""The `promote`, `diff`, `history` and `rollback` commands (registered in
commands.LAZY_COMMANDS). Each parses its options, calls `llmops_gate.gitops` and prints; the
push loop, history and rollback planning live there."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from llmops_gate.commands.options import kustomize_option, stacked
from llmops_gate.commands.output import EXIT_FINDINGS, EXIT_OK, split_csv
from llmops_gate.errors import GateError
from llmops_gate.gitops import forge
from llmops_gate.gitops.diff import env_diff
from llmops_gate.gitops.history import read_promotions, rollback_request
from llmops_gate.gitops.plan import Refused, Request
from llmops_gate.gitops.push import PushOptions, forge_target, open_request, push_loop, retries
from llmops_gate.gitops.run import Outcome, run


def _say(text: str) -> None:
    click.echo(text, err=True)


def _refused(exc: Refused) -> int:
    click.echo(f"llmops-gate: refused: {exc}", err=True)
    for f in exc.findings:
        where = f.file or f.overlay or ""
        line = f":{f.line}" if f.line else ""
        env = f" [{f.environment}]" if f.environment else ""
        click.echo(f"  {f.severity.value}: {where}{line}{env} {f.rule}: {f.message}", err=True)
    return EXIT_FINDINGS


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


COMMON = [
    click.option("--repo", "repo", type=click.Path(path_type=Path, file_okay=False),
                 default=".", show_default=True, help="The GitOps repo (a Git work tree)."),
    kustomize_option,
]
_common = stacked(COMMON)


def _request_body(target: forge.Forge, outcome: Outcome, lead: str, repo: Path,
                  kustomize: str | None) -> str:
    """The commit body, then what the promotion does on the cluster: the release summary and
    the rendered diffs of the targets (within the forge's size limit)."""
    from llmops_gate.engine import Options
    from llmops_gate.review import budget
    from llmops_gate.review.report import review

    assert outcome.plan is not None and outcome.commit is not None
    try:
        result = review(repo, outcome.plan.source_commit, outcome.commit,
                        Options(kustomize=kustomize), validate=False)
    except GateError as exc:
        return f"{lead}\n\n(llmops-gate could not render the review of this promotion: {exc})"
    return budget.request_body(result, lead, result.settings.limit(target.provider))


def do_promote(request: Request, push: bool, remote: str, open_pr: bool) -> int:
    target: forge.Forge | None = (forge_target(request, remote)
                                  if open_pr and not request.dry_run else None)
    try:
        if push and not request.dry_run:
            outcome = push_loop(request, PushOptions(remote, retries(request.repo)),
                                request.run_hooks, _say)
        else:
            outcome = run(request, _say)
    except Refused as exc:
        return _refused(exc)
    _print_outcome(outcome)
    if target is not None and outcome.status == "promoted" and outcome.plan is not None:
        body = outcome.text.partition("\n")[2]
        link = open_request(target, outcome, _request_body(target, outcome, body.strip(),
                                                           request.repo, request.kustomize))
        if link is not None:
            kind = "pull" if target.provider == "github" else "merge"
            click.echo(f"opened {kind} request: {link}")
    return EXIT_OK


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
    sys.exit(do_promote(request, push, remote, open_pr))


@click.command("diff")
@click.option("--from", "source", metavar="ENV", help="Source environment (default: the first).")
@click.option("--to", "target", metavar="ENV", required=True, help="Environment to compare.")
@_common
def diff_command(source: str | None, target: str, repo: Path,
                 kustomize_path: str | None) -> None:
    """The rendered difference between two environments, promoted fields marked."""
    click.echo(env_diff(repo, source, target, kustomize_path), nl=False)
    sys.exit(EXIT_OK)


@click.command()
@click.option("--env", metavar="ENV", help="Only promotions into this environment.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--repo", "repo", type=click.Path(path_type=Path, file_okay=False), default=".",
              show_default=True, help="The GitOps repo (a Git work tree).")
def history(env: str | None, fmt: str, repo: Path) -> None:
    """List promotions (newest first) from their commit trailers."""
    items = read_promotions(repo, env)
    if fmt == "json":
        click.echo(json.dumps([p.to_json() for p in items], indent=2))
    elif not items:
        click.echo("no promotions found" + (f" into {env}" if env else ""))
    for p in items if fmt == "text" else []:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(p.when))
        click.echo(f"{p.promotion_id}  {p.sha[:7]}  {when}  {p.source} -> "
                   f"{', '.join(p.targets)}  {p.subject}")
    sys.exit(EXIT_OK)


def do_rollback(request: Request, env: str, undone: str) -> int:
    try:
        outcome = run(request, _say)
    except Refused as exc:
        return _refused(exc)
    if outcome.status == "promoted":
        assert outcome.commit is not None
        click.echo(f"rolled back {env} to before {undone}: commit "
                   f"{outcome.commit[:7]} (Promotion-Id: {outcome.promotion_id})")
        for change in outcome.plan.changes if outcome.plan else []:
            click.echo(f"  {change.line()}")
    elif outcome.status == "up-to-date":
        click.echo(f"already up to date: {env} already runs what it ran before {undone}")
    else:
        _print_outcome(outcome)
    return EXIT_OK


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
    request, undone = rollback_request(repo, env, promotion_id, author=author,
                                       run_hooks=run_hooks, dry_run=dry_run,
                                       validate=not no_validate, kustomize=kustomize_path)
    sys.exit(do_rollback(request, env, undone.promotion_id))


__all__: Sequence[str] = ("diff_command", "history", "promote", "rollback")
