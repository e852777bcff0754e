"""The history store: published pages in an embedded DuckDB file, for year-over-year checks and
copies of earlier text.

Tables (schema version 5):

    meta         key/value: schema_version, MinHash parameters of the band keys, rows appended
                 to each key-sorted table since it was last sorted
    documents    one row per page: path, abspath, sha256, encoding, publication year and date, text
    articles     (doc_id, article): entity, year, title, original span
    metrics      the metrics table (auditor.metrics.TABLE_FIELDS) with doc_id and series (the
                 hash of entity and metric: what year-over-year looks up); sorted by series
    clauses      clause fingerprints in page order: ordinal, sentence, paragraph, article, role,
                 span, hash, chars (to follow a run of copied clauses)
    clause_keys  (hash, doc_id, ordinal) of the clauses a copy could start from (8+ letters and
                 digits; every clause of a page migrated from version 3); sorted by hash
    sentences    sentence fingerprints in page order, the same columns as clauses
    bands        MinHash LSH band keys (32 bits) of the sentences with 20+ letters and digits,
                 once per page and key; sorted by band_key
    sentence_keys  (hash, doc_id, sentence) of the sentences that have band keys; sorted by hash.
                 A sentence printed before word for word is no near copy: the near-copy lookup
                 asks the band keys only of the sentences not found here, which at a fraction of
                 a millisecond per band key cold is most of its cost

How an audit looks up: literal IN-lists of the page's keys against tables sorted by that key, so
DuckDB's zone maps (min/max per row group) skip every row group that cannot hold one of them and
the cost follows the page, not the archive. Each batch is appended sorted; when the rows appended
since the last full sort reach an eighth of a table, the batch's transaction rewrites it sorted
(`_CLUSTERED`). Row groups are 16384 rows (`_ROW_GROUP`), so a key reads little beside itself.
Version 3 used ART indexes instead: at 10^5 pages they took 3 GB, as much again of free blocks
from rewriting them at each checkpoint, and 0.3-0.7 ms a key when cold.

Writes: one transaction per batch, whole DataFrames appended (DuckDB is slow row by row). A page is
identified by its content (sha256) and by its absolute path: the same bytes again add nothing, new
bytes at a known path replace that page. DuckDB lets one process write a file: a second writer
waits up to `wait` seconds for the lock, then fails with one line naming the store and the PID
holding it. Readers see whole batches or nothing (snapshot isolation; a killed writer's open
transaction is never replayed).

Migrations are the schema's history: a new store runs every step, an old one the steps it lacks,
so a store made by an older release opens in a newer one.

duckdb, pandas and numpy are imported inside the functions that use them: importing this module
costs nothing, so `auditor --help` stays instant.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections import Counter
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from ..errors import AuditorError
from ..metrics import TABLE_FIELDS, Metric
from .fingerprints import DEFAULT_MINHASH, MinHashParams

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd

    from ..pipeline import AnalysedDocument

DEFAULT_PATH = Path(".auditor") / "history.duckdb"
SCHEMA_VERSION = 5
DEFAULT_WAIT = 10.0  # seconds a writer waits for another process's lock
TABLES = ("documents", "articles", "metrics", "clauses", "clause_keys", "sentences", "bands", "sentence_keys")
# Tables kept sorted by a key (zone maps answer the audit's lookups) and that key.
_CLUSTERED = {"metrics": "series", "clause_keys": "hash", "bands": "band_key", "sentence_keys": "hash"}
# A table is sorted again when 1/_UNSORTED_SHARE of its rows was appended since it last was: each
# later batch is a sorted run of its own, looked up again for every key.
_UNSORTED_SHARE = 8
_MIN_UNSORTED = 1 << 17  # below this a scan of the unsorted rows costs nothing
# Clauses whose comparison form is shorter never start a copy: a rule's min_chars (8 or more)
# counts content characters, and a clause has at least as many letters and digits.
KEY_MIN_CHARS = 8


class HistoryError(AuditorError):
    """The history store cannot be opened, read or written."""


class HistoryBusyError(HistoryError):
    """Another process holds the store's lock (DuckDB allows one writing process)."""


# ---------------------------------------------------------------- schema and migrations

_V1 = """
CREATE TABLE meta (key VARCHAR NOT NULL, value VARCHAR);
CREATE TABLE documents (doc_id INTEGER NOT NULL, path VARCHAR NOT NULL, abspath VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL, encoding VARCHAR, format VARCHAR, size BIGINT, publication_year INTEGER,
    publication_year_source VARCHAR, added_at TIMESTAMP, text VARCHAR);
CREATE TABLE articles (doc_id INTEGER NOT NULL, article INTEGER, entity VARCHAR, year INTEGER,
    year_source VARCHAR, title VARCHAR, start INTEGER, "end" INTEGER);
CREATE TABLE metrics (doc_id INTEGER NOT NULL, document VARCHAR, start INTEGER, "end" INTEGER, text VARCHAR,
    value DOUBLE, unit VARCHAR, surface_unit VARCHAR, approx VARCHAR, kind VARCHAR, dimension VARCHAR,
    entity VARCHAR, year INTEGER, label VARCHAR, metric VARCHAR, placeholder BOOLEAN, range_low DOUBLE,
    range_high DOUBLE, article INTEGER, line INTEGER, norm_start INTEGER, norm_end INTEGER);
CREATE TABLE clauses (doc_id INTEGER NOT NULL, ordinal INTEGER, sentence INTEGER, paragraph INTEGER,
    article INTEGER, role VARCHAR, start INTEGER, "end" INTEGER, hash BIGINT, chars INTEGER);
CREATE TABLE sentences (doc_id INTEGER NOT NULL, ordinal INTEGER, sentence INTEGER, paragraph INTEGER,
    article INTEGER, role VARCHAR, start INTEGER, "end" INTEGER, hash BIGINT, chars INTEGER);
"""

