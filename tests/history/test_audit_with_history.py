"""`auditor audit` with a history store: year-over-year against archived years (the year before,
further back when a year is missing, a robust band with three or more years), copies of archived
text, boilerplate weighing itself down, and no history never being an error."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from auditor.audit import run_audit
from auditor.config import Config
from auditor.history import HistoryStore
from auditor.rules.context import AuditContext
from auditor.rules.engine import run_rules
from auditor.rules.kinds.duplicate import fold_key
from auditor.rules.loader import load_rule_file

from .helpers import ROOT, page, run_cli, taonan

FIXTURES = ROOT / "fixtures"
YOY = {r.id: r for r in load_rule_file(ROOT / "rules" / "yoy.yaml")}
DUP = {r.id: r for r in load_rule_file(ROOT / "rules" / "duplicate.yaml")}


def _archive(tmp_path: Path, pages, name: str = "h.duckdb") -> HistoryStore:
    path = tmp_path / name
    with HistoryStore.open(path) as s:
        s.add(pages)
    return HistoryStore.open(path, read_only=True)


def _run(rules, docs, store=None, lang="zh"):
    return run_rules(list(rules), AuditContext(list(docs), lang=lang, history=store))


def _shape(f) -> tuple:
    """A finding as the report shows it: where, what, why, and every related place."""
    return (f.rule, f.document, f.start, f.end, f.text, f.message, dict(f.evidence),
            tuple((r.document, r.start, r.end, r.text, r.note) for r in f.related))


# ---------------------------------------------------------------- the fixtures: 001 archived, 000 audited

@pytest.mark.parametrize("held_at_most", [None, 3], ids=["held", "bucketed"])
def test_archived_001_gives_000_the_same_yoy_findings_as_auditing_both(tmp_path, monkeypatch, held_at_most):
    monkeypatch.chdir(ROOT)  # paths as the user types them, so related locations compare equal
    if held_at_most:  # the observations, archived ones too, go through scratch buckets by series
        from auditor.rules.kinds import _parts

        monkeypatch.setattr(_parts, "HELD_AT_MOST", held_at_most)
        monkeypatch.setattr(_parts, "BUCKETS", 4)
    p000, p001 = (f"fixtures/{p.name}" for p in sorted(FIXTURES.glob("00[01]_*.txt")))
    with HistoryStore.open(tmp_path / "h.duckdb") as s:
        from auditor.pipeline import analyse_path

        s.add([analyse_path(p001)])
    alone = run_audit([p000], Config(history=str(tmp_path / "h.duckdb"), select=("Y",)))
    both = run_audit([p000, p001], Config(select=("Y",)), history=False)
    assert [_shape(f) for f in alone.findings] == [_shape(f) for f in both.findings]
    by_text = {f.text: f for f in alone.findings}
    assert {"84人", "28.74万元", "858人", "近22万元"} <= set(by_text)  # 洮南's copies and the jumps
    assert by_text["28.74万元"].related[0].document == p001 and by_text["28.74万元"].rule == "Y002"
    assert by_text["858人"].evidence["baseline"] == 4230 and by_text["858人"].evidence["strategy"] == "fixed-band"


def test_cli_history_add_then_audit_matches_auditing_both_files(tmp_path):
    (tmp_path / "fixtures").mkdir()
    for p in FIXTURES.glob("00[01]_*.txt"):
        shutil.copy(p, tmp_path / "fixtures" / p.name)
    p000, p001 = (f"fixtures/{p.name}" for p in sorted(FIXTURES.glob("00[01]_*.txt")))
    assert run_cli("history", "add", p001, cwd=tmp_path).returncode == 0
    alone = run_cli("audit", p000, "--format", "json", "--select", "Y", cwd=tmp_path)
    both = run_cli("audit", p000, p001, "--no-history", "--format", "json", "--select", "Y", cwd=tmp_path)
    assert alone.returncode == both.returncode == 0, alone.stderr + both.stderr
    found = json.loads(alone.stdout)["findings"]
    assert found == json.loads(both.stdout)["findings"]
    assert {(f["rule"], f["text"]) for f in found} >= {("Y002", "84人"), ("Y002", "28.74万元"), ("Y001", "858人")}
    ignored = run_cli("audit", p000, "--no-history", "--format", "json", "--select", "Y", cwd=tmp_path)
    assert json.loads(ignored.stdout)["findings"] == []


def test_no_history_file_is_an_ordinary_audit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page_path = FIXTURES / "000_20e9484f903fef0f.txt"
    missing = run_audit([str(page_path)], Config(history=str(tmp_path / "none.duckdb")))
    default = run_audit([str(page_path)], Config())
    assert [_shape(f) for f in missing.findings] == [_shape(f) for f in default.findings]
    assert not (tmp_path / "none.duckdb").exists() and not (tmp_path / ".auditor").exists()


def test_archive_rules_without_a_store_do_no_work(analysed):
    """Without a history store the archive modes have nothing to compare with: no findings, and
    the pages are not even cut into clauses for them (a second of a corpus-wide stage at 20 MB)."""
    ctx = AuditContext([analysed["000"], analysed["001"]], lang="zh")
    assert run_rules([DUP["D006"], DUP["D007"], DUP["D008"]], ctx) == []
    assert not any("duplicate.units" in key for key in ctx._memo)
    run_rules([DUP["D001"]], ctx)  # the in-audit rule does cut them, into the same memo
    assert any("duplicate.units" in key for key in ctx._memo)


def test_the_archived_copy_of_the_audited_page_is_not_an_earlier_page(tmp_path, analysed):
    store = _archive(tmp_path, [analysed["000"], analysed["001"]])
    with store:
        found = _run([*YOY.values(), DUP["D006"], DUP["D007"], DUP["D008"]], [analysed["001"]], store)
    assert found == []  # 001 against itself: nothing; against 000 (printed a year later): nothing either


def test_text_of_000_printed_in_001_is_reported_with_the_archived_place(tmp_path, analysed):
    with _archive(tmp_path, [analysed["001"]]) as store:
        (f,) = _run([DUP["D006"], DUP["D007"]], [analysed["000"]], store)
    assert f.rule == "D007" and f.severity == "info"
    assert "".join(f.text.split()) == "将劳动光荣、知识崇高、人才宝贵、创造伟大的社会风尚融入了职工岗位工作实践"
    assert "2020年白城工业园区工会的文章（001_4056ee0728c65a9a.txt:" in f.message
    (r,) = f.related
    assert r.document == analysed["001"].path and analysed["001"].original[r.start:r.end] == r.text
    assert f.evidence["archived_year"] == 2020 and f.evidence["published"] == 2021


# ---------------------------------------------------------------- copies of archived text

COPY_2021 = ("本报讯 2021年，洮南市总工会持续做好疫情防控，为卫生、公安、环卫、街道等一线工作人员发放卫生防护用品累计6万元,"
             "为困难职工和基层工会发放口罩4200个。")


def test_figures_printed_again_from_last_years_page(tmp_path, analysed):
    with _archive(tmp_path, [analysed["001"]]) as store:
        (f,) = _run([DUP["D006"], DUP["D007"]], [page(COPY_2021, "2021.txt")], store, lang="en")
    assert f.rule == "D006" and f.severity == "warning"
    assert f.text == "为卫生、公安、环卫、街道等一线工作人员发放卫生防护用品累计6万元,为困难职工和基层工会发放口罩4200个。"
    assert "in 2020 in 洮南市总工会’s article (001_4056ee0728c65a9a.txt:" in f.message
    first = f.related[0]
    assert first.document == analysed["001"].path and first.note == "the archived text"
    assert analysed["001"].original[first.start:first.end] == first.text == f.text
    assert f.evidence["documents"] == 1 and f.evidence["archive_document"] == analysed["001"].path


def test_boilerplate_on_many_archived_pages_weighs_itself_down(tmp_path):
    line = "各级工会组织广泛开展职工技能培训和岗位练兵活动，全年累计培训职工3600人次。"
    archived = [page(f"本报讯 {y}年，某县总工会召开全委会议。{line}", f"a/{y}.txt") for y in range(2010, 2016)]
    audited = page(f"本报讯 2021年，洮南市总工会召开职代会。{line}", "2021.txt")
    with _archive(tmp_path, archived[:2], "two.duckdb") as store:
        (f,) = _run([DUP["D006"]], [audited], store)
    assert f.evidence["documents"] == 2 and f.evidence["weight"] < f.evidence["chars"]
    with _archive(tmp_path, archived, "six.duckdb") as store:  # on 6 pages: house style
        assert _run([DUP["D006"]], [audited], store) == []


# ---------------------------------------------------------------- sentences nearly the same as archived ones

# A sentence of 洮南's article in fixtures/001 (2020), and the same with one figure changed.
PRINTED = "做好省和市先进单位、先进个人推荐工作,成功推荐吉林省“工人先锋号”1个,白城市“五一”劳动奖状获得者1个,白城市“五一”劳动奖章获得者5名。"
EDITED = PRINTED.replace("获得者5名", "获得者7名")


def _page_2021(sentence: str):
    return page(f"本报讯 2021年，洮南市总工会召开全委会议，总结一年来的工作。{sentence}", "2021.txt")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_edited_sentence_of_001_is_almost_the_same_as_the_archived_one(tmp_path, analysed, lang):
    original = analysed["001"].original
    assert PRINTED in original.replace("\n", "")
    with _archive(tmp_path, [analysed["001"]]) as store:
        (f,) = _run([DUP["D008"]], [_page_2021(EDITED)], store, lang=lang)
    assert f.rule == "D008" and f.severity == "info" and f.text == EDITED
    (r,) = f.related
    assert r.document == analysed["001"].path and original[r.start:r.end] == r.text == PRINTED
    assert original.index(PRINTED) == r.start  # the archived sentence's own span, in the original text
    ev = f.evidence
    assert (ev["archived_year"], ev["archived_entity"], ev["published"], ev["documents"]) == (2020, "洮南市总工会", 2021, 1)
    assert 0.7 <= ev["similarity"] < 1 and ev["differs"] == "5 → 7"
    line = original.count("\n", 0, r.start) + 1
    if lang == "zh":
        assert f.message.startswith(f"与2020年洮南市总工会的文章（001_4056ee0728c65a9a.txt:{line}）的句子几乎相同（相似度")
        assert "差异：5 → 7" in f.message and r.note.startswith("存档中的相似句")
    else:
        assert f.message.startswith("Almost the same as a sentence printed in 2020 in 洮南市总工会’s article "
                                    f"(001_4056ee0728c65a9a.txt:{line}) (similarity ")
        assert "differs: 5 → 7" in f.message and r.note.startswith("the archived sentence")


def test_a_sentence_printed_unchanged_is_left_to_the_exact_archive_rules(tmp_path, analysed):
    with _archive(tmp_path, [analysed["001"]]) as store:
        found = _run([DUP["D006"], DUP["D007"], DUP["D008"]], [_page_2021(PRINTED)], store)
        assert {f.rule for f in found} == {"D006"}  # the copied figures, not a near copy as well
        # and a page printed before the archived one has nothing "printed before" in it
        assert _run([DUP["D008"]], [page(f"本报讯 2019年，洮南市总工会召开全委会议。{EDITED}", "2019.txt")], store) == []


def test_band_keys_are_asked_only_for_sentences_not_printed_word_for_word(tmp_path, analysed, monkeypatch):
    """Band-key lookups are what a near-copy check costs: a sentence found by its hash on an
    earlier page is not looked up again (and its edited twin still is)."""
    asked: list[list[str]] = []
    with _archive(tmp_path, [analysed["001"]]) as store:
        ask = store.band_queries
        monkeypatch.setattr(store, "band_queries", lambda cores: asked.append(list(cores)) or ask(cores))
        (f,) = _run([DUP["D008"]], [_page_2021(PRINTED + EDITED)], store)
        assert f.text == EDITED
        (cores,) = asked
        assert fold_key(EDITED) in cores and fold_key(PRINTED) not in cores
        # on a page printed before the archived one, the same sentence is no copy: it is asked
        asked.clear()
        _run([DUP["D008"]], [page(f"本报讯 2019年，洮南市总工会召开全委会议。{PRINTED}", "2019.txt")], store)
        assert fold_key(PRINTED) in asked[0]


def test_near_copies_on_many_archived_pages_are_house_style(tmp_path):
    line = "各级工会组织广泛开展职工技能培训和岗位练兵活动，全年累计培训职工{}人次，参加技能竞赛的职工同比明显增加。"
    archived = [page(f"本报讯 {y}年，某县总工会召开全委会议。{line.format(3000 + y)}", f"a/{y}.txt")
                for y in range(2010, 2016)]
    audited = page(f"本报讯 2021年，洮南市总工会召开职代会。{line.format(4200)}", "2021.txt")
    with _archive(tmp_path, archived[:2], "two.duckdb") as store:
        (f,) = _run([DUP["D008"]], [audited], store)
    assert f.evidence["documents"] == 2 and {r.document for r in f.related} == {"a/2010.txt", "a/2011.txt"}
    assert f.related[0].note == f"存档中的相似句（相似度{f.evidence['similarity']:.2f}）"  # the closest first
    with _archive(tmp_path, archived, "six.duckdb") as store:  # nearly the same on 6 pages: house style
        assert _run([DUP["D008"]], [audited], store) == []
        # and unchanged on 6 pages: neither a near copy nor (on 5+ pages) an exact one
        same = page(f"本报讯 2021年，洮南市总工会召开职代会。{line.format(3010)}", "2021.txt")
        assert _run([DUP["D006"], DUP["D007"], DUP["D008"]], [same], store) == []


def test_a_store_with_other_minhash_parameters_is_skipped(tmp_path, analysed):
    from auditor.history.fingerprints import MinHashParams
    from auditor.history.store import _set_meta

    path = tmp_path / "other.duckdb"
    with HistoryStore.open(path) as s:
        _set_meta(s.con, MinHashParams(num_perm=64, bands=16).as_meta())  # as a store made by another release
        s._minhash = None
        s.add([analysed["001"]])
        assert len(s.table("bands")) > 0
    with HistoryStore.open(path, read_only=True) as store:
        assert _run([DUP["D008"]], [_page_2021(EDITED)], store) == []  # its band keys cannot be compared
        assert {f.rule for f in _run([DUP["D006"], DUP["D008"]], [_page_2021(EDITED)], store)} == {"D006"}
    rule = DUP["D008"]
    other = dataclasses.replace(rule, params=rule.params.model_copy(update={"bands": 4}))
    with _archive(tmp_path, [analysed["001"]]) as store:  # and a rule with other parameters skips the store
        assert _run([other], [_page_2021(EDITED)], store) == []
        assert len(_run([rule], [_page_2021(EDITED)], store)) == 1


# ---------------------------------------------------------------- year over year against the archive

def test_robust_band_replaces_the_fixed_ratio_with_three_or_more_earlier_years(tmp_path):
    years = {2016: "20.5万元", 2017: "21.3万元", 2018: "19.8万元", 2019: "22万元"}
    with _archive(tmp_path, [taonan(y, v, people=f"{60 + y % 10}名") for y, v in years.items()]) as store:
        (f,) = [f for f in _run([YOY["Y001"]], [taonan(2020, "45万元", path="2020.txt")], store)
                if f.text == "45万元"]
    ev = f.evidence
    assert ev["strategy"] == "robust-band" and ev["baseline_years"] == [2016, 2019] and ev["band_kind"] == "absolute"
    assert ev["history"] == [[2016, 205000.0], [2017, 213000.0], [2018, 198000.0], [2019, 220000.0]]
    assert round(ev["baseline"], -3) == 209000 and ev["band"][0] < 209000 < ev["band"][1] < 450000
    assert ev["previous"] == 220000 and ev["previous_year"] == 2019  # the chart's last point
    assert "2016–2019年4个年度的中位数" in f.message and f.related[0].text == "22万元"
    assert 1 / 3 < ev["current"] / ev["previous"] < 3  # the fixed band alone would have let it pass


def test_a_volatile_history_widens_the_robust_band(tmp_path):
    years = {2016: "10万元", 2017: "40万元", 2018: "11万元", 2019: "42万元"}
    with _archive(tmp_path, [taonan(y, v, people=f"{60 + y % 10}名") for y, v in years.items()]) as store:
        found = _run([YOY["Y001"]], [taonan(2020, "12万元", path="2020.txt")], store)
    assert [f.text for f in found] == []  # 12万 against 42万 is 0.29× — normal for this series


def test_a_missing_year_is_bridged_with_a_wider_band(tmp_path):
    with _archive(tmp_path, [taonan(2018, "10万元")]) as store:
        near = _run([YOY["Y001"]], [taonan(2020, "50万元", path="2020.txt")], store)
        (far,) = _run([YOY["Y001"]], [taonan(2020, "100万元", path="2020.txt")], store)
        (copy,) = [f for f in _run([YOY["Y002"]], [taonan(2020, "10.5万元", people="84名", path="2020.txt")], store)
                   if f.text == "84名"]
    assert near == []  # 5× over two years is inside 3² = 9×
    assert far.evidence["gap"] == 2 and far.evidence["band"] == [0.1111, 9.0] and far.evidence["previous_year"] == 2018
    assert "2018年（此前最近有数据的一年" in far.message
    assert copy.evidence["previous_year"] == 2018 and copy.related[0].note == "2018年相同的数字"


def test_too_little_history_gives_no_finding(tmp_path):
    with _archive(tmp_path, [page("本报讯 2019年，洮南市总工会召开全委会议。", "a.txt")]) as store:
        assert _run(YOY.values(), [taonan(2020, "45万元", path="2020.txt")], store) == []
    with _archive(tmp_path, [], "empty.duckdb") as store:
        assert _run([*YOY.values(), DUP["D006"], DUP["D007"], DUP["D008"]], [taonan(2020, "45万元", path="2020.txt")],
                    store) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_messages_read_well_in_both_languages(tmp_path, lang):
    with _archive(tmp_path, [taonan(2019, "10万元")]) as store:
        (f,) = _run([YOY["Y001"]], [taonan(2020, "50万元", path="2020.txt")], store, lang=lang)
    expected = ("“50万元”是上一年（2019年“10万元”）的5倍，超出合理区间 0.333–3 倍：请核实" if lang == "zh" else
                "“50万元” is 5× the year before (2019: “10万元”), outside the band 0.333–3×: please check")
    assert f.message == expected
