"""The Spark engine (optional extra ``auditor[spark]``): the local engine's plan as Spark jobs, with
the same findings as the local engine on the same input.

    auditor audit --engine spark [--spark-master URL | --spark-remote sc://...] [--output-dir DIR] PATHS

What runs where:

1. Distributed (``mapInArrow``, one Python call per batch of documents in the executors): read
   (local files by path; HDFS/S3 URLs and globs through Spark's ``binaryFile`` source), load →
   normalise → segment → extract, every per-document rule (``local.is_per_document``: placeholder,
   pattern, doubling, arithmetic, unit except magnitude-slip) over the batch, the corpus-wide rules
   that need the text (duplicates, magnitude slips) over each document ALONE (from its duplicate
   units and weights, prepared once per page as the pool's workers prepare them), and the document's
   link keys (``local.link_keys``: clause-key hashes, MinHash LSH band keys, (entity, metric)
   groups). Out comes one row per document: what it was read as, its original text, its metrics
   (nested), its findings, its keys and the analysed document pickled (kept with the rows, ~3x the
   page's bytes, so that step 3 does not analyse it again).
2. Distributed (Spark SQL): the metrics table exploded from those rows and checked with pandera's
   PySpark backend (``metrics_schema``); the cross-document candidate search: a group-by on the
   link keys (how many documents hold each clause key / band key / metric group) and a semi-join
   back to the documents, which yields the documents that share a key with another document.
3. Only the linked documents' pickled analyses are sent to the driver (a broadcast join on doc_id).
4. Distributed, year-over-year (``yoy_findings``): the metric rows become observations
   (``yoy.observations`` in ``mapInArrow``), grouped by series, (entity, metric, unit), with
   ``applyInArrow``; each group runs ``yoy.compare`` for every yoy rule and returns one compact row
   per figure found (the compared figures by doc_id and ordinal, their years and values, the band
   and its strategy). With a history store, the archived figures are read on the driver (the store
   is a DuckDB file there; one batched query per rule, as in the local engine) and join the groups
   as observation rows.
5. On the driver, with the same rule code as the local engine: the duplicate and magnitude-slip
   rules over the linked documents (the other documents keep their findings of step 1; why that is
   exact: ``local.link_keys``), and the yoy rows rendered as findings by ``yoy.report`` against the
   documents' views (messages, related places, baseline notes: the local engine's findings).
6. Parquet: ``documents/``, ``metrics/`` (written by the executors) and ``findings/`` under
   ``--output-dir``, staged in a temporary folder and renamed into place at the end. The report
   (console, JSON, HTML, SARIF …) is rendered from the same Finding objects, with the documents
   rebuilt from the rows (``local.DocumentView``).

Limits: the driver collects every document's text, metrics and findings (the reports need them)
and holds the linked documents while their rules run, so the more pages share text (or an
organisation's figures, for magnitude slips), the more of the corpus-wide work lands on the driver.
With a history store open, archive copies link every document. Spark Connect (``--spark-remote``)
needs ``pyspark[connect]`` and was not tried here.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import pickle
import sys
import time
import types
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple, Sequence

from ..errors import AuditorError, InputError, UsageError
from . import local

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from ..audit import AuditResult
    from ..config import Config
    from ..findings import Finding
    from ..rules.context import AuditContext
    from ..rules.model import Rule

# pandas 3 makes pyspark warn on import; the engine works on Arrow and does not use pyspark.pandas.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

_BATCH_ROWS = 32  # documents per Arrow batch handed to one Python call in an executor
_PARTITION_BYTES = 2 * local.MB  # input partitions of about this much text (local files)


# ---------------------------------------------------------------- the session

def spark_session(master: str | None = None, remote: str | None = None, *, app_name: str = "auditor",
                  driver_memory: str | None = None) -> "SparkSession":
    """A SparkSession for the audit: an existing active one, else a new one on `master` (default
    local[*]) or on Spark Connect at `remote`. In local mode the Python workers run this
    interpreter and import this copy of auditor."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(f"{_missing()}") from None
    if remote:
        try:
            return SparkSession.builder.remote(remote).appName(app_name).getOrCreate()
        except ImportError as exc:
            raise UsageError(f"Spark Connect (--spark-remote) needs pyspark[connect]: {exc}") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    master = master or "local[*]"
    builder = SparkSession.builder.master(master).appName(app_name)
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    if master.startswith("local"):
        package_root = str(Path(__file__).resolve().parents[2])
        paths = [package_root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        builder = (builder.config("spark.executorEnv.PYTHONPATH", os.environ["PYTHONPATH"])
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "8"))
        if driver_memory:
            builder = builder.config("spark.driver.memory", driver_memory)
    builder = builder.config("spark.executorEnv.PYTHONWARNINGS", "ignore::FutureWarning")
    session = builder.getOrCreate()
    try:
        session.sparkContext.setLogLevel("ERROR")
    except Exception:  # pragma: no cover - Spark Connect has no SparkContext
        pass
    return session


def _missing() -> str:
    from . import SPARK_MISSING

    return SPARK_MISSING


