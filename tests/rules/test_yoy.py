"""Year-over-year rules (rules/yoy.yaml, kind `yoy`): the comparison on plain observations, the rules
on hand-built metrics, and 洮南's figures copied from 2020 (001) into 2021 (000) on the real pages."""

from __future__ import annotations

from auditor.rules.context import AuditContext
from auditor.rules.kinds.yoy import (Observation, compare, compared, copied_figures, observations, report,
                                     year_changes)

from .handmade import HandDoc, assert_rule_file, fig, rules_of, run

RULES = rules_of("yoy.yaml")


def _run(rule_id: str, *docs) -> list:
    return run(RULES, rule_id, *docs)


TAONAN_2020 = "本报讯 2020年以来，洮南市总工会救助困难职工84名，发放救助资金28.74万元。全市新组建基层工会组织31家。"
TAONAN_2021 = "本报讯 2021年，洮南市总工会帮扶救助致困职工84人，发放帮扶救助资金28.74万元。新建基层工会41家。"


def _taonan(text_2021: str = TAONAN_2021, figures_2021=None, entity_2021: str | None = None):
    if entity_2021:
        text_2021 = text_2021.replace("洮南市总工会", entity_2021)
    old = HandDoc(TAONAN_2020, [fig("84名", metric="hardship_relief_people"), fig("28.74万元", metric="relief_funds"),
                                fig("31家", metric="new_union_orgs")], path="2020.txt")
    new = HandDoc(text_2021, figures_2021 or [fig("84人", metric="hardship_relief_people"),
                                              fig("28.74万元", metric="relief_funds"),
                                              fig("41家", metric="new_union_orgs")], path="2021.txt")
    return old, new


# ---------------------------------------------------------------- Y002 copied figure

def test_y002_figures_copied_from_last_year_flag_both_with_related_to_last_year():
    old, new = _taonan()
    findings = _run("Y002", old, new)
    assert [(f.document, f.text) for f in findings] == [("2021.txt", "84人"), ("2021.txt", "28.74万元")]
    count, money = findings
    assert [(r.document, r.text) for r in count.related] == [("2020.txt", "84名")]
    assert [(r.document, r.text) for r in money.related] == [("2020.txt", "28.74万元")]
    assert money.evidence["previous_year"] == 2020 and money.evidence["current_year"] == 2021
    assert count.severity == "warning" and "2020" in count.message


def test_y002_two_organisations_sharing_a_figure_are_not_a_copy():
    old, new = _taonan(entity_2021="大安市总工会")
    assert new.metrics[0].entity == "大安市总工会"
    assert _run("Y002", old, new) == []


def test_y002_approximate_stable_small_or_same_year_figures_are_not_flagged():
    # approximate: 84余人 is rounded, a coincidence is likely
    old, new = _taonan(TAONAN_2021.replace("84人", "84余人"),
                       [fig("84余人", metric="hardship_relief_people", approx="余")])
    assert new.metrics[0].approx == "余" and new.metrics[0].value == 84
    assert _run("Y002", old, new) == []
    # stable metric (members_total): the same total two years running is normal
    old = HandDoc("本报讯 2020年，洮南市总工会有会员5000人。", [fig("5000人", metric="members_total")], path="a")
    new = HandDoc("本报讯 2021年，洮南市总工会有会员5000人。", [fig("5000人", metric="members_total")], path="b")
    assert _run("Y002", old, new) == []
    # round amounts coincide by chance (镇赉: 慰问金3万元 in 2020 and in 2021, for other people)
    old = HandDoc("本报讯 2020年，镇赉县总工会发放慰问金3万元。", [fig("3万元", metric="condolence_money")], path="a")
    new = HandDoc("本报讯 2021年，镇赉县总工会送去慰问金3万元。", [fig("3万元", metric="condolence_money")], path="b")
    assert _run("Y002", old, new) == []
    # tiny counts coincide all the time
    old = HandDoc("本报讯 2020年，洮南市总工会新建工会3家。", [fig("3家", metric="new_union_orgs")], path="a")
    new = HandDoc("本报讯 2021年，洮南市总工会新建工会3家。", [fig("3家", metric="new_union_orgs")], path="b")
    assert _run("Y002", old, new) == []


# ---------------------------------------------------------------- Y001 change beyond the band

def test_y001_change_beyond_band_names_both_years_ratio_and_band():
    old, new = _taonan(TAONAN_2021.replace("41家", "410家"),
                       [fig("84人", metric="hardship_relief_people"), fig("410家", metric="new_union_orgs")])
    (f,) = _run("Y001", old, new)
    assert f.text == "410家" and [r.text for r in f.related] == ["31家"]
    ev = f.evidence
    assert (ev["previous"], ev["current"], ev["previous_year"], ev["current_year"]) == (31, 410, 2020, 2021)
    assert ev["strategy"] == "fixed-band" and ev["band"] == [0.3333, 3.0] and round(ev["ratio"], 2) == 13.23


