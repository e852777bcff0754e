"""Articles (organisation, year), paragraphs, sentences and clauses on the real pages."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.documents.normalise import normalise
from auditor.documents.segment import segment

SEVEN = ["洮北区总工会", "镇赉县总工会", "洮南市总工会", "白城经济开发区工会", "通榆县总工会", "白城工业园区工会", "大安市总工会"]


def _articles(text: str, **kw):
    return segment(normalise(text).text, **kw).articles


def test_000_seven_organisations_in_2021(fixture_texts):
    articles = _articles(fixture_texts["000"])
    assert [a.entity for a in articles] == SEVEN
    assert {a.year for a in articles} == {2021}


def test_001_seven_organisations_in_2020(fixture_texts):
    seg = segment(normalise(fixture_texts["001"]).text)
    assert seg.publication_year == 2021 and seg.publication_year_source == "inferred"
    by_entity = {a.entity: a for a in seg.articles}
    assert set(by_entity) == set(SEVEN)
    assert {a.year for a in seg.articles} == {2020}
    # "去年以来" resolved against the page's year; "2020年以来" read as stated
    assert by_entity["白城经济开发区工会"].year_source == "relative"
    assert by_entity["洮南市总工会"].year_source == "since"


def test_001_split_article_is_one_article_in_two_parts(fixture_texts):
    norm = normalise(fixture_texts["001"])
    seg = segment(norm.text)
    (tongyu,) = [a for a in seg.articles if a.entity == "通榆县总工会"]
    assert len(tongyu.parts) == 2
    second = norm.text[tongyu.parts[1][0]:tongyu.parts[1][1]]
    assert second.startswith("通榆县总工会服务中心开新局") and "新成立工会组织19个" in second


def test_headlines_printed_after_their_article(fixture_texts):
    by_entity = {a.entity: a for a in _articles(fixture_texts["000"])}
    assert by_entity["洮北区总工会"].title == "牢记初心善作为 砥砺奋进谱新篇"
    assert by_entity["洮南市总工会"].title == "履行工会职能 维护职工权益"
    assert by_entity["大安市总工会"].title == "聚焦主责主业 打造服务品牌"
    by_entity = {a.entity: a for a in _articles(fixture_texts["001"])}
    assert by_entity["白城经济开发区工会"].title == "白城经开区工会忠诚履职尽责守初心"
    assert by_entity["镇赉县总工会"].title == "镇赉县总工会工作迈上新台阶"


def test_003_ocr_doubled_headers_close_their_article(fixture_texts):
    articles = _articles(fixture_texts["003"])
    entities = [a.entity for a in articles if a.entity]
    assert entities[:4] == ["长春市总工会", "辽源市总工会", "松原市总工会", "长白山保护开发区总工会"]
    assert articles[0].title == "高举旗帜 开拓创新 勇担使命"
    # founding years ("成立于1945年9月") are not the year the figures refer to
    assert articles[0].year is None


def test_004_report_outlines(fixture_texts):
    articles = _articles(fixture_texts["004"])
    assert articles[0].entity == "X山管理局机关工会" and articles[0].year == 2021
    assert len(articles) >= 8
    assert all(a.year == 2021 for a in articles)


def test_year_option_resolves_relative_years():
    text = "本报讯 去年以来,镇赉县总工会新建工会41家。"
    (article,) = _articles(text, year=2021)
    assert (article.entity, article.year, article.year_source) == ("镇赉县总工会", 2020, "relative")
    (article,) = _articles(text)
    assert article.year is None  # no page year and none given: unknown, not guessed


def test_page_date_wins_over_option():
    text = "2022年5月1日 星期日\n本报讯 去年以来,大安市总工会新建工会组织17家。"
    seg = segment(normalise(text).text, year=2030)
    assert seg.publication_year == 2022 and seg.publication_year_source == "page"
    assert seg.articles[-1].year == 2021


def test_sentences_and_clauses(fixture_texts):
    seg = segment(normalise(fixture_texts["001"]).text)
    sentences = [s.text for s in seg.sentences()]
    assert "“只有面对面,才能心贴心。”" in sentences
    clause_texts = [c.text for s in seg.sentences() for c in s.clauses]
    assert "为困难职工和基层工会发放口罩4200个" in clause_texts


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("本报讯2021年,。洮南市总工会去年以来新增会员84人：:\n \"“”一、(一)1.X")), max_size=200))
def test_segmentation_spans_are_consistent(text):
    norm = normalise(text)
    seg = segment(norm.text, year=2021)
    for p in seg.paragraphs:
        assert norm.text[p.start:p.end] == p.text
        for s in p.sentences:
            assert p.start <= s.start <= s.end <= p.end
            assert norm.text[s.start:s.end] == s.text
            for c in s.clauses:
                assert norm.text[c.start:c.end] == c.text
    for a in seg.articles:
        assert all(0 <= s <= e <= len(norm.text) for s, e in a.parts)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("本报讯2021年,。洮南市总工会去年以来新增会员84人：:\n \"“”一、(一)1.X")), max_size=200))
def test_packed_paragraphs_read_as_the_paragraphs_they_pack(text):
    # What the audit keeps of a page once its per-document rules ran: offsets in int arrays, made
    # into Paragraph, Sentence and Clause objects again, equal to the originals, when read.
    import pickle

    from auditor.documents.segment import PackedParagraphs

    norm = normalise(text)
    seg = segment(norm.text, year=2021)
    packed = seg.packed(norm.text)
    assert isinstance(packed.paragraphs, PackedParagraphs) or not seg.paragraphs
    assert packed == seg and list(packed.paragraphs) == list(seg.paragraphs)
    assert len(packed.paragraphs) == len(seg.paragraphs)
    assert packed.paragraphs[-1:] == seg.paragraphs[-1:] and packed.sentences() == seg.sentences()
    if seg.paragraphs:
        assert packed.paragraphs[0] == seg.paragraphs[0] and packed.paragraphs[-1] == seg.paragraphs[-1]
    assert pickle.loads(pickle.dumps(packed)) == seg
    assert packed.packed(norm.text) is packed


def test_paragraphs_that_offsets_cannot_give_back_are_not_packed():
    from dataclasses import replace

    norm = normalise("本报讯 洮南市总工会新增会员84人。\n第二段,有两个分句。")
    seg = segment(norm.text)
    edited = replace(seg, paragraphs=(replace(seg.paragraphs[0], text="另一段"),) + tuple(seg.paragraphs[1:]))
    assert edited.packed(norm.text) is edited


def test_spans_of_packed_paragraphs_are_read_without_objects(fixture_texts):
    for text in fixture_texts.values():
        norm = normalise(text)
        seg = segment(norm.text)
        packed = seg.packed(norm.text)
        assert packed.sentence_spans() == seg.sentence_spans() == [(s.start, s.end) for s in seg.sentences()]
        assert packed.clause_spans() == seg.clause_spans() == [(c.start, c.end) for s in seg.sentences() for c in s.clauses]
