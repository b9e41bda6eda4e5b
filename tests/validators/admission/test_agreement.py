"""What the real kubeconform says about every rule's failing manifest: the kubeconform column
of the README's agreement table ("How the admission rules compare").

kubeconform v0.7.0 runs through `llmops-gate schema --schema-engine kubeconform --no-admission`
with the same bundled CRD and Kubernetes schemas, in strict mode: its verdict is the schema's.
Only where the binary is on PATH or in the project's tool cache (.cache/tools/kubeconform);
nothing stands in for it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from llmops_gate.validators.admission.registry import RULES
from tests.conftest import ROOT, findings, once_per_run, run_cli
from tests.validators.admission.conftest import case_rules, case_text

# Rules whose failing manifest kubeconform also refuses, and for what.
KUBECONFORM_REFUSES = {
    "selector-mismatch": "the StatefulSet without a selector (selector is a required field of "
                         "the apps/v1 schema); the selector that does not match its template "
                         "passes",
}


def kubeconform() -> str:
    found = shutil.which("kubeconform") or next(
        (str(p) for p in [ROOT / ".cache" / "tools" / "kubeconform"] if p.is_file()), None)
    if found is None:
        pytest.skip("kubeconform is not on PATH nor in .cache/tools")
    return found


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """kubeconform's findings per failing manifest, from one run over all of them.

    The manifests go in as the documents of one file, so kubeconform starts once (with one
    export of the schemas), not once a file: `schema` validates each document on its own, so
    a document's verdict is the same in either file. Each finding goes back to the manifest
    whose lines hold it. Computed once for the run, whatever the xdist workers
    (`once_per_run`).
    """
    binary = kubeconform()
    folder = tmp_path_factory.mktemp("failing")
    verdicts: dict[str, list[dict[str, Any]]] = once_per_run(
        "admission-kubeconform-verdicts", tmp_path_factory,
        lambda: _kubeconform_findings(binary, folder))
    return verdicts


def _kubeconform_findings(binary: str, folder: Path) -> dict[str, list[dict[str, Any]]]:
    path = folder / "failing.yaml"
    lines: list[str] = []
    owner: dict[int, str] = {}  # line number -> the rule whose manifest it belongs to
    for rule in case_rules():
        if lines:
            lines.append("---")
        for line in case_text(rule, "fail").splitlines():
            lines.append(line)
            owner[len(lines)] = rule
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("schema", "--no-admission", "--schema-engine", "kubeconform",
                     "--kubeconform", binary, "--format", "json", path, timeout=1200)
    assert result.code in (0, 1), result.stderr
    out: dict[str, list[dict[str, Any]]] = {rule: [] for rule in case_rules()}
    for f in findings(result):
        assert f.get("line") in owner, f  # every finding lies in one manifest
        out[owner[f["line"]]].append(f)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("rule", case_rules())
def test_kubeconform_verdict_on_the_failing_manifest(
        rule: str, verdicts: dict[str, list[dict[str, Any]]]) -> None:
    refused = [f for f in verdicts[rule] if f["severity"] == "error"]
    assert bool(refused) == (rule in KUBECONFORM_REFUSES), [f["message"] for f in refused]


def test_readme_tables_list_every_admission_rule() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Admission rules", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \| [a-z]+ \| (error|warning) \|", section, re.M)
    assert dict(listed) == {r.id: r.severity.value for r in RULES.values()}
    agreement = section.split("### How the admission rules compare", 1)[1]
    for rule in RULES:
        assert f"`{rule}`" in agreement, rule
