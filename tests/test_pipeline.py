"""The whole pipeline on arbitrary text: it never raises, and every span maps back exactly."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.documents.load import Document
from auditor.pipeline import analyse

# Report-like material: numerals of every kind, units, qualifiers, wraps, full-width forms, X.
_PIECES = st.sampled_from([
    "本报讯", "2021年", "去年以来", "洮南市总工会", "新增会员", "1416人", "28.74万元", "近22万元", "4.3万余元",
    "十余万元", "百分之八十五", "三分之二", "X万元", "XX名", "××人", "3+X", "十九届六中全会", "，", "。", "、",
    "\n", "\n\n", "\r\n", " ", "\u3000", "１２３", "％", "万", "亿", "元", "人次", "第六届", "“", "”", "（一）", "一、",
])
_REPORTS = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=60).map("".join)


def _doc(text: str) -> Document:
    data = text.encode("utf-8", "surrogatepass")
    return Document("t.txt", text, "utf-8", hashlib.sha256(data).hexdigest(), "txt", len(data))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_REPORTS)
def test_extraction_never_raises_and_spans_map_back(text):
    result = analyse(_doc(text), year=2022)
    for m in result.metrics:
        assert text[m.start:m.end] == m.text and m.end > m.start
        assert not m.placeholder or m.value is None
    for a in result.segmentation.articles:
        for s, e in a.parts:
            o_s, o_e = result.norm.to_original(s, e)
            assert 0 <= o_s <= o_e <= len(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_unicode(text):
    result = analyse(_doc(text))
    assert all(text[m.start:m.end] == m.text for m in result.metrics)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_REPORTS)
def test_a_document_sent_to_another_process_is_the_same_document(text):
    # Workers send analysed documents to the parent pickled without the text of every paragraph,
    # sentence and clause; they come back equal, text and all.
    import pickle

    result = analyse(_doc(text), year=2022)
    again = pickle.loads(pickle.dumps(result))
    assert again == result
    assert [(p.text, [(s.text, [c.text for c in s.clauses]) for s in p.sentences])
            for p in again.segmentation.paragraphs] == \
           [(p.text, [(s.text, [c.text for c in s.clauses]) for s in p.sentences])
            for p in result.segmentation.paragraphs]
    assert again.segmentation.article_at(0) == result.segmentation.article_at(0)
