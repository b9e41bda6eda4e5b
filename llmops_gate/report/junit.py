"""The JUnit XML report, for CI systems that show test results (GitLab, Jenkins, Tekton
dashboards).

One `<testsuite>` per unit (overlay or manifest file) and one named `sources` for findings
that belong to no unit (such as yamllint on a base file every overlay shares). In a unit's
suite: a `build` testcase (the unit renders or parses), one testcase per rendered resource
(`Kind/name`), and one per other check with findings on the unit as a whole. Error findings
are `<failure>`s; warnings, notes and waived findings are listed in the testcase's
`<system-out>` and do not fail it. A unit's suite carries the seconds its build took.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmops_gate.model import Finding, Report, ResourceRef, Severity
from llmops_gate.report.text import finding_line

SOURCES_SUITE = "sources"

# Characters XML 1.0 cannot hold at all (Kustomize messages may carry terminal escapes).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


@dataclass
class _Case:
    name: str
    classname: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR and not f.waived]


def _failure_text(f: Finding) -> str:
    text = finding_line(f)
    if f.hint:
        text += f"\nhint: {f.hint}"
    return text


def _unit_cases(report: Report, path: str, findings: Sequence[Finding],
                refs: Sequence[ResourceRef]) -> list[_Case]:
    build = _Case("build", path)
    by_resource: dict[ResourceRef, _Case] = {ref: _Case(str(ref), path) for ref in refs}
    by_check: dict[str, _Case] = {}
    for f in findings:
        if f.resource is not None:
            case = by_resource.get(f.resource)
            if case is None:
                case = by_resource[f.resource] = _Case(str(f.resource), path)
            case.findings.append(f)
        elif f.validator == "build":
            build.findings.append(f)
        else:
            by_check.setdefault(f.validator, _Case(f.validator, path)).findings.append(f)
    return [build, *by_resource.values(), *by_check.values()]


def _source_cases(report: Report, findings: Sequence[Finding]) -> list[_Case]:
    by_file: dict[str, _Case] = {}
    for f in findings:
        name = f.file or f.validator
        by_file.setdefault(name, _Case(name, SOURCES_SUITE)).findings.append(f)
    if not by_file:
        return [_Case(v, SOURCES_SUITE) for v in report.validators if v == "lint"]
    return list(by_file.values())


def _suite(parent: ET.Element, name: str, cases: Sequence[_Case],
           properties: dict[str, str], seconds: float | None = None) -> tuple[int, int]:
    failures = sum(1 for c in cases if c.failures)
    suite = ET.SubElement(parent, "testsuite", {
        "name": _xml_text(name), "tests": str(len(cases)), "failures": str(failures),
        "errors": "0", "skipped": "0",
    })
    if seconds is not None:
        suite.set("time", f"{seconds:.3f}")
    if properties:
        props = ET.SubElement(suite, "properties")
        for key, value in properties.items():
            ET.SubElement(props, "property", {"name": key, "value": _xml_text(value)})
    for case in cases:
        element = ET.SubElement(suite, "testcase",
                                {"name": _xml_text(case.name), "classname": _xml_text(
                                    case.classname)})
        for f in case.failures:
            failure = ET.SubElement(element, "failure", {
                "message": _xml_text(f"{f.rule}: {f.message}"), "type": f.rule})
            failure.text = _xml_text(_failure_text(f))
        others = [f for f in case.findings if f not in case.failures]
        if others:
            out = ET.SubElement(element, "system-out")
            out.text = _xml_text("\n".join(finding_line(f) for f in others))
    return len(cases), failures


def render(report: Report) -> str:
    root = ET.Element("testsuites", {"name": "llmops-gate"})
    tests = failures = 0
    for unit in report.units:
        found = [f for f in report.findings if f.overlay == unit.path]
        cases = _unit_cases(report, unit.path, found, report.unit_resources.get(unit.path, ()))
        props: dict[str, str] = {"kind": unit.kind}
        if unit.environment:
            props["environment"] = unit.environment
        t, fl = _suite(root, unit.path, cases, props, report.unit_seconds.get(unit.path))
        tests, failures = tests + t, failures + fl
    loose = [f for f in report.findings if f.overlay is None or
             f.overlay not in {u.path for u in report.units}]
    cases = _source_cases(report, loose)
    if cases:
        t, fl = _suite(root, SOURCES_SUITE, cases, {"kind": "sources"})
        tests, failures = tests + t, failures + fl
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("errors", "0")
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
