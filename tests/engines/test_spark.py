"""The Spark engine in local mode gives the local engine's findings; its Parquet outputs are all or
nothing; the metrics schema is checked with pandera's PySpark backend; year-over-year runs in
Spark's Python workers as a grouped map by series, never on the driver. One SparkSession for the
module, two cores, small settings."""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

pytest.importorskip("pyspark", reason="the Spark engine is the optional extra auditor[spark] (pyspark not installed)")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("the Spark engine needs Java 17 (no java on PATH, no JAVA_HOME)", allow_module_level=True)

from auditor.audit import run_audit  # noqa: E402
from auditor.config import Config  # noqa: E402
from auditor.errors import AuditorError, InputError  # noqa: E402
from auditor.report.json_report import render_json  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402
from tests.engines.test_local import dump  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from auditor.engines.spark import spark_session

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = spark_session("local[2]", driver_memory="1g")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


def key(findings) -> set[tuple]:
    return {(f.rule, f.document, f.start, f.end, f.message) for f in findings}


def test_spark_gives_the_local_findings_on_the_fixtures(spark, tmp_path):
    import pyarrow.parquet as pq

    from auditor.engines.spark import run_spark_audit

    config = Config(jobs=2)
    expected = run_audit([str(FIXTURES)], config, history=False)
    stats: dict = {}
    got = run_spark_audit([str(FIXTURES)], config, spark=spark, history=False, output_dir=tmp_path / "out",
                          stats=stats)
    assert key(got.findings) == key(expected.findings)
    assert dump(got.findings) == dump(expected.findings)  # every field, in the same order
    mine, theirs = json.loads(render_json(got)), json.loads(render_json(expected))
    for part in ("documents", "metrics", "findings"):
        assert mine[part] == theirs[part], part
    tables = tmp_path / "out"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert pq.read_table(tables / "findings").num_rows == len(expected.findings)
    assert pq.read_table(tables / "metrics").num_rows == len(mine["metrics"])
    assert pq.read_table(tables / "documents").column("path").to_pylist() == [d.path for d in expected.documents]
    assert stats["documents"] == 5
    # auditor report: the reports made from Spark's tables (several part files) are the local ones
    from auditor.report.from_tables import read_audit

    again = read_audit(str(tables))
    assert [r.id for r in again.rules] == [r.id for r in expected.rules]
    from_tables = json.loads(render_json(again))
    for part in ("documents", "metrics", "findings"):
        assert from_tables[part] == theirs[part], part


def test_spark_gives_the_local_findings_with_copies_across_pages(spark, corpus):
    from auditor.engines.spark import run_spark_audit

    config = Config(jobs=2)
    expected = run_audit([str(corpus)], config, history=False)
    stats: dict = {}
    got = run_spark_audit([str(corpus)], config, spark=spark, history=False, stats=stats)
    assert dump(got.findings) == dump(expected.findings)
    assert any(f.rule == "D001" and f.related and f.related[0].document != f.document for f in got.findings)
    assert 0 < stats["linked"] < stats["documents"]  # pages sharing no text stayed with the executors


def test_spark_errors_and_interrupted_writes(spark, tmp_path, monkeypatch):
    from pyspark.sql import DataFrameWriter

    from auditor.engines.spark import run_spark_audit

    pages = tmp_path / "pages"
    pages.mkdir()
    for p in sorted(FIXTURES.glob("*.txt"))[:2]:
        shutil.copy(p, pages / p.name)
    (pages / "000_z_empty.txt").write_bytes(b"")
    with pytest.raises(InputError) as local_error:
        run_audit([str(pages)], Config(jobs=1), history=False)
    with pytest.raises(InputError) as spark_error:
        run_spark_audit([str(pages)], Config(), spark=spark, history=False, output_dir=tmp_path / "out")
    assert str(spark_error.value) == str(local_error.value)
    (pages / "000_z_empty.txt").unlink()

    # A URL is listed and read by Spark (binaryFile), as HDFS or S3 would be.
    expected = run_audit([str(pages)], Config(jobs=1), history=False)
    by_url = run_spark_audit([pages.resolve().as_uri()], Config(), spark=spark, history=False)
    assert [d.path.rsplit("/", 1)[-1] for d in by_url.documents] == [d.path.rsplit("/", 1)[-1] for d in expected.documents]
    assert {(f.rule, f.document.rsplit("/", 1)[-1], f.start, f.end, f.message) for f in by_url.findings} == \
        {(f.rule, f.document.rsplit("/", 1)[-1], f.start, f.end, f.message) for f in expected.findings}

    written = []
    original = DataFrameWriter.parquet

    def fail_on_second_table(self, path, *args, **kwargs):
        written.append(path)
        if len(written) == 2:
            raise RuntimeError("executor lost")
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(DataFrameWriter, "parquet", fail_on_second_table)
    with pytest.raises(RuntimeError):
        run_spark_audit([str(pages)], Config(), spark=spark, history=False, output_dir=tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages"]  # no tables, no temporary folder


# Link rows: a rule's "how" is fixed by the rule; few keys and years so that groups form, null years
# and a document holding a key twice among them.
_LINK_RULES = {"D001": "any", "D003": "any", "Y001": "years"}
_link_rows = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(sorted(_LINK_RULES)), st.sampled_from("abcd"),
                                st.one_of(st.none(), st.integers(2019, 2021)), st.booleans()), max_size=30)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(rows=[(0, "Y001", "a", 2020, True), (0, "Y001", "a", 2021, True), (1, "Y001", "a", 2020, True)])
