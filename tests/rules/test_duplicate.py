"""Duplicate rules (rules/duplicate.yaml, kinds `duplicate` and `doubling`).

The named cases run on the real pages through the pipeline: 洮南's passage printed twice (001),
the clause pasted twice in one sentence (002), the OCR-doubled headers (003, 000), the sentence
001 shares with 000. Each is checked for its finding and for the absence of anything else, since
precision is the point. Built pages cover what the fixtures lack (near-identical sentences,
boilerplate, reduplication), and a property test runs the rules over arbitrary text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from auditor.documents.load import Document
from auditor.documents.normalise import normalise
from auditor.documents.segment import segment
from auditor.errors import RuleFileError
from auditor.rules.context import AuditContext
from auditor.rules.engine import run_rules
from auditor.rules.kinds.doubling import _PUNCT, _Compared, _doublings, _repeats
from auditor.rules.kinds import duplicate
from auditor.rules.kinds.duplicate import (_PlaceIndex, _RepeatedUnits, _Unit, band_hashes, content_len,
                                          lsh_candidates, minhash, pair_list)
from auditor.rules.loader import load_rule_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
RULE_FILE = ROOT / "rules" / "duplicate.yaml"
RULES = load_rule_file(RULE_FILE)
BY_ID = {r.id: r for r in RULES}


# ---------------------------------------------------------------- the real pages

@pytest.fixture(scope="module")
def pages(request):
    try:
        import auditor.pipeline  # noqa: F401
    except ImportError as exc:  # a module of the pipeline still being written
        pytest.skip(f"auditor.pipeline does not import yet ({exc}); the fixture tests need it")
    return request.getfixturevalue("analysed")  # tests/conftest.py: the five pages, analysed once


@pytest.fixture(scope="module")
def found(pages):
    return run_rules(RULES, AuditContext(list(pages.values())))


def _of(found, rule: str, page: str | None = None):
    return [f for f in found if f.rule == rule and (page is None or f.document.split("/")[-1].startswith(page))]


def test_every_finding_and_related_span_is_exact_on_the_original(pages, found):
    originals = {d.path: d.original for d in pages.values()}
    for f in found:
        assert originals[f.document][f.start:f.end] == f.text
        assert f.related, f
        for r in f.related:
            assert originals[r.document][r.start:r.end] == r.text


def test_001_passage_printed_twice_is_one_error_on_the_later_copy(found, pages):
    (f,) = _of(found, "D001", "001")
    assert f.severity == "error" and f.category == "duplicate"
    assert f.text.startswith("2.8万元,为卫生、公安、环卫、街道等一线工作人员发放卫生防护用品累计6万元")
    assert f.text.endswith("为困难职工和基层工会发放口罩4200个。")
    original = pages["001"].original
    assert original.rindex("夏送清凉活动为交警执法大队", 0, f.start) > original.index("防疫期间为援鄂医护人员")
    (first,) = f.related
    assert first.document == f.document and first.end <= f.start and first.note == "首次出现"
    assert original.rindex("防疫期间为援鄂医护人员", 0, first.start) < first.start
    assert f.evidence["occurrences"] == 2 and f.evidence["has_figures"] is True and f.evidence["chars"] > 40
    assert "首次见于001_" in f.message and "共2处" in f.message


def test_001_copy_is_reported_once_and_nowhere_else_in_001(found):
    in_001 = [f for f in found if f.document.split("/")[-1].startswith("001")]
    assert sorted(f.rule for f in in_001) == ["D001", "D005"]
    (copy,) = _of(found, "D001", "001")
    assert not [f for f in in_001 if f is not copy and f.start < copy.end and copy.start < f.end]
    assert not _of(found, "D002") and not _of(found, "D001", "000")


def test_002_clause_pasted_twice_inside_one_sentence(found, pages):
    (f,) = _of(found, "D004")
    assert f.document.split("/")[-1].startswith("002") and f.severity == "warning"
    assert "截至2022年末,共返还" in f.text and len(f.text) >= 20
    (first,) = f.related
    assert first.text == f.text and first.end == f.start  # back to back
    original = pages["002"].original
    repaired = original[:f.start] + original[f.end:]
    assert "加强小微企业工会经费政策落实,截至2022年末,共返还小微企业工会经费150余万元。" in repaired


def test_ocr_doubled_headers_and_greeting(found):
    doubled = _of(found, "O001", "003")
    assert len(doubled) == 11
    for f in doubled:
        half = (len(f.text) - 2) // 2
        assert f.text[:half] == f.text[half:2 * half] and f.text.endswith("：：") and f.text[:half].endswith("总工会")
        assert f.category == "ocr" and f.severity == "warning"
        assert f"应为“{f.text[:half]}：”" in f.message
    (greeting,) = _of(found, "O001", "000")
    assert greeting.text == "白城市总工会祝全市广大劳动者节日快乐" * 2 + "！！"
    assert greeting.related[0].text == "白城市总工会祝全市广大劳动者节日快乐"
    assert not [f for f in _of(found, "O001") if f.document.split("/")[-1][:3] in ("001", "002", "004")]


def test_sentence_001_shares_with_000_is_reported_on_the_later_page(found):
    shared = _of(found, "D005", "001")
    (f,) = [f for f in shared if "社会风尚" in f.text]
    assert f.text == "将劳动光荣、知识崇高、人才宝贵、创造伟大的社会风尚融入了职工岗位工作实践"
    assert f.severity == "info" and f.evidence["documents"] == 2
    (first,) = f.related
    assert first.document.split("/")[-1].startswith("000") and first.note == "首次出现"
    assert first.text.replace("\n", "") == f.text


def test_precision_on_the_fixtures(found):
    counts = {rule: len(_of(found, rule)) for rule in BY_ID}
    # D001 洮南's copy; D004 002's paste; O001 11 headers of 003 + 000's greeting; D005 the sentence
    # 001 shares with 000 and the plan two organisations of 004 share. Nothing else is a copy.
    # D006/D007/D008 compare with the history store, which this audit has none of.
    assert counts == {"D001": 1, "D002": 0, "D003": 0, "D004": 1, "D005": 2, "D006": 0, "D007": 0, "D008": 0,
                      "O001": 12}
    texts = " ".join(f.text for f in found)
    for stock in ("四个意识", "劳模精神", "习近平新时代中国特色社会主义思想", "为困难职工和基层工会发放口罩4200个。为"):
        assert stock not in texts


# ---------------------------------------------------------------- built pages

class _Page:
    """What the duplicate kinds read of an AnalysedDocument (no metrics: they use none)."""

    def __init__(self, text: str, path: str = "a.txt"):
        self.document = Document(path, text, "utf-8", hashlib.sha256(text.encode()).hexdigest(), "txt", len(text))
        self.norm = normalise(text)
        self.segmentation = segment(self.norm.text)
        self.metrics = ()

    path = property(lambda self: self.document.path)
    original = property(lambda self: self.document.text)


def _run(*texts: str, rules=RULES):
    pages = [_Page(t, f"{i:03d}_page.txt") for i, t in enumerate(texts)]
    found = run_rules(list(rules), AuditContext(pages))
    for f in found:
        page = next(p for p in pages if p.path == f.document)
        assert page.original[f.start:f.end] == f.text
    for rule in rules:
        if rule.kind == "duplicate" and rule.params.mode == "exact":
            assert _exact_over_every_unit(rule, pages) == [f for f in found if f.rule == rule.id]
        if rule.kind == "duplicate" and rule.params.mode == "near":
            _assert_near_index_holds_every_item(rule.params, pages)
    return found


def _assert_near_index_holds_every_item(params, pages) -> None:
    """The near mode's index, made page by page, numbers the items ``near_items`` gives for the
    whole audit at once, with their signatures; and makes any of them again as they were."""
    ctx = AuditContext(pages)
    docs = duplicate.in_path_order(ctx)
    items = duplicate.near_items(docs, [duplicate.units_of(ctx, d, params) for d in docs],
                                 duplicate.weigher(ctx, params), params)
    with tempfile.TemporaryFile() as scratch:
        index = duplicate.near_index(AuditContext(pages), docs, params, scratch)
        assert index.first[-1] == len(items)
        if items:
            expected = duplicate.minhash([it.core for it in items], params.ngram, params.num_perm, params.seed, "uint32")
            assert (np.stack(list(index.columns()), axis=1) == duplicate.band_hashes(expected, params.bands)).all()
        again = duplicate.near_items_at(AuditContext(pages), docs, params, index, range(len(items)))
        assert [again[k] for k in range(len(items))] == items
        some = duplicate.near_items_at(AuditContext(pages), docs, params, index, range(1, len(items), 3))
        assert some == {k: items[k] for k in range(1, len(items), 3)}


def test_near_index_in_many_blocks_reads_each_band_whole(monkeypatch, pages):
    """The near mode's band keys go to its scratch file a MinHash batch at a time, band after band;
    a band read back is every item's key of that band, in item order, across the blocks."""
    monkeypatch.setattr(duplicate, "_MINHASH_BATCH_CHARS", 64)
    rule = BY_ID["D003"]
    pages = list(pages.values())
    _assert_near_index_holds_every_item(rule.params, pages)
    # as the parent of a pool reads them: units and weights prepared in a worker
    prepared = [type(d)(d.document, d.norm, d.segmentation, d.metrics, duplicate.prepare(d, RULES, None))
                for d in pages]
    _assert_near_index_holds_every_item(rule.params, prepared)
    with tempfile.TemporaryFile() as scratch:
        index = duplicate.near_index(AuditContext(pages), duplicate.in_path_order(AuditContext(pages)),
                                     rule.params, scratch)
        assert len(index._blocks) > 1  # a block a page here: batches are cut between pages
        expected = lsh_candidates(np.stack(list(index.columns()), axis=1).T, 50)
        assert len(expected) and pair_list(lsh_candidates(index.columns(), 50)) == pair_list(expected)
        for at_once in (None, 1, 5, 64):  # every band in key ranges of scratch files, or whole
            assert index.candidates(AuditContext(pages), 50, at_once).tolist() == expected.tolist()


