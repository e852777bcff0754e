"""The metrics table's contract, as a pandera DataFrameModel: a plain declaration of its columns.

Kept apart from metrics.py (and without postponed annotations, which pandera resolves at class
creation) so that pandas and pandera load only when a table is built.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from .metrics import KINDS


class MetricsTable(pa.DataFrameModel):
    document: Series[str]
    start: Series[int] = pa.Field(ge=0)
    end: Series[int] = pa.Field(ge=0)
    text: Series[str] = pa.Field(str_length={"min_value": 1})
    value: Series[float] = pa.Field(nullable=True)
    unit: Series[str] = pa.Field(nullable=True)
    surface_unit: Series[str] = pa.Field(nullable=True)
    approx: Series[str] = pa.Field(nullable=True)
    kind: Series[str] = pa.Field(isin=list(KINDS))
    dimension: Series[str] = pa.Field(nullable=True)
    entity: Series[str] = pa.Field(nullable=True)
    year: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1900, le=2100)
    label: Series[str] = pa.Field(nullable=True)
    metric: Series[str] = pa.Field(nullable=True)
    placeholder: Series[bool]
    range_low: Series[float] = pa.Field(nullable=True)
    range_high: Series[float] = pa.Field(nullable=True)
    article: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    line: Series[int] = pa.Field(ge=1)
    norm_start: Series[int] = pa.Field(ge=0)
    norm_end: Series[int] = pa.Field(ge=0)

    @pa.dataframe_check
    def span_is_ordered(cls, df: pd.DataFrame) -> pd.Series:
        return df["end"] > df["start"]

    @pa.dataframe_check
    def placeholder_has_no_value(cls, df: pd.DataFrame) -> pd.Series:
        """An unfilled placeholder (X万元) must not carry a made-up value."""
        return ~df["placeholder"] | df["value"].isna()

    class Config:
        strict = True
        coerce = True
