"""The long arrays of a large JSON report (documents, metrics, findings) written by worker processes.

At 200 MB of text the report holds ~10^6 records, and writing them was the one stage of the audit
left to a single process (a tenth of the run). Forked workers read the finished audit in place
(documents spilled to disk are read back by each worker: ``os.pread`` is safe across a fork) and
each writes a run of records at a time; the parent writes the runs in order, so the report is
byte for byte the one-process report. Small audits, and platforms without fork (the audit would
have to be pickled to every worker), are written in the parent.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .json_report import Encoded, Lazy, document_items, dumps_indented, encode_run, finding_items, metric_items

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult

# Fewer documents (~200 metrics each) and findings than these: a pool costs more than it saves.
_MIN_DOCUMENTS = 128
_MIN_FINDINGS = 20_000
_DOCUMENTS_PER_RUN = 32  # a run of documents' records, or of their metrics' (~2000 metrics)
_FINDINGS_PER_RUN = 4096

# The arrays written in workers: records of items [start, stop), and the items' count and run length.
_ARRAYS: dict[str, tuple[Callable[..., Iterator[dict]], Callable[["AuditResult"], int], int]] = {
    "documents": (document_items, lambda r: len(r.documents), _DOCUMENTS_PER_RUN),
    "metrics": (metric_items, lambda r: len(r.documents), _DOCUMENTS_PER_RUN),
    "findings": (finding_items, lambda r: len(r.findings), _FINDINGS_PER_RUN),
}
_LEVEL = 1  # the arrays' nesting in the report
_INDENT = 2


def in_workers(parts: dict[str, Any], result: "AuditResult", jobs: int) -> dict[str, Any]:
    """`parts` (``report_parts``) with its long arrays as ``Encoded`` runs that `jobs` forked
    processes write, when the audit is large enough and processes can be forked; else `parts`."""
    from ..engines.local import _mp_context

    small = len(result.documents) < _MIN_DOCUMENTS and len(result.findings) < _MIN_FINDINGS
    if jobs <= 1 or small or _mp_context().get_start_method() != "fork":
        return parts
    names = [name for name in parts if name in _ARRAYS and isinstance(parts[name], Lazy)]
    runs = {name: _chunks(name, result) for name in names}
    # One pool for the arrays, in the order the report writes them: no pause between two arrays.
    written = _written(result, [chunk for name in names for chunk in runs[name]], jobs)
    return {**parts, **{name: Encoded(islice(written, len(runs[name]))) for name in names}}


def _chunks(name: str, result: "AuditResult") -> list[tuple[str, int, int]]:
    _, count, per_run = _ARRAYS[name]
    n = count(result)
    return [(name, start, min(start + per_run, n)) for start in range(0, n, per_run)]


def _written(result: "AuditResult", chunks: list[tuple[str, int, int]], jobs: int) -> Iterator[str]:
    from ..engines.local import map_in_order

    yield from map_in_order(_write_run, {"result": result}, chunks, jobs)


def _write_run(state: dict, chunk: tuple[str, int, int]) -> str:
    """In a worker: the records of one run, written as the array holds them."""
    name, start, stop = chunk
    items = _ARRAYS[name][0](state["result"], start, stop)
    return encode_run(items, dumps_indented, _INDENT, _LEVEL)