@settings(max_examples=150, deadline=None)
@given(blocks=st.lists(st.lists(st.lists(st.integers(0, 5), min_size=3, max_size=3), max_size=9), max_size=5),
       at_once=st.integers(1, 20), max_bucket=st.integers(2, 6))
def test_near_candidates_read_in_key_ranges_are_the_bands_buckets(blocks, at_once, max_bucket):
    """LSH over bands read from the near index in key ranges (scratch files of at most `at_once`
    items) pairs what it pairs over whole bands: keys from a small pool, so buckets of every size."""
    import io

    pool = np.array([0, 1, 2**63, 2**64 - 1, 2**62 + 7, 12345], dtype=np.uint64)  # top bits vary
    index = duplicate._NearIndex(io.BytesIO(), 3)
    for block in blocks:
        index.add(pool[np.array(block, dtype=np.intp).reshape(-1, 3)], list(range(len(block))))
    every = pool[np.array([row for block in blocks for row in block], dtype=np.intp).reshape(-1, 3)]
    assert index.candidates(AuditContext([]), max_bucket, at_once).tolist() == \
        lsh_candidates(every.T, max_bucket).tolist()


def _held(doc_units: list, kept) -> _RepeatedUnits:
    """A page's units as the exact mode reads them, holding those `kept` says (with a key), each
    key as its hash."""
    held = [(n, u) for n, u in enumerate(doc_units) if kept(u)]
    return _RepeatedUnits(len(doc_units), duplicate.offset_array(2**20, [n for n, _ in held]),
                          duplicate.offset_array(2**20, [x for _, u in held for x in (u.paragraph, -1 if u.article is None
                                                                                     else u.article, u.start, u.end)]),
                          duplicate.array("q", [hash(u.key) for _, u in held]))


