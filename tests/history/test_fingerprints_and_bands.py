"""Fingerprints the archive keeps, and the year-over-year comparison on archived observations
(robust band, bridged gaps) as plain functions."""

from __future__ import annotations

import numpy as np

from auditor.history.fingerprints import DEFAULT_MINHASH, MinHashParams, band_keys, key_hash, unit_rows
from auditor.rules.kinds.duplicate import fold_key
from auditor.rules.kinds.yoy import Observation, Robust, copied_figures, year_changes

from .helpers import page

BAND = (1 / 3, 3.0)


def test_key_hash_is_pinned():
    # Stored archives hold these hashes: a change here (or in fold_key) makes every store stale.
    assert key_hash("洮南市总工会救助困难职工84名") == -461095397269173104
    assert key_hash(fold_key("2.8万元，")) == key_hash(fold_key("2.8万元,"))


def test_unit_rows_cover_clauses_and_sentences_with_original_offsets():
    doc = page("本报讯　2021年，洮南市总工会救助困难职工８４人，\n发放救助资金28.74万元。")
    clauses, sentences = unit_rows(doc)
    assert [doc.original[c.start:c.end] for c in clauses][-2:] == ["洮南市总工会救助困难职工８４人", "发放救助资金28.74万元"]
    assert [c.sentence for c in clauses] == [0] * len(clauses) and len(sentences) == 1
    assert clauses[-1].hash == key_hash("发放救助资金28.74万元")


def test_band_keys_agree_for_near_copies_and_not_for_others():
    a = fold_key("洮南市总工会深入开展职工技能培训全年组织各类培训班共计十二期覆盖企业职工三千余人次")
    b = a.replace("十二", "十五")
    c = fold_key("白城市总工会召开第十五届委员会第三次全体会议审议通过年度工作报告和经费审查报告")
    keys = band_keys([a, b, c])
    assert keys.shape == (3, DEFAULT_MINHASH.bands) and keys.dtype == np.int64
    assert (keys[0] == keys[1]).sum() >= 2 and (keys[0] == keys[2]).sum() == 0
    assert (band_keys([a]) == keys[:1]).all()  # deterministic
    assert MinHashParams.from_meta(DEFAULT_MINHASH.as_meta()) == DEFAULT_MINHASH


def _obs(year, value, metric="relief_funds", source=None):
    return Observation("洮南市总工会", metric, year, value, "元", None, source)


def test_robust_band_needs_three_earlier_years_and_reads_each_year_once():
    robust = Robust()
    two = [_obs(2018, 100), _obs(2019, 110), _obs(2020, 250)]
    assert [c.strategy for c in year_changes(two, lambda m: BAND, robust=robust)] == []  # 2.3× passes the fixed band
    # a year listing several items counts once, by its median: 2017's five small items do not pull the band down
    history = [_obs(2016, 100), _obs(2017, 5), _obs(2017, 6), _obs(2017, 100), _obs(2017, 7), _obs(2017, 110),
               _obs(2018, 105), _obs(2019, 95)]
    (c,) = year_changes(history + [_obs(2020, 250)], lambda m: BAND, robust=robust)
    assert c.strategy == "robust-band" and c.baseline_years == (2016, 2017, 2018, 2019)
    assert dict(c.history)[2017] == 7 and 95 < c.baseline < 105 and c.previous.value == 95
    # years further back than the window do not count
    old = [_obs(2005, 100), _obs(2006, 100), _obs(2007, 100), _obs(2020, 250)]
    assert list(year_changes(old, lambda m: BAND, robust=robust)) == []


def test_a_gap_is_bridged_only_up_to_max_gap_with_the_band_widened():
    obs = [_obs(2016, 100), _obs(2020, 10_000)]
    assert list(year_changes(obs, lambda m: BAND, max_gap=3)) == []  # four years back: too far
    (c,) = year_changes(obs, lambda m: BAND, max_gap=4)  # 100× over four years is outside 3⁴ = 81×
    assert (c.gap, c.previous.year, round(c.band[1])) == (4, 2016, 81)
    assert list(year_changes([_obs(2016, 100), _obs(2020, 5_000)], lambda m: BAND, max_gap=4)) == []
    copies = [_obs(2018, 287400), _obs(2020, 287400)]
    assert list(copied_figures(copies, lambda m: False)) == []
    (copy,) = copied_figures(copies, lambda m: False, max_gap=2)
    assert copy.previous[0].year == 2018
