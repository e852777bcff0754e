"""GitHub workflow-command annotations and the Markdown pull-request summary."""

from __future__ import annotations

import re
from dataclasses import replace

from auditor.report.github import annotation, escape_data, escape_property, render_github
from auditor.report.markdown import render_markdown
from tests.tables.helpers import audit_result, run_cli

COMMAND = re.compile(r"^::(error|warning|notice) ([^:]+)::(.*)$")


def test_escaping():
    assert escape_data("100%\nnext\r") == "100%25%0Anext%0D"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_one_annotation_per_active_finding(analysed):
    result = audit_result(analysed)
    lines = render_github(result).splitlines()
    active = [f for f in result.findings if f.suppressed is None]
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == len(active)
    for f, line in zip(active, commands):
        m = COMMAND.match(line)
        assert m, line
        level, props, message = m.groups()
        assert level == {"error": "error", "warning": "warning", "info": "notice"}[f.severity]
        fields = dict(p.split("=", 1) for p in props.split(","))
        assert fields["file"] == escape_property(f.document)
        assert (int(fields["line"]), int(fields["col"])) == (f.line, f.column)
        assert int(fields["endLine"]) >= f.line
        assert fields["title"].startswith(f.rule)
        assert "\n" not in message and message == escape_data(f.message)
    assert lines[-1].startswith("auditor: 5 document(s)")


def test_suppressed_are_not_annotated(analysed):
    result = audit_result(analysed)
    findings = tuple(replace(f, suppressed="inline") for f in result.findings)
    out = render_github(replace(result, findings=findings))
    assert not [x for x in out.splitlines() if x.startswith("::")]
    assert f"{len(findings)} suppressed" in out


def test_table_annotation_has_no_character_column():
    from auditor.findings import Finding

    f = Finding("P001", "placeholder", "error", "m", "t.csv", 5, 6, 3, 4, "X",
                evidence={"row": 2, "column": "value", "column_index": 4, "value": "X"})
    assert annotation(f) == "::error file=t.csv,line=3,title=P001::m"


def test_markdown_summary(analysed):
    result = audit_result(analysed)
    md = render_markdown(result, max_rows=5)
    active = [f for f in result.findings if f.suppressed is None]
    assert md.startswith(f"## ❌ auditor: {len(active)} findings in 5 documents")
    assert "| severity | count |" in md
    rows = [x for x in md.splitlines() if x.startswith("| 🔴") or x.startswith("| 🟠") or x.startswith("| 🔵")]
    assert len(rows) == 3 + 5  # the count table, then at most max_rows findings
    assert f"… and {len(active) - 5} more" in md
    # errors first
    assert rows[3].startswith("| 🔴 error")


def test_markdown_escapes_and_suppressed_block(analysed):
    result = audit_result(analysed)
    first = replace(result.findings[0], message="a | b <x> `c`", suppressed=None)
    second = replace(result.findings[1], suppressed="baseline: known | old")
    md = render_markdown(replace(result, findings=(first, second)))
    assert "a \\| b &lt;x&gt; \\`c\\`" in md
    assert "<details><summary>Suppressed findings</summary>" in md and "baseline: known \\| old" in md


def test_markdown_clean():
    from auditor.audit import AuditResult
    from auditor.rules.loader import RuleSet

    md = render_markdown(AuditResult((), (), RuleSet((), ()), (), 0.1, "zh"))
    assert md.startswith("## ✅ auditor: 0 findings")


def test_cli_formats():
    gh = run_cli("audit", "fixtures/004_b6e2a60db747514b.txt", "--format", "github")
    assert gh.returncode == 1 and gh.stdout.startswith("::")
    md = run_cli("audit", "fixtures/004_b6e2a60db747514b.txt", "--format", "markdown", "--fail-on", "never")
    assert md.returncode == 0 and md.stdout.startswith("## ")
