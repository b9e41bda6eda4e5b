"""Hostile repositories: every one gives its finding (or exit 2), quickly, never a traceback.

The repository under validation is untrusted input (anyone who can open a pull request writes
it). Each case plants one hostile input in a copy of the example repo and runs the real CLI
with real Kustomize; the subprocess timeout of 10 s is the bound on the run.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE, cli_env, copy_tree, findings, run_cli

DEV = "deploy_model/overlays/dev"
STAGING = "deploy_model/overlays/staging"
PROD = "deploy_model/overlays/production"
BASE = "deploy_model/base"


def billion_laughs() -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


def _write(repo: Path, rel: str, text: str | bytes) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def _append(repo: Path, rel: str, text: str) -> None:
    with (repo / rel).open("a", encoding="utf-8") as fh:
        fh.write(text)


def _add_resource(repo: Path, overlay: str, ref: str) -> None:
    path = repo / overlay / "kustomization.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - ../../base\n", f"  - ../../base\n  - {ref}\n"),
                    encoding="utf-8")


def alias_bomb(repo: Path, outside: Path) -> None:
    _write(repo, "bomb.yaml", billion_laughs())


def deep_nesting(repo: Path, outside: Path) -> None:
    _write(repo, "deep.yaml", "a: " + "[" * 10_000 + "]" * 10_000 + "\n")


def deep_block_nesting(repo: Path, outside: Path) -> None:
    _write(repo, "deep-block.yaml", "".join(" " * i + "a:\n" for i in range(2_000)))


def huge_file(repo: Path, outside: Path) -> None:
    with (repo / "huge.yaml").open("wb") as fh:
        line = b"key: " + b"v" * 95 + b"\n"
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            fh.write(line)


def non_utf8(repo: Path, outside: Path) -> None:
    _write(repo, "latin1.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n"
           .encode("latin-1"))


def binary(repo: Path, outside: Path) -> None:
    _write(repo, "blob.yaml", bytes(range(256)) * 8)


def duplicate_keys(repo: Path, outside: Path) -> None:
    _write(repo, f"{DEV}/size.yaml",
           (EXAMPLE / DEV / "size.yaml").read_text(encoding="utf-8")
           + "metadata:\n  name: duplicate\n")


def tabs(repo: Path, outside: Path) -> None:
    _write(repo, "tabs.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n")


def empty_kustomization(repo: Path, outside: Path) -> None:
    _write(repo, f"{DEV}/kustomization.yaml", "")


def kustomization_cycle(repo: Path, outside: Path) -> None:
    # The base includes the dev overlay, which includes the base.
    _append(repo, f"{BASE}/kustomization.yaml", "\nbases:\n  - ../overlays/dev\n")


def remote_base(repo: Path, outside: Path) -> None:
    _add_resource(repo, STAGING, "https://github.com/example/models//base?ref=v1")


def remote_git_base(repo: Path, outside: Path) -> None:
    _add_resource(repo, STAGING, "git::https://example.com/models.git//base")


def path_out_of_repo(repo: Path, outside: Path) -> None:
    _append(repo, f"{DEV}/kustomization.yaml", "  - path: ../../../../outside/patch.yaml\n")


def symlink_file_out_of_repo(repo: Path, outside: Path) -> None:
    (repo / DEV / "size.yaml").unlink()
    (repo / DEV / "size.yaml").symlink_to(outside / "size.yaml")


def symlink_dir_out_of_repo(repo: Path, outside: Path) -> None:
    (repo / PROD / "shared").symlink_to(outside, target_is_directory=True)
    _add_resource(repo, PROD, "shared")


def helm_chart(repo: Path, outside: Path) -> None:
    _append(repo, f"{DEV}/kustomization.yaml",
            "helmCharts:\n  - name: evil\n    repo: https://charts.example.com\n")


def exec_plugin(repo: Path, outside: Path) -> None:
    _append(repo, f"{DEV}/kustomization.yaml",
            "transformers:\n  - apiVersion: example.com/v1\n    kind: Pwn\n"
            "    metadata:\n      name: pwn\n      annotations:\n"
            "        config.kubernetes.io/function: |\n          exec:\n"
            "            path: ./pwn.sh\n")


def kustomization_alias_bomb(repo: Path, outside: Path) -> None:
    _append(repo, f"{BASE}/kustomization.yaml", "\n" + billion_laughs())


def config_alias_bomb(repo: Path, outside: Path) -> None:
    _write(repo, ".llmops-gate.yaml", billion_laughs())


def config_kustomize_in_repo(repo: Path, outside: Path) -> None:
    _write(repo, "bin/kustomize", "#!/bin/sh\ntouch \"$0.ran\"\n")
    (repo / "bin/kustomize").chmod(0o755)
    _write(repo, ".llmops-gate.yaml", f"kustomize:\n  path: {repo / 'bin/kustomize'}\n")


def config_kustomize_any_program(repo: Path, outside: Path) -> None:
    # A program outside the repo that is not Kustomize: `env build <dir>` would run whatever
    # `build` is on PATH.
    _write(repo, ".llmops-gate.yaml", "kustomize:\n  path: /usr/bin/env\n")


def yamllint_extends_outside(repo: Path, outside: Path) -> None:
    _write(repo, ".yamllint", f"extends: {outside / 'size.yaml'}\n")


def low_configured_depth(repo: Path, outside: Path) -> None:
    _write(repo, ".llmops-gate.yaml", "limits:\n  max_depth: 3\n")
    _write(repo, "nested.yaml", "a:\n  b:\n    c:\n      d: 1\n")


@dataclass(frozen=True)
class Case:
    name: str
    plant: Callable[[Path, Path], None]
    code: int
    rule: str | None = None
    file: str | None = None
    line: int | None = None
    stderr: str | None = None


CASES = [
    Case("alias-bomb", alias_bomb, 1, "yaml-aliases", "bomb.yaml", 6),
    Case("deep-nesting-10000", deep_nesting, 1, "yaml-too-deep", "deep.yaml", 1),
    Case("deep-block-nesting-2000", deep_block_nesting, 1, "yaml-too-deep", "deep-block.yaml"),
    Case("file-50MB", huge_file, 1, "yaml-too-large", "huge.yaml"),
    Case("non-utf8", non_utf8, 1, "yaml-encoding", "latin1.yaml", 4),
    Case("binary", binary, 1, "binary-file", "blob.yaml"),
    Case("duplicate-keys", duplicate_keys, 1, "yaml-key-duplicates", f"{DEV}/size.yaml"),
    Case("tabs", tabs, 1, "yaml-syntax", "tabs.yaml", 4),
    Case("empty-kustomization", empty_kustomization, 1, "kustomize-build",
         f"{DEV}/kustomization.yaml"),
    Case("kustomization-cycle", kustomization_cycle, 1, "kustomization-cycle",
         f"{DEV}/kustomization.yaml"),
    Case("remote-base", remote_base, 1, "remote-resource", f"{STAGING}/kustomization.yaml", 10),
    Case("remote-git-base", remote_git_base, 1, "remote-resource",
         f"{STAGING}/kustomization.yaml", 10),
    Case("path-out-of-repo", path_out_of_repo, 1, "path-outside-repo",
         f"{DEV}/kustomization.yaml", 14),
    Case("symlink-file-out-of-repo", symlink_file_out_of_repo, 1, "path-outside-repo",
         f"{DEV}/kustomization.yaml", 13),
    Case("symlink-dir-out-of-repo", symlink_dir_out_of_repo, 1, "path-outside-repo",
         f"{PROD}/kustomization.yaml", 10),
    Case("helm-chart", helm_chart, 1, "kustomize-helm", f"{DEV}/kustomization.yaml", 14),
    Case("exec-plugin", exec_plugin, 1, "kustomize-plugin", f"{DEV}/kustomization.yaml"),
    Case("kustomization-alias-bomb", kustomization_alias_bomb, 1, "kustomization-invalid",
         f"{BASE}/kustomization.yaml"),
    Case("config-alias-bomb", config_alias_bomb, 2, stderr="billion laughs"),
    Case("config-kustomize-in-repo", config_kustomize_in_repo, 2,
         stderr="never runs programs from that repository"),
    Case("config-kustomize-any-program", config_kustomize_any_program, 2,
         stderr="not a kustomize or kubectl binary"),
    Case("yamllint-extends-outside", yamllint_extends_outside, 2,
         stderr="outside the repository"),
    Case("configured-depth", low_configured_depth, 1, "yaml-too-deep", "nested.yaml", 4),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_gives_a_finding_or_exit_2(case: Case, tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(EXAMPLE / DEV / "size.yaml", outside / "size.yaml")
    case.plant(repo, outside)
    result = run_cli("validate", repo, "--format", "json", timeout=10)
    assert "Traceback" not in result.stderr
    assert result.code == case.code, result.stdout + result.stderr
    if case.stderr is not None:
        assert case.stderr in result.stderr
        assert result.stdout == ""
        return
    got = [(f["rule"], f["file"], f["line"]) for f in findings(result)]
    match = [g for g in got if g[0] == case.rule and g[1] == case.file]
    assert match, got
    if case.line is not None:
        assert case.line in [m[2] for m in match], got
    assert all(f["severity"] == "error" for f in findings(result) if f["rule"] == case.rule)
    assert not (repo / "bin/kustomize.ran").exists()


def test_remote_base_is_fetched_only_with_allow_remote(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    # A `file://` Git URL: a remote base Kustomize can fetch without a network.
    remote = tmp_path / "remote"
    shutil.copytree(EXAMPLE / BASE, remote / "base")
    from tests.conftest import init_git_repo

    init_git_repo(remote)
    _add_resource(repo, STAGING, f"git::file://{remote}//base?ref=main")
    refused = run_cli("validate", repo, "--format", "json", "--only", "build", timeout=60)
    assert refused.code == 1
    assert [f["rule"] for f in findings(refused)] == ["remote-resource"]
    allowed = run_cli("validate", repo, "--format", "json", "--only", "build",
                      "--allow-remote", timeout=60)
    assert "remote-resource" not in [f["rule"] for f in findings(allowed)]
    # Kustomize was run on it: whatever it made of the URL is its own build result.
    assert [f["rule"] for f in findings(allowed)] in ([], ["kustomize-build"])


def test_nothing_from_the_repo_runs(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    marker = tmp_path / "ran"
    trap = f"#!/bin/sh\necho \"$0\" >> {marker}\nexit 1\n"
    for rel in ("kustomize", "kubectl", "yamllint", "bin/kustomize", "bin/kubectl",
                "scripts/validate.sh", ".git/hooks/pre-commit"):
        _write(repo, rel, trap)
        (repo / rel).chmod(0o755)
    _write(repo, ".pre-commit-config.yaml",
           "repos:\n  - repo: local\n    hooks:\n      - id: trap\n        name: trap\n"
           f"        entry: {repo / 'scripts/validate.sh'}\n        language: system\n")
    result = run_cli("validate", repo, "--format", "json", cwd=repo, timeout=60)
    assert result.code == 0, result.stdout + result.stderr
    # A PATH that leads into the repository is refused, not followed.
    env = cli_env({"PATH": f"{repo / 'bin'}{os.pathsep}{os.environ['PATH']}"})
    on_path = run_cli("validate", repo, cwd=repo, env=env, timeout=60)
    assert on_path.code == 2
    assert "never runs programs from that repository" in on_path.stderr
    assert not marker.exists()


def test_kustomize_gets_no_flag_that_widens_what_it_may_do(tmp_path: Path) -> None:
    log = tmp_path / "argv"
    kubectl = shutil.which("kubectl") or shutil.which("kustomize")
    assert kubectl
    sub = "kustomize" if Path(kubectl).name.startswith("kubectl") else "build"
    fake = tmp_path / "kustomize"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {log}\n'
                    f'shift\nexec {kubectl} {sub} "$@"\n', encoding="utf-8")
    fake.chmod(0o755)
    result = run_cli("validate", EXAMPLE, "--kustomize", fake, "--only", "build", timeout=60)
    assert result.code == 0, result.stdout + result.stderr
    argv = log.read_text(encoding="utf-8").split()
    assert argv.count("build") == 3
    assert not [a for a in argv if a.startswith("-")]
    assert sys.executable  # the run above used this interpreter and no other program


# Property tests: random manifests and random overlays never crash the validators. They run
# the CLI in-process (same entry point, same handlers) so a hundred examples stay cheap.

KINDS = ["InferenceService", "ServingRuntime", "Deployment", "Secret", "ConfigMap",
         "Application", "Service", "Pod", "", "List"]
API_VERSIONS = ["serving.kserve.io/v1beta1", "serving.kserve.io/v1alpha1", "apps/v1", "v1",
                "argoproj.io/v1alpha1", "example.com/v1", ""]
ANNOTATIONS = ["llmops-gate.io/ignore", "llmops-gate.io/ignore-reason",
               "serving.kserve.io/deploymentMode", "argocd.argoproj.io/sync-wave"]


def _strategies() -> tuple[Any, Any]:
    from hypothesis import strategies as st

    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40),
                        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
    values = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
            st.text(max_size=12), inner, max_size=4),
        max_leaves=25)
    names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", max_size=20) | st.text(
        max_size=10)
    metadata = st.fixed_dictionaries(
        {"name": names},
        optional={"namespace": names, "labels": st.dictionaries(names, names, max_size=3),
                  "annotations": st.dictionaries(st.sampled_from(ANNOTATIONS) | names,
                                                 names | values, max_size=3)})
    manifest = st.fixed_dictionaries(
        {"apiVersion": st.sampled_from(API_VERSIONS), "kind": st.sampled_from(KINDS),
         "metadata": metadata | values},
        optional={"spec": values, "data": values, "stringData": values, "type": names})
    return manifest, names


def _dump(docs: list[Any]) -> str:
    import yaml

    return yaml.safe_dump_all(docs, sort_keys=False)


def _run_in_process(*args: str) -> tuple[int, str]:
    import contextlib
    import io

    from llmops_gate.commands import main

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    return int(code or 0), out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def property_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("property") / "repo"
    shutil.copytree(EXAMPLE / BASE, repo / "app/base")
    (repo / "app/overlays/rand").mkdir(parents=True)
    (repo / "random").mkdir()
    return repo


def _reset(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink()


def test_random_manifests_never_crash_the_validators(property_repo: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    manifest, _ = _strategies()
    files = st.lists(st.one_of(st.lists(manifest, min_size=1, max_size=3).map(_dump),
                               st.text(max_size=300), st.binary(max_size=200)),
                     min_size=1, max_size=3)
    overlay = property_repo / "app/overlays/rand"
    (overlay / "kustomization.yaml").write_text("resources:\n  - ../../base\n")

    @settings(max_examples=20, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(files)
    def run(contents: list[str | bytes]) -> None:
        _reset(property_repo / "random")
        for i, content in enumerate(contents):
            _write(property_repo, f"random/m{i}.yaml", content)
        code, output = _run_in_process("validate", str(property_repo), "--format", "json")
        assert code in (0, 1), output

    run()


def test_random_overlays_never_crash_the_validators(property_repo: Path) -> None:
    import yaml
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    manifest, names = _strategies()
    refs = st.sampled_from(["../../base", "extra.yaml", "missing.yaml", "../../base/x.yaml",
                            "../../../outside", "https://example.com/x"])
    kustomization = st.fixed_dictionaries(
        {"resources": st.lists(refs, max_size=3)},
        optional={
            "namePrefix": names, "nameSuffix": names, "namespace": names,
            "commonLabels": st.dictionaries(names, names, max_size=2),
            "images": st.lists(st.fixed_dictionaries(
                {"name": names}, optional={"newName": names, "newTag": names}), max_size=2),
            "replicas": st.lists(st.fixed_dictionaries(
                {"name": names, "count": st.integers(-1, 5)}), max_size=2),
            "patches": st.lists(st.fixed_dictionaries(
                {"path": st.just("patch.yaml")},
                optional={"target": st.fixed_dictionaries({"kind": st.sampled_from(KINDS)})}),
                max_size=1),
            "configMapGenerator": st.lists(st.fixed_dictionaries(
                {"name": names, "literals": st.lists(names.map(lambda s: "k=" + s),
                                                     max_size=2)}), max_size=1),
        })
    overlay = property_repo / "app/overlays/rand"
    _reset(property_repo / "random")

    @settings(max_examples=20, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(kustomization, manifest, manifest)
    def run(kust: dict[str, Any], patch: dict[str, Any], extra: dict[str, Any]) -> None:
        _reset(overlay)
        (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kust), encoding="utf-8")
        (overlay / "patch.yaml").write_text(_dump([patch]), encoding="utf-8")
        (overlay / "extra.yaml").write_text(_dump([extra]), encoding="utf-8")
        code, output = _run_in_process("validate", str(property_repo), "--format", "json")
        assert code in (0, 1), output

    run()


def test_skipping_parse_does_not_let_hostile_files_through(tmp_path: Path) -> None:
    repo = copy_tree(EXAMPLE, tmp_path / "repo")
    _write(repo, "bomb.yaml", billion_laughs())
    _write(repo, "blob.yaml", bytes(range(256)))
    result = run_cli("validate", repo, "--format", "json", "--skip", "parse", timeout=30)
    assert result.code == 1, result.stdout + result.stderr
    got = {(f["validator"], f["rule"], f["file"]) for f in findings(result)}
    assert {("lint", "yaml-aliases", "bomb.yaml"), ("lint", "binary-file", "blob.yaml")} <= got
