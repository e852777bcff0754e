"""JUnit XML for CI test views: one test case per rule and document.

    <testsuites name="auditor" tests=… failures=…>
      <testsuite name="<document>" tests=<rules that ran> failures=…>
        <testcase classname="<document>" name="P001 unfilled-placeholder">
          <failure type="error" message="2 findings">line:column [severity] message …</failure>
        </testcase>

A rule with no active finding in a document is a passing test case. Findings below `fail_on`
(when given) are listed in the test case's <system-out> instead of failing it; suppressed findings
(inline comments, baseline) never fail and are listed in <system-out> with their reason.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import TYPE_CHECKING

from ..findings import SEVERITY_RANK, Finding

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult


def _line(f: Finding) -> str:
    where = f"{f.document}:{f.line}:{f.column}"
    return f"{where} {f.rule} [{f.severity}] {f.message}"


def render_junit(result: "AuditResult", fail_on: str | None = None) -> str:
    threshold = SEVERITY_RANK.get(fail_on or "info", 1)
    by_doc_rule: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in result.findings:
        by_doc_rule[(f.document, f.rule)].append(f)
    rules = list(result.rules)
    known = {r.id for r in rules}
    for (_, rule_id) in by_doc_rule:
        if rule_id not in known:
            known.add(rule_id)
            found = result.rule_set.by_id().get(rule_id) if hasattr(result.rule_set, "by_id") else None
            if found is not None:
                rules.append(found)
    documents = [d.path for d in result.documents]
    for doc, _ in by_doc_rule:
        if doc not in documents:
            documents.append(doc)
    root = ET.Element("testsuites", name="auditor")
    total_tests = total_failures = 0
    per_doc_time = result.elapsed_s / max(len(documents), 1)
    for doc in documents:
        suite = ET.SubElement(root, "testsuite", name=doc)
        tests = failures = 0
        for rule in rules:
            findings = by_doc_rule.get((doc, rule.id), [])
            case = ET.SubElement(suite, "testcase", classname=doc, name=f"{rule.id} {rule.name}", time="0")
            tests += 1
            failing = [f for f in findings if f.suppressed is None and SEVERITY_RANK[f.severity] >= threshold]
            other = [f for f in findings if f not in failing]
            if failing:
                failures += 1
                worst = max(failing, key=lambda f: SEVERITY_RANK[f.severity]).severity
                n = len(failing)
                failure = ET.SubElement(case, "failure", type=worst,
                                        message=f"{n} finding{'s' if n != 1 else ''}: {failing[0].message}")
                failure.text = "\n".join(_line(f) for f in failing)
            if other:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join((f"suppressed ({f.suppressed}): " if f.suppressed else "below fail-on: ")
                                     + _line(f) for f in other)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", f"{per_doc_time:.3f}")
        total_tests += tests
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    root.set("time", f"{result.elapsed_s:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml_safe(ET.tostring(root, encoding="unicode")) + "\n"


# Characters XML 1.0 does not allow at all, even as character references; ElementTree writes them
# as they are, which makes the file unparseable. Documents do hold them (\x07, ESC, U+FFFE).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text with every character XML forbids written as a visible escape (\\x07, \\ufffe)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)