@example(rows=[(0, "Y001", "a", None, True), (1, "Y001", "a", None, True), (2, "Y001", "a", 2020, True)])
@example(rows=[(0, "D001", "a", None, True), (0, "D001", "a", None, True), (1, "D001", "b", None, True)])
@example(rows=[(0, "D001", "a", None, False), (1, "D001", "a", None, True), (2, "D003", "a", None, True)])
@given(rows=_link_rows)
def test_spark_links_the_documents_the_local_engine_links(spark, rows):
    """The Spark engine's group-by and semi-join link exactly the documents ``local.linked_documents``
    links: two documents hold the key, and one flags it ("any") or they span two years ("years")."""
    from auditor.engines.local import linked_documents
    from auditor.engines.spark import _linked

    by_doc: dict[int, list] = {}
    for doc, rule, key, year, flag in rows:
        by_doc.setdefault(doc, []).append(
            {"rule": rule, "how": _LINK_RULES[rule], "key": key, "year": year, "flag": flag})
    docs = spark.createDataFrame(
        [(doc, links) for doc, links in sorted(by_doc.items())],
        "doc_id long, links array<struct<rule:string, how:string, key:string, year:bigint, flag:boolean>>")
    expected = linked_documents((doc, (rule, _LINK_RULES[rule], key, year, flag))
                                for doc, rule, key, year, flag in rows)
    assert _linked(spark, docs) == sorted(expected)


def test_metrics_schema_rejects_a_broken_table(spark):
    from auditor.engines.spark import check_metrics
    from auditor.metrics import TABLE_FIELDS

    row = {"doc_id": 0, "document": "a.txt", "start": 5, "end": 3, "text": "3万元", "value": 30000.0, "unit": "元",
           "surface_unit": "万元", "approx": None, "kind": "money", "dimension": "money", "entity": None, "year": 2021,
           "label": None, "metric": None, "placeholder": False, "range_low": None, "range_high": None,
           "article": 0, "line": 1, "norm_start": 5, "norm_end": 8}
    ddl = ("doc_id bigint, document string, start bigint, end bigint, text string, value double, unit string, "
           "surface_unit string, approx string, kind string, dimension string, entity string, year bigint, "
           "label string, metric string, placeholder boolean, range_low double, range_high double, article bigint, "
           "line bigint, norm_start bigint, norm_end bigint")
    assert list(row)[1:] == list(TABLE_FIELDS)
    check_metrics(spark.createDataFrame([{**row, "end": 8}], ddl))  # a good row passes
    with pytest.raises(AuditorError, match="span_is_ordered"):
        check_metrics(spark.createDataFrame([row], ddl))
    with pytest.raises(AuditorError, match="kind"):
        check_metrics(spark.createDataFrame([{**row, "end": 8, "kind": "weight"}], ddl))


# ---------------------------------------------------------------- year over year as a grouped map

# 洮南's relief funds and people over seven years (a robust band from 2019 on, a copy in 2021) and
# 大安's funds in three of them (a gap bridged over three years, then the year before).
_FUNDS = {2015: "20.5万元", 2016: "21.3万元", 2017: "19.8万元", 2018: "22万元", 2019: "45万元", 2020: "23.6万元",
          2021: "23.6万元"}
_PEOPLE = {2015: "61名", 2016: "64名", 2017: "70名", 2018: "66名", 2019: "69名", 2020: "300名", 2021: "72名"}
_DAAN = {2017: "12万元", 2020: "500万元", 2021: "50万元"}


def _yoy_page(year: int) -> str:
    text = (f"本报讯 {year}年，洮南市总工会救助困难职工{_PEOPLE[year]}，发放救助资金{_FUNDS[year]}。"
            f"全市新组建基层工会组织{31 + year % 7}家。\n")
    if year in _DAAN:
        text += f"本报讯 {year}年，大安市总工会为困难职工发放救助资金{_DAAN[year]}。\n"
    return text