def test_y001_within_band_other_entity_or_other_unit_is_fine():
    old, new = _taonan()  # 31 → 41 家: inside [1/3, 3]
    assert _run("Y001", old, new) == []
    old, new = _taonan(TAONAN_2021.replace("41家", "410家"), [fig("410家", metric="new_union_orgs")],
                       entity_2021="大安市总工会")
    assert _run("Y001", old, new) == []


def test_y001_uses_the_metric_band_from_the_taxonomy():
    # members_total has band [0.5, 2.0]: 5000 → 12000 is out, though inside the default [1/3, 3].
    old = HandDoc("本报讯 2020年，洮南市总工会有会员5000人。", [fig("5000人", metric="members_total")], path="a")
    new = HandDoc("本报讯 2021年，洮南市总工会有会员12000人。", [fig("12000人", metric="members_total")], path="b")
    (f,) = _run("Y001", old, new)
    assert f.evidence["band"] == [0.5, 2.0]


# ---------------------------------------------------------------- the comparison on observations

def _obs(year, value, *, metric="relief_funds", entity="洮南市总工会", approx=None, source=None, bounds=(None, None)):
    return Observation(entity, metric, year, value, "元", approx, source, *bounds)


def test_year_changes_compare_each_figure_with_the_nearest_of_the_year_before():
    band = lambda m: (1 / 3, 3.0)  # noqa: E731
    obs = [_obs(2020, 10_000), _obs(2020, 300_000), _obs(2021, 1_000_000), _obs(2021, 5_000_000)]
    changes = list(year_changes(obs, band))
    # every 2021 figure is above every 2020 one: each is compared with its nearest (300000)
    assert [(c.current.value, c.previous.value, round(c.ratio, 2)) for c in changes] == [
        (1_000_000, 300_000, 3.33), (5_000_000, 300_000, 16.67)]


def test_year_changes_leave_lists_whose_years_overlap():
    # 慰问品价值 of several programmes: 3000 this year is far from last year's 20000, but this year
    # also has 370000; items of a list are not compared one by one.
    obs = [_obs(2020, 20_000), _obs(2020, 110_000), _obs(2021, 3_000), _obs(2021, 370_000)]
    assert list(year_changes(obs, lambda m: (1 / 3, 3.0))) == []


def test_year_changes_skip_small_values_and_non_consecutive_years():
    obs = [_obs(2019, 100, metric="x"), _obs(2021, 900, metric="x"),
           _obs(2020, 2, metric="y"), _obs(2021, 9, metric="y")]
    assert list(year_changes(obs, lambda m: (1 / 3, 3.0), min_value=10)) == []


def test_archive_observations_are_context_not_findings():
    """Figures of earlier years from a history store feed the same functions; a copy is reported
    against them, with the archive row as the related location."""

    class ArchiveRow:
        document, start, end, text = "archive/2020.txt", 10, 17, "28.74万元"

    archive = [_obs(2020, 287_400, source=ArchiveRow())]
    new = _taonan()[1]
    current = [o for o in observations(new.metrics) if o.metric == "relief_funds"]
    copies = list(copied_figures(archive + current, lambda m: False))
    assert len(copies) == 1 and copies[0].previous[0].source.document == "archive/2020.txt"
    assert copies[0].current.source is new.metrics[1]


def test_every_yoy_rule_has_bilingual_texts_and_an_example():
    assert_rule_file(RULES, "yoy")


def test_year_changes_read_approximate_figures_by_their_bounds():
    # 3万余元 is 3万–4万: 11.5万 may be 2.9× of it, so no finding; 十余万 (10万–20万) → 1.9万 is out either way.
    band = lambda m: (1 / 3, 3.0)  # noqa: E731
    obs = [_obs(2020, 30_000, approx="余", bounds=(30_000, 40_000)), _obs(2021, 115_000)]
    assert list(year_changes(obs, band)) == []
    obs = [_obs(2020, 100_000, approx="余", bounds=(100_000, 200_000)), _obs(2021, 19_000)]
    assert [round(c.ratio, 2) for c in year_changes(obs, band)] == [0.19]


# ---------------------------------------------------------------- the real pages (fixtures/000 is 2021, 001 is 2020)

