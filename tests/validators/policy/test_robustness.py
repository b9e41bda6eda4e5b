"""Malformed objects (any value where a mapping or list is expected) never crash the rules."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmops_gate import yamlio
from llmops_gate.config import Config
from llmops_gate.model import Resource, Unit, UnitResult
from llmops_gate.repo.discover import RepoScan
from llmops_gate.validators.context import Context
from llmops_gate.validators.policy import check
from llmops_gate.yamlio.sourcemap import SourceMap
from tests.validators.policy.conftest import ISVC, RUNTIME
from tests.validators.policy.test_argocd import APP
from tests.validators.policy.test_security import POD

DOCS = [yamlio.load(t) for t in (ISVC, RUNTIME, APP, POD)]
JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) |
                    st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


def _paths(node: Any, base: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [base] if base else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*base, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*base, i))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(DOCS) - 1), st.data(), JUNK)
def test_rules_survive_junk(which: int, data: st.DataObject, junk: Any) -> None:
    doc = copy.deepcopy(DOCS[which])
    path = data.draw(st.sampled_from(_paths(doc)))
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = junk
    unit = Unit("overlays/dev", "overlay", "dev")
    resources = [Resource(doc=doc, unit=unit)] + [Resource(doc=copy.deepcopy(d), unit=unit)
                                                  for d in DOCS]
    ctx = Context(repo=Path("/nonexistent"), config=Config(path=None),
                  scan=RepoScan(Path("/nonexistent"), [], {}),
                  results=[UnitResult(unit=unit, resources=resources)],
                  sources=SourceMap(Path("/nonexistent")))
    for finding in check(ctx):
        assert finding.rule and finding.message
