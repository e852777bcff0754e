"""An audit read back from the Parquet tables it wrote (``auditor audit --output-dir``, either
engine), so that ``auditor report TABLES`` makes any report from them: the JSON, SARIF or HTML of a
cluster's run, on a machine with neither Spark, nor the documents, nor the rule files.

The tables hold everything a report shows: each document's original text and articles, its
metrics, the findings with their messages as the audit wrote them (in its language), and one `run`
row with the ids of the rules that ran and their files' text (``local.run_record``). Reading
them gives the ``AuditResult`` the audit returned, with ``DocumentView``s for documents — the same
objects the Spark engine reports from — so a report made here is the audit's own.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import InputError, UsageError

_TABLES = ("documents", "metrics", "findings", "run")
_BATCH_ROWS = 8192  # table rows made into Python objects at a time
_SPILL_FINDINGS = 100_000  # more findings than this are kept on disk (auditor/engines/spill.py)
# More text than this (characters of the pages as read) and the documents are kept on disk too:
# about the audit's own spill_above (32 MB of input), a view holding ~3 bytes per character.
_SPILL_CHARS = 12_000_000


def read_audit(location: str, *, jobs: int = 1):
    """The ``AuditResult`` recorded in the tables under `location` (a folder, or a URL pyarrow
    can read: file://, s3://, hdfs://). The rows are read a batch at a time; only tables written
    out of document order (Spark's metrics) are read whole, to be sorted."""
    from ..audit import AuditResult
    from ..rules.loader import rule_set_from_texts

    tables = {name: _Table.open(location, name) for name in _TABLES}
    manifest = _manifest(tables["run"])
    rule_set = rule_set_from_texts((path, text) for path, text in manifest["rule_files"])
    by_id = rule_set.by_id()
    missing = [rule_id for rule_id in manifest["rules_run"] if rule_id not in by_id]
    if missing:
        raise InputError(f"run table names rules its rule files do not define: {', '.join(missing)}",
                         path=tables["run"].where)
    spill = _SpillOnDemand()
    views = _views(tables["documents"], tables["metrics"], spill)
    findings = _findings(tables["findings"], spill)
    rules = tuple(by_id[rule_id] for rule_id in manifest["rules_run"])
    return AuditResult(views, findings, rule_set, rules, float(manifest["elapsed_s"]), manifest["lang"], jobs)


class _SpillOnDemand:
    """One spill folder for the documents and the findings, made when the first needs it."""

    def __init__(self):
        self._spill = None

    def __call__(self):
        if self._spill is None:
            from ..engines.spill import Spill

            self._spill = Spill()
        return self._spill


def _views(documents: "_Table", metrics: "_Table", spill: _SpillOnDemand) -> Sequence:
    """The documents' views, in doc_id order: on disk past _SPILL_CHARS of text."""
    from ..engines.spill import held_or_spilled

    return held_or_spilled(_each_view(documents, metrics), _SPILL_CHARS, spill)


def _each_view(documents: "_Table", metrics: "_Table") -> Iterator:
    """A ``DocumentView`` per document row, in doc_id order, with its metrics."""
    from ..engines import local

    groups = groupby(metrics.rows_by_doc_id(), key=itemgetter("doc_id"))
    group = next(groups, None)
    for doc in documents.rows_by_doc_id(batch_rows=64):  # a row holds a whole page
        while group is not None and group[0] < doc["doc_id"]:  # rows of no document: not reported
            group = next(groups, None)
        found = []
        if group is not None and group[0] == doc["doc_id"]:
            found = [local.metric_from_record(row) for row in group[1]]
            group = next(groups, None)
        yield local.view_from_records(doc, found)


def _findings(table: "_Table", spill: _SpillOnDemand):
    """The findings in their order; on disk past _SPILL_FINDINGS, as a spilled audit keeps them."""
    from ..engines import local

    found = (local.finding_from_record(row) for row in table.rows())
    if table.num_rows <= _SPILL_FINDINGS:
        return tuple(found)
    return spill().findings(found, "findings")


class _Table:
    """One table of the tables: its part files (in name order, as Spark numbers them), opened and
    their columns checked against the schema the engines write; rows read a batch at a time."""

    def __init__(self, name: str, where: str, parts: list, columns: list[str]):
        self.name, self.where, self.parts, self.columns = name, where, parts, columns

    @classmethod
    def open(cls, location: str, name: str) -> "_Table":
        import pyarrow.parquet as pq
        from pyarrow import fs

        from ..engines.local import arrow_schemas

        where = _where(location, name)
        if "://" not in location:
            if not Path(location).is_dir():
                what = "not a folder" if Path(location).exists() else "no such folder"
                raise UsageError(f"{what} (expected the tables of `auditor audit --output-dir`)", path=location)
            if not Path(where).is_dir():
                raise InputError(f"no {name} table here: not the tables of `auditor audit --output-dir`"
                                 + (" (written before auditor recorded its run)" if name == "run" else ""),
                                 path=location)
        with _reading(cls, name, where):
            filesystem, folder = (fs.FileSystem.from_uri(where) if "://" in where
                                  else (fs.LocalFileSystem(), str(Path(where).resolve())))
            infos = filesystem.get_file_info(fs.FileSelector(folder))
            names = sorted(i.path for i in infos if i.type == fs.FileType.File
                           and not i.base_name.startswith(("_", ".")))
            parts = [pq.ParquetFile(filesystem.open_input_file(path)) for path in names]
        expected = arrow_schemas()[name].names
        for part, path in zip(parts, names):
            absent = [column for column in expected if column not in part.schema_arrow.names]
            if absent:
                raise InputError(f"the {name} table lacks column(s) {', '.join(absent)}", path=path)
        return cls(name, where, parts, expected)

    @property
    def num_rows(self) -> int:
        return sum(part.metadata.num_rows for part in self.parts)

    def batches(self, columns: list[str] | None = None, batch_rows: int = _BATCH_ROWS) -> Iterator:
        with _reading(self, self.name, self.where):
            for part in self.parts:  # a row group at a time: over all of them Arrow reads far ahead
                for group in range(part.num_row_groups):
                    yield from part.iter_batches(batch_size=batch_rows, row_groups=[group],
                                                 columns=columns or self.columns)

    def rows(self, batch_rows: int = _BATCH_ROWS) -> Iterator[dict]:
        for batch in self.batches(batch_rows=batch_rows):
            yield from batch.to_pylist()

    def rows_by_doc_id(self, batch_rows: int = _BATCH_ROWS) -> Iterator[dict]:
        """The rows in doc_id order, each document's in their order. The engines' documents and the
        local engine's metrics are written in that order and stream; Spark's metrics (one part file
        per partition, documents spread by hash) are read whole for a stable sort."""
        import numpy as np
        import pyarrow as pa

        ids = [b.column(0).to_numpy() for b in self.batches(["doc_id"], 1 << 16)]
        ids = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)
        if bool(np.all(ids[1:] >= ids[:-1])):
            yield from self.rows(batch_rows)
            return
        with _reading(self, self.name, self.where):
            whole = pa.Table.from_batches(list(self.batches()))  # rows out of order: there are some
        for batch in whole.sort_by("doc_id").to_batches(max_chunksize=batch_rows):
            yield from batch.to_pylist()


@contextmanager
def _reading(_owner, name: str, where: str) -> Iterator[None]:
    """Arrow's errors (a truncated part file, a damaged page) as one line naming the table."""
    import pyarrow as pa

    try:
        yield
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"cannot read the {name} table: {_first_line(exc)}", path=where) from None


def _manifest(run: _Table) -> dict[str, Any]:
    from ..engines.local import TABLES_FORMAT

    where = run.where
    rows = list(run.rows())
    if len(rows) != 1:
        raise InputError(f"the run table has {len(rows)} rows, not one", path=where)
    try:
        manifest = json.loads(rows[0]["manifest"] or "")
    except ValueError as exc:
        raise InputError(f"the run table's manifest is not JSON: {_first_line(exc)}", path=where) from None
    if not isinstance(manifest, dict) or manifest.get("format") != TABLES_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise InputError(f"tables in format {found!r}, this auditor reads {TABLES_FORMAT!r}", path=where)
    fields = {"lang": str, "elapsed_s": (int, float), "rules_run": list, "rule_files": list}
    wrong = [k for k, kind in fields.items() if not isinstance(manifest.get(k), kind)]
    if wrong or not all(isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f)
                        for f in manifest["rule_files"]):
        raise InputError(f"the run table's manifest is damaged ({', '.join(wrong) or 'rule_files'})", path=where)
    return manifest


def _where(location: str, name: str) -> str:
    return f"{location.rstrip('/')}/{name}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
