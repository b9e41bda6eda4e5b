"""The bundled example through the CLI: clean, and the basic failure modes."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLE, findings, run_cli, summary


def test_example_validates_clean() -> None:
    result = run_cli("validate", EXAMPLE, "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    s = summary(result)
    assert s["overlays"] == 3
    assert s["errors"] == 0
    assert s["passed"] is True
    assert result.stderr == ""


def test_missing_resource_file_fails_that_overlay_only(example_repo: Path) -> None:
    (example_repo / "deploy_model/overlays/staging/size.yaml").unlink()
    result = run_cli("validate", example_repo, "--format", "json")
    assert result.code == 1
    build = [f for f in findings(result) if f["validator"] == "build"]
    assert [f["overlay"] for f in build] == ["deploy_model/overlays/staging"]
    assert build[0]["severity"] == "error"
    assert "size.yaml" in build[0]["message"]
    overlays = {o["path"]: o for o in result.json()["overlays"]}
    assert overlays["deploy_model/overlays/dev"]["passed"] is True
    assert overlays["deploy_model/overlays/production"]["passed"] is True
    assert overlays["deploy_model/overlays/staging"]["passed"] is False


def test_no_kustomize_on_path_exits_2_with_install_advice(tmp_path: Path) -> None:
    import os
    import sys

    from tests.conftest import cli_env

    bindir = tmp_path / "bin"
    bindir.mkdir()
    # Only the Python interpreter, so neither kustomize nor kubectl can be found.
    (bindir / "python").symlink_to(sys.executable)
    env = cli_env({"PATH": str(bindir)})
    assert "kubectl" not in os.listdir(bindir)
    result = run_cli("validate", EXAMPLE, env=env)
    assert result.code == 2
    assert "no Kustomize found" in result.stderr
    assert "install" in result.stderr
    assert "Traceback" not in result.stderr
