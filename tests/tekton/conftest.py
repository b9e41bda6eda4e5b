"""Fixtures for running our Tekton Tasks with the harness: a bin folder standing in for the
image (our real CLI, the machine's git and kubectl), and Task files loaded once."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

TEKTON = ROOT / "tekton"


@pytest.fixture(scope="session")
def image_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """PATH for the steps: `llmops-gate` runs this checkout's CLI with this interpreter,
    `python3` is this interpreter, git and kubectl come from the machine."""
    bindir = tmp_path_factory.mktemp("image-bin")
    launcher = bindir / "llmops-gate"
    launcher.write_text(f"#!{sys.executable}\n"
                        "import runpy, sys\n"
                        f"sys.path.insert(0, {str(ROOT)!r})\n"
                        "runpy.run_module('llmops_gate', run_name='__main__', alter_sys=True)\n")
    launcher.chmod(0o755)
    python3 = bindir / "python3"
    python3.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python3.chmod(0o755)
    dirs = [str(bindir)]
    for tool in ("git", "kubectl", "kustomize", "sh"):
        found = shutil.which(tool)
        if found and str(Path(found).parent) not in dirs:
            dirs.append(str(Path(found).parent))
    return os.pathsep.join(dirs)
