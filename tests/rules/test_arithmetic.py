"""Arithmetic rules (rules/arithmetic.yaml, kind `arithmetic`): hand-built metrics for the logic, the
real fixtures for 298 = 287 + 11, 21人/78% and 591人/40%."""

from __future__ import annotations

import pytest

from auditor.rules.context import AuditContext
from auditor.rules.engine import run_rules

from .handmade import HandDoc, assert_rule_file, fig, rules_of, run

RULES = rules_of("arithmetic.yaml")


def _run(rule_id: str, *docs) -> list:
    return run(RULES, rule_id, *docs)


# ---------------------------------------------------------------- A001 parts and total

UNIONS = "目前，全市有工会组织298家，独立工会287家，联合工会11家，会员29470人。"
UNION_FIGURES = [fig("298家", label="工会组织"), fig("287家", label="独立工会"), fig("11家", label="联合工会"),
                 fig("29470人", label="会员")]


def test_a001_parts_that_sum_to_the_total_are_fine():
    assert _run("A001", HandDoc(UNIONS, UNION_FIGURES)) == []


def test_a001_sibling_enumeration_with_a_wrong_sum():
    text = UNIONS.replace("287家", "280家")
    (f,) = _run("A001", HandDoc(text, [fig(f.written.replace("287", "280"), label=f.label) for f in UNION_FIGURES]))
    assert f.text == "298家" and f.evidence == {"total": 298, "parts": [280, 11], "sum": 291, "form": "enumeration"}
    assert [r.text for r in f.related] == ["280家", "11家"] and "280家 + 11家 = 291家" in f.message


def test_a001_bracket_and_qizhong_forms():
    text = "共签订集体合同120份（公有制企业50份，非公有制企业60份）。"
    (f,) = _run("A001", HandDoc(text, [fig("120份", label="集体合同"), fig("50份", label="公有制企业"),
                                       fig("60份", label="非公有制企业")]))
    assert f.evidence["form"] == "bracket" and f.evidence["sum"] == 110
    # 其中 lists may be partial: a shortfall is not flagged, an excess is.
    text = "共签订集体合同120份，其中公有制企业50份，非公有制企业60份。"
    assert _run("A001", HandDoc(text, [fig("120份", label="集体合同"), fig("50份", label="公有制企业"),
                                       fig("60份", label="非公有制企业")])) == []
    text = "共签订集体合同120份，其中公有制企业70份，非公有制企业60份。"
    (f,) = _run("A001", HandDoc(text, [fig("120份", label="集体合同"), fig("70份", label="公有制企业"),
                                       fig("60份", label="非公有制企业")]))
    assert f.evidence["form"] == "breakdown" and f.evidence["sum"] == 130


def test_a001_activities_after_a_total_are_not_its_parts():
    text = "全市有工会组织298家，新建工会13家，新增工会5家。"
    assert _run("A001", HandDoc(text, [fig("298家", label="工会组织"), fig("13家", label="新建工会"),
                                       fig("5家", label="新增工会")])) == []
    # no total word: two counts side by side are not a total and its parts
    text = "新组建企业工会18家，乡镇联合会5家，独立工会3家。"
    assert _run("A001", HandDoc(text, [fig("18家", label="新组建企业工会"), fig("5家", label="乡镇联合会"),
                                       fig("3家", label="独立工会")])) == []


def test_a001_approximate_or_people_partial_lists_are_left_alone():
    text = "全市有工会组织300余家，独立工会287家，联合工会11家。"
    figs = [fig("300余家", label="工会组织", approx="余"), fig("287家", label="独立工会"), fig("11家", label="联合工会")]
    assert _run("A001", HandDoc(text, figs)) == []
    text = "共有会员1000人，其中女职工600人，农民工500人。"
    assert _run("A001", HandDoc(text, [fig("1000人", label="会员"), fig("600人", label="女职工"),
                                       fig("500人", label="农民工")])) == []


def test_a001_rounded_money_parts_within_rounding():
    text = "共投入资金3.51万元（助学资金1.25万元，救助资金2.26万元）。"
    figs = [fig("3.51万元", label="资金"), fig("1.25万元", label="助学资金"), fig("2.26万元", label="救助资金")]
    assert _run("A001", HandDoc(text, figs)) == []


# ---------------------------------------------------------------- A002 count × per head

def test_a002_count_times_per_head_against_total():
    good = "为14名困难职工子女每人发放助学金500元，共计7000元。"
    assert _run("A002", HandDoc(good, [fig("14名"), fig("500元"), fig("7000元")])) == []
    bad = good.replace("共计7000元", "共计8000元")
    (f,) = _run("A002", HandDoc(bad, [fig("14名"), fig("500元"), fig("8000元")]))
    assert f.text == "8000元" and f.evidence == {"count": 14, "per_head": 500, "implied": 7000, "stated": 8000}
    assert [r.text for r in f.related] == ["14名", "500元"]


