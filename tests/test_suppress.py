"""Inline `<!-- auditor: ignore RULE reason -->` comments in md/txt drafts."""

from __future__ import annotations

import dataclasses
import json

from auditor.audit import run_audit
from auditor.config import Config
from auditor.suppress import parse_suppressions
from tests.tables.helpers import run_cli

DRAFT = """本报讯 2021年，洮南市总工会为困难职工发放救助金X元。
<!-- auditor: ignore P001 模板示例，发稿前会替换 -->

拨缴工会经费总额为X元。
会员总数为XX人。<!-- auditor: ignore U,P001 -->
新建基层工会X家。
"""


def test_parse_lines_rules_and_reason():
    sups = parse_suppressions(DRAFT)
    assert [(s.rules, s.reason) for s in sups] == [(("P001",), "模板示例，发稿前会替换"), (("U", "P001"), "")]
    assert sups[0].lines == {2, 4}  # its own line and the next non-blank one
    assert sups[1].lines == {5, 6}


def test_suppressed_findings_stay_in_the_report(tmp_path):
    draft = tmp_path / "draft.md"
    draft.write_text(DRAFT, encoding="utf-8")
    result = run_audit([str(draft)], Config(select=("P001",)))
    by_line = {f.line: f for f in result.findings}
    assert set(by_line) == {1, 4, 5, 6}
    assert by_line[1].suppressed is None
    assert by_line[4].suppressed == "inline: 模板示例，发稿前会替换"
    assert by_line[5].suppressed == "inline" and by_line[6].suppressed == "inline"
    assert [f.line for f in result.at_or_above("error")] == [1]
    assert result.fails_at("error")
    # The exit code asks only whether there is one: the findings after it are never read.
    first_then_nothing = dataclasses.replace(result, findings=_ReadOnce([by_line[1], *result.findings]))
    assert first_then_nothing.fails_at("error")
    only_suppressed = dataclasses.replace(result, findings=tuple(f for f in result.findings if f.suppressed))
    assert not only_suppressed.fails_at("info") and only_suppressed.at_or_above("info") == []


class _ReadOnce(list):
    def __iter__(self):
        yield self[0]
        raise AssertionError("read past the first finding")


def test_json_lists_and_counts_suppressed(tmp_path):
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT, encoding="utf-8")
    proc = run_cli("audit", draft, "--select", "P001", "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["summary"]["suppressed"] == 3 and report["summary"]["findings"] == 1
    assert sum(1 for f in report["findings"] if "suppressed" in f) == 3


def test_all_suppressed_exits_clean_and_console_skips_them(tmp_path):
    draft = tmp_path / "draft.md"
    draft.write_text("<!-- auditor: ignore all 示例稿 -->\n拨缴工会经费总额为X元。\n", encoding="utf-8")
    proc = run_cli("audit", draft, "--no-color")
    assert proc.returncode == 0, proc.stdout
    assert "X元" not in proc.stdout.split("\n\n")[0] or "P001" not in proc.stdout


def test_other_rules_and_other_formats_are_not_suppressed(tmp_path):
    draft = tmp_path / "draft.md"
    draft.write_text("<!-- auditor: ignore D001 -->\n拨缴工会经费总额为X元。\n", encoding="utf-8")
    (f,) = run_audit([str(draft)], Config(select=("P001",))).findings
    assert f.suppressed is None
    html = tmp_path / "page.html"
    html.write_text("<p>拨缴工会经费总额为X元。<!-- auditor: ignore P001 --></p>", encoding="utf-8")
    (g,) = run_audit([str(html)], Config(select=("P001",))).findings
    assert g.suppressed is None  # html comments are not part of the visible text
