"""Checking reports against the published formats' schemas (vendored under tests/data)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import xmlschema

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "schemas"

# `::error file=...,line=...::message`: properties are name=value pairs without raw ',' or ':'.
_PROP = r"[a-zA-Z]+=[^,:\r\n]*"
GITHUB_LINE = re.compile(rf"^::(error|warning|notice)( {_PROP}(,{_PROP})*)?::[^\r\n]*$")
TEXT_LINE = re.compile(r"^(?P<file>[^:\s]+)(:(?P<line>\d+)(:(?P<col>\d+))?)?: "
                       r"(?P<severity>error|warning|info) (?P<rule>[a-z0-9-]+)"
                       r"( \[[^\]]+\])?( container \S+)?: .+$")


@cache
def sarif_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    return data


@cache
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd"))


def check_sarif(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    jsonschema.validate(data, sarif_schema(), cls=jsonschema.Draft4Validator)
    assert data["version"] == "2.1.0"
    return data


def check_junit(text: str) -> ET.Element:
    root = ET.fromstring(text.encode("utf-8"))
    junit_schema().validate(text)
    assert root.tag == "testsuites"
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure")
                                                       is not None)
    return root


def check_github(text: str) -> list[str]:
    """The annotation lines; every line but the last (the summary) is a workflow command."""
    lines = text.splitlines()
    assert lines and lines[-1].startswith("Summary: ")
    for line in lines[:-1]:
        assert GITHUB_LINE.match(line), line
    return lines[:-1]


def suites(root: ET.Element) -> dict[str, ET.Element]:
    return {s.get("name", ""): s for s in root.iter("testsuite")}
