"""The table gate with the pandera engine: the injected errors are found, on their cells."""

from __future__ import annotations

import json

import jsonschema
import pytest

from auditor.config import Config
from auditor.report.json_report import render_json
from auditor.tables.gate import GateOptions, check_tables

from .helpers import REPORT_SCHEMA, injected_table, write_csv


def test_every_injected_error_is_found_on_its_cell(pandera_result, table_with_errors):
    _, expected = table_with_errors
    found = {(f.line, f.rule, f.evidence["column"]) for f in pandera_result.findings}
    for line, rule, column in expected:
        assert (line, rule, column) in found, (line, rule, column)


def test_no_placeholder_finding_for_a_real_term(pandera_result):
    """“3+X” is an allowed term in the placeholder rule: not a finding in a label cell either."""
    assert not [f for f in pandera_result.findings if "3+X" in f.text]


def test_year_over_year_inside_the_table(pandera_result):
    """洮南 repeats its 2020 relief figures in 2021 (fixtures 000 and 001): Y002 on the 2021 rows."""
    copied = [f for f in pandera_result.findings if f.rule == "Y002"]
    assert {f.evidence["current"] for f in copied} >= {84.0, 287400.0}
    assert all(f.evidence["previous_year"] == 2020 and f.evidence["current_year"] == 2021 for f in copied)


def test_location_line_column_offsets_and_evidence(pandera_result, table_with_errors):
    path, _ = table_with_errors
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    header = lines[0].split(",")
    for f in pandera_result.findings:
        assert f.document == str(path)
        ev = f.evidence
        assert set(ev) >= {"row", "column", "column_index", "value", "check"}
        assert f.line == ev["row"] + 1  # no multi-line records in this table: header is line 1
        assert f.column == ev["column_index"] == header.index(ev["column"]) + 1
        assert text[f.start:f.end] == f.text == (ev["value"] or "")
        assert f.fingerprint and len(f.fingerprint) == 16


def test_json_report_fits_the_contract(pandera_result):
    report = json.loads(render_json(pandera_result))
    jsonschema.validate(report, json.loads(REPORT_SCHEMA.read_text(encoding="utf-8")))
    assert report["documents"][0]["articles"] == []
    assert report["summary"]["findings"] == len(pandera_result.findings)


def test_clean_table_has_no_findings(tmp_path):
    path = write_csv(tmp_path / "ok.csv", [
        {"entity": "洮南市总工会", "year": "2020", "label": "救助资金", "metric": "relief_funds", "value": "28.74",
         "unit": "万元"},
        {"entity": "洮南市总工会", "year": "2021", "label": "救助资金", "metric": "relief_funds", "value": "30.5",
         "unit": "万元"},
    ])
    result = check_tables([str(path)], Config(), GateOptions())
    assert result.findings == ()


def test_history_table_feeds_year_over_year(tmp_path):
    last = write_csv(tmp_path / "2020.csv", [
        {"entity": "洮南市总工会", "year": "2020", "label": "新建工会组织", "metric": "new_union_orgs", "value": "41",
         "unit": "家"}])
    now = write_csv(tmp_path / "2021.csv", [
        {"entity": "洮南市总工会", "year": "2021", "label": "新建工会组织", "metric": "new_union_orgs", "value": "150",
         "unit": "家"}])
    alone = check_tables([str(now)], Config(), GateOptions())
    assert alone.findings == ()
    with_history = check_tables([str(now)], Config(), GateOptions(history=[str(last)]))
    (f,) = with_history.findings
    assert f.rule == "Y001" and f.evidence["previous"] == 41.0 and f.evidence["ratio"] == pytest.approx(3.659, abs=1e-3)
    assert "2020" in f.message


def test_history_from_a_duckdb_store(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    store = tmp_path / "history.duckdb"
    con = duckdb.connect(str(store))
    con.execute("create table metrics (entity varchar, metric varchar, year integer, value double, unit varchar, "
                "text varchar)")
    con.execute("insert into metrics values ('洮南市总工会', 'relief_funds', 2020, 287400, '元', '28.74万元')")
    con.close()
    now = write_csv(tmp_path / "2021.csv", [
        {"entity": "洮南市总工会", "year": "2021", "label": "救助资金", "metric": "relief_funds", "value": "28.74",
         "unit": "万元"}])
    (f,) = check_tables([str(now)], Config(), GateOptions(history=[str(store)])).findings
    assert f.rule == "Y002" and "28.74万元" in f.message


def test_select_and_ignore_apply(table_with_errors):
    path, _ = table_with_errors
    only_p = check_tables([str(path)], Config(select=("P",)), GateOptions())
    assert only_p.findings and {f.rule for f in only_p.findings} == {"P001"}
    assert [r.id for r in only_p.rules] == ["P001"]
    no_p = check_tables([str(path)], Config(ignore=("P001",)), GateOptions())
    assert "P001" not in {f.rule for f in no_p.findings}


def test_english_messages(table_with_errors):
    path, _ = table_with_errors
    result = check_tables([str(path)], Config(lang="en", select=("P001",)), GateOptions())
    assert any("(empty)" in f.message for f in result.findings)


def test_baseline_suppresses_table_findings(tmp_path, table_with_errors):
    from auditor.baseline import write_baseline

    path, _ = table_with_errors
    first = check_tables([str(path)], Config(), GateOptions())
    base = tmp_path / "baseline.json"
    write_baseline(base, first.findings)
    second = check_tables([str(path)], Config(), GateOptions(baseline=str(base)))
    assert len(second.findings) == len(first.findings)
    assert all(f.suppressed == "baseline" for f in second.findings)
    assert second.at_or_above("info") == []


def test_fingerprints_survive_row_moves(tmp_path, analysed):
    a, _ = injected_table(analysed, tmp_path / "a.csv")
    lines = a.read_text(encoding="utf-8").split("\n")
    moved = tmp_path / "b" / "a.csv"
    moved.parent.mkdir()
    moved.write_text("\n".join([lines[0], *reversed([x for x in lines[1:] if x]), ""]), encoding="utf-8")
    fa = {f.fingerprint for f in check_tables([str(a)], Config(), GateOptions()).findings}
    fb = {f.fingerprint for f in check_tables([str(moved)], Config(), GateOptions()).findings}
    assert fa == fb