# ---------------------------------------------------------------- inputs

_GLOB = set("*?[{")


def _is_remote(path: str) -> bool:
    return "://" in path or (path.startswith("file:") and not os.path.exists(path))


def list_inputs(paths: Sequence[str], config: "Config", spark: "SparkSession") -> list[tuple[int, str, str | None]]:
    """(doc_id, path as reported, local path to read or None) in audit order. Local files and
    folders are walked as the local engine walks them (same order, same skips), a quoted local glob
    is expanded first; a URL (hdfs://, s3a://, file:…, globs allowed) is listed by Spark
    (``binaryFile``), sorted, and read by Spark."""
    from ..documents.load import SUPPORTED_SUFFIXES, iter_document_paths

    out: list[tuple[int, str, str | None]] = []
    for given in paths:
        if not _is_remote(given) and not os.path.exists(given) and _GLOB & set(given):
            matches = sorted(glob.glob(given, recursive=True))  # a quoted local glob: expanded here
            if not matches:
                raise InputError("no such file or directory", path=given)
            for f in iter_document_paths(matches, exclude=config.exclude):
                out.append((len(out), f, os.path.abspath(f)))
        elif _is_remote(given):
            listed = (spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(given)
                      .select("path").collect())
            names = sorted(r.path for r in listed)
            keep = [n for n in names if len(names) == 1 or _walkable(n, given, config.exclude, SUPPORTED_SUFFIXES)]
            out.extend((len(out) + k, n, None) for k, n in enumerate(keep))
        else:
            for f in iter_document_paths([given], exclude=config.exclude):
                out.append((len(out), f, os.path.abspath(f)))
    if not out:
        raise UsageError("no documents found (supported: .txt .md .docx .pdf .html)")
    return out


def _walkable(uri: str, root: str, exclude: Sequence[str], suffixes: Sequence[str]) -> bool:
    """What the local walk would keep: a supported suffix, no hidden part, no excluded name."""
    import fnmatch

    name = uri.rstrip("/").rsplit("/", 1)[-1]
    tail = uri[len(root):] if uri.startswith(root) else uri.split("://", 1)[-1]
    if any(part.startswith(".") for part in tail.split("/") if part):
        return False
    if any(fnmatch.fnmatch(name, g) for g in exclude):
        return False
    return os.path.splitext(name)[1].lower() in suffixes


