"""The normalised view: folding, wrap joining, figure spaces, and the offset map back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.documents.normalise import normalise


def _assert_maps_back(original: str) -> None:
    norm = normalise(original)
    for i, ch in enumerate(norm.text):
        o = norm.original_index(i)
        assert 0 <= o < len(original)
        source = original[o]
        folded = chr(ord(source) - 0xFEE0) if 0xFF01 <= ord(source) <= 0xFF5E else source
        assert ch == folded or (ch == " " and source.isspace()) or (ch == "\n" and source == "\n"), (i, ch, source)
    # Spans map to original slices that contain the same characters, plus what was deleted.
    if norm.text:
        s, e = norm.to_original(0, len(norm.text))
        assert 0 <= s <= e <= len(original)


def test_every_fixture_maps_back(fixture_texts):
    for original in fixture_texts.values():
        _assert_maps_back(original)


def test_full_width_digits_and_punctuation_fold():
    norm = normalise("新增会员１４１６人，发放慰问金１８．２万元％")
    assert norm.text == "新增会员1416人,发放慰问金18.2万元%"


def test_wrapped_lines_of_000_join_and_paragraphs_stay(fixture_texts):
    text = normalise(fixture_texts["000"]).text
    # "市五一劳\n\n动奖章12人" is broken by a blank line inside a word.
    assert "市五一劳动奖章12人" in text
    # a figure split from its unit by a wrap: "4.5\n万元"
    assert "医疗慰问金4.5万元" in text
    assert "发放慰问金7000元" in text
    # paragraphs and the page-foot headlines stay on their own lines
    lines = text.split("\n")
    assert "洮北区总工会" in lines and "牢记初心善作为 砥砺奋进谱新篇" in lines


def test_layout_break_inside_long_lines_of_001_joins(fixture_texts):
    text = normalise(fixture_texts["001"]).text
    assert "社会管理部门沟通协作" in text
    assert "投入资金十余万元" in text
    lines = text.split("\n")
    # headlines between articles are not glued to their neighbours
    assert "通榆县总工会服务中心开新局" in lines
    assert "本版稿件由白城市总工会提供" in lines


def test_spaces_inside_figures_are_dropped():
    assert normalise("法人单位 3.7 万家").text == "法人单位3.7万家"
    assert normalise("2021年至 2021年").text == "2021年至2021年"
    assert normalise("X 山管理局 2021 年").text == "X山管理局2021年"
    assert normalise("杭工 e家 app").text == "杭工 e家 app"


def test_crlf_and_bom_like_characters():
    original = "第一行很长很长很长很长很长很长很长很长,\r\n接着写\r\n"
    norm = normalise(original)
    assert "\r" not in norm.text
    _assert_maps_back(original)


def test_004_outline_headings_keep_their_own_lines(fixture_texts):
    lines = normalise(fixture_texts["004"]).text.split("\n")
    assert "一、2021年工会工作总结" in lines
    assert any(line.startswith("(一)坚持党对工会工作的领导,永葆工会工作的政治本色") for line in lines)


_TEXT = st.text(
    alphabet=st.sampled_from(list("工会会员新增万元人名家个近余多X×年月日,，。：:；\n\n\r \u3000　１２３４５６７８９０0123456789.．%％“”()（）本报讯一二三四五六七八九十百千亿")),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_any_text_maps_back(original):
    _assert_maps_back(original)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_unicode_never_raises(original):
    norm = normalise(original)
    for i in range(len(norm.text)):
        assert 0 <= norm.original_index(i) < len(original)
    start, end = norm.to_original(0, len(norm.text))
    assert 0 <= start <= end <= len(original)


def test_run_map_is_compact_and_normalised_texts_hash_by_their_text():
    from array import array

    a, b = normalise("第一行\n\n第 2 行３万元"), normalise("第一行\n\n第 2 行３万元")
    assert isinstance(a._norm_starts, array) and a._norm_starts.itemsize == 4
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.original[slice(*a.to_original(0, len(a.text)))] == a.original.strip()
