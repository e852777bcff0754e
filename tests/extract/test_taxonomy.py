"""The metric taxonomy's label memo: answers as classifying afresh, and bounded however many labels
a long run meets (an analysis worker sees every label of its chunks; most are new on an archive)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.extract import taxonomy
from auditor.extract.taxonomy import load_taxonomy


def test_memo_stays_bounded_and_answers_as_classifying_afresh(monkeypatch):
    monkeypatch.setattr(taxonomy, "_MEMO_LIMIT", 50)
    tax = load_taxonomy()
    tax._memo.clear()
    labels = [f"新建工会组织{i}" for i in range(120)] + ["新增会员", "发放慰问金", "慰问困难职工"]
    for round_ in range(2):
        for label in labels:
            for dimension, units in (("count", ("家", "家")), ("money", ("元", "万元")), (None, ())):
                assert tax.classify(label, dimension, units) == tax._classify(label, dimension, units)
                assert len(tax._memo) <= 50
    assert tax.classify("新增会员", "count", ("人", "人")) is not None  # a real label still classifies
    tax._memo.clear()


@settings(max_examples=200, deadline=None)
@given(label=st.text(alphabet="新建增工会组织会员发放慰问金困难职工家人元万次场个", max_size=12),
       dimension=st.sampled_from([None, "count", "money", "people"]),
       unit=st.sampled_from([None, "人", "元", "万元", "家", "个"]))
def test_memoised_answer_is_the_fresh_one(label, dimension, unit):
    tax = load_taxonomy()
    first = tax.classify(label, dimension, (unit, unit))
    assert first == tax.classify(label, dimension, (unit, unit)) == (tax._classify(label, dimension, (unit, unit))
                                                                    if label else None)


def _classified_pattern_by_pattern(tax, label, dimension, units):
    """The taxonomy's rule as written: synonyms first, then each metric's patterns in order."""
    fitting = tax._fitting(dimension, units)
    for m in fitting:
        if label in m.synonyms:
            return m.id
    for m in fitting:
        if any(p.search(label) for p in m.patterns):
            return m.id
    return None


_LABEL_CHARS = sorted({ch for m in load_taxonomy().metrics for s in (*m.synonyms, *(p.pattern for p in m.patterns))
                       for ch in s if "\u4e00" <= ch <= "\u9fff"})


@settings(max_examples=300, deadline=None)
@given(label=st.text(alphabet=st.sampled_from(_LABEL_CHARS), min_size=1, max_size=10),
       dimension=st.sampled_from([None, "count", "money", "people", "percent"]),
       unit=st.sampled_from([None, "人", "元", "万元", "家", "个", "次"]))
def test_one_search_for_any_pattern_rules_out_what_pattern_by_pattern_would(label, dimension, unit):
    """Labels drawn from the characters of the taxonomy's own synonyms and patterns, so that many
    match some metric: the joined pattern never rules one out."""
    tax = load_taxonomy()
    assert tax._classify(label, dimension, (unit, unit)) == \
        _classified_pattern_by_pattern(tax, label, dimension, (unit, unit))