def test_a002_only_where_the_sentence_says_per_head():
    text = "为14名困难职工子女发放助学金500元，共计8000元。"
    assert _run("A002", HandDoc(text, [fig("14名"), fig("500元"), fig("8000元")])) == []
    text = "为一线医务人员每人发放专项慰问金5000元。"  # fixtures/001: no count, no total
    assert _run("A002", HandDoc(text, [fig("5000元")])) == []


# ---------------------------------------------------------------- A003 share above 100 %

def test_a003_share_over_100_percent():
    (f,) = _run("A003", HandDoc("全区新建会企业职工入会率达105%。", [fig("105%")]))
    assert f.text == "105%"


@pytest.mark.parametrize("text, figure", [
    ("会员人数同比增长120%。", fig("120%")),
    ("预算完成率达110%。", fig("110%")),
    ("员工诉求办结率达100%。", fig("100%")),
    ("资金较上年提高150%。", fig("150%")),
])
def test_a003_growth_completion_and_full_rates_are_fine(text, figure):
    assert _run("A003", HandDoc(text, [figure])) == []


# ---------------------------------------------------------------- A004 share of a count

def test_a004_share_that_no_whole_count_gives():
    (f,) = _run("A004", HandDoc("去年发展党员21人，一线职工占78%。", [fig("21人"), fig("78%")]))
    assert f.text == "78%" and f.evidence == {"base": 21, "percent": 78, "implied": 16.38}
    assert [r.text for r in f.related] == ["21人"] and "16.38" in f.message


@pytest.mark.parametrize("text, figures", [
    ("去年发展党员21人，一线职工占81%。", [fig("21人"), fig("81%")]),         # 17/21 = 80.95 → 81
    ("共有职工3人，一线职工占33%。", [fig("3人"), fig("33%")]),               # 1/3 = 33.3 → 33
    ("涵盖职工会员591人，占2020年入会会员总数的40%。", [fig("591人"), fig("40%")]),  # a base of its own
    ("发展党员21人。一线职工占78%。", [fig("21人"), fig("78%")]),             # another sentence
    ("培训职工500人次，一线职工占78%。", [fig("500人次"), fig("78%")]),        # person-times are no head count
])
def test_a004_consistent_or_unrelated_shares(text, figures):
    assert _run("A004", HandDoc(text, figures)) == []


# ---------------------------------------------------------------- A005/A006 table checks (pandera)

def test_a005_negative_values_from_the_metrics_table():
    doc = HandDoc("发放慰问金-3万元，慰问职工50人。", [fig("-3万元"), fig("50人")])
    (f,) = _run("A005", doc)
    assert f.text == "-3万元" and f.evidence["check"] == "non-negative"


def test_a006_unit_not_allowed_for_the_metric():
    doc = HandDoc("全年新增会员300人次，新增会员200人。",
                  [fig("300人次", label="新增会员", metric="new_members"),
                   fig("200人", label="新增会员", metric="new_members")])
    (f,) = _run("A006", doc)
    assert f.text == "300人次" and f.evidence["allowed"] == ["人", "名"]


def test_every_arithmetic_rule_has_bilingual_texts_and_an_example():
    assert_rule_file(RULES, "arithmetic")


# ---------------------------------------------------------------- the real pages

def test_fixture_union_organisations_sum_correctly(analysed):
    doc = analysed["001"]
    assert "全市有工会组织298家,独立工会287家,联合工会11家" in doc.original
    labels = {m.text: m.label for m in doc.metrics if m.text in ("298家", "287家", "11家")}
    assert labels == {"298家": "工会组织", "287家": "独立工会", "11家": "联合工会"}
    assert _run("A001", *analysed.values()) == []
    # the same page with one part changed is caught: the check does see this sentence
    from auditor.documents.load import Document
    from auditor.pipeline import analyse

    text = doc.original.replace("独立工会287家", "独立工会280家")
    wrong = analyse(Document(doc.path, text, "utf-8", "x", "txt", len(text)))
    (f,) = run_rules([RULES["A001"]], AuditContext([wrong]))
    assert f.text == "298家" and f.evidence["sum"] == 291


def test_fixture_share_of_new_party_members(analysed):
    doc = analysed["000"]
    (f,) = [f for f in _run("A004", *analysed.values()) if f.document == doc.path]
    assert f.text == "78%" and f.evidence == {"base": 21, "percent": 78, "implied": 16.38}
    assert [r.text for r in f.related] == ["21人"]


def test_fixture_share_with_a_base_of_its_own_is_not_flagged(analysed):
    doc = analysed["001"]
    assert "涵盖职工会员591人,占2020年入会会员总数的40%" in doc.original
    assert not [f for f in _run("A004", *analysed.values()) if f.document == doc.path]


def test_fixture_no_share_over_100_and_no_negative_values(analysed):
    # 员工诉求办结率达100% (001) and 70%以上 (000) are shares within bounds
    assert _run("A003", *analysed.values()) == []
    assert _run("A005", *analysed.values()) == []
