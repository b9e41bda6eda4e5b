"""Round-trip edits of kustomization files: comments, order, quoting and list style survive."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from llmops_gate.gitops.edit import ImageEntry, detect_indent, edit_kustomization

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# {c0}
namespace: llmops-staging  # {c1}
namePrefix: 'staging-'

resources:
  # {c2}
  - ../../base

patches:
  - path: size.yaml  # {c3}
images:
  - name: quay.io/vllm/vllm  # {c4}
    newTag: "0.6"
"""

COMMENT = st.text(alphabet=st.characters(whitelist_categories=("L", "N"),
                                         whitelist_characters=" -_.,"),
                  min_size=1, max_size=30).map(str.strip).filter(bool)


@settings(max_examples=40, deadline=None)
@given(comments=st.lists(COMMENT, min_size=5, max_size=5))
def test_edit_keeps_every_comment(comments: list[str]) -> None:
    text = KUSTOMIZATION.format(**{f"c{i}": c for i, c in enumerate(comments)})
    out = edit_kustomization(text, [ImageEntry("quay.io/vllm/vllm", None, "0.7", None),
                                    ImageEntry("registry.x/y", "registry.x/z", None,
                                               "sha256:" + "a" * 64)], "promoted.yaml")
    for c in comments:
        assert f"# {c}" in out
    assert "namePrefix: 'staging-'" in out
    data = yaml.safe_load(out)
    assert list(data) == ["apiVersion", "kind", "namespace", "namePrefix", "resources",
                          "patches", "images"]
    assert data["patches"] == [{"path": "size.yaml"}, {"path": "promoted.yaml"}]
    assert data["images"] == [
        {"name": "quay.io/vllm/vllm", "newTag": "0.7"},
        {"name": "registry.x/y", "newName": "registry.x/z", "digest": "sha256:" + "a" * 64}]
    # Idempotent: editing again with the same values changes nothing.
    again = edit_kustomization(out, [ImageEntry("quay.io/vllm/vllm", None, "0.7", None),
                                     ImageEntry("registry.x/y", "registry.x/z", None,
                                                "sha256:" + "a" * 64)], "promoted.yaml")
    assert again == out


def test_unindented_lists_stay_unindented() -> None:
    text = "resources:\n- ../../base\npatches:\n- path: size.yaml\n"
    assert detect_indent(text) == (2, 2, 0)
    out = edit_kustomization(text, [ImageEntry("a/b", None, "1", None)], "promoted.yaml")
    assert out == ("resources:\n- ../../base\npatches:\n- path: size.yaml\n- path: promoted.yaml\n"
                   "images:\n- name: a/b\n  newTag: '1'\n")


def test_tag_that_looks_like_a_number_stays_a_string() -> None:
    out = edit_kustomization("resources:\n  - base\n", [ImageEntry("a/b", None, "1.10", None)],
                             None)
    assert yaml.safe_load(out)["images"] == [{"name": "a/b", "newTag": "1.10"}]