def test_fixture_taonan_repeats_its_2020_relief_figures(analysed):
    findings = [f for f in _run("Y002", *analysed.values()) if f.document == analysed["000"].path]
    by_text = {f.text: f for f in findings}
    assert {"84人", "28.74万元"} <= set(by_text)
    for text, previous in (("84人", "84名"), ("28.74万元", "28.74万元")):
        f = by_text[text]
        assert [(r.document, r.text) for r in f.related] == [(analysed["001"].path, previous)]
        assert analysed["001"].original[f.related[0].start:f.related[0].end] == previous
        assert (f.evidence["previous_year"], f.evidence["current_year"]) == (2020, 2021)
    # both sit in 洮南's 2021 article
    assert "致困职工84人" in analysed["000"].original[by_text["84人"].start - 6:by_text["84人"].end]


def test_fixture_two_organisations_sharing_a_figure_are_not_flagged(analysed):
    # 新建基层工会41家 (洮南, 2021) and 新建工会41家 (镇赉, 2020): same metric, same value, other organisation.
    texts = {(m.entity, m.text) for d in analysed.values() for m in d.metrics if m.metric == "new_union_orgs"}
    assert {("洮南市总工会", "41家"), ("镇赉县总工会", "41家")} <= texts
    findings = _run("Y002", *analysed.values())
    assert all(f.text != "41家" for f in findings)
    assert {f.text for f in findings} == {"84人", "28.74万元"}


def test_fixture_changes_beyond_the_band_are_explained(analysed):
    findings = _run("Y001", *analysed.values())
    daan = next(f for f in findings if f.text == "858人")  # 大安: 新发展会员 858 (2021) against 4230 (2020)
    assert [r.text for r in daan.related] == ["4230人"] and daan.evidence["strategy"] == "fixed-band"
    assert daan.evidence["band"] == [0.3333, 3.0] and round(daan.evidence["ratio"], 2) == 0.2
    # 通榆's 投入资金 (清雪 1.9万元 in 2021, 防疫 十余万元 in 2020) is a catch-all metric: not compared
    assert all(f.evidence["metric"] not in ("special_funds", "project_funds", "events") for f in findings)
    # every change reported compares the same organisation's figures of consecutive years
    for f in findings:
        assert f.evidence["current_year"] - f.evidence["previous_year"] == 1
        assert not 1 / 3 <= f.evidence["ratio"] <= 3


# ---------------------------------------------------------------- one series at a time (what the Spark engine relies on)

def _series_history() -> list[Observation]:
    """Observations of several series: a long one (robust band), a bridged gap, a copy, lists of
    figures in one year, an approximate figure, and a second unit of the same metric."""
    obs = [_obs(y, v) for y, v in ((2015, 205_000), (2016, 213_000), (2017, 198_000), (2018, 220_000),
                                   (2019, 450_000), (2020, 236_000), (2021, 236_000))]
    obs += [_obs(2017, 120_000, entity="大安市总工会"), _obs(2020, 5_000_000, entity="大安市总工会"),
            _obs(2021, 500_000, entity="大安市总工会"), _obs(2021, 20_000, entity="大安市总工会")]
    obs += [_obs(2020, 30_000, metric="x", approx="余", bounds=(30_000, 40_000)), _obs(2021, 130_000, metric="x")]
    obs += [Observation("洮南市总工会", "relief_funds", y, v, "人次") for y, v in ((2020, 40), (2021, 400))]
    return obs


def test_compare_series_by_series_finds_what_one_call_over_everything_finds():
    obs = _series_history()
    by_series: dict[tuple, list[Observation]] = {}
    for o in obs:
        by_series.setdefault((o.entity, o.metric, o.unit), []).append(o)
    for rule_id in ("Y001", "Y002"):
        params = RULES[rule_id].params
        whole = list(compare(params, obs))
        apart = [item for series in by_series.values() for item in compare(params, series)]
        assert whole and sorted(map(repr, whole)) == sorted(map(repr, apart))
    strategies = {(c.strategy, c.gap) for c in compare(RULES["Y001"].params, obs)}
    assert {("robust-band", 1), ("fixed-band", 3), ("fixed-band", 1)} <= strategies


def test_compared_reads_the_rule_selection_from_metric_and_dimension():
    y001 = RULES["Y001"].params
    assert compared(y001, "relief_funds", "money") and not compared(y001, "special_funds", "money")
    assert compared(y001.model_copy(update={"dimensions": ["people"]}), "members_total", "people")
    assert not compared(y001.model_copy(update={"dimensions": ["people"]}), "relief_funds", "money")


def test_report_renders_only_figures_of_the_audit():
    old, new = _taonan()
    ctx = AuditContext([old, new])
    found = list(compare(RULES["Y002"].params, observations(old.metrics) + observations(new.metrics)))
    assert len(found) == 2
    assert [f.text for f in report(RULES["Y002"], ctx, found)] == ["84人", "28.74万元"]
    # the same copies, with the current figures' document outside the audit: nothing to report
    assert list(report(RULES["Y002"], AuditContext([old]), found)) == []
