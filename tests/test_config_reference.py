"""The README's config reference is generated from CONFIG_SCHEMA and cannot drift from it."""

from __future__ import annotations

from pathlib import Path

from llmops_gate.config import CONFIG_SCHEMA
from llmops_gate.config.reference import BEGIN, END, reference, rows
from tests.conftest import ROOT, run_cli


def test_readme_block_equals_the_generated_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(BEGIN) + len(BEGIN) + 1: readme.index(END)]
    assert block == reference(), (
        "README.md's config reference is out of date: run "
        "`python -m llmops_gate config-reference --update README.md`")


def test_every_schema_key_is_documented() -> None:
    documented = {key for key, _, _ in rows(CONFIG_SCHEMA, CONFIG_SCHEMA)}
    assert set(CONFIG_SCHEMA["properties"]) <= documented
    assert "environments[].namespace" in documented


def test_rich_schemas_render_refs_enums_defaults_and_maps() -> None:
    schema = {
        "$defs": {"bound": {"type": "object", "additionalProperties": False,
                            "properties": {"max": {"type": "integer", "minimum": 0,
                                                   "description": "Upper | bound."}}}},
        "type": "object",
        "properties": {
            "mode": {"enum": ["warn", "error"], "default": "error", "description": "Mode."},
            "limits": {"type": "object", "additionalProperties": {"$ref": "#/$defs/bound"},
                       "description": "Per-resource bounds."},
            "rules": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string", "description": "Rule id."}}}},
        },
    }
    assert list(rows(schema, schema)) == [
        ("mode", 'one of `warn`, `error`', "Mode. Default: `error`."),
        ("limits", "mapping", "Per-resource bounds."),
        ("limits.<name>", "mapping", "Unknown keys are errors."),
        ("limits.<name>.max", "integer >= 0", "Upper | bound."),
        ("rules", "list of mappings", ""),
        ("rules[].id", "string", "Rule id."),
    ]


def test_check_and_update_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n\n{BEGIN}\nold text\n{END}\n\nafter\n", encoding="utf-8")
    check = run_cli("config-reference", "--check", stale)
    assert check.code == 1 and "out of date" in check.stderr
    assert run_cli("config-reference", "--update", stale).code == 0
    text = stale.read_text(encoding="utf-8")
    assert "old text" not in text and text.endswith(f"{END}\n\nafter\n")
    assert run_cli("config-reference", "--check", stale).code == 0
    (tmp_path / "plain.md").write_text("no markers\n")
    missing = run_cli("config-reference", "--update", tmp_path / "plain.md")
    assert missing.code == 2 and "no config reference block" in missing.stderr
