"""One environment resolver (`repo/envs.py`) behind `envs`, the policy validator and promotion.

Where the three used to work an environment out differently, these inputs show what the user
sees now: the same answer everywhere, whatever part of the repo one run looks at.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.conftest import run_cli


def _write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def _config_map(name: str) -> str:
    return f"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {name}
        data:
          MODEL: granite
        """


def test_overlays_of_one_environment_in_two_namespaces_give_it_none(tmp_path: Path) -> None:
    # No config: dev has two overlays that land in different namespaces. `envs` used to show
    # the first one's (and the set-up scripts created only that namespace) while the policy
    # took dev to have no namespace of its own; now both say so, and the scripts stop with
    # "environment 'dev' has no namespace: set 'namespace:' for it".
    _write(tmp_path, {
        "overlays/dev/chat/kustomization.yaml": "namespace: chat-dev\nresources: [cm.yaml]\n",
        "overlays/dev/chat/cm.yaml": _config_map("chat"),
        "overlays/dev/embed/kustomization.yaml": "namespace: embed-dev\nresources: [cm.yaml]\n",
        "overlays/dev/embed/cm.yaml": _config_map("embed"),
        "overlays/production/kustomization.yaml": (
            "namespace: llm-prod\nnamePrefix: prod-\nresources: [cm.yaml]\n"),
        "overlays/production/cm.yaml": _config_map("chat"),
    })
    tsv = run_cli("envs", tmp_path, "--format", "tsv")
    assert tsv.code == 0, tsv.stderr
    assert tsv.stdout.splitlines() == [
        "dev\t-\t-\toverlays/dev/chat,overlays/dev/embed",
        "production\tllm-prod\t-\toverlays/production",
    ]
    assert run_cli("envs", tmp_path, "--format", "json").json() == [
        {"name": "dev", "namespace": None, "application": None,
         "overlays": ["overlays/dev/chat", "overlays/dev/embed"], "prefix": None},
        {"name": "production", "namespace": "llm-prod", "application": None,
         "overlays": ["overlays/production"], "prefix": "prod-"},
    ]
    report = run_cli("validate", tmp_path, "--format", "json").json()
    assert [f["rule"] for f in report["findings"] if f["rule"] == "namespace-matches-env"] == []


APPLICATION = """
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: models-qa
spec:
  project: default
  source:
    repoURL: https://git.example.com/models.git
    targetRevision: main
    path: overlays/qa
  destination:
    server: https://kubernetes.default.svc
    namespace: models-qa
  syncPolicy:
    automated: {prune: true}
"""


def test_the_first_environment_is_the_chain_s_whatever_the_run_selects(tmp_path: Path) -> None:
    # No config: dev -> qa. Only the first environment (or dev) may sync automatically by
    # default. The policy used to take "first" from the overlays one run rendered, so
    # `--env qa` (or a --changed-since touching only qa) let qa auto-sync while a full run
    # refused it; now qa is second in every run, as `envs` and `promote` have it.
    _write(tmp_path, {
        "overlays/dev/kustomization.yaml": "resources: [cm.yaml]\n",
        "overlays/dev/cm.yaml": _config_map("models"),
        "overlays/qa/kustomization.yaml": "resources: [cm.yaml, application.yaml]\n",
        "overlays/qa/cm.yaml": _config_map("models"),
        "overlays/qa/application.yaml": APPLICATION,
    })
    assert [line.split()[0] for line in run_cli("envs", tmp_path).stdout.splitlines()[1:]] \
        == ["dev", "qa"]
    line = APPLICATION.lstrip("\n").splitlines().index("    automated: {prune: true}") + 1
    for args in ((), ("--env", "qa")):
        report = run_cli("validate", tmp_path, *args, "--format", "json").json()
        assert [(f["rule"], f["file"], f["line"]) for f in report["findings"]
                if f["rule"] == "argocd-auto-sync"] == [
            ("argocd-auto-sync", "overlays/qa/application.yaml", line)], args
