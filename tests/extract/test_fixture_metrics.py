"""The metrics table of the real pages: the figures the issue names, and what is not a figure."""

from __future__ import annotations

import math

import pytest

from auditor.metrics import to_frame

SEVEN = {"洮北区总工会", "镇赉县总工会", "洮南市总工会", "白城经济开发区工会", "通榆县总工会", "白城工业园区工会", "大安市总工会"}


def _find(doc, text: str, nth: int = 0):
    hits = [m for m in doc.metrics if m.text.replace("\n", "").replace(" ", "") == text]
    assert len(hits) > nth, f"{text!r} not extracted from {doc.path}"
    return hits[nth]


def test_offsets_map_to_the_original(analysed):
    for doc in analysed.values():
        for m in doc.metrics:
            assert doc.original[m.start:m.end] == m.text


def test_new_members_000(analysed):
    m = _find(analysed["000"], "1416人")
    assert (m.value, m.unit, m.entity, m.year) == (1416, "人", "洮北区总工会", 2021)
    assert m.label == "新增会员" and m.metric == "new_members"


@pytest.mark.parametrize("page, year, text", [("001", 2020, "28.74万元"), ("000", 2021, "28.74万元")])
def test_relief_funds_of_taonan_in_both_years(analysed, page, year, text):
    m = _find(analysed[page], text)
    assert (m.value, m.unit, m.surface_unit, m.entity, m.year) == (287400, "元", "万元", "洮南市总工会", year)


@pytest.mark.parametrize("page, text, value, unit, approx", [
    ("000", "近22万元", 220000, "元", "近"),
    ("000", "4.3万余元", 43000, "元", "余"),
    ("000", "0.49万元", 4900, "元", None),
    ("002", "12.46万人次", 124600, "人次", None),
    ("003", "3.94亿元", 394000000, "元", None),
    ("001", "十余万元", 100000, "元", "余"),
    ("000", "30余场", 30, "场", "余"),
])
def test_named_figures(analysed, page, text, value, unit, approx):
    m = _find(analysed[page], text)
    assert math.isclose(m.value, value) and m.unit == unit and m.approx == approx


def test_placeholder_figures_of_004_have_no_value(analysed):
    placeholders = [m for m in analysed["004"].metrics if m.placeholder]
    assert len(placeholders) > 50
    xwan = [m for m in placeholders if m.text.replace(" ", "").replace("\n", "") == "X万元"]
    assert xwan and all(m.value is None and m.unit == "元" for m in xwan)


def test_names_with_numerals_are_not_figures(analysed, fixture_texts):
    for page in ("000", "001", "003"):
        doc = analysed[page]
        for m in doc.metrics:
            context = doc.original[max(0, m.start - 2):m.end + 2]
            assert "3+X" not in context and "六中全会" not in context and "十九届" not in m.text, context
    assert "十九届六中全会" in fixture_texts["000"] and "3+X" in fixture_texts["003"]


def test_years_and_dates_are_not_figures(analysed):
    for doc in analysed.values():
        for m in doc.metrics:
            assert not (m.unit in (None, "年") and m.text.rstrip().endswith("年")), m.text


def test_each_organisation_with_its_year(analysed):
    for page, year in (("000", 2021), ("001", 2020)):
        pairs = {(m.entity, m.year) for m in analysed[page].metrics}
        assert {e for e, _ in pairs} == SEVEN
        assert {y for _, y in pairs} == {year}


def test_taxonomy_maps_writers_wording_to_one_metric(analysed):
    ids = {m.label: m.metric for doc in analysed.values() for m in doc.metrics if m.metric == "new_union_orgs"}
    assert {"新建工会组织", "新组建企业工会", "新建基层工会"} & set(ids)


def test_table_validates_against_its_pandera_schema(analysed):
    frame = to_frame([m for doc in analysed.values() for m in doc.metrics])
    assert len(frame) > 500 and frame["placeholder"].dtype == bool
    assert frame.loc[frame["placeholder"], "value"].isna().all()


def test_table_is_built_column_by_column_as_it_was_row_by_row(analysed):
    # to_frame builds its columns from the dataclasses directly: the validated table is the one a
    # frame of one dict per row gives, values and dtypes, with rows or without.
    from dataclasses import asdict

    import pandas as pd

    from auditor.metrics import TABLE_FIELDS, metrics_schema

    def by_rows(metrics):
        frame = pd.DataFrame([asdict(m) for m in metrics], columns=list(TABLE_FIELDS))
        frame = frame.astype({"year": "Int64", "article": "Int64", "value": "float64", "range_low": "float64",
                              "range_high": "float64", "placeholder": "bool"})
        for col in ("document", "text", "unit", "surface_unit", "approx", "kind", "dimension", "entity", "label",
                    "metric"):
            frame[col] = frame[col].astype("object")
        return metrics_schema().validate(frame, lazy=True)

    metrics = [m for doc in analysed.values() for m in doc.metrics]
    placeholders = [m for m in metrics if m.placeholder]
    for rows in (metrics, placeholders, metrics[:1], []):
        pd.testing.assert_frame_equal(to_frame(rows), by_rows(rows))
