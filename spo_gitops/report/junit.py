"""JUnit XML, for CI systems that show test reports: one test suite per checked file.

Errors that no waiver accepts are failures; warnings, info and waived findings are passing
test cases with their text in ``system-out``. A file without findings has one passing test
case named ``valid``, so a clean run still lists every file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from spo_gitops.diagnostics import Diagnostic
from spo_gitops.report.common import CATALOG, Run, full_message, headline

SUITES_NAME = "spo validate"
VALID = "valid"

# Characters XML 1.0 cannot carry at all, not even as character references.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` with the characters XML 1.0 forbids written as ``\\xNN``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def case_name(d: Diagnostic) -> str:
    """``CODE line:col entity``, leaving out what the finding does not have."""
    parts = [d.code]
    if d.line is not None:
        parts.append(f"{d.line}:{d.column}" if d.column is not None else str(d.line))
    if d.entity:
        parts.append(d.entity)
    return " ".join(parts)


def _details(d: Diagnostic) -> str:
    text = f"{d.location()}: {d.severity} {d.code} {full_message(d)}"
    if d.pointer:
        text += f"\npointer: {d.pointer}"
    if d.waived is not None:
        text += f"\nwaived: {d.waived}"
    return text


def _suites(run: Run) -> dict[str, list[Diagnostic]]:
    """Findings by file: every checked file in order, then any other file, then the catalog."""
    by_file: dict[str, list[Diagnostic]] = {f: [] for f in run.files}
    catalog: list[Diagnostic] = []
    for d in run.findings:
        if d.file is None:
            catalog.append(d)
        else:
            by_file.setdefault(d.file, []).append(d)
    if catalog:
        by_file[CATALOG] = catalog
    return by_file


def render(run: Run) -> str:
    root = ET.Element("testsuites", name=SUITES_NAME)
    total = failed = 0
    for file, findings in _suites(run).items():
        name = xml_text(file)
        suite = ET.SubElement(root, "testsuite", name=name)
        failures = 0
        for d in findings:
            case = ET.SubElement(suite, "testcase", classname=name, name=xml_text(case_name(d)))
            if d.severity == "error" and d.waived is None:
                failure = ET.SubElement(
                    case, "failure", message=xml_text(headline(d)), type=xml_text(d.code)
                )
                failure.text = xml_text(_details(d))
                failures += 1
            else:
                ET.SubElement(case, "system-out").text = xml_text(_details(d))
        if not findings:
            ET.SubElement(suite, "testcase", classname=name, name=VALID)
        tests = max(len(findings), 1)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total += tests
        failed += failures
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
