"""Metrics kept as columns (what the audit holds of them until it reports) read back exactly."""

from __future__ import annotations

import pickle
from dataclasses import replace

from auditor.extract.packed_metrics import PackedMetrics, contract_records, field_reader, metrics_where
from auditor.metrics import TABLE_FIELDS, Metric


def _metric(**kw) -> Metric:
    base = dict(document="a.txt", start=3, end=9, text="2.8万元", value=28000.0, unit="元", surface_unit="万元",
                approx=None, kind="money", dimension="money", entity="洮南市总工会", year=2021, label="慰问金",
                metric="relief_funds", placeholder=False, range_low=None, range_high=None, article=0, line=2,
                norm_start=2, norm_end=8)
    return Metric(**{**base, **kw})


def test_columns_give_back_every_field(analysed):
    odd = (_metric(), _metric(value=None, year=None, article=None, placeholder=True, text="X元", label=None),
           _metric(value=-0.0, range_low=1.5, range_high=float("inf"), approx="余", start=40, end=44))
    for metrics in [odd] + [d.metrics for d in analysed.values()]:
        packed = PackedMetrics.pack(metrics, 10_000_000)
        assert packed is not None and len(packed) == len(metrics)
        assert packed == metrics and tuple(packed) == tuple(metrics) and packed[-1] == metrics[-1]
        assert [str(m.value) for m in packed] == [str(m.value) for m in metrics]  # -0.0 stays -0.0
        read = field_reader(packed)
        assert all(read(k, f) == getattr(m, f) for k, m in enumerate(metrics) for f in TABLE_FIELDS)
        assert list(contract_records(packed)) == [m.contract_record() for m in metrics]
        assert all(list(packed.column(f)) == [getattr(m, f) for m in metrics] for f in TABLE_FIELDS)
        assert pickle.loads(pickle.dumps(packed)) == metrics


def test_what_columns_cannot_hold_stays_objects():
    assert PackedMetrics.pack((), 100) is None
    assert PackedMetrics.pack((_metric(), _metric(document="b.txt")), 100) is None  # one path per document
    assert PackedMetrics.pack((replace(_metric(), value=28000),), 100) is None  # an int value would come back a float
    assert PackedMetrics.pack((_metric(start=2**40),), 100) is None  # past the int array


def test_a_metric_of_another_shape_stays_an_object():
    assert PackedMetrics.pack((replace(_metric(), start=None),), 100) is None
    assert PackedMetrics.pack((replace(_metric(), year=True),), 100) is None


def test_metrics_where_tests_the_columns_as_the_objects(analysed):
    """What a corpus rule selects off the columns is what it would select from the objects,
    whichever fields it reads (None, 0 and -0.0 values, placeholders, missing years)."""
    odd = (_metric(), _metric(value=None, year=None, placeholder=True, entity=None), _metric(value=0.0, unit=None),
           _metric(value=-0.0, metric=None, start=40, end=44))
    keeps = [(("value",), lambda v: v is not None), (("placeholder", "value"), lambda p, v: not p and v is not None),
             (("entity", "year", "metric"), lambda e, y, mid: bool(e and y and mid)),
             (("value", "unit", "document"), lambda v, u, d: d == "a.txt" and u is not None and (v or 0) > 0),
             (("start", "norm_end", "article"), lambda s, e, a: s % 2 == 0 and a is not None)]
    for metrics in [odd] + [d.metrics for d in analysed.values()]:
        packed = PackedMetrics.pack(metrics, 10_000_000)
        for names, keep in keeps:
            wanted = [m for m in metrics if keep(*(getattr(m, n) for n in names))]
            assert list(metrics_where(packed, names, keep)) == wanted
            assert list(metrics_where(metrics, names, keep)) == wanted
        assert any(list(metrics_where(packed, *k)) for k in keeps)  # the cases select something