@pytest.fixture(scope="module")
def yoy_pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("yoy")
    for year in _FUNDS:
        (folder / f"page_{year}.txt").write_text(_yoy_page(year), encoding="utf-8")
    return folder


@pytest.fixture
def yoy_off_the_driver(monkeypatch, spark) -> list[tuple]:
    """The comparison refuses to run in this process (the driver), and every grouped map records
    the columns it groups by: yoy must run in Spark's Python workers, grouped by series."""
    from pyspark.sql import GroupedData

    from auditor.rules.kinds import yoy

    DataFrame = type(spark.range(1))  # the session's concrete class (pyspark 4: classic or Connect)

    def on_the_driver(*args, **kwargs):
        raise AssertionError("year-over-year compared on the driver")

    for name in ("compare", "year_changes", "copied_figures", "check"):
        monkeypatch.setattr(yoy, name, on_the_driver)
    grouped_maps: list[tuple] = []
    group_by, apply = DataFrame.groupBy, GroupedData.applyInArrow

    def grouped(self, *cols):
        out = group_by(self, *cols)
        out.recorded_columns = cols
        return out

    def applied(self, func, schema):
        grouped_maps.append(self.recorded_columns)
        return apply(self, func, schema)

    monkeypatch.setattr(DataFrame, "groupBy", grouped)
    monkeypatch.setattr(GroupedData, "applyInArrow", applied)
    return grouped_maps


def _strategies(findings) -> set[tuple]:
    return {(f.rule, f.evidence.get("strategy"), f.evidence["gap"]) for f in findings if f.rule.startswith("Y")}


@pytest.mark.parametrize("pages", ["fixtures", "years"])
def test_yoy_runs_as_a_grouped_map_by_series_with_the_local_findings(spark, yoy_pages, pages, request):
    from auditor.engines.spark import run_spark_audit

    from auditor.engines.spill import SpilledView

    folder = FIXTURES if pages == "fixtures" else yoy_pages
    # the series of years read from the driver's views on disk (any text is over spill_above=0)
    config = Config(jobs=1) if pages == "fixtures" else Config(jobs=1, spill_above=0)
    expected = run_audit([str(folder)], config, history=False)
    if pages == "years":  # the robust band, a bridged gap and the fixed band all take part
        assert _strategies(expected.findings) == {("Y001", "robust-band", 1), ("Y001", "fixed-band", 3),
                                                  ("Y001", "fixed-band", 1), ("Y002", None, 1)}
    else:
        assert {"Y001", "Y002"} <= {f.rule for f in expected.findings}
    groupings = request.getfixturevalue("yoy_off_the_driver")
    stats: dict = {}
    got = run_spark_audit([str(folder)], config, spark=spark, history=False, stats=stats)
    assert dump(got.findings) == dump(expected.findings)
    assert all(isinstance(d, SpilledView) == (pages == "years") for d in got.documents)
    assert json.loads(render_json(got))["metrics"] == json.loads(render_json(expected))["metrics"]
    assert groupings == [("entity", "metric", "unit")]
    assert stats["yoy_s"] > 0


def test_yoy_with_a_history_store_reads_the_archive_here_and_compares_in_the_groups(spark, yoy_pages, tmp_path,
                                                                                      request):
    """2015–2018 archived, 2019–2021 audited: the robust band of 2019 and 2020 reads the archived
    years (passed into the groups as observation rows), related locations name archived pages."""
    from auditor.engines.spark import run_spark_audit
    from auditor.history import HistoryStore
    from auditor.pipeline import analyse_path

    archived, audited = tmp_path / "archive", tmp_path / "audited"
    archived.mkdir()
    audited.mkdir()
    for page in sorted(yoy_pages.glob("*.txt")):
        shutil.copy(page, (archived if int(page.stem[-4:]) <= 2018 else audited) / page.name)
    with HistoryStore.open(tmp_path / "h.duckdb") as store:
        store.add([analyse_path(str(p)) for p in sorted(archived.glob("*.txt"))])
    with HistoryStore.open(tmp_path / "h.duckdb", read_only=True) as store:
        config = Config(jobs=1, select=("Y",))
        expected = run_audit([str(audited)], config, history=store)
        groupings = request.getfixturevalue("yoy_off_the_driver")
        got = run_spark_audit([str(audited)], config, spark=spark, history=store)
    assert dump(got.findings) == dump(expected.findings)
    assert ("Y001", "robust-band", 1) in _strategies(got.findings)
    assert groupings == [("entity", "metric", "unit")]
    robust = next(f for f in got.findings if f.evidence.get("strategy") == "robust-band" and f.text == "45万元")
    assert robust.evidence["baseline_years"] == [2015, 2018] and robust.related[0].document.endswith("page_2018.txt")
