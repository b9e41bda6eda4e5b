"""Shared test helpers: the example repo in a temporary folder, ../shared, running the CLI.

Everything runs for real: Kustomize (`kubectl kustomize` or `kustomize`), Git, yamllint. The CLI
is run as a subprocess (`python -m llmops_gate`) so exit codes and stderr are the user's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import rule_record

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "gitops-repo"
SHARED = Path(os.environ.get("LLMOPS_GATE_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
SEED = CORPUS / "seed-repo"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        data = json.loads(self.stdout)
        check_report_schema(data)
        rule_record.record_report(data)
        return data


def check_report_schema(data: Any) -> None:
    """Every `validate --format json` report a test reads must fit the published schema."""
    if isinstance(data, dict) and data.get("tool") == "llmops-gate" and "findings" in data \
            and "overlays" in data:
        import jsonschema

        from llmops_gate.report.json_report import schema

        jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("LLMOPS_GATE_DEBUG", None)
    env["NO_COLOR"] = "1"
    if extra:
        env.update(extra)
    return env


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
            input: str | None = None, timeout: float = 300) -> CliResult:
    """Run `llmops-gate ARGS` as a user would and capture everything."""
    proc = subprocess.run(
        [sys.executable, "-m", "llmops_gate", *map(str, args)],
        cwd=cwd, env=env if env is not None else cli_env(), input=input,
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def copy_tree(src: Path, dst: Path) -> Path:
    """Copy a read-only tree (such as ../shared) into a writable temporary folder."""
    shutil.copytree(src, dst, symlinks=True)
    for root, dirs, files in os.walk(dst):
        for name in dirs + files:
            p = Path(root, name)
            if not p.is_symlink():
                p.chmod(p.stat().st_mode | 0o200)
    Path(dst).chmod(Path(dst).stat().st_mode | 0o200)
    return dst


def need_shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared is absent here ({path} not found): the corpus tests need it")
    return path


def real_kubeconform() -> str:
    """The real kubeconform (v0.7.0, built from ../shared's source): the one `scripts/test`
    built (LLMOPS_GATE_TEST_KUBECONFORM), else built here once into .cache/tools; a skip only
    where ../shared is absent."""
    named = os.environ.get("LLMOPS_GATE_TEST_KUBECONFORM")
    if named:
        return named
    build = need_shared("tools", "build-kubeconform")
    out = ROOT / ".cache" / "tools"
    binary = out / "kubeconform"
    if not os.access(binary, os.X_OK):
        import fcntl

        out.mkdir(parents=True, exist_ok=True)
        with (out / ".build.lock").open("w") as lock:  # pytest-xdist workers build once
            fcntl.flock(lock, fcntl.LOCK_EX)
            subprocess.run([str(build), str(out)], check=True, capture_output=True,
                           timeout=600)
    return str(binary)


def once_per_run(name: str, tmp_path_factory: pytest.TempPathFactory,
                 compute: Callable[[], Any]) -> Any:
    """`compute()` (JSON data) once for the whole run, however many pytest-xdist workers ask:
    the first to take the lock computes and stores it where every worker of this run looks
    (the run's shared temporary folder), the others read it. A module-scoped fixture alone
    runs once per worker."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the folder the workers' own folders are in
    stored = root / f"{name}.json"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stored.is_file():
            return json.loads(stored.read_text(encoding="utf-8"))
        data = compute()
        stored.write_text(json.dumps(data), encoding="utf-8")
        return data


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True, env={**os.environ, "GIT_AUTHOR_NAME": "Test",
                                           "GIT_AUTHOR_EMAIL": "test@example.com",
                                           "GIT_COMMITTER_NAME": "Test",
                                           "GIT_COMMITTER_EMAIL": "test@example.com"})
    return proc.stdout


def init_git_repo(path: Path, message: str = "initial") -> Path:
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "commit.gpgsign", "false")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message)
    return path


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A writable copy of examples/gitops-repo."""
    return copy_tree(EXAMPLE, tmp_path / "gitops-repo")


@pytest.fixture
def example_git_repo(example_repo: Path) -> Path:
    """The example copy as a Git repo with one commit on main."""
    return init_git_repo(example_repo)


def findings(result: CliResult) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = result.json()["findings"]
    return data


def summary(result: CliResult) -> dict[str, Any]:
    data: dict[str, Any] = result.json()["summary"]
    return data


__all__: Sequence[str] = (
    "CORPUS", "EXAMPLE", "ROOT", "SEED", "SHARED", "CliResult", "check_report_schema", "cli_env",
    "copy_tree", "findings", "git", "init_git_repo", "need_shared", "run_cli", "summary",
)


def _example_manifest_count() -> int:
    from llmops_gate.config import load_config
    from llmops_gate.repo.discover import discover_units, scan_repo

    config = load_config(EXAMPLE)
    return sum(1 for u in discover_units(scan_repo(EXAMPLE, config), config)
               if u.kind == "manifest")


# Plain manifests of the example (Argo CD Applications, the PaC PipelineRun): tests that count
# units derive their numbers from it rather than from a snapshot of the example's contents.
EXAMPLE_MANIFESTS = _example_manifest_count()


def pytest_configure(config: pytest.Config) -> None:
    rule_record.start(is_controller=not hasattr(config, "workerinput"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every rule id the suite saw emitted is listed by `llmops-gate rules` (tests/rule_record)."""
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None:
        rule_record.dump(str(workerinput["workerid"]))
        return
    missing = rule_record.unlisted(rule_record.collected())
    rule_record.cleanup()
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = ("rule ids emitted in this run that `llmops-gate rules` does not list: " +
                   ", ".join(f"{v}/{r}" for v, r in missing))
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
