"""The JSON report: exactly the contract in contracts/audit-report.schema.json (schema_version 1)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from .. import __version__
from ..extract.packed_metrics import contract_records, field_reader
from ..findings import Finding, Tally
from ..metrics import CONTRACT_FIELDS, Metric

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult


def report_dict(result: "AuditResult") -> dict[str, Any]:
    """The report as one dict (every finding and metric as a dict of its own)."""
    return {k: list(v.items) if isinstance(v, Lazy) else v for k, v in report_parts(result).items()}


@dataclass(frozen=True, slots=True)
class Lazy:
    """A JSON array whose items are made one at a time as they are written (``iter_encode``)."""

    items: Iterable[Any]


@dataclass(frozen=True, slots=True)
class Encoded:
    """A JSON array whose items come already written, a run of them at a time (``encode_run``:
    the items' text at the array's place, joined by its separator), as worker processes write the
    long arrays of a large report (auditor/report/parallel.py)."""

    runs: Iterable[str]


def document_items(result: "AuditResult", start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
    """The report's `documents` records of documents [start, stop)."""
    return (_document(d) for d in result.documents[start:stop])


def metric_items(result: "AuditResult", start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
    """The report's `metrics` records of the metrics of documents [start, stop)."""
    return (r for d in result.documents[start:stop] for r in contract_records(d.metrics))


def finding_items(result: "AuditResult", start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
    """The report's `findings` records of findings [start, stop), read a batch at a time when
    they are on disk (a whole pass goes through them in order, never by index)."""
    findings = result.findings if start == 0 and stop is None else result.findings[start:stop]
    return (finding_dict(f) for f in findings)


def report_parts(result: "AuditResult") -> dict[str, Any]:
    """``report_dict`` with its three long arrays (documents, metrics, findings) left ``Lazy``:
    written item by item, a report of 10^5 findings never exists as dicts or as one string."""
    tally = Tally.of(result.findings)  # the findings may be on disk: counted as they were written
    return {
        "schema_version": 1,
        "tool": {"name": "auditor", "version": __version__, "rules": list(result.rule_set.files)},
        "documents": Lazy(document_items(result)),
        "metrics": Lazy(metric_items(result)),
        "findings": Lazy(finding_items(result)),
        "summary": {
            "documents": len(result.documents),
            "findings": sum(tally.by_severity.values()),
            "by_severity": dict(tally.by_severity),
            "by_category": dict(tally.by_category),
            "suppressed": tally.suppressed,
            "elapsed_s": round(result.elapsed_s, 3),
        },
    }


class MetricRecord(Mapping[str, Any]):
    """Metric k of a document's metrics as its contract record (``Metric.contract_record``), read
    off the metrics in place (packed columns need not become Metric objects): what the HTML report
    holds for each of maybe 10^5 metrics, instead of a dict each."""

    __slots__ = ("_read", "_k")
    _FIELDS = frozenset(CONTRACT_FIELDS)

    def __init__(self, read: Callable[[int, str], Any], k: int) -> None:
        self._read, self._k = read, k  # read(k, name): ``field_reader`` of the document's metrics

    @classmethod
    def each(cls, metrics: Sequence[Metric]) -> list["MetricRecord"]:
        """A record for every metric of one document, sharing one reader."""
        read = field_reader(metrics)
        return [cls(read, k) for k in range(len(metrics))]

    def __getitem__(self, key: str) -> Any:
        if key not in self._FIELDS:
            raise KeyError(key)
        return self._read(self._k, key)

    def __iter__(self) -> Iterator[str]:
        return iter(CONTRACT_FIELDS)

    def __len__(self) -> int:
        return len(CONTRACT_FIELDS)

    def get(self, key: str, default: Any = None) -> Any:  # the page calls it for every figure: no detour
        return self._read(self._k, key) if key in self._FIELDS else default


def _document(doc) -> dict[str, Any]:
    articles = []
    for a in doc.segmentation.articles:
        for start, end in a.parts:
            o_start, o_end = doc.norm.to_original(start, end)
            articles.append({"start": o_start, "end": o_end, "entity": a.entity, "year": a.year, "title": a.title})
    d = doc.document
    return {"path": d.path, "sha256": d.sha256, "encoding": d.encoding, "chars": len(d.text), "articles": articles}


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule, "category": f.category, "severity": f.severity, "message": f.message,
        "document": f.document, "start": f.start, "end": f.end, "line": f.line, "column": f.column,
        "text": f.text, "fingerprint": f.fingerprint,
    }
    if f.related:
        out["related"] = _related(f)
    if f.evidence:
        out["evidence"] = dict(f.evidence)
    if f.suppressed is not None:
        out["suppressed"] = f.suppressed
    return out


def _related(f: Finding) -> list[dict[str, Any]]:
    return [{k: v for k, v in (("document", r.document), ("start", r.start), ("end", r.end),
                               ("text", r.text), ("note", r.note)) if v is not None}
            for r in f.related]


class FindingRecord(Mapping[str, Any]):
    """``finding_dict(f)`` read off the Finding itself, for the HTML report, which holds one per
    finding of the audit while it writes the page: a view instead of one more dict (and lists
    of dicts) per finding. `evidence` is the finding's own mapping: read it, do not change it."""

    __slots__ = ("_finding",)
    _ALWAYS = ("rule", "category", "severity", "message", "document", "start", "end", "line", "column",
               "text", "fingerprint")
    _ALWAYS_SET = frozenset(_ALWAYS)

    def __init__(self, finding: Finding) -> None:
        self._finding = finding

    def __getitem__(self, key: str) -> Any:
        f = self._finding
        if key in self._ALWAYS_SET:
            return getattr(f, key)
        if key == "related" and f.related:
            return _related(f)
        if key == "evidence" and f.evidence:
            return f.evidence
        if key == "suppressed" and f.suppressed is not None:
            return f.suppressed
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:  # the page calls it often: one call, no detour
        f = self._finding
        if key in self._ALWAYS_SET:
            return getattr(f, key)
        if key == "related":
            return _related(f) if f.related else default
        if key == "evidence":
            return f.evidence if f.evidence else default
        if key == "suppressed":
            return default if f.suppressed is None else f.suppressed
        return default

    def __contains__(self, key: object) -> bool:
        f = self._finding
        return (key in self._ALWAYS_SET or (key == "related" and bool(f.related))
                or (key == "evidence" and bool(f.evidence)) or (key == "suppressed" and f.suppressed is not None))

    def __iter__(self) -> Iterator[str]:
        return iter([k for k in (*self._ALWAYS, "related", "evidence", "suppressed") if k in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def render_json(result: "AuditResult") -> str:
    return "".join(iter_json(result))


def iter_json(result: "AuditResult") -> Iterator[str]:
    """The JSON report in pieces, exactly ``json.dumps(report_dict(result), indent=2)`` and a
    newline once joined: for writing a large report without holding it (``write_output``). The
    long arrays of a large audit are written by ``result.jobs`` processes."""
    parts = report_parts(result)
    if getattr(result, "jobs", 1) > 1:
        from .parallel import in_workers

        parts = in_workers(parts, result, result.jobs)
    # ensure_ascii=False: Chinese stays readable, no \\u escapes.
    yield from iter_encode(parts, dumps_indented, indent=2)
    yield "\n"


def dumps_indented(value: Any, newline: str = "\n") -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2, default=_plain)``, byte for byte, about
    twice as fast: with an indent, the json module encodes in Python, one generator per nested
    value; here strings go to its C escaper and the nesting is joined directly (a report of
    10^6 metrics and findings spent ~18 s in json at 200 MB of text, and ~9 s here)."""
    if isinstance(value, str):
        return _escape(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    inner = newline + "  "
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        if _C_ENCODER and _SCALARS.issuperset(map(type, value)):
            return "[" + inner + "".join(_flat_encoder(inner)(value, 0))[1:-1] + newline + "]"
        return "[" + inner + ("," + inner).join([dumps_indented(v, inner) for v in value]) + newline + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        if _C_ENCODER and _SCALARS.issuperset(map(type, value.values())):  # a metric's record, say
            return "{" + inner + "".join(_flat_encoder(inner)(value, 0))[1:-1] + newline + "}"
        return "{" + inner + ("," + inner).join([_key(k) + ": " + dumps_indented(v, inner)
                                                 for k, v in value.items()]) + newline + "}"
    return dumps_indented(_plain(value), newline)


# A dict or list of plain values goes to json's C encoder (twice as fast on a metric's record):
# without an indent of its own it runs in C, and an item separator holding the newline and the
# indent lays the items out one a line, as the indented encoder does. Exact types only: a
# subclass of int or str may encode otherwise.
_C_ENCODER = json.encoder.c_make_encoder
_SCALARS = frozenset((str, int, float, bool, type(None)))
_FLAT_ENCODERS: dict[str, Callable[[Any, int], Any]] = {}


def _flat_encoder(inner: str) -> Callable[[Any, int], Any]:
    encode = _FLAT_ENCODERS.get(inner)
    if encode is None:  # markers None: plain values hold no cycle; allow_nan as json.dumps
        encode = _FLAT_ENCODERS[inner] = _C_ENCODER(None, _refuse, _escape, None, ": ", "," + inner,
                                                    False, False, True)
    return encode


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_escape = json.encoder.encode_basestring  # the C escaper when available, as json.dumps uses with ensure_ascii=False


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    """A dict key as json.dumps writes it: strings as they are, numbers, booleans and None as text."""
    if isinstance(key, str):
        return _escape(key)
    if isinstance(key, float):
        return '"' + _float(key) + '"'
    if key is True or key is False or key is None:
        return '"' + ("true" if key is True else "false" if key is False else "null") + '"'
    if isinstance(key, int):
        return '"' + int.__repr__(key) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def iter_encode(value: Any, dumps: Callable[[Any], str], *, indent: int | None = None,
                level: int = 0) -> Iterator[str]:
    """`value` as JSON in pieces: `dumps` (json.dumps with the caller's options) for everything
    but the dicts and lists holding ``Lazy`` arrays and those arrays themselves, whose items
    (plain JSON values) are dumped one at a time. Joined, the pieces are dumps(value with every Lazy a list): nested
    output is dumps' own, moved right by its nesting level (a JSON text holds no raw newline but
    its own, so indenting after every newline is exact)."""
    if isinstance(value, Lazy):
        yield from _iter_runs((_indented(dumps(item), indent, level + 1) for item in value.items), indent, level)
    elif isinstance(value, Encoded):
        yield from _iter_runs(value.runs, indent, level)
    elif isinstance(value, dict) and any(map(_streams, value.values())):
        yield from _iter_object(value, dumps, indent, level)
    elif isinstance(value, list) and any(map(_streams, value)):  # SARIF's runs: [{"results": Lazy}]
        opening, between, closing = _layout(indent, level)
        for k, item in enumerate(value):
            yield between if k else opening
            yield from iter_encode(item, dumps, indent=indent, level=level + 1)
        yield closing
    else:
        yield _indented(dumps(value), indent, level)


def _streams(value: Any) -> bool:
    """Whether `value` holds an array written item by item, at any depth of dicts and lists."""
    if isinstance(value, (Lazy, Encoded)):
        return True
    if isinstance(value, dict):
        return any(map(_streams, value.values()))
    if isinstance(value, list):
        return any(map(_streams, value))
    return False


def _indented(text: str, indent: int | None, level: int) -> str:
    return text.replace("\n", "\n" + " " * (indent * level)) if indent and level else text


def _layout(indent: int | None, level: int) -> tuple[str, str, str]:
    """The opening, the separator between items and the closing of an array at `level`."""
    if not indent:
        return "[", ",", "]"
    pad = " " * (indent * (level + 1))
    return "[\n" + pad, ",\n" + pad, "\n" + " " * (indent * level) + "]"


def encode_run(items: Iterable[Any], dumps: Callable[[Any], str], indent: int | None, level: int) -> str:
    """Items of an array at `level`, written and joined as the array holds them (an ``Encoded`` run)."""
    return _layout(indent, level)[1].join(_indented(dumps(item), indent, level + 1) for item in items)


def _iter_runs(runs: Iterable[str], indent: int | None, level: int) -> Iterator[str]:
    opening, between, closing = _layout(indent, level)
    sep, empty = opening, True
    for run in runs:
        if run:  # a run of no items (documents without metrics)
            yield sep + run
            sep, empty = between, False
    yield "[]" if empty else closing


def _iter_object(value: dict, dumps: Callable[[Any], str], indent: int | None, level: int) -> Iterator[str]:
    for k, (key, item) in enumerate(value.items()):
        yield ("," if k else "{") + ("\n" + " " * (indent * (level + 1)) if indent else "")
        yield dumps(key) + (": " if indent else ":")
        yield from iter_encode(item, dumps, indent=indent, level=level + 1)
    yield ("\n" + " " * (indent * level) if indent else "") + "}"


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars from a metrics frame
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)
