"""Label finding: the patterns sped up for the per-figure path still answer as written."""

from __future__ import annotations

import regex
from hypothesis import given
from hypothesis import strategies as st

from auditor.extract import labels


@given(st.text(alphabet=st.sampled_from(list("为向对给帮助组织慰问走访建立有共拥全市包括、的了新增会员工\n 使完成")), max_size=30))
def test_wants_object_searched_from_the_end_answers_as_a_forward_search(text):
    forward = regex.compile(labels._WANTS_OBJECT.pattern.removeprefix("(?r)"))
    assert forward.pattern != labels._WANTS_OBJECT.pattern
    assert (labels._WANTS_OBJECT.search(text) is None) == (forward.search(text) is None)


def test_a_phrase_wanting_its_object_takes_the_words_after_the_figure():
    text = "为186名困难职工发放慰问金"
    assert labels.find_label(text, 0, len(text), 1, 5) == "困难职工"
    text = "新增会员1416人"
    assert labels.find_label(text, 0, len(text), 4, 9) == "新增会员"
