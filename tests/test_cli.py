"""The command line: option behaviour, exit codes, the progress line, the top-level handler."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import click
import pytest

from llmops_gate import commands as cli
from tests.conftest import EXAMPLE, cli_env, findings, run_cli


@pytest.fixture(scope="module")
def broken_staging(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with staging's patch file gone (a build error) and a lint warning in dev."""
    from tests.conftest import copy_tree

    repo = copy_tree(EXAMPLE, tmp_path_factory.mktemp("cli") / "repo")
    (repo / "deploy_model/overlays/staging/size.yaml").unlink()
    with (repo / "deploy_model/overlays/dev/size.yaml").open("a") as fh:
        fh.write("# trailing   \n")
    return repo


def test_env_limits_the_run_to_that_environment(broken_staging: Path) -> None:
    result = run_cli("validate", broken_staging, "--env", "dev", "--format", "json")
    assert result.code == 0, result.stderr
    units = [(o["path"], o["environment"]) for o in result.json()["overlays"]]
    assert units == [("deploy_model/overlays/dev", "dev"),
                     ("argocd-apps/dev-application.yaml", "dev")]
    assert [f["rule"] for f in findings(result)] == ["yaml-trailing-spaces"]


def test_env_is_repeatable_and_unknown_envs_are_usage_errors(broken_staging: Path) -> None:
    result = run_cli("validate", broken_staging, "--env", "dev", "--env", "staging",
                     "--format", "json")
    assert result.code == 1
    assert {f["overlay"] for f in findings(result) if f["validator"] == "build"} == {
        "deploy_model/overlays/staging"}
    result = run_cli("validate", broken_staging, "--env", "qa")
    assert result.code == 2
    assert "unknown environment 'qa'" in result.stderr


def test_only_and_skip_choose_validators(broken_staging: Path) -> None:
    result = run_cli("validate", broken_staging, "--only", "lint", "--format", "json")
    assert result.code == 0
    assert result.json()["validators"] == ["lint"]
    assert {f["validator"] for f in findings(result)} == {"lint"}
    result = run_cli("validate", broken_staging, "--skip", "lint", "--format", "json")
    assert result.code == 1
    assert "lint" not in result.json()["validators"]
    assert "build" in result.json()["validators"]
    assert {f["validator"] for f in findings(result)} == {"build"}
    result = run_cli("validate", broken_staging, "--only", "build,nonsense")
    assert result.code == 2
    assert "unknown validator 'nonsense'" in result.stderr


def test_repo_without_overlays_is_exit_2_never_0(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    result = run_cli("validate", tmp_path)
    assert result.code == 2
    assert "no Kustomize overlay found" in result.stderr
    result = run_cli("validate", tmp_path / "missing")
    assert result.code == 2
    assert "not a folder" in result.stderr


def on_a_tty(repo: Path, *args: str, stream: str = "stderr",
             env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `validate REPO ARGS` with one stream on a pseudo-terminal; what the terminal got."""
    master, slave = pty.openpty()
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: slave}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "llmops_gate", "validate", str(repo), *args],
            stdout=streams["stdout"], stderr=streams["stderr"], env=env or cli_env(),
            timeout=120, check=False)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    return proc.returncode, b"".join(chunks).decode()


def test_progress_line_only_on_a_terminal() -> None:
    def stderr_on_a_tty(*args: str) -> str:
        code, out = on_a_tty(EXAMPLE, *args)
        assert code == 0
        return out

    shown = stderr_on_a_tty()
    assert "building overlays 3/3" in shown
    assert shown.endswith("\r\033[K")  # the line is cleared before the report
    assert stderr_on_a_tty("--quiet") == ""
    # Not a terminal (captured): nothing at all on stderr.
    assert run_cli("validate", EXAMPLE, "--format", "github").stderr == ""


def test_colour_only_on_a_terminal(broken_staging: Path) -> None:
    env = cli_env()
    env.pop("NO_COLOR")
    code, shown = on_a_tty(broken_staging, "-q", stream="stdout", env=env)
    assert code == 1
    assert "\033[31merror\033[0m kustomize-build" in shown
    captured = run_cli("validate", broken_staging, env=env)
    assert captured.code == 1
    assert "\033[" not in captured.stdout
    assert ": error kustomize-build: " in captured.stdout


@click.command()
def boom() -> None:
    """A command that fails the way a bug would."""
    raise KeyError("unexpected")


def test_unexpected_exception_is_exit_3_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(cli.LAZY_COMMANDS, "boom", "tests.test_cli:boom")
    monkeypatch.delenv("LLMOPS_GATE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        cli.main(["boom"])
    assert info.value.code == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "llmops-gate: unexpected error: KeyError: 'unexpected'" in err
    assert "Traceback" not in err
    monkeypatch.setenv("LLMOPS_GATE_DEBUG", "1")
    with pytest.raises(KeyError):
        cli.main(["boom"])


def test_usage_error_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["validate", "--format", "yaml", str(EXAMPLE)])
    assert info.value.code == 2
    assert "Invalid value for '--format'" in capsys.readouterr().err


def test_version() -> None:
    result = run_cli("--version")
    assert result.code == 0 and "llmops-gate" in result.stdout


def test_kustomize_option_names_the_binary(tmp_path: Path) -> None:
    result = run_cli("validate", EXAMPLE, "--env", "dev", "--kustomize", tmp_path / "nope")
    assert result.code == 2
    assert "kustomize binary" in result.stderr and "install" in result.stderr


def test_validate_help_names_every_validator() -> None:
    from llmops_gate.validators import REGISTRY

    result = run_cli("validate", "--help")
    assert result.code == 0
    only = " ".join(result.stdout.split("--only", 1)[1].split("--skip", 1)[0].split())
    for name in REGISTRY:
        assert name in only, name