def _exact_over_every_unit(rule, pages) -> list:
    """The exact mode over every unit of every page, each with its key (as it ran before units
    found once were weeded out: ``repeated_units``), with the rule's findings as run_rules orders them."""
    ctx = AuditContext(pages)
    docs = duplicate.in_path_order(ctx)
    units = [duplicate.units_of(ctx, doc, rule.params) for doc in docs]
    assert all(isinstance(u, list) for u in units)
    units = [_held(doc_units, lambda u: u.key is not None) for doc_units in units]
    found: dict = {}
    for f in duplicate._exact(rule, ctx, rule.params, docs, units, duplicate.weigher(ctx, rule.params)):
        found.setdefault((f.rule, f.document, f.start, f.end), f)
    return sorted(found.values(), key=lambda f: f.sort_key())


LEAD = "本报讯 2021年，洮北区总工会围绕中心工作，扎实推进各项任务。"


def test_repeated_prose_in_one_article_is_a_warning_and_short_prose_info():
    text = (LEAD + "深入开展职工思想政治引领工作，不断增强广大职工的凝聚力和向心力。全年举办各类活动。"
            "同时加强阵地建设。深入开展职工思想政治引领工作，不断增强广大职工的凝聚力和向心力。")
    (f,) = _run(text)
    assert f.rule == "D002" and f.severity == "warning"
    assert f.text == "深入开展职工思想政治引领工作，不断增强广大职工的凝聚力和向心力。"
    assert f.related[0].end < f.start
    short = LEAD + "积极开展职工技能培训活动。另外做好其他工作。积极开展职工技能培训活动。"
    (g,) = _run(short)
    assert g.rule == "D002" and g.severity == "info"  # 12 characters: below info_below_chars


def test_three_copies_name_every_other_copy():
    s = "为全区困难职工发放慰问金18.2万元，惠及职工186名。"
    found = _run(LEAD + s + "其他工作一。" + s + "其他工作二。" + s)
    assert [f.rule for f in found] == ["D001", "D001"]
    second, third = found
    assert [r.note for r in second.related] == ["首次出现", "另见"]
    assert [r.note for r in third.related] == ["首次出现", "另见"]
    assert third.related[1].start == second.start and second.related[1].start == third.start
    assert {f.evidence["occurrences"] for f in found} == {3}


def test_copy_across_pages_goes_on_the_later_page():
    s = "全年新建工会组织296家，新增会员1416人，独立基层工会财务预算完成率达70%以上。"
    found = _run(LEAD + s, "本报讯 2022年，洮北区总工会扎实推进各项任务。" + s)
    (f,) = found
    assert f.rule == "D001" and f.document == "001_page.txt" and f.related[0].document == "000_page.txt"
    assert f.evidence["documents"] == 2


@pytest.mark.parametrize("within, articles, across, reported", [
    (True, "any", True, {"same article", "other article", "other page"}),
    (True, "same", False, {"same article"}),
    (True, "other", True, {"other article", "other page"}),
    (True, "same", True, {"same article", "other page"}),
    (False, "any", True, {"other page"}),
    (True, "any", False, {"same article", "other article"}),
])
def test_a_copy_is_reported_by_the_rules_covering_where_its_nearest_earlier_copy_is(within, articles, across, reported):
    """Three copies, each of its own sentence, each with one earlier copy of its kind: in the same
    article, in another article of the page, on an earlier page."""
    rule = dataclasses.replace(BY_ID["D001"], params=BY_ID["D001"].params.model_copy(
        update={"within_document": within, "articles": articles, "across_documents": across}))
    copy = {kind: f"全年{kind}新建工会组织296家，新增会员1416人，完成率达70%以上。"
            for kind in ("same article", "other article", "other page")}
    first = LEAD + copy["same article"] + copy["same article"] + copy["other article"] + copy["other page"] + "\n"
    second = "本报讯 2022年，镇赉县总工会扎实推进各项任务。" + copy["other article"] + "\n"
    found = _run(first + second, "本报讯 2022年，洮南市总工会扎实推进各项任务。" + copy["other page"], rules=[rule])
    assert {kind for kind, text in copy.items() for f in found if f.text == text} == reported
    assert len(found) == len(reported)


