"""The `lint` validator: real yamllint over the repo's sources, with a built-in config that suits
Kubernetes YAML unless the repo has its own."""

from __future__ import annotations

from pathlib import Path

from yamllint.config import YamlLintConfig

from llmops_gate.engine import Options, validate_repo
from llmops_gate.validators.lint import BUILTIN_CONFIG, lint_text
from tests.conftest import findings, run_cli

BASE_SR = "deploy_model/base/servingruntime.yaml"


def test_syntax_error_in_a_base_file_is_reported_by_lint_and_build(example_repo: Path) -> None:
    path = example_repo / BASE_SR
    lines = path.read_text().splitlines(keepends=True)
    broken_line = next(i for i, ln in enumerate(lines) if ln.startswith("spec:")) + 2
    lines.insert(broken_line - 1, "  bad: [unclosed\n")
    path.write_text("".join(lines))
    result = run_cli("validate", example_repo, "--format", "json")
    assert result.code == 1
    found = findings(result)
    syntax = [f for f in found if f["rule"] == "yaml-syntax"]
    assert len(syntax) == 1
    assert syntax[0]["file"] == BASE_SR and syntax[0]["severity"] == "error"
    assert syntax[0]["validator"] == "lint"
    assert syntax[0]["line"] is not None and syntax[0]["line"] >= broken_line
    build = [f for f in found if f["validator"] == "build"]
    assert sorted(f["overlay"] for f in build) == [
        "deploy_model/overlays/dev", "deploy_model/overlays/production",
        "deploy_model/overlays/staging"]
    for f in build:
        # The build finding names the same file and line as yamllint.
        assert (f["file"], f["line"]) == (BASE_SR, syntax[0]["line"])
        assert "YAML syntax error" in f["message"]


BUILTIN = YamlLintConfig(content=BUILTIN_CONFIG)

KUSTOMIZE_STYLE = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
patches:
  - path: size.yaml
"""


def rules(text: str, conf: YamlLintConfig = BUILTIN) -> list[tuple[str, str, int]]:
    return [(f.rule, f.severity.value, f.line or 0) for f in lint_text(text, "k.yaml", conf)]


def test_builtin_config_accepts_kustomize_lists_without_document_start() -> None:
    assert rules(KUSTOMIZE_STYLE) == []


def test_builtin_config_makes_long_lines_warnings_and_duplicates_errors() -> None:
    text = f"a: {'x' * 170}\nb: 1\nb: 2\n"
    assert rules(text) == [("yaml-line-length", "warning", 1),
                           ("yaml-key-duplicates", "error", 3)]


def test_syntax_error_has_line_column_and_a_hint() -> None:
    (f,) = list(lint_text("a: 1\nb: [2\n", "k.yaml", BUILTIN))
    assert (f.rule, f.severity.value, f.line, f.file) == ("yaml-syntax", "error", 3, "k.yaml")
    assert f.column is not None and f.hint
    assert f.message.startswith("YAML syntax error: ")


def test_the_repos_own_yamllint_config_wins(example_repo: Path) -> None:
    (example_repo / ".yamllint").write_text("extends: default\n")
    report = validate_repo(example_repo, Options(only=["lint"]))
    # yamllint's default wants `---` and indented sequences; the built-in config does not.
    assert any(f.rule == "yaml-document-start" for f in report.findings)
    assert all(f.validator == "lint" for f in report.findings)


def test_env_limits_lint_to_the_files_that_environment_reads(example_repo: Path) -> None:
    for env in ("staging", "production"):
        with (example_repo / f"deploy_model/overlays/{env}/size.yaml").open("a") as fh:
            fh.write("trailing: spaces   \n")
    report = validate_repo(example_repo, Options(only=["lint"], envs=["dev"]))
    assert report.findings == []
    report = validate_repo(example_repo, Options(only=["lint"], envs=["staging"]))
    assert [f.file for f in report.findings] == ["deploy_model/overlays/staging/size.yaml"]
