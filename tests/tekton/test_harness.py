"""The harness itself: Tekton's semantics where our Tasks rely on them, and a loud failure
for everything it does not implement (so a Task test can never pass by skipping a feature)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tekton.harness import TaskError, Unsupported, run_task


def task(steps: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"},
            "spec": {"steps": steps, **spec}}


def step(script: str, **fields: Any) -> dict[str, Any]:
    return {"name": fields.pop("name", "s"), "image": "registry.example.com/sh:1",
            "script": script, **fields}


def test_params_workspaces_results_and_array_args(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    t = task([step("#!/bin/sh\nprintf '%s|' \"$@\" > $(results.out.path)\n"
                   "printf '$(params.greeting) $(context.taskRun.name)' > "
                   "$(workspaces.data.path)/said\n",
                   args=["first", "$(params.list[*])", "$(params.list[1])"])],
             params=[{"name": "greeting", "default": "hi"},
                     {"name": "list", "type": "array"}],
             workspaces=[{"name": "data"}, {"name": "spare", "optional": True}],
             results=[{"name": "out"}])
    run = run_task(t, {"list": ["a", "b c"]}, {"data": ws}, work=tmp_path / "w",
                   path="/usr/bin:/bin", name="run-9")
    assert run.succeeded
    assert run.results == {"out": "first|a|b c|b c|"}
    assert (ws / "said").read_text() == "hi run-9"


def test_on_error_continue_and_stop(tmp_path: Path) -> None:
    t = task([step("exit 3", name="a", onError="continue"), step("exit 4", name="b"),
              step("true", name="c")])
    run = run_task(t, work=tmp_path, path="/usr/bin:/bin")
    assert not run.succeeded
    assert [(s.name, s.exit_code) for s in run.steps] == [("a", 3), ("b", 4), ("c", None)]


def test_script_without_shebang_is_sh_with_set_e(tmp_path: Path) -> None:
    run = run_task(task([step("false\necho unreachable")]), work=tmp_path, path="/usr/bin:/bin")
    assert not run.succeeded
    assert "unreachable" not in run.steps[0].stdout


@pytest.mark.parametrize(("spec", "error"), [
    ({"sidecars": []}, Unsupported),
    ({"stepTemplate": {}}, Unsupported),
    ({"steps": [step("echo $(steps.s.exitCode.path)")]}, Unsupported),
    ({"steps": [step("true", volumeMounts=[])]}, Unsupported),
    ({"steps": [step("echo $(params.nope)")]}, TaskError),
    ({"workspaces": [{"name": "w"}]}, TaskError),
    ({"params": [{"name": "p"}]}, TaskError),
    ({"results": [{"name": "r"}],
      "steps": [step("head -c 5000 /dev/zero | tr '\\\\0' x > $(results.r.path)")]}, TaskError),
    ({"workspaces": [{"name": "w", "readOnly": True}], "steps": [
        step("touch $(workspaces.w.path)/new")]}, TaskError),
])
def test_what_it_does_not_do_fails_loudly(tmp_path: Path, spec: dict[str, Any],
                                          error: type[Exception]) -> None:
    steps = spec.pop("steps", [step("true")])
    ws = tmp_path / "ws"
    ws.mkdir()
    bound = {"w": ws} if any(w.get("readOnly") for w in spec.get("workspaces", [])) else {}
    with pytest.raises(error):
        run_task(task(steps, **spec), {}, bound, work=tmp_path / "w", path="/usr/bin:/bin")