def test_a_sentence_of_short_clauses_copied_whole_is_a_copy():
    # No clause holds 12 characters besides its figures, so none is a copy by itself; together they are.
    s = "五年来，组织开展招聘会58场次，提供就业岗位1.1万个，帮助职工实现就业。"
    other = "本报讯 2022年，洮北区总工会扎实推进各项任务。"
    (f,) = _run(LEAD + s, other + s)
    assert f.rule == "D001" and f.document == "001_page.txt" and f.text == s
    assert f.related[0].document == "000_page.txt" and f.related[0].text == s
    # Split by a clause of its own, neither half is long enough: not a copy.
    assert _run(LEAD + s, other + "五年来，组织开展招聘会58场次，另外还做了很多不同的事情，提供就业岗位1.1万个。") == []
    # Nor two short clauses that follow each other on two pages (10 characters besides figures).
    assert _run(LEAD + "开展招聘会58场次，提供岗位1.1万个。", other + "开展招聘会58场次，提供岗位1.1万个。") == []


def test_stock_phrases_short_clauses_and_shared_figures_are_not_copies():
    slogans = ("以习近平新时代中国特色社会主义思想为指导，增强“四个意识”、坚定“四个自信”、做到“两个维护”，"
               "大力弘扬劳模精神、劳动精神、工匠精神，持续开展“春送岗位、夏送清凉、金秋助学、冬送温暖”活动。")
    a = LEAD + slogans + "为困难职工发放慰问金2万元。"
    b = "本报讯 2021年，镇赉县总工会扎实推进工作。" + slogans + "为困难职工发放慰问金2万元。"
    assert _run(a, b) == []
    assert _run(a + "其他工作。" + slogans) == []


def test_text_on_many_pages_is_house_style():
    s = "充分发挥工会组织联系职工群众的桥梁和纽带作用，推动工作取得新成效。"
    pages = [f"本报讯 2021年，第{n}区总工会扎实推进工作。" + s for n in "一二三"]
    assert _run(*pages) == []
    assert [f.rule for f in _run(*pages[:2])] == ["D005"]


def test_placeholders_never_prove_a_copy():
    s = "全区共X名职工参加医疗互助活动，截至X月底有X人申请补助金，补助金共计X万元。"
    assert _run(LEAD + s + "另有其他工作。" + s) == []


def test_near_duplicate_sentence_with_one_figure_changed():
    s = "全年开展法律宣传活动3场，发放宣传资料1000余份，为职工提供法律咨询服务50人次，惠及广大一线职工群众。"
    changed = s.replace("50人次", "80人次")
    found = _run(LEAD + s, "本报讯 2022年，洮北区总工会扎实推进工作。" + changed)
    (f,) = [f for f in found if f.rule == "D003"]
    assert f.document == "001_page.txt" and f.severity == "info"
    assert 0.7 <= f.evidence["similarity"] < 1 and f.evidence["differs"] == "5 → 8"
    assert f.related[0].document == "000_page.txt" and f.related[0].note.startswith("相似度")
    assert f"相似度{f.evidence['similarity']}" in f.message and "5 → 8" in f.message
    # identical sentences are the exact rules' business, not D003's
    assert not [f for f in _run(LEAD + s, LEAD + s) if f.rule == "D003"]


def test_reduplication_and_repeated_words_are_not_doubling():
    text = ("本报讯 职工们常常说，天天向上，看看身边，一一落实，要研究研究再定。"
            "八十载拼搏奋斗，八十载薪火相传。哈哈哈哈哈哈。")
    assert [f for f in _run(text) if f.rule in ("O001", "D004")] == []


def test_doubled_punctuation_alone_is_ocr_doubling():
    (f,) = [f for f in _run(LEAD + "主要做法如下：：一是加强领导。") if f.rule == "O001"]
    assert f.text == "：：" and "应为“：”" in f.message


def test_pasted_twice_but_not_parallel_structure():
    parallel = LEAD + "其中X个街道获评垃圾分类百日劳动竞赛活动先进单位，X人获评垃圾分类百日劳动竞赛活动先进个人。"
    assert [f for f in _run(parallel) if f.rule == "D004"] == []
    pasted = LEAD + "累计开展职工技能培训，覆盖一线职工累计开展职工技能培训，覆盖一线职工3000余人次。"
    (f,) = [f for f in _run(pasted) if f.rule == "D004"]
    assert f.related[0].end == f.start


# ---------------------------------------------------------------- the parts, and their cost

def test_minhash_agreement_estimates_jaccard_and_lsh_pairs_only_similar_texts():
    a = "全年开展法律宣传活动3场发放宣传资料1000余份提供法律咨询50人次惠及广大一线职工群众"
    b = a.replace("50", "80")
    c = "组织女职工开展健康知识讲座和心理疏导活动覆盖女职工两千余人次成效明显"
    sig = minhash([a, b, c], 5, 128, 1)
    grams = [{t[i:i + 5] for i in range(len(t) - 4)} for t in (a, b)]
    jaccard = len(grams[0] & grams[1]) / len(grams[0] | grams[1])
    assert abs((sig[0] == sig[1]).mean() - jaccard) < 0.15
    assert pair_list(lsh_candidates(band_hashes(sig, 32).T, 50)) == [(0, 1)]
    assert (minhash([a], 5, 16, 7) == minhash([a], 5, 16, 7)).all()  # reproducible