_V2 = """
ALTER TABLE documents ADD COLUMN publication_date DATE;
ALTER TABLE metrics ADD COLUMN series BIGINT;
CREATE TABLE bands (doc_id INTEGER NOT NULL, sentence INTEGER, band_key BIGINT);
"""
_V3 = """
CREATE INDEX clauses_hash ON clauses (hash);
CREATE INDEX metrics_series ON metrics (series);
CREATE INDEX documents_id ON documents (doc_id);
"""
# Version 3 indexed the lookups. An audit looks up a few hundred clause hashes and a few dozen
# (organisation, metric) series among 10^7-10^8 rows; version 4 answers them from key-sorted
# tables instead (see the module docstring) and keeps only the small index on documents.doc_id:
# an index scan fetches single rows, so a page's text is read alone, not with the 2047 others of
# its vector.
_V4 = """
DROP INDEX clauses_hash;
DROP INDEX metrics_series;
CREATE TABLE clause_keys (hash BIGINT NOT NULL, doc_id INTEGER NOT NULL, ordinal INTEGER NOT NULL);
DROP TABLE bands;
CREATE TABLE bands (band_key INTEGER NOT NULL, doc_id INTEGER NOT NULL, sentence INTEGER NOT NULL);
"""
_V5 = """
CREATE TABLE sentence_keys (hash BIGINT NOT NULL, doc_id INTEGER NOT NULL, sentence INTEGER NOT NULL);
"""


def _in_key_order(table: str, frame: "pd.DataFrame") -> "pd.DataFrame":
    """A batch of a key-sorted table, sorted: appended, it is a sorted run zone maps can skip."""
    key = _CLUSTERED.get(table)
    return frame if key is None else frame.sort_values([key, "doc_id"], na_position="last", kind="stable")


def _keep_sorted(con, appended: dict[str, int]) -> None:
    """Sort a key-sorted table again when a quarter of its rows came after its last sort (small
    runs of many small batches share row groups, whose zone maps then span every key)."""
    for table in _CLUSTERED:
        if not appended.get(table):
            continue
        meta = f"unsorted.{table}"
        rows = con.execute("SELECT value FROM meta WHERE key = ?", [meta]).fetchall()
        unsorted = int(rows[0][0] if rows else 0) + appended[table]
        total = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        if total == appended[table]:  # the batch is the whole table: appended sorted, it is sorted
            _set_meta(con, {meta: "0"})
        elif unsorted >= max(_MIN_UNSORTED, total // _UNSORTED_SHARE):
            _sort_table(con, table)
        else:
            _set_meta(con, {meta: str(unsorted)})


def _sort_table(con, table: str) -> None:
    """Rewrite a table in the order of its key (in the caller's transaction)."""
    key = _CLUSTERED[table]
    required = [r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                                          "AND NOT is_nullable", [table]).fetchall()]
    con.execute(f"CREATE TABLE _sorting AS SELECT * FROM {table} ORDER BY {key} NULLS LAST, doc_id")
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE _sorting RENAME TO {table}")
    for column in required:
        con.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET NOT NULL')
    _set_meta(con, {f"unsorted.{table}": "0"})


def _migrate_to_1(con: "duckdb.DuckDBPyConnection") -> None:
    _run_script(con, _V1)


def _migrate_to_2(con: "duckdb.DuckDBPyConnection") -> None:
    """Version 2 added the band keys table, the series key and the publication date. Pages stored
    by version 1 get the series and date from their stored text; version 4 makes their band keys."""
    _run_script(con, _V2)
    _backfill_v2(con)


def _migrate_to_3(con: "duckdb.DuckDBPyConnection") -> None:
    """Version 3 indexed the lookups an audit makes (its own step: DuckDB builds no index in a
    transaction that has just updated the table)."""
    _run_script(con, _V3)


def _migrate_to_4(con: "duckdb.DuckDBPyConnection") -> None:
    """Version 4 traded the ART indexes for key-sorted tables, kept clause hashes a copy can start
    from in their own narrow table, and made band keys again with fewer bands (8 of 3 rows), 32
    bits and only for sentences long enough beside their figures (from the stored text: nothing
    has to be ingested again)."""
    _run_script(con, _V4)
    # Version 3 kept no key length (its `chars` is content_len): every stored clause is keyed.
    con.execute("INSERT INTO clause_keys SELECT hash, doc_id, ordinal FROM clauses WHERE hash IS NOT NULL "
                "ORDER BY hash, doc_id")
    _set_meta(con, DEFAULT_MINHASH.as_meta())
    _backfill_bands(con, DEFAULT_MINHASH)
    for table in ("metrics", "clause_keys", "bands"):
        _sort_table(con, table)


def _migrate_to_5(con: "duckdb.DuckDBPyConnection") -> None:
    """Version 5 keys the sentences that have band keys by their hash, from the stored rows."""
    _run_script(con, _V5)
    con.execute("""INSERT INTO sentence_keys
                   SELECT s.hash, s.doc_id, s.ordinal FROM sentences s
                   SEMI JOIN (SELECT DISTINCT doc_id, sentence FROM bands) b
                        ON s.doc_id = b.doc_id AND s.ordinal = b.sentence
                   WHERE s.hash IS NOT NULL ORDER BY s.hash, s.doc_id""")
    _set_meta(con, {"unsorted.sentence_keys": "0"})


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    apply: Callable[["duckdb.DuckDBPyConnection"], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "documents, articles, metrics, clause and sentence hashes", _migrate_to_1),
    Migration(2, "publication date and series key (from the stored text), a band keys table", _migrate_to_2),
    Migration(3, "indexes for the lookups of an audit (clause hash, series, doc id)", _migrate_to_3),
    Migration(4, "key-sorted lookups in place of indexes, clause keys, 32-bit band keys of 8 bands", _migrate_to_4),
    Migration(5, "sentence keys: near-copy lookups skip sentences printed word for word", _migrate_to_5),
)


def _run_script(con, script: str) -> None:
    for statement in (s.strip() for s in script.split(";")):
        if statement:
            con.execute(statement)


def _set_meta(con, values: dict[str, str]) -> None:
    for key, value in values.items():
        con.execute("DELETE FROM meta WHERE key = ?", [key])
        con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


