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
from tests.conftest import ROOT, findings, run_cli
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
    """kubeconform's findings per failing manifest, from one run over all of them."""
    binary = kubeconform()
    folder = tmp_path_factory.mktemp("failing")
    paths = []
    for rule in case_rules():
        path = folder / f"{rule}.yaml"
        path.write_text(case_text(rule, "fail"), encoding="utf-8")
        paths.append(path)
    # one kubeconform run per file: minutes on a busy machine
    result = run_cli("schema", "--no-admission", "--schema-engine", "kubeconform",
                     "--kubeconform", binary, "--format", "json", *paths, timeout=1200)
    assert result.code in (0, 1), result.stderr
    out: dict[str, list[dict[str, Any]]] = {p.stem: [] for p in paths}
    for f in findings(result):
        out[Path(f["file"]).stem].append(f)
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