def test_minhash_in_batches_and_in_32_bits_gives_the_same_signatures(monkeypatch):
    # The near rule hashes its sentences a batch at a time (bounded working arrays) and keeps the
    # signatures in 32 bits: the values, and so the LSH pairs, are those of one pass in 64 bits.
    import random

    import numpy as np

    from auditor.rules.kinds import duplicate

    rng = random.Random(5)
    texts = ["".join(chr(0x4E00 + rng.randrange(40)) for _ in range(rng.randrange(5, 60))) for _ in range(400)]
    whole = minhash(texts, 5, 32, 1)
    monkeypatch.setattr(duplicate, "_MINHASH_BATCH_CHARS", 100)
    batched = minhash(texts, 5, 32, 1, "uint32")
    assert batched.dtype == np.uint32 and whole.dtype == np.uint64
    assert (batched.astype(np.uint64) == whole).all()
    assert (band_hashes(batched, 8) == band_hashes(whole, 8)).all()
    assert pair_list(lsh_candidates(band_hashes(batched, 8).T, 50)) == pair_list(lsh_candidates(band_hashes(whole, 8).T, 50))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="工会职工会员慰问金万元0123456789，。", min_size=3, max_size=40), min_size=1, max_size=12),
       st.integers(2, 5), st.integers(0, 99))
def test_minhash_is_its_definition_in_plain_python(texts, n, seed):
    # The archive keeps band keys made from these signatures (auditor/history/fingerprints.py):
    # however the numpy passes are arranged, the values are the definition's, computed one n-gram
    # at a time here: a polynomial hash of the code points mod p, then min over (a·x + b) mod p.
    import random

    from auditor.rules.kinds import duplicate

    texts = [t for t in texts if len(t) >= n] or ["工会" * n]
    p = duplicate._PRIME
    rng = random.Random(seed)
    permutations = [(rng.randrange(1, p), rng.randrange(0, p)) for _ in range(8)]

    def gram_hash(gram: str) -> int:
        h = 0
        for ch in gram:
            h = (h * duplicate._BASE + ord(ch)) % p
        return h

    expected = [[min((a * gram_hash(t[i:i + n]) + b) % p for i in range(len(t) - n + 1)) for a, b in permutations]
                for t in texts]
    assert minhash(texts, n, 8, seed).tolist() == expected


def test_prepared_units_and_weights_read_back_as_computed(pages):
    # What a pool worker prepares for the corpus-wide duplicate rules travels packed (int arrays,
    # no copies of the text); read back, it is what the parent would have computed itself.
    import pickle

    from auditor.rules.kinds.duplicate import _units, _Weights, prepare, units_of, weigher

    for doc in pages.values():
        prepared = pickle.loads(pickle.dumps(prepare(doc, RULES, None)))
        shipped = type(doc)(doc.document, doc.norm, doc.segmentation, doc.metrics, prepared)
        ctx = AuditContext([shipped])
        for rule in RULES:
            if rule.kind == "duplicate":
                assert units_of(ctx, shipped, rule.params) == _units(doc, rule.params)
        near = next(r.params for r in RULES if r.kind == "duplicate" and r.params.mode == "near")
        learnt, fresh = weigher(ctx, near).weights, _Weights(near)
        for u in units_of(ctx, shipped, near):
            if u.key is not None:
                text = doc.norm.text[u.start:u.end]
                assert learnt._free[text] == fresh.figure_free(text)
                if text in learnt._stripped:
                    assert learnt._stripped[text] == fresh.stripped(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=8, max_size=8), max_size=40), st.sampled_from([1, 2, 4, 8]),
       st.integers(2, 5))
def test_lsh_buckets_are_signatures_agreeing_on_a_band(rows, bands, max_bucket):
    import numpy as np

    signatures = np.array(rows, dtype=np.uint64).reshape(len(rows), 8)
    width = 8 // bands
    buckets: dict = {}
    for i, row in enumerate(rows):
        for b in range(bands):
            buckets.setdefault((b, tuple(row[b * width:(b + 1) * width])), []).append(i)
    expected = {(x, y) for members in buckets.values() if 1 < len(members) <= max_bucket
                for k, x in enumerate(members) for y in members[k + 1:]}
    assert pair_list(lsh_candidates(band_hashes(signatures, bands).T, max_bucket)) == sorted(expected)


_DOUBLING_ALPHABET = st.sampled_from(list("长春市总工会：:，,。！ 哈研究ab𠀀") + ["长春市总工会", "节日快乐", "：：", "研究研究"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_DOUBLING_ALPHABET, max_size=40).map("".join), st.sampled_from([3, 4, 40]))
def test_ocr_doubling_is_sought_only_where_it_can_start_and_found_as_by_one_pass(text, max_unit):
    import regex

    doubled = regex.compile(r"(?P<unit>[^\p{P}\p{S}\s]{3,%d}?)(?P=unit)(?:(?P<mark>\p{P})(?P=mark))?" % max_unit)
    assert [(m.span(), m.group("unit"), m.group("mark")) for m in _doublings(doubled, text, max_unit)] == \
        [(m.span(), m.group("unit"), m.group("mark")) for m in doubled.finditer(text, overlapped=False)]