def schema_version(con) -> int:
    """0 for an empty database; -1 for a DuckDB file that is not a history store."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not tables:
        return 0
    if "meta" not in tables:
        return -1
    rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return int(rows[0][0]) if rows else -1


def migrate(con, target: int = SCHEMA_VERSION) -> list[int]:
    """Bring the database to `target`, one transaction per step (a step and its version number
    commit together, so an interrupted migration resumes where it stopped); returns the versions
    applied."""
    current = schema_version(con)
    applied = []
    for step in MIGRATIONS:
        if not current < step.version <= target:
            continue
        con.begin()
        try:
            step.apply(con)
            _set_meta(con, {"schema_version": str(step.version)})
            con.commit()
        except BaseException:
            _rollback(con)
            raise
        applied.append(step.version)
    return applied


def _backfill_v2(con) -> None:
    import pandas as pd

    from ..documents.normalise import normalise

    pairs = con.execute("SELECT DISTINCT entity, metric FROM metrics WHERE entity IS NOT NULL "
                        "AND metric IS NOT NULL").fetchall()
    if pairs:
        con.register("_series", pd.DataFrame([(e, m, series_key(e, m)) for e, m in pairs],
                                             columns=["entity", "metric", "series"]))
        con.execute("UPDATE metrics SET series = s.series FROM _series s "
                    "WHERE metrics.entity = s.entity AND metrics.metric = s.metric")
        con.unregister("_series")
    for doc_id, text in con.execute("SELECT doc_id, text FROM documents").fetchall():
        date = publication_date(normalise(text).text) if text else None
        if date is not None:
            con.execute("UPDATE documents SET publication_date = ? WHERE doc_id = ?", [date, doc_id])


def _backfill_bands(con, params: MinHashParams, pages: int = 500) -> None:
    """Band keys of every stored page, made from its stored text and sentence spans as a fresh
    ingest makes them (a few hundred pages at a time: memory holds rows, not the archive)."""
    from ..documents.normalise import normalise
    from .fingerprints import UnitRow, band_cores

    ids = [r[0] for r in con.execute("SELECT doc_id FROM documents ORDER BY doc_id").fetchall()]
    for i in range(0, len(ids), pages):
        chunk = _ints(ids[i:i + pages])
        texts = dict(con.execute(f"SELECT doc_id, text FROM documents WHERE doc_id IN ({chunk})").fetchall())
        rows = con.execute(f'SELECT doc_id, ordinal, start, "end", chars FROM sentences WHERE doc_id IN ({chunk}) '
                           f'AND "end" - start >= {params.min_chars} ORDER BY doc_id, ordinal').fetchall()
        units = []  # (a span shorter in the original never folds to min_chars letters and digits)
        for doc_id, ordinal, start, end, chars in rows:
            core = _fold(normalise((texts.get(doc_id) or "")[start:end]).text)
            units.append((doc_id, UnitRow(ordinal, ordinal, 0, None, "", start, end, 0, chars or 0, core)))
        kept = set(map(id, band_cores([u for _, u in units], params)))
        chosen = [(d, u) for d, u in units if id(u) in kept]
        frame = _band_frame([d for d, _ in chosen], [u for _, u in chosen], params)
        if len(frame):
            _append(con, "bands", frame)


def _fold(text: str) -> str:
    from ..rules.kinds.duplicate import fold_key

    return fold_key(text)


# ---------------------------------------------------------------- what goes in

_PAGE_DATE = re.compile(r"((?:19|20)[0-9]{2})年(1[0-2]|0?[1-9])月(3[01]|[12][0-9]|0?[1-9])日\s*(?:星期|周)[一二三四五六日天]")


def series_key(entity: str | None, metric: str | None) -> int | None:
    """The indexed key of an (organisation, metric) series; None when either is unknown."""
    from .fingerprints import key_hash

    ok = isinstance(entity, str) and isinstance(metric, str) and entity and metric
    return key_hash(f"{entity}\x1f{metric}") if ok else None


def publication_date(norm_text: str) -> _dt.date | None:
    """The date printed in the page's masthead (2021年4月30日 星期五), as segment reads the year."""
    m = _PAGE_DATE.search(norm_text)
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


@dataclass
class IngestBatch:
    """What one `add` writes, as whole frames. `doc_id` is local (0..n-1) until the store assigns
    the real ids inside the write transaction. Benchmarks build batches directly."""

    documents: "pd.DataFrame"
    articles: "pd.DataFrame"
    metrics: "pd.DataFrame"
    clauses: "pd.DataFrame"
    clause_keys: "pd.DataFrame"
    sentences: "pd.DataFrame"
    bands: "pd.DataFrame"
    sentence_keys: "pd.DataFrame"
    minhash: MinHashParams = DEFAULT_MINHASH  # how `bands` was made

    def frames(self) -> dict[str, "pd.DataFrame"]:
        return {name: getattr(self, name) for name in TABLES}

    def __len__(self) -> int:
        return len(self.documents)


def concat_batches(batches: Sequence[IngestBatch]) -> IngestBatch:
    """One batch of several (local doc ids shifted so they stay unique): pages are analysed in
    chunks, so memory holds rows rather than analysed documents, and written in one transaction."""
    import pandas as pd

    if len(batches) == 1:
        return batches[0]
    frames: dict[str, list] = {t: [] for t in TABLES}
    offset = 0
    for b in batches:
        for table, frame in b.frames().items():
            shifted = frame.copy()
            shifted["doc_id"] = shifted["doc_id"] + offset
            frames[table].append(shifted)
        offset += len(b)
    return IngestBatch(**{t: pd.concat(fs, ignore_index=True) for t, fs in frames.items()},
                       minhash=batches[0].minhash)


_UNIT_COLUMNS = ("doc_id", "ordinal", "sentence", "paragraph", "article", "role", "start", "end", "hash", "chars")


