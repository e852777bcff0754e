"""Quantities in running text (auditor.extract.quantities).

Most sentences are taken from the fixtures (fixtures/*.txt, trade-union annual summaries), normalised the
way the caller normalises them (hard wraps removed).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.extract.quantities import Quantity, find_quantities, parse_quantity
from auditor.extract.units import load_units

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def only(text: str, *, include_bare: bool = False) -> Quantity:
    found = find_quantities(text, include_bare=include_bare)
    assert len(found) == 1, [q.text for q in found]
    return found[0]


def find(text: str, span: str) -> Quantity:
    """The quantity whose text is `span`."""
    for q in find_quantities(text):
        if q.text == span:
            return q
    raise AssertionError(f"{span!r} not found in {[q.text for q in find_quantities(text)]}")


# --- the figures named in the issue -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "span", "value", "unit", "surface", "approx"),
    [
        ("新增会员1416人；认真做好工会财务预算管理", "1416人", 1416, "人", "人", None),
        ("为困难职工发放帮扶救助资金28.74万元；先后为", "28.74万元", 287_400, "元", "万元", None),
        ("为困难职工子女发放助学金近22万元。", "近22万元", 220_000, "元", "万元", "近"),
        ("送去米、面、油、慰问金价值4.3万余元；走访医院", "4.3万余元", 43_000, "元", "元", "余"),
        ("下发学习材料102本，总价值0.49万元。", "0.49万元", 4900, "元", "万元", None),
        ("慰问抗疫一线员工12.46万人次,发放防疫物资", "12.46万人次", 124_600, "人次", "万人次", None),
        ("工程造价值达3.94亿元。同时，", "3.94亿元", 394_000_000, "元", "亿元", None),
        ("投入资金十余万元,为疫情防控一线", "十余万元", 100_000, "元", "万元", "余"),
        ("开展朗诵、演讲比赛等各种文体活动30余场，累计下拨", "30余场", 30, "场", "场", "余"),
        ("实名制覆盖法人单位3.7万家，实名制会员", "3.7万家", 37_000, "家", "万家", None),
        ("开展安全生产知识培训班2期,培训职工近百人。", "近百人", 100, "人", "人", "近"),
        ("累计向小微企业返还工会经费150余万元。", "150余万元", 1_500_000, "元", "万元", "余"),
    ],
)
def test_issue_examples(sentence: str, span: str, value: float, unit: str, surface: str, approx: str | None) -> None:
    q = find(sentence, span)
    assert _close(q.value, value)
    assert (q.unit, q.surface_unit, q.approx) == (unit, surface, approx)
    assert sentence[q.start:q.end] == q.text
    assert q.number_start >= q.start and q.number_end <= q.end


def test_scale_and_kind() -> None:
    q = only("发放救助资金28.74万元")
    assert q.scale == 10_000 and q.kind == "money" and q.dimension == "money"
    assert q.text[q.number_start - q.start:q.number_end - q.start] == "28.74"
    q = only("新增会员1416人")
    assert q.scale == 1 and q.kind == "count" and q.dimension == "people"
    q = only("12.46万人次")
    assert q.dimension == "person_times" and q.scale == 10_000


@pytest.mark.parametrize(
    "sentence",
    ["筹资 X万元购买口罩", "全额资助 X名麻阳贫困学生", "按照会员的会费缴纳基数的X%收取", "走访慰问人员 X余人次。", "参与××人", "XX名选手"],
)
def test_placeholders(sentence: str) -> None:
    q = only(sentence)
    assert q.placeholder and q.value is None and q.unit is not None


def test_placeholder_details() -> None:
    q = only("资金 X万元")
    assert (q.unit, q.surface_unit, q.scale, q.kind) == ("元", "万元", 10_000, "money")
    q = only("人员 X余人次。")
    assert (q.unit, q.approx) == ("人次", "余")
    q = only("筹资X万至X万元")
    assert q.placeholder and q.range == (None, None) and q.unit == "元"
    assert find_quantities("X山管理局、X区总工会、X工会新形象、X日报") == []


# --- counts with measure words (the conformance suite is thin here) ----------------------------------------


@pytest.mark.parametrize(
    ("sentence", "span", "value", "unit", "dimension"),
    [
        ("发放宣传资料2000余份；深入相关企业安全生产监督检查11次", "11次", 11, "次", "events"),
        ("督促整改安全隐患9处，发动企业职工", "9处", 9, "处", "items"),
        ("开展“安康杯”竞赛单位45家，覆盖职工3000余人", "45家", 45, "家", "organisations"),
        ("送去品牌智能电饭煲300台，同时向社会投放惠民补贴券5000张。", "300台", 300, "台", "items"),
        ("送去品牌智能电饭煲300台，同时向社会投放惠民补贴券5000张。", "5000张", 5000, "张", "items"),
        ("提供法律咨询50人次。", "50人次", 50, "人次", "person_times"),
        ("先后走访慰问各级劳动模范、先进人物17名，发放慰问金", "17名", 17, "人", "people"),
        ("为职工送去口罩5000个，矿泉水800箱；", "800箱", 800, "箱", "items"),
        ("按时缴纳工会经费，小微企业93户", "93户", 93, "户", "households"),
        ("全市27支职工代表队参赛", "27支", 27, "支", "organisations"),
        ("在“送教上门”活动中举办了5期线上线下培训班", "5期", 5, "期", "events"),
        ("栽植花草1790棵、树木105棵。", "105棵", 105, "棵", "items"),
        ("期间组织干部11名、雇铲车1辆、翻斗车2辆开展清雪", "1辆", 1, "辆", "items"),
        ("下发学习材料102本，总价值0.49万元。", "102本", 102, "本", "items"),
        ("提供用工信息1000余条，培训职工236人", "1000余条", 1000, "条", "items"),
        ("全年完成92项创新课题", "92项", 92, "项", "items"),
        ("受理劳动争议调解案19件，成功调解4件，接待职工来访12件次；", "12件次", 12, "件次", "events"),
        ("国家级主流媒体报道100余篇次、省级200余篇次", "100余篇次", 100, "篇次", "events"),
        ("举办农民工专场招聘会等用工招聘活动3场次,提供用工信息", "3场次", 3, "场次", "events"),
        ("购买御寒棉服700套，购买物资", "700套", 700, "套", "items"),
        ("组建黑土地、建平、坦途三个乡镇工会联合会", "三个", 3, "个", "items"),
        ("发放电子阅读卡7.8万张,并在工会官网", "7.8万张", 78_000, "张", "items"),
        ("建设近3000平方米的集阅读、培训于一体的阵地", "近3000平方米", 3000, "平方米", "area"),
        ("为抗疫战役输送40万吨物资", "40万吨", 400_000, "吨", "weight"),
        ("查找各种安全隐患50余起,充分保障", "50余起", 50, "起", "events"),
        ("同比增长1.2倍", "1.2倍", 1.2, "倍", "ratio"),
    ],
)
def test_counts_with_measure_words(sentence: str, span: str, value: float, unit: str, dimension: str) -> None:
    q = find(sentence, span)
    assert _close(q.value, value) and q.unit == unit and q.dimension == dimension and q.kind == "count"


def test_lone_yi_before_a_measure_word_is_an_article() -> None:
    for text in ["一个", "一批", "一张", "一名", "组织一批骨干", "成为一名劳模"]:
        assert find_quantities(text) == [], text
        weak = find_quantities(text, include_bare=True)
        assert [q.kind for q in weak] == ["number"] and weak[0].value == 1, text
    assert only("雇铲车1辆").value == 1  # Arabic 1 is a metric
    assert only("一吨").unit == "吨"  # 一 before a physical unit is a metric
    assert only("捐款一万元").value == 10_000


# --- qualifiers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "value", "approx", "rng"),
    [
        ("覆盖职工约1000人。", 1000, "约", None),
        ("为困难职工发放助学金近22万元。", 220_000, "近", None),
        ("各种文体活动30余场", 30, "余", (30, 40)),
        ("每年节约资金100多万元。", 1_000_000, "多", (1_000_000, 2_000_000)),
        ("覆盖职工1000人左右。", 1000, "左右", None),
        ("独立基层工会财务预算完成率达70%以上。", 70, "以上", (70, None)),
        ("参赛职工总数超过1万人次；", 10_000, "超过", (10_000, None)),
        ("职工互助保障参保人数突破8万人次大关", 80_000, "突破", (80_000, None)),
        ("参与活动的职工逾千人", 1000, "逾", (1000, None)),
        ("困难职工比例不足10%", 10, "不足", (None, 10)),
        ("累计发布信息近千条,访问量近50万次", 1000, "近", None),
        ("参与职工上万人次。", 10_000, "上", (10_000, None)),
        ("慰问一线职工近千余人", 1000, "近…余", (1000, 2000)),
        ("至少九千块钱以上", 9000, "至少…以上", (9000, None)),
        ("活动吸引约 X余名职工参与", None, "约…余", None),
        ("培训职工3000人以下", 3000, "以下", (None, 3000)),
        ("不超过5万元", 50_000, "不超过", (None, 50_000)),
        ("十几万元", 100_000, "几", (100_000, 200_000)),
    ],
)
def test_qualifiers(sentence: str, value: float | None, approx: str, rng: tuple | None) -> None:
    q = find_quantities(sentence)[0]
    assert _close(q.value, value) and q.approx == approx, q
    if rng is None:
        assert q.range is None
    else:
        assert q.range is not None and all(_close(a, b) for a, b in zip(q.range, rng)), q.range


def test_qualifier_inside_a_word_is_ignored() -> None:
    q = only("最近3个月新建工会组织296家")  # 296家; 3个月 is a duration and 最近 is not 近
    assert q.value == 296 and q.approx is None
    assert only("通过3个渠道").approx is None  # 通过 is not 过 (more than)
    assert only("节约300元").approx is None  # 节约 is not 约


# --- ranges -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lo", "hi", "unit"),
    [
        ("3至5万元", 30_000, 50_000, "元"),
        ("3-5万元", 30_000, 50_000, "元"),
        ("两到三万港元", 20_000, 30_000, "港元"),
        ("1万-5万元", 10_000, 50_000, "元"),
        ("从8500到3万港元", 8500, 30_000, "港元"),
        ("一千到两千万元人民币", 10_000_000, 20_000_000, "元"),
        ("八到九百亿泰铢", 800_000_000, 90_000_000_000, "泰铢"),
        ("百分之三十到四十一", 30, 41, "%"),
        ("每次培训20—30人", 20, 30, "人"),
        ("三五百块", 300, 500, "元"),
        ("七八公斤", 7, 8, "公斤"),
    ],
)
def test_ranges(text: str, lo: float, hi: float, unit: str) -> None:
    q = find_quantities(text)[-1]
    assert q.value is None and q.unit == unit and q.range is not None
    assert _close(q.range[0], lo) and _close(q.range[1], hi), q.range


def test_bare_ranges_and_bounds() -> None:
    assert find_quantities("3-5万") == []  # no unit: a bare range
    q = only("3-5万", include_bare=True)
    assert q.range == (30_000, 50_000) and q.unit is None and q.kind == "number"
    q = only("x大于10小于20", include_bare=True)
    assert q.range == (10, 20)
    q = only("数字在1000以上， 1500以下", include_bare=True)
    assert q.range == (1000, 1500)


# --- percentages, fractions, money ---------------------------------------------------------------------


def test_percent_forms() -> None:
    q = only("职工入会率达96%;")
    assert (q.value, q.unit, q.kind) == (96, "%", "percent")
    q = only("同比增长百分之八十五")
    assert (q.value, q.unit, q.surface_unit) == (85, "%", "百分之")
    q = only("比上年提高2.4个百分点")
    assert (q.value, q.unit, q.dimension) == (2.4, "个百分点", "points")
    q = only("下降了百分之负三点八")
    assert q.value == -3.8
    assert only("职工满意度达九成以上").value == 90


def test_fractions_and_money_tails() -> None:
    q = only("乡镇（街道）工会规范化建制率达三分之二。")
    assert q.kind == "fraction" and _close(q.value, 2 / 3) and q.unit is None
    assert only("开销123元1角1分").value == 123.11
    assert only("一百三十五块六角七分钱").value == 135.67
    q = only("支票上金额应写为：伍仟元整")
    assert (q.value, q.text) == (5000, "伍仟元整")
    q = only("港币两千九百六十元")
    assert (q.value, q.unit) == (2960, "港元")
    q = only("央行到期定存单5306亿台币")
    assert (q.value, q.unit) == (530_600_000_000, "新台币")


# --- what is not a quantity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # years and dates
        "2021年", "2021年度", "2021年5月1日", "9月", "1945年9月", "2020年以来", "2021-2022年",
        # ordinals
        "第六届", "第6名", "首届",
        # names that contain numerals
        "十九届六中全会", "二十大", "十九大", "五一劳动奖章", "“五一”", "两节", "“3+X”", "G331", "4S店",
        "2.0版", "建党100周年", "100周年", "四个意识", "四个自信", "两个维护", "八大群体", "三帮扶一推动",
        "六项行动", "五大工程", "一线", "一体", "“七一”前夕", "建功十四五", "红十字", "唯一一场",
        # durations
        "五年来", "连续三年", "一年来", "30多年来",
        # phone numbers, times, picture captions
        "0436-1234567", "13912345678", "2:00", "①",
        # words with numeral characters
        "一切", "统一", "万一", "十分重要", "工会进万家", "全国百家最美工驿站", "千方百计", "四川", "陆地", "队伍",
    ],
)
def test_not_quantities(text: str) -> None:
    assert find_quantities(text) == []
    assert find_quantities(text, include_bare=True) == []


def test_not_quantities_in_fixture_sentences() -> None:
    text = ("本报讯 2021年，洮北区总工会以庆祝建党100周年为主线，切实抓好习近平新时代中国特色社会主义思想和"
            "党的十九届六中全会精神的学习贯彻。一年来，全区各级工会积极开展“三帮扶一推动”系列活动。")
    assert find_quantities(text, include_bare=True) == []
    text = "以返还工会经费为契机，持续深化以八大群体为重点的新就业形态群体入会。“两节”期间为186名困难职工"
    assert [q.text for q in find_quantities(text, include_bare=True)] == ["186名"]


def test_bare_numbers_only_on_request() -> None:
    text = "两百五，还有1502222和三点一四"
    assert find_quantities(text) == []
    assert [q.value for q in find_quantities(text, include_bare=True)] == [250, 1_502_222, 3.14]


def test_raw_full_width_and_wrapped_input() -> None:
    q = only("新增会员１４１６人")
    assert q.value == 1416 and q.text == "１４１６人"
    text = "覆盖职工 3000 余人"
    q = only(text)
    assert (q.value, q.text) == (3000, "3000 余人") and text[q.start:q.end] == q.text


def test_parse_quantity_whole_string() -> None:
    q = parse_quantity("  约4.287亿美元 ")
    assert q is not None and q.value == 428_700_000 and q.unit == "美元" and q.approx == "约"
    assert parse_quantity("零点零大") is None
    assert parse_quantity("你好") is None


def test_fixture_pages_smoke() -> None:
    """Every fixture page: quantities are well-formed, and the known totals come out."""
    seen: list[Quantity] = []
    for path in sorted(FIXTURES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        found = find_quantities(text)
        _check_invariants(text, found)
        seen += found
    texts = {q.text for q in seen}
    assert {"1416人", "28.74万元", "12.46万人次", "3.94亿元", "30余场", "X万元", "X%"} <= texts
    assert not any(q.text in ("2021年", "100周年", "十九届") for q in seen)


# --- properties ----------------------------------------------------------------------------------------------


def _check_invariants(text: str, found: list[Quantity]) -> None:
    last_end = 0
    for q in found:
        assert text[q.start:q.end] == q.text
        assert q.start >= last_end, "sorted and non-overlapping"
        assert q.start <= q.number_start <= q.number_end <= q.end
        assert q.kind in ("money", "count", "percent", "fraction", "number")
        if q.placeholder:
            assert q.value is None
        last_end = q.end


_ALPHABET = st.sampled_from(
    list("0123456789０１２３４５６７８９.,，%％Xx×一二三四五六七八九十百千万亿零〇两壹拾点分之又余多几个元人名家次年月日第负-~至到近约超以上下左右 \n　“”（）/")
    + ["万元", "人次", "个百分点", "百分之", "亿元", "突破", "不足", "2021年", "XX"]
)


def test_long_runs_are_fast() -> None:
    """No catastrophic backtracking on long digit or numeral runs."""
    import time

    for text in ["发议时，订单号 A202107211321363588510367 可用作", "1" * 400, "一二" * 200, "三又" * 200 + "分之"]:
        began = time.perf_counter()
        find_quantities(text, include_bare=True)
        assert time.perf_counter() - began < 2.0, text[:30]
    assert find_quantities("银行账号6222020200112233445566", include_bare=True) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ALPHABET, max_size=30).map("".join), st.booleans())
def test_find_quantities_properties(text: str, include_bare: bool) -> None:
    _check_invariants(text, find_quantities(text, include_bare=include_bare))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_unicode_never_raises(text: str) -> None:
    _check_invariants(text, find_quantities(text, include_bare=True))
    parse_quantity(text)


# --- the lexicon ---------------------------------------------------------------------------------------------


def test_unit_lexicon() -> None:
    lexicon = load_units()
    assert load_units() is lexicon  # cached
    units = lexicon.units
    assert (units["万元"].base, units["万元"].scale, units["万元"].dimension) == ("元", 10_000, "money")
    assert (units["亿元"].scale, units["千元"].scale, units["块"].base) == (100_000_000, 1000, "元")
    assert (units["名"].base, units["人次"].dimension, units["万人次"].scale) == ("人", "person_times", 10_000)
    assert units["个百分点"].dimension == "points" and units["%"].dimension == "percent"
    for currency in ("美元", "港元", "欧元", "日元", "英镑"):
        assert units[currency].dimension == "money"
    assert units["个"].classifier and not units["吨"].classifier
    assert "四个意识" in lexicon.not_quantities.terms
