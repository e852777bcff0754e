"""The metrics table: one row per figure in the text, and its pandera schema (the table's contract).

Rows are built as plain dataclasses by the extractor; pandas and pandera are imported only when a
table is asked for, so commands that never build one start fast.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

KINDS = ("money", "count", "percent", "fraction", "number")


@dataclass(frozen=True, slots=True)
class Metric:
    document: str
    start: int  # into the original text: original[start:end] == text
    end: int
    text: str
    value: float | None  # in the base unit; None for an unfilled placeholder or an open range
    unit: str | None  # base unit
    surface_unit: str | None  # as written
    approx: str | None
    kind: str
    dimension: str | None
    entity: str | None
    year: int | None
    label: str | None
    metric: str | None  # canonical id from the taxonomy
    placeholder: bool = False
    range_low: float | None = None
    range_high: float | None = None
    article: int | None = None
    line: int = 1
    norm_start: int = 0  # the same span in the normalised text, for rules that read it
    norm_end: int = 0

    def contract_record(self) -> dict:
        """The record shaped like the `metrics` items of the JSON report contract."""
        return {k: getattr(self, k) for k in CONTRACT_FIELDS}


CONTRACT_FIELDS = ("document", "start", "end", "text", "value", "unit", "surface_unit", "approx",
                   "entity", "year", "label", "metric")
TABLE_FIELDS = tuple(f.name for f in fields(Metric))
_ROW = attrgetter(*TABLE_FIELDS)  # a Metric's fields as a tuple, in table order


def metrics_schema():
    """The pandera DataFrameModel of the metrics table (imported on first use: pandera is heavy)."""
    from .metrics_schema import MetricsTable

    return MetricsTable


def to_frame(metrics: Iterable[Metric], *, validate: bool = True) -> "pd.DataFrame":
    """The metrics as a DataFrame with the schema's dtypes, validated by pandera."""
    import pandas as pd

    # Column by column: every row's fields read at once in C, then transposed (dataclasses.asdict
    # per row deep-copied every value and was most of the cost of the table).
    rows = list(map(_ROW, metrics))
    columns = dict(zip(TABLE_FIELDS, map(list, zip(*rows)))) if rows else None  # none: object columns
    frame = pd.DataFrame(columns, columns=list(TABLE_FIELDS))
    frame = frame.astype({"year": "Int64", "article": "Int64", "value": "float64",
                          "range_low": "float64", "range_high": "float64", "placeholder": "bool"})
    for col in ("document", "text", "unit", "surface_unit", "approx", "kind", "dimension", "entity", "label", "metric"):
        frame[col] = frame[col].astype("object")
    if validate:
        frame = metrics_schema().validate(frame, lazy=True)
    return frame