def batch_from_documents(docs: Sequence["AnalysedDocument"], params: MinHashParams = DEFAULT_MINHASH,
                         now: _dt.datetime | None = None) -> IngestBatch:
    """Frames of analysed pages: the rows the store keeps of each."""
    import pandas as pd

    from .fingerprints import band_cores, unit_rows

    now = now or _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    documents, articles, metrics, clauses, clause_keys, sentences = [], [], [], [], [], []
    series: list[int | None] = []  # a column of its own: 64-bit keys beside None would pass through float
    band_docs, band_units = [], []
    for i, doc in enumerate(docs):
        seg = doc.segmentation
        documents.append((i, doc.path, os.path.abspath(doc.path), doc.document.sha256, doc.document.encoding,
                          doc.document.format, doc.document.size, seg.publication_year, seg.publication_year_source,
                          publication_date(doc.norm.text), now, doc.original))
        for a in seg.articles:
            start, end = doc.norm.to_original(a.start, a.end)
            articles.append((i, a.index, a.entity, a.year, a.year_source, a.title, start, end))
        metrics.extend((i, *(getattr(m, f) for f in TABLE_FIELDS)) for m in doc.metrics)
        series.extend(series_key(m.entity, m.metric) for m in doc.metrics)
        c_rows, s_rows = unit_rows(doc)
        clauses.extend((i, u.ordinal, u.sentence, u.paragraph, u.article, u.role, u.start, u.end, u.hash, u.chars)
                       for u in c_rows)
        clause_keys.extend((u.hash, i, u.ordinal) for u in c_rows if len(u.core) >= KEY_MIN_CHARS)
        sentences.extend((i, u.ordinal, u.sentence, u.paragraph, u.article, u.role, u.start, u.end, u.hash, u.chars)
                         for u in s_rows)
        for u in band_cores(s_rows, params):
            band_docs.append(i)
            band_units.append(u)
    return IngestBatch(
        documents=_typed(pd.DataFrame(documents, columns=[
            "doc_id", "path", "abspath", "sha256", "encoding", "format", "size", "publication_year",
            "publication_year_source", "publication_date", "added_at", "text"]),
            ints=("doc_id", "size", "publication_year")),
        articles=_typed(pd.DataFrame(articles, columns=["doc_id", "article", "entity", "year", "year_source", "title",
                                                        "start", "end"]),
                        ints=("doc_id", "article", "year", "start", "end")),
        metrics=_typed(pd.DataFrame(metrics, columns=["doc_id", *TABLE_FIELDS]),
                       ints=("doc_id", "start", "end", "year", "article", "line", "norm_start", "norm_end"),
                       floats=("value", "range_low", "range_high")).assign(series=pd.array(series, dtype="Int64")),
        clauses=_unit_frame(clauses),
        clause_keys=pd.DataFrame(clause_keys, columns=["hash", "doc_id", "ordinal"], dtype="int64"),
        sentences=_unit_frame(sentences),
        bands=_band_frame(band_docs, band_units, params),
        sentence_keys=pd.DataFrame({"hash": [u.hash for u in band_units], "doc_id": band_docs,
                                    "sentence": [u.ordinal for u in band_units]}, dtype="int64"),
        minhash=params,
    )


def _typed(frame: "pd.DataFrame", ints: Iterable[str] = (), floats: Iterable[str] = ()) -> "pd.DataFrame":
    """Nullable integer columns stay integers (an empty `year` must not turn the column to float)."""
    for col in ints:
        frame[col] = frame[col].astype("Int64")
    for col in floats:
        frame[col] = frame[col].astype("float64")
    return frame


def _unit_frame(rows: list[tuple]) -> "pd.DataFrame":
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(_UNIT_COLUMNS))
    return _typed(frame, ints=("doc_id", "ordinal", "sentence", "paragraph", "article", "start", "end", "hash",
                               "chars"))


def _band_frame(doc_ids: Sequence[int], units: Sequence[Any], params: MinHashParams) -> "pd.DataFrame":
    """Band keys of the given sentences, each key once per page (a sentence printed twice on a
    page, or two sentences sharing a band, add nothing a lookup could use)."""
    import numpy as np
    import pandas as pd

    from .fingerprints import band_keys, stored_band_keys

    keys = stored_band_keys(band_keys([u.core for u in units], params))
    frame = pd.DataFrame({
        "band_key": keys.reshape(-1),
        "doc_id": np.repeat(np.asarray(doc_ids, dtype=np.int64), params.bands),
        "sentence": np.repeat(np.asarray([u.ordinal for u in units], dtype=np.int64), params.bands),
    })
    return frame.drop_duplicates(["doc_id", "band_key"]).reset_index(drop=True)


# ---------------------------------------------------------------- what comes out

@dataclass(frozen=True)
class AddResult:
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)  # rows written per table


@dataclass(frozen=True)
class ArchivedFigure:
    """Where an archived figure was printed: what `Related` needs, and the page's year."""

    document: str
    start: int
    end: int
    text: str
    year: int | None
    entity: str | None
    published: int | None
    doc_id: int


@dataclass(frozen=True)
class ArchivedUnit:
    """One archived clause (or sentence): its page and place."""

    doc_id: int
    ordinal: int
    sentence: int
    paragraph: int
    article: int | None
    start: int
    end: int
    hash: int
    published: int | None = None  # the page's publication year


@dataclass(frozen=True)
class ArchivedDocument:
    doc_id: int
    path: str
    published: int | None
    text: str
    articles: dict[int, tuple[str | None, int | None]]  # article → (entity, year)

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


@dataclass(frozen=True)
class Exclusion:
    """Pages of the audit itself: an archived copy of the audited page is not 'an earlier page'."""

    sha256: frozenset[str] = frozenset()
    abspaths: frozenset[str] = frozenset()

    @classmethod
    def of(cls, docs: Iterable[Any]) -> "Exclusion":
        docs = list(docs)
        return cls(frozenset(d.document.sha256 for d in docs), frozenset(os.path.abspath(d.path) for d in docs))


# ---------------------------------------------------------------- the store

_LOCK = re.compile(r"lock", re.I)
_PID = re.compile(r"PID (\d+)")


