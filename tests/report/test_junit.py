"""JUnit XML: one test case per rule and document, parsed by junitparser; failures carry the findings."""

from __future__ import annotations

from dataclasses import replace

import junitparser

from auditor.report.junit import render_junit
from tests.tables.helpers import audit_result, run_cli


def _parse(tmp_path, xml: str):
    path = tmp_path / "r.xml"
    path.write_text(xml, encoding="utf-8")
    return junitparser.JUnitXml.fromfile(str(path))


def test_one_case_per_rule_and_document(tmp_path, analysed):
    result = audit_result(analysed)
    xml = _parse(tmp_path, render_junit(result))
    suites = list(xml)
    assert [s.name for s in suites] == [d.path for d in result.documents]
    for suite in suites:
        cases = list(suite)
        assert [c.name for c in cases] == [f"{r.id} {r.name}" for r in result.rules]
        assert all(c.classname == suite.name for c in cases)
        assert suite.tests == len(result.rules)


def test_failures_carry_the_findings(tmp_path, analysed):
    result = audit_result(analysed)
    xml = _parse(tmp_path, render_junit(result))
    failed = {}
    for suite in xml:
        for case in suite:
            if not case.is_passed:
                (failure,) = case.result
                failed[(suite.name, case.name.split()[0])] = failure
    expected = {(f.document, f.rule) for f in result.findings if f.suppressed is None}
    assert set(failed) == expected
    for (doc, rule), failure in failed.items():
        mine = [f for f in result.findings if f.document == doc and f.rule == rule and f.suppressed is None]
        assert failure.message.startswith(f"{len(mine)} finding")
        for f in mine:
            assert f"{f.document}:{f.line}:{f.column} {f.rule}" in failure.text
    assert xml.failures == len(expected)


def test_fail_on_and_suppressed_go_to_system_out(tmp_path, analysed):
    result = audit_result(analysed)
    findings = [replace(f, suppressed="baseline: old") if f.severity == "error" else f for f in result.findings]
    xml = _parse(tmp_path, render_junit(replace(result, findings=tuple(findings)), fail_on="warning"))
    for suite in xml:
        for case in suite:
            for r in case.result:
                assert r.type in ("warning",)
    assert "suppressed (baseline: old)" in render_junit(replace(result, findings=tuple(findings)))
    assert "below fail-on" in render_junit(result, fail_on="error")


def test_cli_junit(tmp_path):
    out = tmp_path / "r.xml"
    proc = run_cli("audit", "fixtures/004_b6e2a60db747514b.txt", "--format", "junit", "-o", out)
    assert proc.returncode == 1
    xml = junitparser.JUnitXml.fromfile(str(out))
    assert xml.failures >= 1
