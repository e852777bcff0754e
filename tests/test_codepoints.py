"""Texts as arrays of code points (auditor/codepoints.py): tables by code point answer as the
character-by-character forms they replace."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from auditor import codepoints
from auditor.documents.normalise import _FOLD, _FOLD_WIDTH

# Full-width forms, the spaces the fold replaces, CJK text, astral characters and lone surrogates.
MIXED = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(list("１２，．（）：％\u3000\u00a0工会𠀀\ud800\udfff"))),
                max_size=80)


@given(st.text(max_size=60))
def test_a_code_table_answers_as_its_class_does_for_every_character(text):
    """By code point, filled as characters are met: the same answer as matching each character,
    whatever was met before (astral characters and lone surrogates included)."""
    table = codepoints.CodeTable(r"[\p{L}\p{N}%]")
    for part in (text, text[::-1] + "%1a，", "\ud800a\udfff𠀀" + text):
        codes = codepoints.code_points(part)
        assert table(codes).tolist() == [regex.match(r"[\p{L}\p{N}%]", ch) is not None for ch in part]
        assert codepoints.from_code_points(codes) == part


@given(MIXED)
def test_a_code_map_translates_as_str_translate(text):
    assert _FOLD_WIDTH(text) == text.translate(_FOLD)
    assert _FOLD_WIDTH(text + "𠀀") == (text + "𠀀").translate(_FOLD)  # past U+FFFF: kept as it is


def test_the_width_fold_of_a_line_of_full_width_figures():
    assert _FOLD_WIDTH("发放慰问金１８．２万元（含）\u3000共計　１４１６人") == "发放慰问金18.2万元(含) 共計 1416人"
    assert _FOLD_WIDTH("") == ""


def test_a_code_map_takes_only_code_points_below_the_astral_planes():
    with pytest.raises(ValueError):
        codepoints.CodeMap({0x20000: 0x20})