class HistoryStore:
    """One open connection to a history file. Use `HistoryStore.open(...)`; close it (or use it
    as a context manager) so the file's lock is released."""

    def __init__(self, path: Path, con: "duckdb.DuckDBPyConnection", read_only: bool):
        self.path = path
        self.con = con
        self.read_only = read_only
        self._cache: dict[tuple, Any] = {}
        self._minhash: MinHashParams | None = None

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | os.PathLike, *, read_only: bool = False, wait: float = DEFAULT_WAIT) -> "HistoryStore":
        path = Path(path)
        if read_only and not path.exists():
            raise HistoryError("no history store here (`auditor history add PATHS` makes one)", path=str(path))
        if path.is_dir():
            raise HistoryError("is a directory, not a history store file", path=str(path))
        if not read_only:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HistoryError(f"cannot create the store's folder ({exc.strerror or exc})",
                                   path=str(path)) from None
        con = _connect(path, read_only, wait)
        try:
            version = schema_version(con)
            if version == SCHEMA_VERSION:
                return cls(path, con, read_only)
            _check_version(path, version)
            if read_only:  # an older store: migrate with a writing connection, then read
                con.close()
                cls._migrate_file(path, wait)
                return cls(path, _connect(path, True, wait), True)
            migrate(con)
            return cls(path, con, read_only)
        except BaseException:
            try:
                con.close()
            except Exception:  # noqa: BLE001 - already failing; the first error is the one to report
                pass
            raise

    @classmethod
    def _migrate_file(cls, path: Path, wait: float) -> None:
        con = _connect(path, False, wait)
        try:
            _check_version(path, schema_version(con))
            migrate(con)
        finally:
            con.close()

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None  # type: ignore[assignment]

    def __enter__(self) -> "HistoryStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def version(self) -> int:
        return schema_version(self.con)

    @property
    def minhash(self) -> MinHashParams:
        if self._minhash is None:
            meta = dict(self.con.execute("SELECT key, value FROM meta WHERE key LIKE 'minhash.%'").fetchall())
            self._minhash = MinHashParams.from_meta(meta) if meta else DEFAULT_MINHASH
        return self._minhash

    # ------------------------------------------------------------ writing

    def add(self, docs: Sequence["AnalysedDocument"]) -> AddResult:
        """Ingest analysed pages in one transaction."""
        return self.add_batch(batch_from_documents(docs, self.minhash))

    def add_batch(self, batch: IngestBatch) -> AddResult:
        """Write a batch in one transaction: pages already stored (same sha256) are skipped, a
        page at a stored path with new content replaces the old one. Any failure rolls back."""
        self._writable()
        import numpy as np

        if batch.minhash != self.minhash:
            raise HistoryError(f"band keys made with other MinHash parameters ({batch.minhash}) than the "
                               f"store's ({self.minhash})", path=str(self.path))
        con = self.con
        docs = batch.documents
        if not len(docs):
            return AddResult()
        con.begin()
        try:
            incoming = docs[["doc_id", "abspath", "sha256"]]
            con.register("_incoming", incoming)
            stored = con.execute(
                "SELECT doc_id, abspath, sha256 FROM documents WHERE sha256 IN (SELECT sha256 FROM _incoming) "
                "OR abspath IN (SELECT abspath FROM _incoming)").fetchall()
            con.unregister("_incoming")
            by_sha = {sha: doc_id for doc_id, _, sha in stored}
            by_path = {p: doc_id for doc_id, p, _ in stored}
            keep, replace_ids, added, replaced, unchanged = [], [], [], [], []
            seen_sha: set[str] = set()
            for local, path, abspath, sha in zip(docs["doc_id"], docs["path"], docs["abspath"], docs["sha256"]):
                if sha in by_sha or sha in seen_sha:
                    unchanged.append(path)
                    continue
                seen_sha.add(sha)
                if abspath in by_path:
                    replace_ids.append(by_path.pop(abspath))
                    replaced.append(path)
                else:
                    added.append(path)
                keep.append(int(local))
            if replace_ids:
                self._delete(replace_ids)
            rows: dict[str, int] = {}
            if keep:
                base = con.execute("SELECT coalesce(max(doc_id), -1) + 1 FROM documents").fetchall()[0][0]
                new_id = np.full(int(docs["doc_id"].max()) + 1, -1, dtype=np.int64)
                new_id[np.asarray(keep, dtype=np.int64)] = base + np.arange(len(keep), dtype=np.int64)
                for table, frame in batch.frames().items():
                    part = _renumber(frame, new_id)
                    rows[table] = len(part)
                    if len(part):
                        self._insert(table, _in_key_order(table, part))
                _keep_sorted(con, rows)
            con.commit()
        except BaseException:
            _rollback(con)
            raise
        self._cache.clear()
        return AddResult(tuple(added), tuple(replaced), tuple(unchanged), rows)

    def _insert(self, table: str, frame: "pd.DataFrame") -> None:
        _append(self.con, table, frame)

    def remove(self, selectors: Sequence[str]) -> list[str]:
        """Remove pages named by stored path, by a path on disk, or by a sha256 prefix (8+ hex
        characters), in one transaction. Every selector must name something."""
        self._writable()
        con = self.con
        ids: dict[int, str] = {}
        missing = []
        for sel in selectors:
            found = con.execute(
                "SELECT doc_id, path FROM documents WHERE path = ? OR abspath = ? OR "
                "(length(?) >= 8 AND starts_with(sha256, lower(?)))",
                [sel, os.path.abspath(sel), sel, sel]).fetchall()
            if not found:
                missing.append(sel)
            ids.update(found)
        if missing:
            raise HistoryError(f"not in the history: {', '.join(missing)} (see `auditor history list`)",
                               path=str(self.path))
        con.begin()
        try:
            self._delete(list(ids))
            con.commit()
        except BaseException:
            _rollback(con)
            raise
        self._cache.clear()
        return sorted(ids.values())

    def _delete(self, doc_ids: list[int]) -> None:
        import pandas as pd

        self.con.register("_gone", pd.DataFrame({"doc_id": doc_ids}, dtype="int64"))
        for table in TABLES:
            self.con.execute(f"DELETE FROM {table} WHERE doc_id IN (SELECT doc_id FROM _gone)")
        self.con.unregister("_gone")

    def _writable(self) -> None:
        if self.read_only:
            raise HistoryError("opened read-only", path=str(self.path))

    # ------------------------------------------------------------ reading

    def counts(self) -> dict[str, int]:
        return {t: self.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}

    def table(self, name: str) -> "pd.DataFrame":
        if name not in TABLES:
            raise HistoryError(f"no table {name!r} (tables: {', '.join(TABLES)})", path=str(self.path))
        return self.con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchdf()

    def list_documents(self) -> "pd.DataFrame":
        return self.con.execute("""
            SELECT d.doc_id, d.path, d.publication_year, d.publication_date, substr(d.sha256, 1, 12) AS sha256,
                   coalesce(a.articles, 0) AS articles, a.entities, coalesce(m.metrics, 0) AS metrics, d.added_at
            FROM documents d
            LEFT JOIN (SELECT doc_id, count(*) AS articles,
                              string_agg(DISTINCT entity, '、' ORDER BY entity) AS entities
                       FROM articles GROUP BY doc_id) a USING (doc_id)
            LEFT JOIN (SELECT doc_id, count(*) AS metrics FROM metrics GROUP BY doc_id) m USING (doc_id)
            ORDER BY d.publication_year NULLS FIRST, d.path""").fetchdf()

    def entities(self, like: str) -> list[str]:
        """Organisations named exactly `like`, else those whose name contains it."""
        exact = self.con.execute("SELECT DISTINCT entity FROM metrics WHERE entity = ?", [like]).fetchall()
        if exact:
            return [exact[0][0]]
        rows = self.con.execute("SELECT DISTINCT entity FROM metrics WHERE contains(entity, ?) ORDER BY entity",
                                [like]).fetchall()
        return [r[0] for r in rows]

    def series(self, entity: str, metric: str | None = None) -> "pd.DataFrame":
        """An organisation's figures by year (one row per figure), for `history show`."""
        return self.con.execute("""
            SELECT m.entity, m.metric, min(m.label) OVER (PARTITION BY m.entity, m.metric) AS label,
                   m.year, m.value, m.unit, m.approx, m.text, m.document, d.publication_year
            FROM metrics m JOIN documents d USING (doc_id)
            WHERE m.entity = ? AND m.metric IS NOT NULL AND m.year IS NOT NULL AND m.value IS NOT NULL
              AND NOT m.placeholder AND (? IS NULL OR m.metric = ? OR m.label = ?)
            ORDER BY m.metric, m.year, m.value""", [entity, metric, metric, metric]).fetchdf()

    def earlier_figures(self, keys: Iterable[tuple[str, str]], years: tuple[int, int],
                        exclude: Exclusion = Exclusion()) -> list[tuple[Metric, ArchivedFigure]]:
        """Archived figures of the given (entity, metric) pairs in years [lo, hi], one batched
        lookup (metrics is sorted by series key); pages of the audit itself are left out. Answers
        are kept per pair, so the yoy rules of one audit query once between them.

        Only the columns a comparison reads are fetched (`_FIGURE_COLUMNS`; the others keep their
        defaults on the Metric): a lookup decodes each column of every row group it touches, and
        the label, surface unit and normalised offsets would double that."""
        memo = self._cache.setdefault(("figures", years, exclude), {})  # (entity, metric) -> figures
        missing = sorted(set(keys) - memo.keys())
        if missing:
            for key in missing:
                memo[key] = []
            excluded = self._excluded(exclude)
            columns = ", ".join(f'm."{c}"' for c in _FIGURE_COLUMNS)
            for chunk in _chunks(missing):
                asked = set(chunk)
                series = _ints(sorted({series_key(e, m) for e, m in chunk}))
                # MATERIALIZED: the series lookup stays a zone-map lookup; the year condition
                # applies to its few rows.
                rows = self.con.execute(f"""
                    WITH hits AS MATERIALIZED (SELECT {columns} FROM metrics m WHERE series IN ({series}))
                    SELECT * FROM hits m WHERE m.year BETWEEN ? AND ? {excluded}
                    ORDER BY m.doc_id, m.start""", list(years)).fetchall()
                pages = self._pages({r[0] for r in rows})
                for row in rows:
                    metric, figure = _figure(row, pages)
                    key = (metric.entity, metric.metric)
                    if key in asked:  # a hash collision between series must not mix them
                        memo[key].append((metric, figure))
        return [figure for key in sorted(set(keys)) for figure in memo[key]]

    def clause_places(self, hashes: Iterable[int], exclude: Exclusion = Exclusion(),
                      per_hash: int = 20) -> tuple[dict[int, int], dict[int, list[ArchivedUnit]]]:
        """For each clause hash: on how many archived pages it is printed, and up to `per_hash`
        of its places (latest pages first). Only clauses of KEY_MIN_CHARS+ content characters are
        keyed (no rule starts a copy from a shorter one). One batched lookup: a literal IN-list of
        the hashes not asked before (rules share answers) against clause_keys, sorted by hash;
        then the places' clause rows, by page (clauses is in page order)."""
        memo = self._cache.setdefault(("clauses", exclude, per_hash), {})  # hash -> (pages, places)
        missing = sorted(set(hashes) - memo.keys())
        hits: list[tuple] = []
        excluded = self._excluded(exclude, alias="k") if missing else ""
        for chunk in _chunks(missing):  # an audit of many pages: a few statements, not thousands
            hits += self.con.execute(f"""
                WITH hits AS MATERIALIZED (
                    SELECT k.hash, k.doc_id, k.ordinal FROM clause_keys k WHERE k.hash IN ({_ints(chunk)}) {excluded}),
                counted AS (
                    SELECT *, count(DISTINCT doc_id) OVER (PARTITION BY hash) AS documents,
                           row_number() OVER (PARTITION BY hash ORDER BY doc_id DESC, ordinal) AS rank
                    FROM hits)
                SELECT hash, documents, doc_id, ordinal FROM counted WHERE rank <= ? ORDER BY hash, rank""",
                                     [per_hash]).fetchall()
        rows = self._rows_at("clauses", 'sentence, paragraph, article, start, "end"',
                             {(doc_id, ordinal) for _, _, doc_id, ordinal in hits})
        published = self._published([h[2] for h in hits]) if hits else {}
        for h in missing:
            memo[h] = (0, [])
        for h, n, doc_id, ordinal in hits:
            r = rows[(doc_id, ordinal)]
            memo[h] = (n, memo[h][1] + [ArchivedUnit(doc_id, ordinal, *r, h, published.get(doc_id))])
        found = {h: memo[h] for h in set(hashes) if memo[h][0]}
        return {h: n for h, (n, _) in found.items()}, {h: places for h, (_, places) in found.items()}

    def _rows_at(self, table: str, columns: str, places: set[tuple[int, int]]) -> dict[tuple[int, int], tuple]:
        """`columns` of the given (doc_id, ordinal) rows of a page-ordered table (clauses or
        sentences): literal lists of pages and ordinals, so zone maps skip the other pages."""
        out: dict[tuple[int, int], tuple] = {}
        ids = sorted({d for d, _ in places})
        for chunk in _chunks(ids):
            wanted = set(chunk)
            ordinals = sorted({o for d, o in places if d in wanted})
            for d, o, *rest in self.con.execute(f"""
                    SELECT doc_id, ordinal, {columns} FROM {table}
                    WHERE doc_id IN ({_ints(chunk)}) AND ordinal IN ({_ints(ordinals)})""").fetchall():
                if (d, o) in places:
                    out[(d, o)] = tuple(rest)
        return out

    def clauses_of(self, doc_ids: Iterable[int]) -> dict[int, list[ArchivedUnit]]:
        """Every stored clause of the given pages, in page order (to follow a run of copied
        clauses beyond its seed)."""
        ids = sorted(set(doc_ids))
        out: dict[int, list[ArchivedUnit]] = {i: [] for i in ids}
        if not ids:
            return out
        # doc ids grow with ingest, so row groups hold narrow id ranges: a literal list prunes them
        rows = self.con.execute(f"""
            SELECT doc_id, ordinal, sentence, paragraph, article, start, "end", hash FROM clauses
            WHERE doc_id IN ({_ints(ids)}) ORDER BY doc_id, ordinal""").fetchall()
        for r in rows:
            out[r[0]].append(ArchivedUnit(*r))
        return out

    def sentences_printed(self, hashes: Iterable[int], exclude: Exclusion = Exclusion()) -> dict[int, list[int | None]]:
        """For each sentence hash printed on an archived page (among the sentences that have band
        keys): the publication years of those pages (None: unknown). One literal IN-list against
        sentence_keys, sorted by hash; the audit's own pages are left out."""
        wanted = sorted(set(hashes))
        if not wanted:
            return {}
        excluded = self._excluded(exclude, alias="k")
        hits = self.con.execute(f"""
            SELECT DISTINCT k.hash, k.doc_id FROM sentence_keys k WHERE k.hash IN ({_ints(wanted)}) {excluded}
            """).fetchall()
        published = self._published(doc_id for _, doc_id in hits)
        out: dict[int, list[int | None]] = {}
        for h, doc_id in hits:
            out.setdefault(h, []).append(published.get(doc_id))
        return out

    def band_queries(self, cores: Sequence[str]) -> "pd.DataFrame":
        """Band keys of query sentences (their comparison forms, `fold_key`) made as this store
        made its own (store.minhash), as stored: columns query (the index in `cores`), band_key."""
        import numpy as np
        import pandas as pd

        from .fingerprints import band_keys, stored_band_keys

        params = self.minhash
        keys = stored_band_keys(band_keys(list(cores), params))
        return pd.DataFrame({"query": np.repeat(np.arange(len(cores)), params.bands), "band_key": keys.reshape(-1)})

    def sentence_candidates(self, band_keys: "pd.DataFrame", exclude: Exclusion = Exclusion(),
                            max_bucket: int = 50) -> "pd.DataFrame":
        """Archived sentences sharing an LSH band with a query sentence: columns query, doc_id,
        sentence, bands (how many bands agree), article, start, end (original offsets), best
        first. `band_keys` has columns query and band_key (as stored: `stored_band_keys`).

        One batched lookup for every query sentence of the audit: the distinct keys as a literal
        IN-list against `bands` (sorted by key: zone maps skip the rest), matched back to the
        queries; then the sentences' spans, by page. A bucket (a band key) on more than
        `max_bucket` archived sentences is stock text and skipped, as in the in-audit rule."""
        import pandas as pd

        columns = ["query", "doc_id", "sentence", "bands", "article", "start", "end"]
        queries: dict[int, list[int]] = {}
        for query, key in zip(band_keys["query"].tolist(), band_keys["band_key"].tolist()):
            queries.setdefault(int(key), []).append(int(query))
        if not queries:
            return pd.DataFrame(columns=columns)
        excluded = self._excluded(exclude, alias="b")
        hits = self.con.execute(f"""
            SELECT b.band_key, b.doc_id, b.sentence FROM bands b
            WHERE b.band_key IN ({_ints(sorted(queries))}) {excluded}""").fetchall()
        # back to the queries in Python: a join against a registered frame costs more than the lookup
        bucket = Counter(key for key, _, _ in hits)
        agree: Counter = Counter((q, d, o) for key, d, o in hits if bucket[key] <= max_bucket for q in queries[key])
        pairs = [(q, d, o, n) for (q, d, o), n in agree.items()]
        spans = self._rows_at("sentences", 'article, start, "end"', {(d, o) for _, d, o, _ in pairs})
        rows = [(q, d, o, n, *spans[(d, o)]) for q, d, o, n in pairs if (d, o) in spans]
        rows.sort(key=lambda r: (r[0], -r[3], -r[1], r[2]))
        return pd.DataFrame(rows, columns=columns).astype({"article": "Int64"})

    def documents_info(self, doc_ids: Iterable[int]) -> dict[int, ArchivedDocument]:
        """Path, publication year, text and articles of the given pages (index scans)."""
        ids = sorted(set(doc_ids))
        if not ids:
            return {}
        docs = self.con.execute("SELECT doc_id, path, publication_year, text FROM documents "
                                f"WHERE doc_id IN ({_ints(ids)})").fetchall()
        arts = self.con.execute(f"SELECT doc_id, article, entity, year FROM articles WHERE doc_id IN ({_ints(ids)})"
                                ).fetchall()
        by_doc: dict[int, dict[int, tuple]] = {}
        for doc_id, article, entity, year in arts:
            by_doc.setdefault(doc_id, {})[article] = (entity, year)
        return {d: ArchivedDocument(d, path, year, text or "", by_doc.get(d, {})) for d, path, year, text in docs}

    def _pages(self, doc_ids) -> dict[int, tuple[str, int | None]]:
        """(path, publication year) of each page."""
        ids = sorted({int(i) for i in doc_ids})
        if not ids:
            return {}
        rows = self.con.execute(f"SELECT doc_id, path, publication_year FROM documents WHERE doc_id IN ({_ints(ids)})"
                                ).fetchall()
        return {d: (path, year) for d, path, year in rows}

    def _published(self, doc_ids) -> dict[int, int | None]:
        """Publication year of each page (a second small query: joining documents into the lookup
        would turn the index scan back into a scan)."""
        ids = sorted({int(i) for i in doc_ids})
        if not ids:
            return {}
        rows = self.con.execute(f"SELECT doc_id, publication_year FROM documents WHERE doc_id IN ({_ints(ids)})"
                                ).fetchall()
        return dict(rows)

    def _excluded(self, exclude: Exclusion, alias: str = "m") -> str:
        """A WHERE fragment leaving out the audit's own pages (ids looked up once per exclusion)."""
        memo = ("excluded", exclude)
        if memo not in self._cache:
            ids = []
            if exclude.sha256 or exclude.abspaths:
                ids = [r[0] for r in self.con.execute(
                    "SELECT doc_id FROM documents WHERE list_contains(?, sha256) OR list_contains(?, abspath)",
                    [sorted(exclude.sha256), sorted(exclude.abspaths)]).fetchall()]
            self._cache[memo] = ids
        ids = self._cache[memo]
        return f"AND {alias}.doc_id NOT IN ({', '.join(str(int(i)) for i in ids)})" if ids else ""

    # ------------------------------------------------------------ export

    def export_parquet(self, directory: str | os.PathLike, *, overwrite: bool = False) -> dict[str, int]:
        """Every table as Parquet under directory/<table>/pub_year=YYYY/ (Hive layout, readable by
        Spark, pyarrow and pandas as is). Partitions are the page's publication year (0: unknown);
        the rows inside keep every column of the store unchanged. Written beside the target and
        renamed into place, so a failed export leaves no half-written folder."""
        import shutil
        import tempfile

        import pyarrow as pa
        import pyarrow.dataset as ds

        target = Path(directory)
        if target.exists() and (not target.is_dir() or any(target.iterdir())) and not overwrite:
            raise HistoryError("exists and is not empty (use --force to replace it)", path=str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        counts = {}
        try:
            for table in TABLES:
                query = (f"SELECT t.*, coalesce(d.publication_year, 0)::INTEGER AS pub_year FROM {table} t "
                         f"JOIN documents d USING (doc_id) ORDER BY ALL" if table != "documents" else
                         "SELECT *, coalesce(publication_year, 0)::INTEGER AS pub_year FROM documents ORDER BY doc_id")
                reader = self.con.sql(query).to_arrow_reader(100_000)
                counts[table] = 0
                batches = _counting(reader, counts, table)
                ds.write_dataset(batches, staging / table, schema=reader.schema, format="parquet",
                                 partitioning=ds.partitioning(pa.schema([("pub_year", pa.int32())]), flavor="hive"),
                                 existing_data_behavior="overwrite_or_ignore",
                                 basename_template="part-{i}.parquet")
                (staging / table).mkdir(exist_ok=True)  # an empty table is an empty folder
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return counts


def _counting(reader, counts: dict[str, int], table: str):
    for batch in reader:
        counts[table] += batch.num_rows
        yield batch


# ---------------------------------------------------------------- helpers

def _connect(path: Path, read_only: bool, wait: float) -> "duckdb.DuckDBPyConnection":
    """Open the file, waiting up to `wait` seconds while another process holds its lock."""
    import duckdb

    deadline = time.monotonic() + max(wait, 0.0)
    delay = 0.05
    while True:
        con = duckdb.connect()
        try:
            # Row groups of 16384 rows, not 122880: a key looked up in a key-sorted table reads one
            # row group, so the cost of an audit's few hundred keys shrinks with it (a write-time
            # setting, hence ATTACH on every connection). USE: queries name tables unqualified.
            options = "READ_ONLY, " if read_only else ""
            con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS history "
                        f"({options}ROW_GROUP_SIZE {_ROW_GROUP})")
            con.execute("USE history")
            return con
        except duckdb.IOException as exc:
            con.close()
            text = str(exc)
            if not _LOCK.search(text):
                raise HistoryError(_explain(text), path=str(path)) from None
            if time.monotonic() >= deadline:
                pid = _PID.search(text)
                holder = f"process {pid.group(1)}" if pid else "another process"
                raise HistoryBusyError(f"the history is locked by {holder} (one writer at a time); waited "
                                       f"{wait:g} s (--wait): retry when it is done", path=str(path)) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as exc:
            con.close()
            raise HistoryError(_explain(str(exc)), path=str(path)) from None


