"""Whole-string numeral parsing (auditor.extract.numbers)."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, strategies as st

from auditor.extract.numbers import fold_width, parse_fraction, parse_number, parse_numeral


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the API examples
        ("一百二十三", 123),
        ("两千", 2000),
        ("1.5万", 15000),
        ("3万4000", 34000),
        ("2千零30万", 20_300_000),
        ("十余", 10),
        ("１２３", 123),
        ("1,234", 1234),
        ("三分之二", 2 / 3),
        ("百分之八十五", 85),
        ("负五", -5),
        # Chinese numerals: zeros, abbreviations, compounds, financial capitals
        ("十", 10),
        ("十一", 11),
        ("一十一", 11),
        ("一百零一", 101),
        ("一千零十", 1010),
        ("一百十一", 111),
        ("一万零百一十一", 10111),
        ("两千四百五", 2450),
        ("一万三", 13000),
        ("一百二十万三", 1_203_000),
        ("千三", 1300),
        ("百三", 130),
        ("四千零五万", 40_050_000),
        ("四万万", 400_000_000),
        ("十万亿", 10**13),
        ("4.78万亿", 4.78e12),
        ("五兆六十二亿四万五千二", 5_006_200_045_200),
        ("一亿五千万零六千三百五十五", 150_006_355),
        ("壹佰玖拾万叁仟玖佰柒拾壹", 1_903_971),
        ("拾万零五十六", 100_056),
        ("廿二", 22),
        ("五百卅四", 534),
        ("两个亿", 200_000_000),
        ("〇", 0),
        # digit strings
        ("一二三", 123),
        ("二〇二三", 2023),
        # decimals
        ("零点零零一", 0.001),
        ("两千万点五五四四", 20_000_000.5544),
        ("一百点123", 100.123),
        ("二十点一万", 201_000),
        ("28.74万", 287_400),
        ("0.49万", 4900),
        ("3.94亿", 394_000_000),
        ("１１.92亿", 1_192_000_000),
        ("10,000.233", 10_000.233),
        (".5", 0.5),
        ("01.10", 1.1),
        # signs
        ("负一十一", -11),
        ("-10.1万", -101_000),
        ("负 1,200,000", -1_200_000),
        ("－１２２", -122),
        # suffixes and notations
        ("40k", 40_000),
        ("100K", 100_000),
        ("1.2M", 1_200_000),
        ("2e5", 200_000),
        ("2^5", 32),
        # approximate forms give their lower bound
        ("十几", 10),
        ("三十多万", 300_000),
        ("五百余万", 5_000_000),
        ("三五百", 300),
        ("十五六", 15),
        # fractions and percentages
        ("五分之一", 0.2),
        ("三又五分之一", 3.2),
        ("负一又二分之一", -1.5),
        ("四千二分之三", 3 / 4200),
        ("负３分之负一百五十七", 157 / 3),
        ("3/5", 0.6),
        ("1 3/5", 1.6),
        ("千分之2.4", 0.24),
        ("百分百", 100),
        ("百分之百", 100),
        ("百分三十", 30),
        ("25%", 25),
        ("-22.2%", -22.2),
        ("一半", 0.5),
        ("半百", 50),
    ],
)
def test_parse_number(text: str, expected: float) -> None:
    value = parse_number(text)
    assert value is not None, text
    assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12), (text, value)


@pytest.mark.parametrize(
    "text",
    [
        # cn2an strict-mode rejects: not one well-formed numeral
        "零点", "点零", "点一", "百十一", "十一十二", "负十一十二", "十七十八", "元整", "圆", "负",
        "零点点", "零点零大", "10.1万零100", "10..1万",
        # not numerals at all, or not only a numeral
        "", " ", "万", "万万", "百万", "一切", "四川", "五十千", "两万两", "三百九十九三", "3万元", "X万",
        "1/0", "一百零", "abc",
    ],
)
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


def test_parse_number_never_raises_on_odd_input() -> None:
    for text in ["9^99", "1e99999", "9" * 200, "\x00", "\ud800", "点" * 70, "万" * 30, None]:
        parse_number(text)  # type: ignore[arg-type]


def test_numeral_details() -> None:
    vague = parse_numeral("三五百")
    assert vague is not None and vague.value is None and (vague.lo, vague.hi) == (300, 500)
    marked = parse_numeral("十余万")
    assert marked is not None and marked.marker == "余" and (marked.lo, marked.hi) == (100_000, 200_000)
    several = parse_numeral("几十万")
    assert several is not None and several.value is None and (several.lo, several.hi) == (100_000, 1_000_000)
    assert parse_numeral("百万").bare_scale  # type: ignore[union-attr]
    assert not parse_numeral("十万").bare_scale  # type: ignore[union-attr]
    assert parse_numeral("一万六七").lo == 16000  # type: ignore[union-attr]


def test_parse_fraction_and_width() -> None:
    assert parse_fraction("三", "二") is not None
    assert parse_fraction("零", "一") is None
    assert fold_width("４，５６５％") == "4,565%"
    assert fold_width("$20，300美圆") == "$20，300美圆"  # a list comma, not a thousands separator


@given(st.text(alphabet=st.sampled_from("0123456789０１２３４５６７８９，,.．％%万元人\u3000 \u2212\uFE6AＸx−－"), max_size=40)
       | st.text(max_size=40))
@example("82，225.00")  # a thousands comma and nothing else full-width
def test_fold_width_skips_only_texts_it_would_not_change(text: str) -> None:
    """The early return for text with nothing to fold gives what the full fold gives."""
    from auditor.extract.numbers import _FOLD, _FW_COMMA_RE

    assert fold_width(text) == _FW_COMMA_RE.sub(",", text).translate(_FOLD)
