"""Every (validator, rule) the suite sees emitted, for the check that `llmops-gate rules`
lists them all (see `pytest_sessionfinish` in tests/conftest.py).

Two sources, both real output of the tool: each `Finding` the package itself constructs in the
test processes (the constructor is wrapped; findings a test builds by hand, or copies with
`dataclasses.replace`, are not the tool's and are left out), and each finding of every JSON
report a test reads from the command line (`CliResult.json`). Under pytest-xdist each worker
writes what it saw to a file in a folder the controller made; the controller compares the
union with the listing once all workers are done.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llmops_gate.model import Finding

ENV = "LLMOPS_GATE_TEST_RULE_LOG"

# Policy rules the suite's own configs and plugins define (custom rules, test plugins): the
# listing shows them only with that config or plugin installed, so they are not the tool's.
USER_DEFINED = {("policy", "team-label"), ("policy", "team-check"), ("policy", "crashing-rule")}

SEEN: set[tuple[str, str]] = set()


def _record_init() -> None:
    original = Finding.__init__

    def init(self: Finding, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller == "llmops_gate" or caller.startswith("llmops_gate."):
            SEEN.add((self.validator, self.rule))

    Finding.__init__ = init  # type: ignore[method-assign]


def record_report(data: Any) -> None:
    """The findings of a JSON report a test parsed."""
    if not isinstance(data, dict) or data.get("tool") != "llmops-gate":
        return
    for f in data.get("findings") or ():
        if isinstance(f, dict) and isinstance(f.get("rule"), str):
            SEEN.add((str(f.get("validator")), f["rule"]))


def start(is_controller: bool) -> None:
    if is_controller and ENV not in os.environ:
        os.environ[ENV] = tempfile.mkdtemp(prefix="llmops-gate-rules-")
    _record_init()


def dump(name: str) -> None:
    folder = os.environ.get(ENV)
    if folder:
        Path(folder, f"{name}.json").write_text(json.dumps(sorted(SEEN)))


def collected() -> set[tuple[str, str]]:
    folder = os.environ.get(ENV)
    out = set(SEEN)
    if folder and Path(folder).is_dir():
        for file in Path(folder).glob("*.json"):
            out |= {(v, r) for v, r in json.loads(file.read_text())}
    return out


def cleanup() -> None:
    folder = os.environ.get(ENV)
    if folder and Path(folder).is_dir():
        shutil.rmtree(folder, ignore_errors=True)


def listed() -> set[tuple[str, str]]:
    """(validator, id) of every rule `llmops-gate rules --format json` lists."""
    import subprocess

    from tests.conftest import ROOT, cli_env

    proc = subprocess.run([sys.executable, "-m", "llmops_gate", "rules", str(ROOT / "tests"),
                           "--format", "json"], capture_output=True, text=True, timeout=120,
                          env=cli_env(), check=True)
    return {(r["validator"], r["id"]) for r in json.loads(proc.stdout)["rules"]}


def unlisted(seen: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    # Validators that tests plug in as stand-ins (their findings are built by the tests).
    from llmops_gate import validators

    known = {*validators.names(), "promote"}
    catalog = listed()
    return sorted(p for p in set(seen) - catalog - USER_DEFINED if p[0] in known)