def _input_frame(spark: "SparkSession", inputs: list[tuple[int, str, str | None]]) -> "DataFrame":
    """doc_id, display, local path, content (binary, for files Spark reads) — spread over partitions."""
    from pyspark.sql import functions as F

    schema = "doc_id long, display string, local string, content binary"
    local_rows = [(i, d, p, None) for i, d, p in inputs if p is not None]
    remote = [(i, d) for i, d, p in inputs if p is None]
    frames = []
    if local_rows:
        total = sum(_size(p) for _, _, p, _ in local_rows)
        parts = max(1, min(len(local_rows), max(8, -(-total // _PARTITION_BYTES))))
        frames.append(spark.createDataFrame(local_rows, schema).repartition(parts, "doc_id"))
    if remote:
        ids = spark.createDataFrame(remote, "doc_id long, display string")
        content = spark.read.format("binaryFile").load([d for _, d in remote]).select(
            F.col("path").alias("display"), "content")
        frames.append(ids.join(content, "display").select("doc_id", "display", F.lit(None).cast("string").alias("local"),
                                                          "content"))
    frame = frames[0]
    for other in frames[1:]:
        frame = frame.unionByName(other)
    return frame


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def document_from_bytes(display: str, data: bytes, max_bytes: int):
    """A Document from bytes Spark read, with the checks and decoding of ``load_document``."""
    from hashlib import sha256

    from ..documents import load as L

    if len(data) > max_bytes:
        raise InputError(f"file is {L._human_size(len(data))}, over the limit of {L._human_size(max_bytes)} "
                         "(--max-bytes)", path=display)
    if not data:
        raise InputError("file is empty", path=display)
    fmt = L._format_for(display)
    if fmt == "docx":
        text, used = L._docx_text(data, display, max_bytes), "docx"
    elif fmt == "pdf":
        text, used = L._pdf_text(data, display), "pdf"
    elif fmt == "html":
        text, used = L._html_text(data, display, None)
    else:
        text, used = L.load_text(data, path=display)
    return L.Document(path=display, text=text, encoding=used, sha256=sha256(data).hexdigest(), format=fmt,
                      size=len(data))


def _read(row: dict, max_bytes: int):
    """The Document of an input row, reported under its display path."""
    from dataclasses import replace

    from ..documents.load import load_document

    if row["local"] is None:
        return document_from_bytes(row["display"], row["content"], max_bytes)
    try:
        return replace(load_document(row["local"], max_bytes=max_bytes), path=row["display"])
    except AuditorError as exc:
        raise type(exc)(exc.message, path=row["display"], line=exc.line, column=exc.column) from None


# ---------------------------------------------------------------- the executors' work

def _arrow_types():
    import pyarrow as pa

    schemas = local.arrow_schemas()
    metric = pa.struct([f for f in schemas["metrics"] if f.name != "doc_id"] + [pa.field("ordinal", pa.int64())])
    finding = pa.struct(list(schemas["findings"]) + [pa.field("scope", pa.string())])
    link = pa.struct([("rule", pa.string()), ("how", pa.string()), ("key", pa.string()), ("year", pa.int64()),
                      ("flag", pa.bool_())])
    documents = pa.schema(list(schemas["documents"]) + [
        pa.field("error", pa.string()), pa.field("metrics", pa.list_(metric)),
        pa.field("findings", pa.list_(finding)), pa.field("links", pa.list_(link)), pa.field("blob", pa.binary())])
    return documents


def _ddl(schema) -> str:
    """A Spark DDL string for an Arrow schema (the few types used here)."""
    import pyarrow as pa

    def t(tp) -> str:
        if pa.types.is_struct(tp):
            return "struct<" + ", ".join(f"`{f.name}`: {t(f.type)}" for f in tp) + ">"
        if pa.types.is_list(tp):
            return f"array<{t(tp.value_type)}>"
        return {pa.int64(): "bigint", pa.string(): "string", pa.float64(): "double", pa.bool_(): "boolean",
                pa.binary(): "binary"}[tp]

    return ", ".join(f"`{f.name}` {t(f.type)}" for f in schema)


def _error_json(exc: AuditorError, kind: str) -> str:
    return json.dumps({"kind": kind, "type": type(exc).__name__, "module": type(exc).__module__,
                       "message": exc.message, "path": exc.path, "line": exc.line, "column": exc.column},
                      ensure_ascii=False)


def _raise_json(text: str) -> None:
    import importlib

    e = json.loads(text)
    try:
        cls = getattr(importlib.import_module(e["module"]), e["type"])
    except (ImportError, AttributeError):  # pragma: no cover
        cls = AuditorError
    raise cls(e["message"], path=e["path"], line=e["line"], column=e["column"])


def _analyse_batches(batches: Iterator, *, rules, year, max_bytes, lang, regex_timeout,
                     with_history) -> Iterator:
    """mapInArrow: input rows → one output row per document (see the module docstring, step 1)."""
    import pyarrow as pa

    from ..pipeline import analyse

    schema = _arrow_types()
    for batch in batches:
        rows, docs = [], []
        for r in batch.to_pylist():
            try:
                docs.append((r["doc_id"], analyse(_read(r, max_bytes), year=year)))
            except AuditorError as exc:
                rows.append(_row(r["doc_id"], None, error=_error_json(exc, "input"), display=r["display"]))
        try:
            checked = local.check_documents([d for _, d in docs], rules, lang=lang, regex_timeout=regex_timeout,
                                            with_history=with_history)
        except AuditorError as exc:
            rows.extend(_row(i, d, error=_error_json(exc, "rule")) for i, d in docs)
        else:
            rows.extend(_row(i, d, found, solo, links) for (i, d), (found, solo, links) in zip(docs, checked))
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


def _row(doc_id: int, doc, found=(), solo=(), links=(), *, error: str | None = None, display: str = "") -> dict:
    if doc is None:
        row = {"doc_id": doc_id, "path": display, "sha256": "", "encoding": "", "format": "", "size": 0,
               "chars": 0, "text": "", "articles": "{}"}
    else:
        row = local.document_record(doc_id, doc)
    row["error"] = error
    row["metrics"] = [{**{k: v for k, v in local.metric_record(doc_id, m).items() if k != "doc_id"}, "ordinal": k}
                      for k, m in enumerate(doc.metrics)] if doc is not None else []
    row["findings"] = [{**local.finding_record(f), "scope": "document"} for f in found] + \
                      [{**local.finding_record(f), "scope": "corpus"} for f in solo]
    row["links"] = [{"rule": r, "how": h, "key": k, "year": y, "flag": bool(fl)} for r, h, k, y, fl in links]
    # The analysed document, pickled (packed: ~3x the page's UTF-8 bytes), for the driver should the
    # page link to another: a twentieth of the cost of analysing it again from the text there.
    row["blob"] = pickle.dumps(doc, protocol=5) if doc is not None and error is None else None
    return row


# ---------------------------------------------------------------- the metrics schema on Spark

def metrics_schema():
    """The metrics table's contract (auditor/metrics_schema.py, plus the document id) as a pandera
    DataFrameModel for pandera's PySpark backend. Built with real (not postponed) annotations, which
    pandera reads when the class is created."""
    _pandera_pyspark_importable()
    import pandera.pyspark as pa
    import pyspark.sql.types as T
    from pyspark.sql import functions as F

    from ..metrics import KINDS

    long, double, text, boolean = T.LongType(), T.DoubleType(), T.StringType(), T.BooleanType()
    columns = {
        "doc_id": (long, {"ge": 0}), "document": (text, {}), "start": (long, {"ge": 0}), "end": (long, {"ge": 0}),
        "text": (text, {"str_length": {"min_value": 1}}), "value": (double, {"nullable": True}),
        "unit": (text, {"nullable": True}), "surface_unit": (text, {"nullable": True}),
        "approx": (text, {"nullable": True}), "kind": (text, {"isin": list(KINDS)}),
        "dimension": (text, {"nullable": True}), "entity": (text, {"nullable": True}),
        "year": (long, {"nullable": True, "ge": 1900, "le": 2100}), "label": (text, {"nullable": True}),
        "metric": (text, {"nullable": True}), "placeholder": (boolean, {}),
        "range_low": (double, {"nullable": True}), "range_high": (double, {"nullable": True}),
        "article": (long, {"nullable": True, "ge": 0}), "line": (long, {"ge": 1}),
        "norm_start": (long, {"ge": 0}), "norm_end": (long, {"ge": 0}),
    }

    def span_is_ordered(cls, df) -> bool:
        return df.filter(F.col("end") <= F.col("start")).limit(1).count() == 0

    def placeholder_has_no_value(cls, df) -> bool:
        """An unfilled placeholder (X万元) must not carry a made-up value."""
        return df.filter(F.col("placeholder") & F.col("value").isNotNull()).limit(1).count() == 0

    class Config:
        strict = True

    namespace: dict[str, Any] = {name: pa.Field(**kwargs) for name, (_, kwargs) in columns.items()}
    namespace.update({
        "__annotations__": {name: dtype for name, (dtype, _) in columns.items()}, "__module__": __name__,
        "span_is_ordered": pa.dataframe_check(span_is_ordered),
        "placeholder_has_no_value": pa.dataframe_check(placeholder_has_no_value), "Config": Config,
    })
    return type("MetricsSparkTable", (pa.DataFrameModel,), namespace)


def check_metrics(metrics: "DataFrame") -> None:
    """Validate the metrics frame with pandera's PySpark backend; a failure is one AuditorError line."""
    checked = metrics_schema().validate(check_obj=metrics)
    errors = checked.pandera.errors
    if errors:
        problems = []
        for kinds in dict(errors).values():
            for items in dict(kinds).values():
                problems.extend(f"{e.get('column')}: {e.get('check')}" for e in items)
        raise AuditorError(f"the metrics table does not fit its schema (pandera): {'; '.join(problems[:5])}")


def _pandera_pyspark_importable() -> None:
    """pandera's PySpark backend imports ``pyspark.pandas`` for type names only; under pandas 3,
    pyspark.pandas does not import (pyspark 4.x). Then a placeholder module stands in for it, so
    the pyspark.sql backend works; the engine itself never uses pyspark.pandas."""
    try:
        import pyspark.pandas  # noqa: F401
        return
    except ImportError:
        pass
    if getattr(sys.modules.get("pyspark.pandas"), "__auditor_placeholder__", False):
        return
    stub = types.ModuleType("pyspark.pandas")
    stub.__auditor_placeholder__ = True
    stub.__path__ = []
    for name in ("DataFrame", "Series", "Index", "MultiIndex"):
        setattr(stub, name, type(name, (), {"__module__": "pyspark.pandas"}))
    extensions = types.ModuleType("pyspark.pandas.extensions")
    for name in ("register_dataframe_accessor", "register_series_accessor", "register_index_accessor"):
        setattr(extensions, name, lambda _name: (lambda cls: cls))
    stub.extensions = extensions
    sys.modules["pyspark.pandas"] = stub
    sys.modules["pyspark.pandas.extensions"] = extensions
    typing_module = sys.modules.get("pandera.typing.pyspark")
    if typing_module is not None and not hasattr(typing_module, "DataFrame"):
        import importlib

        importlib.reload(typing_module)  # imported earlier (by pandera.pandas) without the names


# ---------------------------------------------------------------- year over year as a grouped map

_SERIES = ("entity", "metric", "unit")  # what yoy compares across years (yoy.unit_key)
_YOY_BATCH_ROWS = 8192  # metric rows per Arrow batch when they become observations (small rows, one pass)


@functools.lru_cache(maxsize=1)
def _yoy_schemas():
    """(observation rows, found rows) as Arrow schemas; `_ddl` gives Spark the same types. An
    observation row is a yoy.Observation with the figure's dimension (what ``yoy.compared``
    filters on) and where it is from: an audited metric (doc_id, ordinal) or, for a history
    store's figures, the rule that reads it and its number among the driver's archived
    observations. A found row is a Change or a Copy with its observations by reference."""
    import pyarrow as pa

    i64, f64, text = pa.int64(), pa.float64(), pa.string()
    observation = pa.schema([("entity", text), ("metric", text), ("unit", text), ("year", i64), ("value", f64),
                             ("approx", text), ("low", f64), ("high", f64), ("dimension", text), ("doc_id", i64),
                             ("ordinal", i64), ("rule", text), ("archive", i64)])
    ref = pa.struct([("doc_id", i64), ("ordinal", i64), ("archive", i64), ("year", i64), ("value", f64)])
    found = pa.schema([("rule", text), ("kind", text), ("current", ref), ("previous", pa.list_(ref)),
                       ("ratio", f64), ("band_low", f64), ("band_high", f64), ("strategy", text), ("gap", i64),
                       ("baseline", f64), ("baseline_years", pa.list_(i64)),
                       ("history", pa.list_(pa.struct([("year", i64), ("value", f64)])))])
    return observation, found


class _Ref(NamedTuple):
    """Where an observation compared in an executor comes from: an audited figure (doc_id and its
    ordinal among the document's metrics) or the driver's archived observation number `archive`."""

    doc_id: int | None
    ordinal: int | None
    archive: int | None


def yoy_findings(spark: "SparkSession", docs: "DataFrame", rules: Sequence["Rule"], ctx: "AuditContext",
                 views: dict[int, Any]) -> list[Finding]:
    """The yoy rules' findings, computed where the metrics are: the executors turn metric rows
    into observations (``yoy.observations``), Spark groups them by series, and each group runs
    ``yoy.compare`` for every rule; only what was found comes back, as compact rows, and is
    rendered here by ``yoy.report`` against the views (`views` by doc_id, `ctx` over them), so
    the findings are the local engine's. With a history store the archived figures are read here
    (the store is a file on the driver, one batched query per rule as in the local engine) and
    join the groups as observation rows tagged with their rule."""
    from pyspark.sql import functions as F

    observation_schema, found_schema = _yoy_schemas()
    batch_rows = "spark.sql.execution.arrow.maxRecordsPerBatch"
    previous = spark.conf.get(batch_rows, None)
    spark.conf.set(batch_rows, str(_YOY_BATCH_ROWS))
    audited = None
    archive: list = []
    try:
        metrics = docs.select("doc_id", F.explode("metrics").alias("m")).select("doc_id", "m.*")
        # Rows without these can never be observations (yoy.observations skips them): not sent to Python.
        metrics = metrics.where(F.col("entity").isNotNull() & F.col("metric").isNotNull() & F.col("year").isNotNull()
                                & F.col("value").isNotNull() & ~F.col("placeholder"))
        audited = observed = metrics.mapInArrow(_observe_batches, _ddl(observation_schema))
        if ctx.history is not None:
            audited = observed = audited.persist()  # read twice: the archive's query, then the groups
            rows = _archived_rows(audited, rules, ctx, archive)
            if rows:
                observed = audited.unionByName(spark.createDataFrame(rows, _ddl(observation_schema)))
        found = observed.groupBy(*_SERIES).applyInArrow(_series_comparer(list(rules)), _ddl(found_schema))
        rows = _to_arrow(found).to_pylist()
    finally:
        if previous is None:
            spark.conf.unset(batch_rows)
        else:
            spark.conf.set(batch_rows, previous)
        if audited is not None and ctx.history is not None:
            audited.unpersist()
    return _render_yoy(rows, rules, ctx, views, archive)


def _observe_batches(batches: Iterator) -> Iterator:
    """mapInArrow: metric rows (doc_id, ordinal, the metrics table's fields) → observation rows,
    through ``yoy.observations`` on the rebuilt Metric: the unit key and bounds the local engine
    computes."""
    import pyarrow as pa

    from ..rules.kinds import yoy

    schema = _yoy_schemas()[0]
    for batch in batches:
        rows = []
        for r in batch.to_pylist():
            metric = local.metric_from_record(r)
            rows.extend(_observation_row(o, dimension=metric.dimension, doc_id=r["doc_id"], ordinal=r["ordinal"])
                        for o in yoy.observations([metric]))
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


def _observation_row(o, *, dimension: str | None = None, doc_id: int | None = None, ordinal: int | None = None,
                     rule: str | None = None, archive: int | None = None) -> dict:
    return {"entity": o.entity, "metric": o.metric, "unit": o.unit, "year": o.year, "value": o.value,
            "approx": o.approx, "low": o.low, "high": o.high, "dimension": dimension, "doc_id": doc_id,
            "ordinal": ordinal, "rule": rule, "archive": archive}


def _archived_rows(observed: "DataFrame", rules: Sequence["Rule"], ctx: "AuditContext", archive: list) -> list[dict]:
    """Observation rows for the archived figures each rule reads (``yoy.archived``, the local
    engine's query: the rule's series and the span of its audited years), tagged with the rule;
    the observations themselves are appended to `archive`, which the rows number."""
    from pyspark.sql import functions as F

    from ..rules.kinds import yoy

    spans = (observed.groupBy("entity", "metric", "dimension")
             .agg(F.min("year").alias("first"), F.max("year").alias("last")).collect())
    rows = []
    for rule in rules:
        mine = [s for s in spans if yoy.compared(rule.params, s.metric, s.dimension)]
        if not mine:
            continue
        years = (min(s.first for s in mine), max(s.last for s in mine))
        for o in yoy.archived(rule.params, ctx, {(s.entity, s.metric) for s in mine}, years):
            rows.append(_observation_row(o, rule=rule.id, archive=len(archive)))
            archive.append(o)
    return rows


def _series_comparer(rules: list["Rule"]) -> Callable:
    """The grouped map's function, `_compare_series` for these rules. A closure with no type
    hints: pyspark reads the hints of an applyInArrow function to choose its form (table or
    batches) and cannot read them through a partial."""

    def compare(table):
        return _compare_series(table, rules)

    return compare


def _compare_series(table: "pa.Table", rules: Sequence["Rule"]) -> "pa.Table":
    """applyInArrow: the observations of one (entity, metric, unit) series → a compact row for
    each figure a yoy rule finds in it (``yoy.compare``). Each rule compares the audited figures
    it selects (``yoy.compared``) and its own archived ones, in the local engine's order (audit
    order, then the archive's), which decides ties between equally near figures."""
    import pyarrow as pa

    from ..rules.kinds import yoy

    rows = sorted(table.to_pylist(), key=lambda r: (r["archive"] is not None, r["archive"] or 0, r["doc_id"] or 0,
                                                    r["ordinal"] or 0))
    out = []
    for rule in rules:
        obs = [_observation(r) for r in rows if _read_by(rule, r)]
        out.extend(_found_row(rule.id, item) for item in yoy.compare(rule.params, obs)
                   if item.current.source.archive is None)  # an archived figure is context, never a finding
    return pa.Table.from_pylist(out, schema=_yoy_schemas()[1])


def _read_by(rule: "Rule", row: dict) -> bool:
    """Whether `rule` compares this observation row: an audited figure it selects, or an archived
    figure read for it."""
    from ..rules.kinds import yoy

    if row["rule"] is not None:
        return row["rule"] == rule.id
    return yoy.compared(rule.params, row["metric"], row["dimension"])


def _observation(row: dict):
    from ..rules.kinds.yoy import Observation

    return Observation(row["entity"], row["metric"], row["year"], row["value"], row["unit"], row["approx"],
                       _Ref(row["doc_id"], row["ordinal"], row["archive"]), row["low"], row["high"])


def _found_row(rule_id: str, item) -> dict:
    """A Change or Copy as a row: the compared observations by reference, and the band."""
    from ..rules.kinds.yoy import Change

    def ref(o) -> dict:
        return {**o.source._asdict(), "year": o.year, "value": o.value}

    if isinstance(item, Change):
        return {"rule": rule_id, "kind": "change", "current": ref(item.current), "previous": [ref(item.previous)],
                "ratio": item.ratio, "band_low": item.band[0], "band_high": item.band[1], "strategy": item.strategy,
                "gap": item.gap, "baseline": item.baseline, "baseline_years": list(item.baseline_years),
                "history": [{"year": y, "value": v} for y, v in item.history]}
    return {"rule": rule_id, "kind": "copy", "current": ref(item.current), "previous": [ref(p) for p in item.previous]}


def _render_yoy(rows: list[dict], rules: Sequence["Rule"], ctx: "AuditContext", views: dict[int, Any],
                archive: list) -> list[Finding]:
    """The compact rows as Changes and Copies of the driver's observations (the views' Metrics,
    the archived places), rendered by ``yoy.report``."""
    from ..rules.kinds import yoy

    def observation(ref: dict):
        if ref["archive"] is not None:
            return archive[ref["archive"]]
        (o,) = yoy.observations([views[ref["doc_id"]].metrics[ref["ordinal"]]])
        return o

    def item(row: dict):
        current, previous = observation(row["current"]), [observation(p) for p in row["previous"]]
        if row["kind"] == "copy":
            return yoy.Copy(current, tuple(previous))
        return yoy.Change(current, previous[0], row["ratio"], (row["band_low"], row["band_high"]), row["strategy"],
                          row["gap"], row["baseline"], tuple(row["baseline_years"]),
                          tuple((h["year"], h["value"]) for h in row["history"]))

    rows = sorted(rows, key=lambda r: (r["current"]["doc_id"], r["current"]["ordinal"]))
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(yoy.report(rule, ctx, [item(r) for r in rows if r["rule"] == rule.id]))
    return findings


# ---------------------------------------------------------------- the audit

def run_spark_audit(paths: Sequence[str], config: "Config", *, master: str | None = None, remote: str | None = None,
                    output_dir: str | os.PathLike | None = None, spark: "SparkSession | None" = None, history=None,
                    baseline: str | None = None, stats: dict | None = None) -> "AuditResult":
    """``run_audit`` on Spark (see the module docstring). `history` as in run_audit: None opens the
    configured store when its file exists, False means none. `stats` (a dict) receives counts and
    stage times."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from ..audit import AuditResult, apply_suppressions, load_selected_rules
    from ..rules.context import AuditContext
    from ..rules.engine import run_rules

    started = time.perf_counter()
    times: dict[str, float] = {}
    rule_set, rules = load_selected_rules(config)
    view_rules, corpus_rules = local.split_corpus_rules(local.split_rules(rules)[1])
    baselined = _baseline(baseline)
    own_session = spark is None and remote is None and _active_session() is None
    spark = spark or spark_session(master, remote)
    store, opened = _history(config, history)
    try:
        inputs = list_inputs(paths, config, spark)
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(_BATCH_ROWS))
        analyse = functools.partial(_analyse_batches, rules=list(rules), year=config.year, max_bytes=config.max_bytes,
                                    lang=config.lang, regex_timeout=config.regex_timeout,
                                    with_history=store is not None)
        docs = _input_frame(spark, inputs).mapInArrow(analyse, _ddl(_arrow_types())).persist(
            StorageLevel.MEMORY_AND_DISK)
        metrics = None
        try:
            mark = time.perf_counter()
            _raise_first_error(docs)
            times["analyse_s"] = time.perf_counter() - mark

            mark = time.perf_counter()
            metrics = (docs.select("doc_id", F.explode("metrics").alias("m")).select("doc_id", "m.*")
                       .drop("ordinal").persist(StorageLevel.MEMORY_AND_DISK))
            check_metrics(metrics)
            times["schema_s"] = time.perf_counter() - mark

            mark = time.perf_counter()
            linked = _linked(spark, docs)
            times["link_s"] = time.perf_counter() - mark

            mark = time.perf_counter()
            corpus = []
            if linked and corpus_rules:
                analysed = _analysed(spark, docs, linked)
                ctx = AuditContext(analysed, lang=config.lang, regex_timeout=config.regex_timeout, history=store)
                corpus = run_rules(corpus_rules, ctx)
            times["corpus_rules_s"] = time.perf_counter() - mark

            mark = time.perf_counter()
            # spill_above counts bytes of input: a character of Chinese is three of UTF-8
            by_id, executor_findings = _collect(spark, docs, linked, config.spill_above // 3)
            views = list(by_id.values())
            times["collect_s"] = time.perf_counter() - mark

            mark = time.perf_counter()
            ctx = AuditContext(views, lang=config.lang, regex_timeout=config.regex_timeout, history=store)
            yoy_rules = [r for r in view_rules if r.kind == "yoy"]
            if yoy_rules:  # year-over-year: a grouped map over the metrics' series, rendered here
                corpus += yoy_findings(spark, docs, yoy_rules, ctx, by_id)
            others = [r for r in view_rules if r.kind != "yoy"]
            if others:  # a metrics-only kind without a distributed plan, should one appear
                corpus += run_rules(others, ctx)
            times["yoy_s"] = time.perf_counter() - mark
            findings = apply_suppressions(views, local.merge_findings(executor_findings, corpus), baselined)

            if output_dir is not None:
                mark = time.perf_counter()
                run = local.run_record(rule_set, rules, config.lang, time.perf_counter() - started)
                _write(spark, docs, metrics, findings, run, output_dir)
                times["write_s"] = time.perf_counter() - mark
        finally:
            docs.unpersist()
            if metrics is not None:
                metrics.unpersist()
    finally:
        if opened:
            store.close()
        if own_session:
            spark.stop()
    if stats is not None:
        stats.update({"documents": len(inputs), "linked": len(linked), **{k: round(v, 3) for k, v in times.items()}})
    return AuditResult(tuple(views), tuple(findings), rule_set, tuple(rules), time.perf_counter() - started,
                       config.lang)


def _active_session():
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def _baseline(path: str | None):
    if path is None:
        return None
    from ..baseline import load_baseline

    return load_baseline(path)


def _history(config: "Config", history) -> tuple[Any, bool]:
    """(store, opened here), as run_audit decides it."""
    if history is False:
        return None, False
    if history is not None:
        return history, False
    try:
        from ..history import open_for_audit
    except ImportError:  # pragma: no cover - no history module
        return None, False
    store = open_for_audit(config)
    return store, store is not None


def _raise_first_error(docs: "DataFrame") -> None:
    """As in one process: the first unreadable file (in audit order), else a rule that failed."""
    from pyspark.sql import functions as F

    errors = docs.where(F.col("error").isNotNull()).select("doc_id", "error").orderBy("doc_id").collect()
    if not errors:
        return
    inputs = [r.error for r in errors if json.loads(r.error)["kind"] == "input"]
    _raise_json(inputs[0] if inputs else errors[0].error)


def _linked(spark: "SparkSession", docs: "DataFrame") -> list[int]:
    """Documents sharing a key with another document for some corpus-wide rule (see
    ``local.link_keys``): a group-by on the keys and a semi-join back to the documents."""
    from pyspark.sql import functions as F

    links = docs.select("doc_id", F.explode("links").alias("l")).select("doc_id", "l.*")
    # "Two documents" and "two years" as lowest != highest, not countDistinct: Spark plans two
    # distinct counts as an Expand that copies every link row per count and shuffles it twice
    # (2.7M rows at 20 MB: 28-34 s; with min/max 12-16 s). min and max skip nulls as
    # countDistinct does: a group with no year never has "two years".
    groups = links.groupBy("rule", "key").agg(
        F.min("doc_id").alias("first_doc"), F.max("doc_id").alias("last_doc"),
        F.max(F.col("flag").cast("int")).alias("flagged"),
        F.min("year").alias("first_year"), F.max("year").alias("last_year"), F.first("how").alias("how"))
    shared = groups.where((F.col("first_doc") != F.col("last_doc")) & (
        ((F.col("how") == "any") & (F.col("flagged") == 1))
        | ((F.col("how") == "years") & (F.col("first_year") != F.col("last_year")))))
    rows = links.join(shared.select("rule", "key"), ["rule", "key"], "left_semi").select("doc_id").distinct()
    return sorted(r.doc_id for r in rows.collect())


def _analysed(spark: "SparkSession", docs: "DataFrame", linked: list[int]) -> list:
    """The linked documents as the executors analysed them, unpickled on the driver, in order."""
    from pyspark.sql import functions as F

    ids = spark.createDataFrame([(i,) for i in linked], "doc_id long")
    table = _to_arrow(docs.join(F.broadcast(ids), "doc_id").select("doc_id", "blob"))
    pairs = sorted(zip(table.column("doc_id").to_pylist(), table.column("blob").to_pylist()))
    return [pickle.loads(blob) for _, blob in pairs]


def _collect(spark: "SparkSession", docs: "DataFrame", linked: list[int], held_chars: int
             ) -> tuple[dict[int, Any], list]:
    """The documents as views (text, metrics, articles) by doc_id, in audit order, kept on disk
    past `held_chars` characters of text, and the executors' findings that stand: every
    per-document finding, and corpus-wide findings of documents that are not linked."""
    from pyspark.sql import functions as F

    from .spill import Spill, held_or_spilled

    table = _to_arrow(docs.select(*local.DOCUMENT_COLUMNS, "metrics").orderBy("doc_id"))
    ids = table.column("doc_id").to_pylist()
    kept = held_or_spilled(_views_of(table), held_chars, Spill)
    del table
    views = dict(zip(ids, kept))
    found = docs.select("doc_id", F.explode("findings").alias("f")).select("doc_id", "f.*")
    if linked:
        ids = spark.createDataFrame([(i,) for i in linked], "doc_id long")
        corpus_kept = found.where(F.col("scope") == "corpus").join(F.broadcast(ids), "doc_id", "left_anti")
        found = found.where(F.col("scope") == "document").unionByName(corpus_kept)
    rows = _to_arrow(found.select(*local.FINDING_COLUMNS)).to_pylist()
    return views, [local.finding_from_record(r) for r in rows]


def _views_of(table) -> Iterator[Any]:
    """A view per row of the collected documents; a few rows made into Python objects at a time."""
    for batch in table.to_batches(max_chunksize=64):
        for row in batch.to_pylist():
            metrics = [local.metric_from_record(m) for m in sorted(row["metrics"], key=lambda m: m["ordinal"])]
            yield local.view_from_records(row, metrics)


def _to_arrow(frame: "DataFrame"):
    if hasattr(frame, "toArrow"):
        return frame.toArrow()
    import pyarrow as pa  # pragma: no cover - pyspark < 4

    return pa.Table.from_pandas(frame.toPandas())  # pragma: no cover


def _write(spark: "SparkSession", docs: "DataFrame", metrics: "DataFrame", findings: list, run: dict,
           output_dir: str | os.PathLike) -> None:
    """documents/, metrics/, findings/ and run/ as Parquet (the local engine's layout), all or
    nothing (a temporary folder renamed into place; on HDFS/S3 through Hadoop's FileSystem rename)."""
    target = str(output_dir)
    schemas = local.arrow_schemas()
    finding_frame = spark.createDataFrame([local.finding_record(f) for f in findings] or [],
                                          _ddl(schemas["findings"]))
    run_frame = spark.createDataFrame([run], _ddl(schemas["run"]))

    def write_all(base: str) -> None:
        docs.select(*local.DOCUMENT_COLUMNS).orderBy("doc_id").write.parquet(f"{base}/documents")
        metrics.write.parquet(f"{base}/metrics")
        finding_frame.coalesce(1).write.parquet(f"{base}/findings")
        run_frame.coalesce(1).write.parquet(f"{base}/run")

    if "://" not in target:
        with local.staged_folder(target) as tmp:
            write_all(tmp.resolve().as_uri())
        return
    _write_remote(spark, target, write_all)  # pragma: no cover - needs a cluster file system


def _write_remote(spark: "SparkSession", target: str, write_all) -> None:  # pragma: no cover
    import uuid

    tmp = f"{target.rstrip('/')}.{uuid.uuid4().hex[:8]}.part"
    try:
        jvm = spark._jvm  # classic Spark only
        hadoop = spark._jsc.hadoopConfiguration()
    except Exception:
        write_all(target)  # Spark Connect: no rename from here; Spark's own commit protocol per table
        return
    fs_path = jvm.org.apache.hadoop.fs.Path
    fs = fs_path(target).getFileSystem(hadoop)
    try:
        write_all(tmp)
        if fs.exists(fs_path(target)):
            fs.delete(fs_path(target), True)
        if not fs.rename(fs_path(tmp), fs_path(target)):
            raise AuditorError(f"cannot move the finished tables into place at {target}")
    except BaseException:
        fs.delete(fs_path(tmp), True)
        raise
