"""The Spark engine in local mode gives the local engine's findings; its Parquet outputs are all or
nothing; the metrics schema is checked with pandera's PySpark backend. One SparkSession for the
module, two cores, small settings."""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest

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