@pytest.mark.parametrize("name", ["period 3", "random ab", "random abc", "one character", "near periodic"])
def test_ocr_doubling_tries_are_bounded_on_hostile_text(name):
    """Every try reads at most two units and a mark (the longest unit allowed, 200, here), so the
    search runs without the regex time limit: text made of few characters, where triples repeat
    everywhere, gives what one pass gives (~20,000 tries, about a second for 100,000 characters)."""
    import random

    import regex

    rng = random.Random(7)
    n = 20_000
    text = {"period 3": "abc" * (n // 3), "random ab": "".join(rng.choice("ab") for _ in range(n)),
            "random abc": "".join(rng.choice("abc") for _ in range(n)), "one character": "哈" * n,
            "near periodic": "".join(("".join(rng.choice("abcd") for _ in range(39)) + "x") * 2 + "y"
                                     for _ in range(n // 81))}[name]
    doubled = regex.compile(r"(?P<unit>[^\p{P}\p{S}\s]{3,200}?)(?P=unit)(?:(?P<mark>\p{P})(?P=mark))?")
    assert [m.span() for m in _doublings(doubled, text, 200)] == [m.span() for m in doubled.finditer(text)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("共返还工会经费，,。 X𠀀\u3000\n％$+①~")), max_size=40).map("".join), st.data())
def test_compared_characters_of_a_span_are_cut_from_the_whole_page(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    slots = {i for i, ch in enumerate(text) if ch in "X,"}
    where = [i for i in range(start, end) if not _PUNCT.match(text, i)]  # per character, as _repeats did
    chars = "".join(chr(0xF0000 + n % 0xFFFD) if i in slots else text[i] for n, i in enumerate(where))
    assert _Compared.of(text, slots).span(start, end) == (where, chars)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("工会经费工会，。 XX\U000F0003\U000F0000𠀀")), max_size=60).map("".join),
       st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=6), st.integers(3, 5))
@example("X工会经费\U000F0000工会经费", [(0, 10)], 5)  # the placeholder is made U+F0000, as is the later character
@example("工会经X费工会经\U000F0003费", [(0, 10)], 5)  # ... U+F0003, fourth in the span
def test_page_pre_test_never_rules_out_a_span_that_repeats(text, cuts, k):
    # D004 asks the page once which sentences may hold a repeated window (a hash of every window)
    # and looks only at those: a span whose windows, as ``span`` makes them, repeat must be kept,
    # placeholders (distinct from everything) and private-use characters included.
    spans = [(min(a, b, len(text)), min(max(a, b), len(text))) for a, b in cuts]
    slots = {i for i, ch in enumerate(text) if ch == "X"}
    compared = _Compared.of(text, slots)
    maybe = compared.may_repeat(spans, k)
    assert len(maybe) == len(spans)
    for (start, end), kept in zip(spans, maybe):
        _, chars = compared.span(start, end)
        windows = len(chars) - k + 1
        repeats = windows > k and len({chars[j:j + k] for j in range(windows)}) < windows
        assert kept or not repeats, (start, end)
        assert kept or not list(_repeats(text, start, end, k, 3, slots, compared))


def test_page_pre_test_keeps_only_sentences_with_a_repeat():
    text = "共返还小微企业工会经费政策落实，共返还小微企业工会经费。全年开展法律宣传活动三场。"
    spans = [(0, text.index("。") + 1), (text.index("。") + 1, len(text))]
    assert _Compared.of(text, set()).may_repeat(spans, 10) == [True, False]
    assert _Compared.of(text, set()).may_repeat([], 10) == []


def test_repeated_runs_are_found_in_linear_time():
    import random

    rng = random.Random(3)
    body = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(200_000))
    unit = "共返还小微企业工会经费，"
    text = body[:100_000] + unit + unit + body[100_000:]
    t = time.perf_counter()
    hits = list(_repeats(text, 0, len(text), 10, 0, set()))
    assert time.perf_counter() - t < 5
    assert [(text[a:b], text[c:d]) for (a, b), (c, d), _ in hits] == [(unit[:-1], unit[:-1])]
    t = time.perf_counter()
    assert list(_repeats("哈" * 100_000, 0, 100_000, 10, 0, set())) == []
    assert time.perf_counter() - t < 5


def test_exact_and_near_modes_scale_over_many_pages():
    sentences = [f"第{i}项工作中为职工办理实事{i * 7 % 1000}件，服务企业{i * 13 % 997}家，取得良好效果。" for i in range(3000)]
    pages = ["本报讯 " + "".join(sentences[k::4]) for k in range(4)]
    t = time.perf_counter()
    _run(*pages)
    assert time.perf_counter() - t < 30


# ---------------------------------------------------------------- rule file and parameters

def test_bad_parameters_are_rule_file_errors(tmp_path):
    base = RULE_FILE.read_text(encoding="utf-8")
    for wrong, needle in (("num_perm: 64", "num_perm: 60"), ("max_gap: 0", "max_gap: 0\n      wibble: 1"),
                          ("'劳动光荣|知识崇高|人才宝贵|创造伟大'", "'劳动光荣(|知识崇高'")):
        path = tmp_path / "d.yaml"
        path.write_text(base.replace(wrong, needle, 1), encoding="utf-8")
        with pytest.raises(RuleFileError) as err:
            load_rule_file(path)
        assert err.value.line


