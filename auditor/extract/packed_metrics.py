"""A document's metrics as columns: what the audit keeps of them until it reports.

The audit's parent holds every metric of the corpus (10^5 at 20 MB of text) for the corpus-wide
rules and the reports. As Metric objects each took ~460 bytes (the object, five offsets and a
float as objects of their own); as columns ~130 bytes plus the label's text. They are made into
Metric objects again when read, equal to the ones extracted; ``field`` reads one value without
making the object (the HTML report reads a few values of every metric).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any, Callable, Iterator

from ..documents.packed import PackedSequence, offset_array
from ..metrics import CONTRACT_FIELDS, TABLE_FIELDS, Metric

# Columns, in the order Metric takes its fields (checked below: another order turns packing off).
_INTS = ("start", "end", "line", "norm_start", "norm_end")  # offsets and line: ints, never None
_OPTIONAL_INTS = ("year", "article")  # ints or None
_FLOATS = ("value", "range_low", "range_high")  # floats or None
_STRINGS = ("text", "unit", "surface_unit", "approx", "kind", "dimension", "entity", "label", "metric")
_FIELDS = ("document", "start", "end", "text", "value", "unit", "surface_unit", "approx", "kind", "dimension",
           "entity", "year", "label", "metric", "placeholder", "range_low", "range_high", "article", "line",
           "norm_start", "norm_end")
_PACKABLE = TABLE_FIELDS == _FIELDS

# Per metric: the five ints, the two optional ints (0 when None) and a flags int (placeholder, and
# which of the optional ints and floats are None).
_WIDTH = len(_INTS) + len(_OPTIONAL_INTS) + 1
_PLACEHOLDER = 1
_INT_OR_NONE, _FLOAT_OR_NONE = frozenset((int, type(None))), frozenset((float, type(None)))
_NONE_BIT = {name: 2 << k for k, name in enumerate(_OPTIONAL_INTS + _FLOATS)}
_NO_YEAR, _NO_ARTICLE, _NO_VALUE, _NO_LOW, _NO_HIGH = (_NONE_BIT[n] for n in _OPTIONAL_INTS + _FLOATS)
# Where each field is read from: ("i", column) ints, ("o", column) optional ints, ("f", column) floats,
# ("s", column) strings.
_WHERE = {**{n: ("i", k) for k, n in enumerate(_INTS)},
          **{n: ("o", len(_INTS) + k) for k, n in enumerate(_OPTIONAL_INTS)},
          **{n: ("f", k) for k, n in enumerate(_FLOATS)},
          **{n: ("s", k) for k, n in enumerate(_STRINGS)}}


class PackedMetrics(PackedSequence):
    """The metrics of one document (one path) as an int array, a float array and a tuple of their
    strings (shared objects: units, kinds, interned figures)."""

    __slots__ = ("document", "_ints", "_floats", "_strings")

    def __init__(self, document: str, ints: array, floats: array, strings: tuple):
        self.document = document
        self._ints, self._floats, self._strings = ints, floats, strings

    @classmethod
    def pack(cls, metrics: Sequence[Metric], limit: int) -> "PackedMetrics | None":
        """`metrics` packed (`limit`: the length of the document's text, the largest offset);
        None when they hold what the columns cannot give back exactly (another path, a value
        that is not a float, a subclass of Metric)."""
        if isinstance(metrics, PackedMetrics):
            return metrics
        if not _PACKABLE or not metrics:
            return None
        document = metrics[0].document
        ints, floats, strings = offset_array(limit), array("d"), []
        for m in metrics:
            if type(m) is not Metric:
                return None
            start, end, line, norm_start, norm_end = row = (m.start, m.end, m.line, m.norm_start, m.norm_end)
            year, article, value, low, high = m.year, m.article, m.value, m.range_low, m.range_high
            # exactly these types (a bool is no int, an int no float): what the columns give back
            if (m.document != document or type(m.placeholder) is not bool
                    or not type(start) is type(end) is type(line) is type(norm_start) is type(norm_end) is int
                    or not {type(year), type(article)} <= _INT_OR_NONE
                    or not {type(value), type(low), type(high)} <= _FLOAT_OR_NONE):
                return None
            flags = ((_PLACEHOLDER if m.placeholder else 0) | (_NO_YEAR if year is None else 0)
                     | (_NO_ARTICLE if article is None else 0) | (_NO_VALUE if value is None else 0)
                     | (_NO_LOW if low is None else 0) | (_NO_HIGH if high is None else 0))
            try:
                ints.extend((*row, year or 0, article or 0, flags))
            except OverflowError:  # an int past what the array holds: keep the objects
                return None
            floats.extend((0.0 if value is None else value, 0.0 if low is None else low, 0.0 if high is None else high))
            strings.extend((m.text, m.unit, m.surface_unit, m.approx, m.kind, m.dimension, m.entity, m.label, m.metric))
        return cls(document, ints, floats, tuple(strings))

    def __len__(self) -> int:
        return len(self._ints) // _WIDTH

    def __reduce__(self) -> tuple:
        return PackedMetrics, (self.document, self._ints, self._floats, self._strings)

    def field(self, k: int, name: str) -> Any:
        """getattr(self[k], name), without making the Metric."""
        if name == "document":
            return self.document
        if name == "placeholder":
            return bool(self._ints[_WIDTH * k + _WIDTH - 1] & _PLACEHOLDER)
        kind, column = _WHERE[name]
        if kind == "s":
            return self._strings[len(_STRINGS) * k + column]
        if kind == "i":
            return self._ints[_WIDTH * k + column]
        flags = self._ints[_WIDTH * k + _WIDTH - 1]
        if flags & _NONE_BIT[name]:
            return None
        return self._ints[_WIDTH * k + column] if kind == "o" else self._floats[len(_FLOATS) * k + column]

    def _item(self, k: int) -> Metric:
        w, n = _WIDTH * k, len(_STRINGS) * k
        start, end, line, norm_start, norm_end, year, article, flags = self._ints[w:w + _WIDTH]
        value, low, high = self._floats[3 * k:3 * k + 3]
        text, unit, surface_unit, approx, kind, dimension, entity, label, metric = self._strings[n:n + len(_STRINGS)]
        return Metric(self.document, start, end, text, None if flags & _NO_VALUE else value, unit, surface_unit,
                      approx, kind, dimension, entity, None if flags & _NO_YEAR else year, label, metric,
                      bool(flags & _PLACEHOLDER), None if flags & _NO_LOW else low, None if flags & _NO_HIGH else high,
                      None if flags & _NO_ARTICLE else article, line, norm_start, norm_end)


    def column(self, name: str) -> Sequence[Any]:
        """Every metric's `name`, in order, read off the columns (slices, no Metric made)."""
        n = len(self)
        if name == "document":
            return [self.document] * n
        flags = self._ints[_WIDTH - 1::_WIDTH]
        if name == "placeholder":
            return [bool(f & _PLACEHOLDER) for f in flags]
        kind, column = _WHERE[name]
        if kind == "s":
            return self._strings[column::len(_STRINGS)]
        if kind == "i":
            return self._ints[column::_WIDTH]
        values = self._ints[column::_WIDTH] if kind == "o" else self._floats[column::len(_FLOATS)]
        bit = _NONE_BIT[name]
        return [None if f & bit else v for v, f in zip(values, flags)]


def metrics_where(metrics: Sequence[Metric], names: Sequence[str], keep: Callable[..., bool]) -> Iterator[Metric]:
    """The metrics for which ``keep(*fields)`` holds, `fields` their values of `names`, in order.
    Packed metrics are tested on their columns and only those kept are made into Metric objects:
    a corpus rule that compares a tenth of the audit's figures holds only that tenth."""
    item = metrics._item if isinstance(metrics, PackedMetrics) else metrics.__getitem__
    return (item(k) for k, _ in fields_where(metrics, names, keep))


def fields_where(metrics: Sequence[Metric], names: Sequence[str], keep: Callable[..., bool]
                 ) -> Iterator[tuple[int, tuple]]:
    """(k, fields) for each metric k for which ``keep(*fields)`` holds, `fields` its values of
    `names`, in order; packed metrics are read off their columns, no Metric made."""
    if isinstance(metrics, PackedMetrics):
        columns = [metrics.column(name) for name in names]
        for k, values in enumerate(zip(*columns)):
            if keep(*values):
                yield k, values
        return
    for k, m in enumerate(metrics):
        values = tuple(getattr(m, name) for name in names)
        if keep(*values):
            yield k, values


def field_reader(metrics: Sequence[Metric]) -> Callable[[int, str], Any]:
    """A function (k, name) -> getattr(metrics[k], name), reading packed columns in place."""
    if isinstance(metrics, PackedMetrics):
        return metrics.field
    return lambda k, name: getattr(metrics[k], name)


def contract_records(metrics: Sequence[Metric]) -> Iterator[dict[str, Any]]:
    """``m.contract_record()`` of every metric, in order; read off the columns when the metrics
    are packed (the reports write every metric of the audit: no Metric object made for each)."""
    if not isinstance(metrics, PackedMetrics) or CONTRACT_FIELDS != _CONTRACT:
        yield from (m.contract_record() for m in metrics)
        return
    ints, floats, strings, document, n = metrics._ints, metrics._floats, metrics._strings, metrics.document, len(_STRINGS)
    for k in range(len(metrics)):
        start, end, _, _, _, year, _, flags = ints[_WIDTH * k:_WIDTH * (k + 1)]
        text, unit, surface_unit, approx, _, _, entity, label, metric = strings[n * k:n * (k + 1)]
        yield {"document": document, "start": start, "end": end, "text": text,
               "value": None if flags & _NO_VALUE else floats[3 * k], "unit": unit, "surface_unit": surface_unit,
               "approx": approx, "entity": entity, "year": None if flags & _NO_YEAR else year, "label": label,
               "metric": metric}


_CONTRACT = ("document", "start", "end", "text", "value", "unit", "surface_unit", "approx", "entity", "year", "label",
             "metric")  # the record contract_records writes (checked against CONTRACT_FIELDS)
