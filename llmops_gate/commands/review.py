"""`llmops-gate review`: the rendered change per environment, for a terminal or a PR comment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from llmops_gate.commands.options import (
    config_option,
    jobs_option,
    kustomize_option,
    output_option,
)
from llmops_gate.errors import GateError

FORMATS = ("text", "json", "markdown")


@click.command()
@click.argument("repo", default=".", type=click.Path(path_type=Path, file_okay=False))
@click.option("--base", "base", required=True, metavar="REV",
              help="The revision the change starts from (the PR's target branch); its merge "
                   "base with the head is what is compared.")
@click.option("--head", "head", metavar="REV", default=None,
              help="The revision the change ends at (default: the work tree, committed or "
                   "not).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@output_option("the review")
@click.option("--full-report", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the whole review, never shortened, to this file (Markdown; "
                   "JSON when it ends in .json). Default with --format markdown and --output "
                   "FILE: FILE's name with .full.md.")
@click.option("--max-chars", type=click.IntRange(min=2000), default=None,
              help="Longest Markdown comment (default: the forge's limit, GitHub's 65536 or "
                   "GitLab's 1000000, or review.max_chars in the config).")
@click.option("--forge", "forge_name", type=click.Choice(["github", "gitlab"]), default=None,
              help="Whose size limit the Markdown keeps (default: the posting forge, else "
                   "github).")
@click.option("--split", is_flag=True,
              help="Spread a long Markdown review over `part N/M` comments instead of "
                   "leaving diffs out.")
@click.option("--source-url", metavar="URL", default=None,
              help="Link findings' file:line to URL/FILE#LLINE (e.g. "
                   "https://github.com/o/r/blob/SHA).")
@click.option("--post", is_flag=True,
              help="Create or update the tool's comment on the pull/merge request (token from "
                   "GITHUB_TOKEN or GITLAB_TOKEN).")
@click.option("--pr", "pr_number", type=click.IntRange(min=1), default=None,
              help="The pull/merge request number for --post (default: from the CI "
                   "environment: GITHUB_REF, CI_MERGE_REQUEST_IID, PULL_REQUEST_NUMBER).")
@click.option("--repository", metavar="OWNER/NAME", default=None,
              help="The forge's name of the repository for --post (default: "
                   "promotion.forge.repository, else the remote's URL).")
@click.option("--api-url", metavar="URL", default=None,
              help="The forge's REST API root for --post (default: promotion.forge.api_url, "
                   "else github.com's or gitlab.com's).")
@click.option("--remote", default="origin", show_default=True,
              help="Remote whose URL tells the forge when the config does not.")
@click.option("--no-validate", is_flag=True, help="Do not run the validators on the head.")
@click.option("--fail-on-errors", is_flag=True,
              help="Exit 1 when the head's validation has error findings.")
@kustomize_option
@config_option()
@jobs_option
def review(repo: Path, base: str, head: str | None, fmt: str, output: Path | None,
           full_report: Path | None, max_chars: int | None, forge_name: str | None,
           split: bool, source_url: str | None, post: bool, pr_number: int | None,
           repository: str | None, api_url: str | None, remote: str, no_validate: bool,
           fail_on_errors: bool, kustomize_path: str | None,
           config_path: Path | None, jobs: int | None) -> None:
    """What a change does on the cluster: rendered diffs per environment, a release summary
    and the head's validation."""
    from llmops_gate.commands.output import emit
    from llmops_gate.engine import Options
    from llmops_gate.review import budget, text
    from llmops_gate.review import post as posting
    from llmops_gate.review.markdown import render_full
    from llmops_gate.review.report import render_json
    from llmops_gate.review.report import review as make_review

    for path in (output, full_report):
        if path is not None and not path.parent.is_dir():
            raise GateError(f"{path}: cannot write: folder {path.parent} does not exist")
    target = posting.resolve_target(repo, remote, pr_number, forge_name,
                                    repository=repository, api_url=api_url) if post else None
    result = make_review(repo, base, head, Options(
        config_path=config_path, kustomize=kustomize_path, jobs=jobs),
        validate=not no_validate)
    provider = target.forge.provider if target else (forge_name or "github")
    limit = max_chars or result.settings.limit(provider)
    if full_report is None and output is not None and fmt == "markdown":
        full_report = output.with_name(output.name.removesuffix(".md") + ".full.md")
    fitted = budget.fit(result, limit, split=split,
                        full_name=full_report.name if full_report else None,
                        source_url=source_url)
    if full_report is not None:
        emit(render_json(result) if full_report.suffix == ".json" else
             render_full(result, source_url), full_report)
    if fmt == "json":
        emit(render_json(result), output)
    elif fmt == "markdown":
        separator = "\n<!-- llmops-gate:review:next-part -->\n"
        emit(separator.join(fitted.parts), output)
    else:
        colour = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        emit(text.render(result, colour=colour), output)
    if target is not None:
        for line in posting.post(target, fitted.parts):
            click.echo(line, err=True)
    sys.exit(1 if fail_on_errors and result.errors else 0)