_ALPHABET = st.sampled_from(list("总工会职工慰问金发放万元人名家个，,。：:！!、；\n 　XＸ0123456789２．.“”") + ["长春市", "四个意识"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_ALPHABET, max_size=80).map("".join), min_size=1, max_size=3),
       st.data())
def test_any_text_runs_and_every_span_is_exact(texts, data):
    # Pages built from a few pieces repeated, so copies and doublings actually occur.
    pages = []
    for t in texts:
        pieces = data.draw(st.lists(st.sampled_from([t, t[: len(t) // 2], "。", "\n"]), max_size=6))
        pages.append("".join(pieces) or "空")
    _run(*pages)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["甲", "乙", "丙丁", "慰问金2.8万元", "a"] + [str(i) for i in range(40)])),
                         max_size=12), max_size=6))
def test_the_index_holds_every_key_found_twice_and_only_those(keys):
    units = [[_Unit(0, None, i, i + 1, k) for i, k in enumerate(doc)] for doc in keys]
    naive: dict = {}
    for d, doc in enumerate(keys):
        for i, k in enumerate(doc):
            if k is not None:
                naive.setdefault(hash(k), []).append((d, i))
    expected = {h: places for h, places in naive.items() if len(places) > 1}
    index = _PlaceIndex.of((np.array([i for i, k in enumerate(doc) if k is not None], dtype=np.int64),
                            np.array([hash(k) for k in doc if k is not None], dtype=np.int64)) for doc in keys)
    assert len(index) == sum(map(len, expected.values()))
    for h, places in expected.items():
        assert h in index and index.all(h) == places and index.first(h) == places[0]
        assert index.places[index.slot(h)] == places[0][0] << 32 | places[0][1]
        for k, (d, i) in enumerate(places):
            assert index.before(h, d, i, 2) == places[max(0, k - 2):k]
        assert index.before(h, len(keys), 0, 50) == places[-50:]
    assert not any(h in index for h, places in naive.items() if len(places) == 1)
    assert len({index.slot(h) for h in expected}) == len(expected)
    # weeded: only the units whose key repeats are held, with their places and hashes; the others read as unpaired
    weeded = [_held(doc, lambda u: u.key is not None and hash(u.key) in expected) for doc in units]
    assert [list(w) for w in weeded] == [[u._replace(key=hash(u.key)) if u.key is not None and hash(u.key) in expected
                                          else duplicate._UNPAIRED for u in doc] for doc in units]
    assert [w[-1:] + w[:1] for w in weeded] == [[w[len(w) - 1], w[0]] if len(w) else [] for w in weeded]


def _run_by_definition(a: list[_Unit], i: int, b: list[_Unit], q: int, same_doc: bool) -> tuple[int, int]:
    """How far the copies around unit i of `a` and unit q of `b` agree, read unit by unit: both
    units have a key and the same one, each follows the one before (same or next paragraph), and
    in one document the later copy starts after the earlier one ends."""
    def same(x: int, y: int) -> bool:
        return 0 <= x < len(a) and 0 <= y < len(b) and a[x].key is not None and a[x].key == b[y].key

    def follows(seq: list[_Unit], x: int) -> bool:
        return seq[x].paragraph - seq[x - 1].paragraph <= 1

    forward = 0
    while same(i + forward, q + forward) and (not same_doc or i + forward < q) \
            and (forward == 0 or (follows(a, i + forward) and follows(b, q + forward))):
        forward += 1
    back = 0
    while same(i - back - 1, q - back - 1) and (not same_doc or i + forward <= q - back - 1) \
            and follows(a, i - back) and follows(b, q - back):
        back += 1
    return back, forward


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.tuples(st.one_of(st.none(), st.sampled_from("甲乙丙")), st.integers(0, 2)),
                         max_size=24), min_size=1, max_size=3))
@example([[("甲", 0), ("乙", 0), ("甲", 0), ("乙", 0), ("甲", 0), ("乙", 0)]])
@example([[("甲", 0), ("乙", 2), (None, 0), ("甲", 1), ("乙", 2)], [("甲", 0), ("乙", 1), ("丙", 0), ("甲", 0), ("乙", 1)]])
def test_a_run_of_copies_read_from_the_arrays_is_its_definition(pages):
    """``_run`` reads a run of copies from the repeated units' arrays; it agrees, for every pair of
    units with one key, with the run read unit by unit (keys, paragraph steps, no overlap)."""
    units, weeded = [], []
    for page in pages:
        paragraph, doc = 0, []
        for n, (key, step) in enumerate(page):
            paragraph += step
            doc.append(_Unit(paragraph, None, n, n + 1, key))
        units.append(doc)
    counts: dict = {}
    for doc in units:
        for u in doc:
            counts[u.key] = counts.get(u.key, 0) + 1
    for doc in units:  # as repeated_units holds them: units whose key is found twice or more
        weeded.append(_held(doc, lambda u: u.key is not None and counts[u.key] > 1))
    places = [(d, n) for d, doc in enumerate(units) for n, u in enumerate(doc) if u.key is not None]
    for e, i in places:
        for d, q in places:
            if (e, i) < (d, q) and units[e][i].key == units[d][q].key:
                assert duplicate._run(weeded, (e, i), (d, q)) == \
                    _run_by_definition(units[e], i, units[d], q, e == d), ((e, i), (d, q))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.integers(-2**63, 2**63 - 1), st.sampled_from([-2**63, -1, 0, 1, 2**63 - 1])),
                       max_size=60),
       at_once=st.integers(1, 70), rows_read=st.integers(1, 9))
