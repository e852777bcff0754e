"""Unit rules (rules/units_consistency.yaml, kind `unit`): hand-built metrics for the logic, the real
fixtures through the pipeline for the named cases (大安's 0.7万元/7000元, 0.49万元, 每人5000元)."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings, strategies as st

from auditor.extract.packed_metrics import PackedMetrics
from auditor.rules.kinds import _parts, unit as unit_kind

from .handmade import HandDoc, assert_rule_file, fig, rules_of, run

RULES = rules_of("units_consistency.yaml")


def _run(rule_id: str, *docs) -> list:
    return run(RULES, rule_id, *docs)


# ---------------------------------------------------------------- U001 same fact, two scales

DAAN = ("本报讯 2021年，大安市总工会聚焦主责主业。为7名全国劳动模范发放春节慰问金0.7万元。七一前慰问省劳模22人，"
        "发放慰问金2.2万元。走访慰问劳模7人，发放慰问金7000元；慰问春节守岗一线职工800余人，送去慰问金6万元。")


def _daan(**over) -> HandDoc:
    money = "condolence_money"
    figures = [fig("7名"), fig("0.7万元", metric=money), fig("22人"), fig("2.2万元", metric=money), fig("7人"),
               fig("7000元", metric=money), fig("6万元", metric=money)]
    return HandDoc(over.get("text", DAAN), over.get("figures", figures))


def test_u001_same_fact_at_two_scales_flags_the_later_with_related_and_evidence():
    doc = _daan()
    (f,) = _run("U001", doc)
    assert f.text == "7000元" and f.rule == "U001" and f.category == "unit"
    assert [r.text for r in f.related] == ["0.7万元"]
    assert f.evidence["values"] == [7000.0, 7000.0] and f.evidence["surface_units"] == ["万元", "元"]
    assert f.evidence["count"] == 7  # 为7名… and 劳模7人: the same seven people
    assert "0.7万元" in f.message and doc.original[f.start:f.end] == "7000元"


def test_u001_different_values_or_different_metrics_are_not_one_fact():
    # 2.2万元 and 7000元: same metric, different values → not the same fact.
    doc = _daan(figures=[fig("2.2万元", metric="condolence_money"), fig("7000元", metric="condolence_money")])
    assert _run("U001", doc) == []
    # The same value for two different metrics (助学金 vs 慰问金) is a coincidence, not a fact twice.
    doc = _daan(figures=[fig("0.7万元", metric="student_aid"), fig("7000元", metric="condolence_money")])
    assert _run("U001", doc) == []


def test_u001_only_inside_one_article():
    text = ("本报讯 2021年，大安市总工会为7名全国劳动模范发放春节慰问金0.7万元。\n"
            "本报讯 2021年，洮南市总工会走访慰问劳模7人，发放慰问金7000元。")
    doc = HandDoc(text, [fig("0.7万元", metric="condolence_money"), fig("7000元", metric="condolence_money")])
    assert doc.metrics[0].article != doc.metrics[1].article
    assert _run("U001", doc) == []


# ---------------------------------------------------------------- U002 small amount in 万元

def test_u002_amount_under_ten_thousand_in_wan_suggests_yuan():
    doc = HandDoc("为基层工会购买下发学习材料102本，总价值0.49万元。", [fig("0.49万元", metric="condolence_goods_value")])
    (f,) = _run("U002", doc)
    assert f.text == "0.49万元" and f.severity == "info"
    assert f.evidence["suggestion"] == "4900元" and "4900元" in f.message


def test_u002_leaves_amounts_of_ten_thousand_and_more_and_placeholders():
    doc = HandDoc("发放慰问金1.2万元，补助X万元，奖励1万元。", [fig("1.2万元"), fig("X万元"), fig("1万元")])
    assert _run("U002", doc) == []


# ---------------------------------------------------------------- U003 large amount in 元 among 万元

def test_u003_twenty_thousand_yuan_next_to_wan_amounts():
    doc = HandDoc("本报讯 2021年，镇赉县总工会送去慰问金3万元，为困难职工发放救助金20000元。",
                  [fig("3万元", metric="condolence_money"), fig("20000元", metric="relief_funds")])
    (f,) = _run("U003", doc)
    assert f.text == "20000元" and f.evidence["suggestion"] == "2万元" and [r.text for r in f.related] == ["3万元"]


def test_u003_yuan_amounts_under_ten_thousand_next_to_wan_totals_are_normal():
    # fixtures/001: 每人发放专项慰问金5000元 next to 3万元 and 11万元.
    doc = HandDoc("向5名援鄂人员发放慰问金3万元；为一线医务人员每人发放专项慰问金5000元。",
                  [fig("3万元"), fig("5000元")])
    assert _run("U003", doc) == []


def test_u003_per_head_and_articles_without_wan_are_left_alone():
    doc = HandDoc("送去慰问金3万元，为劳模每人发放奖金20000元。", [fig("3万元"), fig("20000元")])
    assert _run("U003", doc) == []
    doc = HandDoc("为困难职工发放救助金20000元，慰问金5000元。", [fig("20000元"), fig("5000元")])
    assert _run("U003", doc) == []


# ---------------------------------------------------------------- U004 人次 / 万人次

def test_u004_renci_and_wan_renci_for_one_metric():
    text = "举办职工技能培训，培训职工1.2万人次；开展线上技能培训，培训职工23000人次。"
    doc = HandDoc(text, [fig("1.2万人次", metric="trained_people"), fig("23000人次", metric="trained_people")])
    (f,) = _run("U004", doc)
    assert f.text == "23000人次" and f.evidence["suggestion"] == "2.3万人次"


def test_u004_sizes_that_explain_the_scale_or_other_metrics_are_fine():
    text = "慰问职工12.46万人次，组织劳模疗休养343人次。"
    doc = HandDoc(text, [fig("12.46万人次", metric="participants"), fig("343人次", metric="participants")])
    assert _run("U004", doc) == []  # 343 is under 1万: 人次 is right for it
    text = "参赛职工1.5万人次，培训职工22000人次。"
    doc = HandDoc(text, [fig("1.5万人次", metric="participants"), fig("22000人次", metric="trained_people")])
    assert _run("U004", doc) == []


def test_u004_small_wan_renci_next_to_renci_of_the_same_metric():
    doc = HandDoc("开展活动吸引0.8万人次参与，另有活动吸引500人次参与。",
                  [fig("0.8万人次", metric="participants"), fig("500人次", metric="participants")])
    (f,) = _run("U004", doc)
    assert f.text == "0.8万人次" and f.evidence["suggestion"] == "8000人次"


# ---------------------------------------------------------------- U005 bare 万

@pytest.mark.parametrize("text, flagged", [
    ("出资 X万承办“皋兴购”活动。", "X万"),
    ("在实践活动中投入资金5万，建成工驿站3个。", "5万"),
    ("给予工会组织每家 X万至 X万的奖励。", "X万至X万"),
    ("共计发放奖励经费12万。", "12万"),
])
def test_u005_bare_wan_in_a_money_context(text, flagged):
    findings = _run("U005", HandDoc(text, []))
    assert [f.text.replace(" ", "") for f in findings] == [flagged]


@pytest.mark.parametrize("text", [
    "投入资金5万元，建成工驿站3个。",            # unit present
    "吸引关注 X万多人次，带动消费。",            # 多人次
    "发放电子阅读卡7.8万张。",                  # measure word
    "公众号浏览量76.2万，位居前列。",            # bare, but no money meant
    "下拨资金5万至10万元。",                     # the range's unit serves both ends
    "发放慰问金 X万 X千元。",                    # 5万3千元: one compound numeral
    "工会进万家活动覆盖全市。",                   # no numeral
])
def test_u005_leaves_figures_with_units_or_without_money_context(text):
    assert _run("U005", HandDoc(text, [])) == []


# ---------------------------------------------------------------- U006 magnitude slip

SLIP = ("本报讯 2020年，洮南市总工会救助困难职工84名，发放救助资金28.74万元。\n"
        "本报讯 2021年，洮南市总工会救助困难职工90人，发放帮扶救助资金28.74元。")


def test_u006_yuan_written_for_wan_against_the_entity_peers():
    doc = HandDoc(SLIP, [fig("28.74万元", metric="relief_funds"), fig("28.74元", metric="relief_funds")])
    (f,) = _run("U006", doc)
    assert f.text == "28.74元" and f.evidence["suggestion"] == "28.74万元" and f.evidence["ratio"] == 10000
    assert [r.text for r in f.related] == ["28.74万元"]


def test_u006_needs_the_same_entity_and_metric_and_leaves_per_head_amounts():
    other = SLIP.replace("2021年，洮南市", "2021年，大安市")
    doc = HandDoc(other, [fig("28.74万元", metric="relief_funds"), fig("28.74元", metric="relief_funds")])
    assert _run("U006", doc) == []
    doc = HandDoc(SLIP, [fig("28.74万元", metric="relief_funds"), fig("28.74元", metric="condolence_money")])
    assert _run("U006", doc) == []
    per_head = SLIP.replace("发放帮扶救助资金28.74元", "每人发放救助资金30元")
    doc = HandDoc(per_head, [fig("28.74万元", metric="relief_funds"), fig("30元", metric="relief_funds")])
    assert _run("U006", doc) == []


def test_u006_ordinary_spread_is_not_a_slip():
    doc = HandDoc(SLIP.replace("28.74元", "7000元"),
                  [fig("28.74万元", metric="relief_funds"), fig("7000元", metric="relief_funds")])
    assert _run("U006", doc) == []


def _slips_by_definition(docs, params) -> list[tuple]:
    """U006 as its definition reads, quadratic: each figure in the base unit whose peers (the same
    entity's same metric, itself left out) have a median `factor` (± `tolerance`) times it, with
    the three peers nearest `factor` times it (ties in audit order)."""
    lo, hi = params.factor / params.tolerance, params.factor * params.tolerance
    figures = [m for doc in docs for m in doc.metrics
               if not m.placeholder and m.value and m.value > 0 and m.unit and m.entity and m.metric]
    out = []
    for m in figures:
        peers = [p for p in figures if p is not m and (p.entity, p.metric) == (m.entity, m.metric)]
        if not peers or unit_kind._as_written(m) != params.base_unit:
            continue
        median = statistics.median(p.value for p in peers)
        if lo <= median / m.value <= hi:
            close = sorted(peers, key=lambda p: abs(math.log(p.value / (m.value * params.factor))))[:3]
            out.append((m.document, m.start, m.end, median, [(p.document, p.start) for p in close]))
    return sorted(out)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["洮南市", "大安市", "通榆县"]), st.sampled_from([2020, 2021, 2022]),
                          st.lists(st.tuples(st.sampled_from(["28.74", "30", "12.5", "2874", "0.3"]),
                                             st.sampled_from(["元", "万元"])), min_size=1, max_size=4)),
                min_size=1, max_size=6))
def test_u006_finds_what_its_definition_says(pages):
    """Figures kept as values and places, Metric objects made for slips and peers only, pages
    looked at one at a time: the same slips, medians and peers as the rule's definition."""
    docs = []
    for n, (entity, year, amounts) in enumerate(pages):
        text = f"本报讯 {year}年，{entity}总工会" + "".join(f"发放救助资金{v}{u}，" for v, u in amounts) + "成效明显。"
        docs.append(HandDoc(text, [fig(f"{v}{u}", metric="relief_funds") for v, u in amounts], path=f"p{n:02d}.txt"))
    params = RULES["U006"].params
    found = sorted((f.document, f.start, f.end, f.evidence["peer_median"],
                    [(r.document, r.start) for r in f.related]) for f in _run("U006", *docs))
    assert found == _slips_by_definition(docs, params)
    for doc in docs:  # as the engines hold them: the metrics packed in columns, read off in place
        doc.metrics = PackedMetrics.pack(doc.metrics, len(doc.original))
        assert isinstance(doc.metrics, PackedMetrics)
    assert sorted((f.document, f.start, f.end, f.evidence["peer_median"], [(r.document, r.start) for r in f.related])
                  for f in _run("U006", *docs)) == found
    with pytest.MonkeyPatch.context() as patch:  # the figures bucketed by (entity, metric) in scratch files
        patch.setattr(_parts, "HELD_AT_MOST", 2)
        patch.setattr(_parts, "BUCKETS", 3)
        assert sorted((f.document, f.start, f.end, f.evidence["peer_median"],
                       [(r.document, r.start) for r in f.related]) for f in _run("U006", *docs)) == found


# ---------------------------------------------------------------- the rule file

def test_every_unit_rule_has_bilingual_texts_and_an_example():
    assert_rule_file(RULES, "unit")


# ---------------------------------------------------------------- the real pages

def test_fixture_daan_writes_one_fact_at_two_scales(analysed):
    doc = analysed["000"]
    (f,) = [f for f in _run("U001", *analysed.values()) if f.document == doc.path]
    assert f.text == "7000元" and doc.original[f.start:f.end] == "7000元"
    assert "走访慰问劳模7人，发放慰问金7000元" in doc.original[f.start - 20:f.end].replace("\n", "")
    (related,) = f.related
    assert related.text == "0.7万元" and "为7名全国劳" in doc.original[related.start - 30:related.start].replace("\n", "")
    assert f.evidence["values"] == [7000, 7000] and f.evidence["surface_units"] == ["万元", "元"]
    assert f.evidence["count"] == 7


def test_fixture_small_amounts_in_wan(analysed):
    findings = {f.text: f for f in _run("U002", *analysed.values()) if f.document == analysed["000"].path}
    assert findings["0.49万元"].evidence["suggestion"] == "4900元"
    assert findings["0.7万元"].evidence["suggestion"] == "7000元"


def test_fixture_yuan_amounts_under_ten_thousand_next_to_wan_are_not_flagged(analysed):
    doc = analysed["001"]
    assert "每人发放专项慰问金5000元" in doc.original
    assert any(m.text == "3万元" for m in doc.metrics)  # 万元 amounts in the same article
    for rule_id in RULES:
        findings = _run(rule_id, *analysed.values())
        assert not [f for f in findings if f.document == doc.path and f.text == "5000元"], rule_id


def test_fixture_bare_wan_in_the_draft_reports(analysed):
    findings = [f for f in _run("U005", *analysed.values())]
    assert {(f.document, f.text.replace(" ", "")) for f in findings} == {
        (analysed["004"].path, "X万至X万"), (analysed["004"].path, "X万")}


def test_u001_a_bracketed_gloss_is_written_twice_on_purpose():
    doc = HandDoc("发放慰问金7000元（0.7万元），为劳模发放奖金2万元。",
                  [fig("7000元", metric="condolence_money"), fig("0.7万元", metric="condolence_money"), fig("2万元")])
    assert _run("U001", doc) == []
