"""`auditor report TABLES`: every report made from an audit's Parquet tables is the audit's own, byte
for byte, with the documents and the user's rule files gone; damaged tables are one line, exit 2."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from auditor.audit import run_audit
from auditor.cli.audit_cmd import FORMATS, _render
from auditor.config import Config
from auditor.engines import local
from auditor.errors import InputError, UsageError
from auditor.report.from_tables import read_audit
from tests.cli.helpers import run_auditor
from tests.conftest import fixture_path
from tests.robustness import fuzzing as F

HOUSE_RULE = """\
rules:
  - id: Z101
    name: house-style-dateline
    kind: pattern
    category: other
    severity: info
    summary: {zh: 电头写法, en: Dateline style}
    message: {zh: "电头“{text}”请按本报体例", en: "Dateline “{text}”: use the house style"}
    params:
      checks:
        - {pattern: '本报讯'}
"""


def rendered(result, fmt: str) -> str:
    """The report as `auditor audit --format FMT` writes it."""
    out = _render(fmt, result, color=False, quiet=False, fail_on="error")
    return out if isinstance(out, str) else "".join(out)


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """Two real pages and a draft with an inline suppression, audited with a house rule file and
    one default rule ignored; its tables written, then the pages and the rule file removed."""
    root = tmp_path_factory.mktemp("from_tables")
    pages, rule = root / "pages", root / "house.yaml"
    pages.mkdir()
    for number in ("000", "001"):
        shutil.copy(fixture_path(number), pages)
    (pages / "draft.txt").write_text("本报讯 2021年，某区总工会发放慰问金X元<!-- auditor: ignore P001 模板 -->，"
                                     "新建工会组织X家。\n", encoding="utf-8")
    rule.write_text(HOUSE_RULE, encoding="utf-8")
    result = run_audit([str(pages)], Config(rules=(str(rule),), ignore=("D003",), jobs=1), history=False)
    tables = root / "tables"
    local.write_tables(result, tables)
    shutil.rmtree(pages)
    rule.unlink()
    return result, tables


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_report_from_the_tables_is_the_audits_own(audited, fmt):
    result, tables = audited
    again = read_audit(str(tables))
    assert rendered(again, fmt) == rendered(result, fmt)


def test_the_tables_carry_the_rules_that_ran_and_the_suppressions(audited):
    result, tables = audited
    again = read_audit(str(tables))
    ran = [r.id for r in again.rules]
    assert ran == [r.id for r in result.rules] and "Z101" in ran and "D003" not in ran
    assert again.rule_set.by_id()["Z101"].summary_in("en") == "Dateline style"
    assert any(f.rule == "Z101" for f in again.findings)
    suppressed = [f for f in again.findings if f.suppressed]  # the comment covers its line
    assert suppressed and all(f.rule == "P001" and "模板" in f.suppressed and f.document.endswith("draft.txt")
                              for f in suppressed)
    assert {f.document for f in again.findings} <= {d.path for d in again.documents}


def test_report_command_exit_codes_and_outputs(audited, tmp_path):
    result, tables = audited
    sarif, html = tmp_path / "a.sarif", tmp_path / "a.html"
    proc = run_auditor("report", str(tables), "--format", "sarif", "-o", str(sarif), "--html", str(html))
    assert proc.returncode == 1, proc.stderr  # errors among the findings, --fail-on error by default
    assert sarif.read_text(encoding="utf-8") == rendered(result, "sarif")
    assert html.read_text(encoding="utf-8") == rendered(result, "html")
    assert run_auditor("report", str(tables), "--fail-on", "never", "-q").returncode == 0
    console = run_auditor("report", str(tables), "--fail-on", "never", "--no-color")
    assert "P001" in console.stdout and "Z101" in console.stdout


def test_metrics_in_part_files_out_of_document_order_are_grouped_back(audited, tmp_path):
    """As Spark writes them: one part file per partition, documents spread by hash."""
    result, tables = audited
    copy = tmp_path / "tables"
    shutil.copytree(tables, copy)
    (part,) = (copy / "metrics").iterdir()
    metrics = pq.read_table(part)
    part.unlink()
    ids = metrics.column("doc_id").to_pylist()
    for k, doc_id in enumerate(sorted(set(ids), reverse=True)):  # the last document in the first file
        rows = [i for i, d in enumerate(ids) if d == doc_id]
        pq.write_table(metrics.take(rows), copy / "metrics" / f"part-{k:05d}.parquet")
    assert rendered(read_audit(str(copy)), "json") == rendered(result, "json")


def test_many_findings_are_kept_on_disk_with_the_same_reports(audited, monkeypatch):
    from auditor.engines.spill import SpilledFindings
    from auditor.report import from_tables

    result, tables = audited
    monkeypatch.setattr(from_tables, "_SPILL_FINDINGS", 3)
    again = read_audit(str(tables))
    assert isinstance(again.findings, SpilledFindings) and len(again.findings) == len(result.findings)
    for fmt in ("json", "sarif", "html", "console"):
        assert rendered(again, fmt) == rendered(result, fmt), fmt


@pytest.mark.parametrize("spill_chars", [0, 5000])  # every page on disk; the first held, then spilled
def test_many_pages_are_kept_on_disk_with_the_same_reports(audited, monkeypatch, spill_chars):
    import pickle

    from auditor.engines.spill import SpilledView
    from auditor.report import from_tables

    result, tables = audited
    monkeypatch.setattr(from_tables, "_SPILL_CHARS", spill_chars)
    monkeypatch.setattr(from_tables, "_SPILL_FINDINGS", 3)  # both kinds in one spill folder
    again = read_audit(str(tables))
    assert all(isinstance(d, SpilledView) for d in again.documents)
    assert [d.path for d in again.documents] == [d.path for d in result.documents]
    assert len({d._spill for d in again.documents} | {again.findings._spill}) == 1
    for fmt in FORMATS:
        assert rendered(again, fmt) == rendered(result, fmt), fmt
    view = pickle.loads(pickle.dumps(again.documents[0]))  # as the view itself
    assert isinstance(view, local.DocumentView) and view.original == result.documents[0].original


def _damage(tables, tmp_path, how: str):
    copy = tmp_path / "tables"
    shutil.copytree(tables, copy)
    if how == "no run table":
        shutil.rmtree(copy / "run")
    elif how == "truncated parquet":
        part = next((copy / "metrics").iterdir())
        part.write_bytes(part.read_bytes()[:100])
    elif how == "a column missing":
        part = next((copy / "findings").iterdir())
        pq.write_table(pq.read_table(part).drop_columns(["fingerprint"]), part)
    elif how == "another format":
        manifest = json.loads(pq.read_table(copy / "run").column("manifest")[0].as_py())
        manifest["format"] = "auditor-tables/99"
        part = next((copy / "run").iterdir())
        pq.write_table(pa.table({"manifest": [json.dumps(manifest)]}), part)
    elif how == "a rule gone":
        manifest = json.loads(pq.read_table(copy / "run").column("manifest")[0].as_py())
        manifest["rule_files"] = [f for f in manifest["rule_files"] if not f[0].endswith("house.yaml")]
        part = next((copy / "run").iterdir())
        pq.write_table(pa.table({"manifest": [json.dumps(manifest)]}), part)
    return copy


@pytest.mark.parametrize("how, words", [
    ("no run table", "no run table"),
    ("truncated parquet", "cannot read the metrics table"),
    ("a column missing", "lacks column(s) fingerprint"),
    ("another format", "auditor-tables/99"),
    ("a rule gone", "Z101"),
])
def test_damaged_tables_are_one_line_and_exit_2(audited, tmp_path, how, words):
    copy = _damage(audited[1], tmp_path, how)
    with pytest.raises(InputError):
        read_audit(str(copy))
    out = tmp_path / "r.json"
    proc = run_auditor("report", str(copy), "--format", "json", "-o", str(out))
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("auditor: error: ") and str(copy) in line and words in line, line
    assert not out.exists()


def test_a_missing_folder_or_a_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such folder"):
        read_audit(str(tmp_path / "nowhere"))
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="not a folder"):
        read_audit(str(tmp_path / "file"))


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(F.texts, F.texts)
def test_any_pages_round_trip_through_the_tables(tmp_path, first, second):
    """Hostile text (controls, bidi marks, markup, astral characters) survives Parquet: the JSON
    report from the tables is the audit's."""
    result = F.audit_texts({"a.txt": first, "dir/<b>.txt": second})
    tables = tmp_path / "tables"
    local.write_tables(result, tables)
    assert rendered(read_audit(tables.as_uri()), "json") == rendered(result, "json")