def test_hashes_found_twice_are_found_however_many_are_sorted_at_once(values, at_once, rows_read):
    """The exact mode's first pass: the clause hashes found twice or more, sorted; above `at_once`
    split into buckets by their top bits first (scratch files), read `rows_read` at a time, with
    the same answer."""
    import io
    from collections import Counter

    hashes = io.BytesIO(np.array(values, dtype=np.int64).tobytes())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(duplicate, "_ROWS_READ", rows_read)
        found = duplicate._repeated_hashes(AuditContext([]), hashes, len(values), at_once)
    assert found.tolist() == sorted(v for v, n in Counter(values).items() if n > 1)


def test_exact_mode_with_its_hashes_sorted_in_buckets_finds_the_same_copies(pages, found, monkeypatch):
    monkeypatch.setattr(duplicate, "_HASHES_AT_ONCE", 64)  # the five pages' clauses in many buckets
    exact = [r for r in RULES if r.kind == "duplicate" and r.params.mode == "exact"]
    again = run_rules(exact, AuditContext(list(pages.values())))
    assert [f for f in found if f.rule in {r.id for r in exact}] == again
    assert again  # the pages hold copies


def test_weights_remembered_a_few_at_a_time_give_the_same_findings(pages, found, monkeypatch):
    """The weights' memories are emptied when full (``_WEIGHED_AT_MOST``): weighing again must
    not change a finding, including what a page's preparation handed over (``learn``)."""
    monkeypatch.setattr(duplicate, "_WEIGHED_AT_MOST", 3)
    prepared = [type(d)(d.document, d.norm, d.segmentation, d.metrics, duplicate.prepare(d, RULES, None))
                for d in pages.values()]
    again = run_rules(RULES, AuditContext(prepared))
    assert again == found
    weights = duplicate._Weights(BY_ID["D001"].params)
    for text in ("甲", "乙", "丙", "丁"):
        weights.figure_free(text)
    assert list(weights._free) == ["丁"]


@pytest.mark.parametrize("text, expected", [
    ("新增会员1416人", 6),  # 新 增 会 员, 1416, 人: a number does not swallow the Han unit after it
    ("2020年新建工会组织16家", 10),
    ("28.74万元", 4),  # 28, 74, 万, 元
    ("ab中文", 3),
    ("3+X模式", 4),
    ("，。！  ", 0),
])
def test_content_length_counts_han_characters_and_runs_of_letters_or_digits(text, expected):
    assert content_len(text) == expected


_MIXED_TEXT = st.text(alphabet=st.sampled_from(list("ab XZ12.5%中文字〇々、。，ＡＢ①Ⅷ\u3400\U00020000\u0301十两百千万元人家年.")),
                      max_size=40)


@given(_MIXED_TEXT)
def test_content_length_is_its_definition(text):
    """The fast form (Han characters by removing the rest) against the definition: each Han
    character and each run of other letters or digits is one match."""
    import regex

    assert content_len(text) == len(regex.findall(r"\p{Han}|[\p{L}\p{N}--\p{Han}]+", text, flags=regex.V1))



@given(_MIXED_TEXT)
def test_a_unit_left_unfolded_has_a_key_exactly_where_folding_leaves_something(text):
    assert (duplicate._unfolded_key(text) is None) == (duplicate.fold_key(text) == "")


@given(st.lists(st.sampled_from(list("12.3.a.工会，, %．。") + ["1.5", "..", "3..4"]), max_size=30).map("".join),
       st.data())
def test_keys_cut_from_a_page_fold_are_each_spans_own_fold(text, data):
    """A span's key cut from the page's fold (``fold_keys``) is the span folded alone, decimal
    points at its ends included (kept between digits on the page, dropped at a span's edge)."""
    bounds = st.integers(0, len(text))
    spans = data.draw(st.lists(st.tuples(bounds, bounds).map(sorted), max_size=8))
    assert duplicate.fold_keys(text, spans) == [duplicate.fold_key(text[s:e]) for s, e in spans]


@pytest.mark.parametrize("text", ["1.5.2", "a.1.5.", "3..4", "工会1.5万，2.0%。", ".5", "5."])
def test_keys_of_every_span_of_texts_with_decimal_points(text):
    spans = [(s, e) for s in range(len(text) + 1) for e in range(s, len(text) + 1)]
    assert duplicate.fold_keys(text, spans) == [duplicate.fold_key(text[s:e]) for s, e in spans]


def test_keyed_rows_of_prepared_units_are_those_unpacking_gives(pages):
    """``repeated_units`` reads a prepared page's keyed units straight from the packed ints: the
    same rows and keys as unpacking every unit, on the five pages (placeholders in 004)."""
    params = BY_ID["D001"].params
    for doc in pages.values():
        packed = duplicate.prepare(doc, RULES, None)[duplicate._units_key(params)]
        rows, keys = packed.keyed(doc.norm.text)
        units = packed.unpack(doc.norm.text)
        expected = [(q, u.paragraph, -1 if u.article is None else u.article, u.start, u.end)
                    for q, u in enumerate(units) if u.key is not None]
        assert rows.tolist() == [list(r) for r in expected] and expected
        assert keys == [u.key for u in units if u.key is not None]
        assert any(u.key is None for u in units) or "004" not in doc.path
