"""`llmops-gate init DIR`: a new GitOps repo in the seed's shape that validates clean."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from llmops_gate.commands.output import split_csv
from llmops_gate.errors import GateError
from llmops_gate.scaffold import (
    DEFAULT_ENVS,
    DEFAULT_MODEL,
    DEFAULT_REPO_URL,
    DEFAULT_RUNTIME_IMAGE,
    DEFAULT_STORAGE_URI,
    build_scaffold,
    files,
    write_scaffold,
)


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    out = {}
    for value in values:
        for item in (v.strip() for v in value.split(",") if v.strip()):
            env, sep, ns = item.partition("=")
            if not sep or not env or not ns:
                raise GateError(f"{option} takes ENV=NAMESPACE, not '{item}'")
            out[env] = ns
    return out


@click.command("init")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--model-name", default=DEFAULT_MODEL, show_default=True,
              help="Name of the InferenceService and its ServingRuntime.")
@click.option("--storage-uri", default=DEFAULT_STORAGE_URI, show_default=True,
              help="Where the model is: oci://, s3://, hf://, pvc://...")
@click.option("--runtime-image", default=DEFAULT_RUNTIME_IMAGE, show_default=True,
              help="The vLLM image; pin it by digest.")
@click.option("--repo-url", default=DEFAULT_REPO_URL, show_default=True,
              help="Git URL of the new repo, which the ArgoCD Applications watch.")
@click.option("--revision", default="main", show_default=True,
              help="Branch the Applications follow and pull requests target.")
@click.option("--project", default="llmops", show_default=True,
              help="Prefix of Application names and default namespaces (<project>-<env>).")
@click.option("--env", "env_names", multiple=True, metavar="NAME[,NAME]",
              help="Environments in promotion order (default: dev, staging, production).")
@click.option("--namespace", "namespaces", multiple=True, metavar="ENV=NS",
              help="Namespace of an environment (default <project>-<env>); repeatable.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init(folder: Path, model_name: str, storage_uri: str, runtime_image: str, repo_url: str,
         revision: str, project: str, env_names: tuple[str, ...], namespaces: tuple[str, ...],
         force: bool) -> None:
    """Write a new GitOps repo for one model into FOLDER, ready to validate."""
    scaffold = build_scaffold(model_name, storage_uri, runtime_image, repo_url, revision,
                              project, split_csv(env_names) or list(DEFAULT_ENVS),
                              _pairs(namespaces, "--namespace"))
    written = write_scaffold(folder, files(scaffold), force)
    click.echo(f"llmops-gate init: wrote {len(written)} file{'s' if len(written) != 1 else ''}"
               f" to {folder}")
    click.echo(f"next: cd {folder} && git init && llmops-gate validate", err=True)