_ROW_GROUP = 16384


def _explain(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "cannot open"
    if "not a valid DuckDB" in message or "database file" in message and "valid" in message:
        return "not a history store (not a DuckDB database file)"
    if "different configuration" in message or "already attached" in message:
        return "already open in this process (close it first)"
    return f"cannot open the history store: {first}"


def _check_version(path: Path, version: int) -> None:
    if version < 0:
        raise HistoryError("a DuckDB file, but not an auditor history store (no meta table)", path=str(path))
    if version > SCHEMA_VERSION:
        raise HistoryError(f"made by a newer auditor (schema version {version}; this release reads up to "
                           f"{SCHEMA_VERSION}): upgrade auditor", path=str(path))


# DuckDB 2 refuses new work on a connection while a result is unread: every query here is read
# to the end (fetchall / fetchdf), never with fetchone.


def _rollback(con) -> None:
    try:
        con.rollback()
    except Exception:  # noqa: BLE001 - no open transaction, or the connection died with the error
        pass


def _append(con, table: str, frame: "pd.DataFrame") -> None:
    """Append a whole frame by column name: one statement, not a row at a time."""
    name = f"_in_{table}"
    con.register(name, frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {name}")
    finally:
        con.unregister(name)


def _renumber(frame: "pd.DataFrame", new_id) -> "pd.DataFrame":
    ids = frame["doc_id"].to_numpy(dtype="int64")
    mapped = new_id[ids] if len(ids) else ids
    keep = mapped >= 0
    out = frame.loc[keep].copy()
    out["doc_id"] = mapped[keep]
    return out


def _chunks(values: Sequence, size: int = 5000) -> Iterable[Sequence]:
    """Literal IN-lists of a bounded length."""
    return (values[i:i + size] for i in range(0, len(values), size))


def _ints(values: Iterable[int]) -> str:
    """A literal SQL list of integers (ints only: nothing to escape)."""
    return ", ".join(str(int(v)) for v in values)


def _strings(values: Iterable[str]) -> str:
    """A literal SQL list of strings, quotes doubled."""
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


# What year-over-year reads of an archived figure (see `earlier_figures`); doc_id first.
_FIGURE_COLUMNS = ("doc_id", "start", "end", "text", "value", "unit", "approx", "kind", "dimension", "entity", "year",
                   "metric", "placeholder", "range_low", "range_high", "article")


def _figure(row: tuple, pages: dict[int, tuple[str, int | None]]) -> tuple[Metric, ArchivedFigure]:
    """A Metric and its archived place from a row of `_FIGURE_COLUMNS` and its page's (path,
    publication year)."""
    values = dict(zip(_FIGURE_COLUMNS, row))
    path, published = pages[values.pop("doc_id")]
    for f in ("value", "range_low", "range_high"):  # a NaN appended from a pandas frame is no value
        if values[f] is not None and values[f] != values[f]:
            values[f] = None
    values.update(start=values["start"] or 0, end=values["end"] or 0, placeholder=bool(values["placeholder"]),
                  document=path, surface_unit=None, label=None)
    metric = Metric(**values)
    figure = ArchivedFigure(path, metric.start, metric.end, metric.text, metric.year, metric.entity, published,
                            int(row[0]))
    return metric, figure
