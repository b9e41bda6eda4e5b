"""The `schema` command's memory is flat in the length of the stream: on 50,000 distinct
documents its peak RSS is within 20% of that on 5,000 (issue 17).

The streams are the example's real renders (`kubectl kustomize` of its overlays) and its
ArgoCD Applications, cycled, each copy renamed so that no two documents are the same (the
parse-once cache cannot hide anything). The CLI runs as a subprocess under an address-space
limit and a timeout; its peak RSS (the largest process of its tree, workers included) is
read from `os.wait4`.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path

from llmops_gate.repo.kustomize import find_kustomize
from tests.conftest import EXAMPLE, ROOT, cli_env

LIMIT_BYTES = 4 << 30   # address space of each process of the run
TIMEOUT = 400.0
_NAME = re.compile(r"^(metadata:\n(?:  .*\n)*?  name: )(\S+)$", re.M)


def documents() -> list[str]:
    argv = list(find_kustomize().argv)
    docs: list[str] = []
    for overlay in sorted((EXAMPLE / "deploy_model" / "overlays").iterdir()):
        text = subprocess.run([*argv, str(overlay)], capture_output=True, text=True,
                              check=True, timeout=120).stdout
        docs += [d.strip("\n") + "\n" for d in text.split("\n---\n") if d.strip()]
    docs += [p.read_text(encoding="utf-8") for p in sorted((EXAMPLE / "argocd-apps").glob("*"))]
    assert all(_NAME.search(d) for d in docs)
    return docs


def write_stream(path: Path, docs: list[str], count: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(count):
            doc = _NAME.sub(lambda m, i=i: f"{m.group(1)}{m.group(2)}-{i}",  # type: ignore[misc]
                            docs[i % len(docs)], count=1)
            fh.write("---\n" + doc)


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def peak_rss_kb(stream: Path, report: Path) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmops_gate", "schema", str(stream), "--format", "json",
         "--schema-engine", "embedded", "-o", str(report)],
        cwd=ROOT, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=_limit, start_new_session=True)
    timer = threading.Timer(TIMEOUT, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        proc.stderr.close() if proc.stderr else None
    try:
        os.killpg(proc.pid, 0)
        raise AssertionError("a process of the run outlived it")
    except ProcessLookupError:
        pass
    assert proc.returncode == 0, err
    return int(usage.ru_maxrss)


def test_memory_is_flat_in_the_stream_length(tmp_path: Path) -> None:
    docs = documents()
    peaks = {}
    for count in (5_000, 50_000):
        stream = tmp_path / f"stream-{count}.yaml"
        write_stream(stream, docs, count)
        report = tmp_path / f"report-{count}.json"
        peaks[count] = peak_rss_kb(stream, report)
        data = json.loads(report.read_text(encoding="utf-8"))
        assert data["summary"]["resources"] == count
        assert data["summary"]["passed"] is True
        stream.unlink()
    assert peaks[50_000] <= 1.2 * peaks[5_000], peaks
