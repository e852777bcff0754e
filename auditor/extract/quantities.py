"""Quantities in running text: a numeral with its qualifiers, its unit and its range.

Pipeline (all on a width-folded, space-squeezed view of the text; offsets are mapped back at the end):

1. one compiled master pattern finds numeral candidates (Arabic, Chinese, fractions, placeholders);
2. each candidate is parsed (the longest well-formed prefix), its unit word is read from the lexicon
   (rules/units.yaml), then money tails (元5角), qualifiers (近/约/以上 …), sign and currency prefix;
3. candidates that are dates, ordinals, codes or named terms are dropped; bare numbers and a lone 一
   before a measure word are kept as "weak" (reported only with include_bare=True);
4. neighbours are merged into ranges (3至5万元, 两到三万港元) and bound pairs (大于10小于20).
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

import regex

from .numbers import (
    BIG_SCALE_CHARS,
    DIGIT_CHARS,
    DIGITS,
    FINANCIAL,
    NUMERAL_CHARS,
    SCALE_CHARS,
    SCALES,
    SQUEEZE_RE,
    Numeral,
    fold_width,
    parse_fraction,
    parse_numeral,
    parse_percent,
    percent_denominator,
    place_step,
)
from .units import Unit, UnitLexicon, load_units


@dataclass(frozen=True, slots=True)
class Quantity:
    start: int  # offsets into the text passed in
    end: int  # text[start:end] == self.text; the span covers qualifier(s), number and unit
    text: str
    value: float | None  # normalised to the base unit; None for a placeholder or a pure range
    unit: str | None  # base unit (元, 人, 人次, 家, %, 个百分点 ...); None for a bare number
    surface_unit: str | None  # as written (万元, 万人次, 亿元, 名, ...)
    scale: float  # multiplier from the written number to the base unit (1e4 for 万元)
    approx: str | None  # qualifier(s) as written: 近, 约, 余, 左右, 以上, 近…余 ...
    kind: str  # 'money' | 'count' | 'percent' | 'fraction' | 'number'
    dimension: str | None  # from units.yaml (money, people, ...)
    range: tuple[float | None, float | None] | None = None  # ranges/bounds: (lo, hi) in the base unit
    placeholder: bool = False  # unfilled placeholder (X万元, XX名, ××人, X%): value None
    number_start: int = 0  # offsets of the numeral itself (without qualifiers/unit)
    number_end: int = 0


# --- qualifiers (grammar, not lexicon: each carries the direction of the bound it expresses) -------------

LOWER, UPPER, APPROX, EQUAL = "lower", "upper", "approx", "equal"

PREFIX_QUALIFIERS: dict[str, str] = {
    **dict.fromkeys(
        "大于或者等于 大于或等于 大于等于 不小于 不少于 不低于 至少有 至少是 至少为 至少 最少 起码 超过了 超过 超出 "
        "高于 多于 大于 突破 逾 超 过 破 上 ≥ >= > =>".split(),
        LOWER,
    ),
    **dict.fromkeys(
        "小于或者等于 小于或等于 小于等于 不大于 不超过 不高于 不多于 最多有 最多为 最多是 最多 至多 不足 不到 "
        "不满 未满 少于 低于 小于 ≤ <= < =<".split(),
        UPPER,
    ),
    **dict.fromkeys("将近 接近 近 大约有 大约 大概有 大概 约有 约为 约合 约 几乎 差不多".split(), APPROX),
    "等于": EQUAL,
}
# A one-character qualifier is part of a word when preceded by one of these (最近, 节约, 通过 ...).
_QUALIFIER_GUARD: dict[str, str] = {
    "近": "最附临邻靠贴亲就远将接",
    "约": "节合签预制公条特契相邀赴践履违誓如隐大",
    "超": "高赶",
    "过": "通经超不度越跨难路错透改记看胜罪闯放渡读走做去来回功",
    "破": "打突攻识冲爆击侦",
    "上": "",
    "逾": "",
}
SUFFIX_QUALIFIERS: dict[str, str] = {
    **dict.fromkeys("以上 之上 或者以上 或以上 或者更多 或更多".split(), LOWER),
    **dict.fromkeys("以下 之下 以内 之内 或者以下 或以下 或者更少 或更少".split(), UPPER),
    **dict.fromkeys("左右 上下".split(), APPROX),
}
_COMPARATIVE: dict[str, str] = {"大": LOWER, "高": LOWER, "多": LOWER, "长": LOWER,
                                "小": UPPER, "低": UPPER, "少": UPPER, "短": UPPER}

# Words after a figure that make it a date, a time, a duration or an ordinal-like name.
_TIME_WORDS = ("年", "月", "日", "号", "时", "周年", "世纪", "季度", "小时", "天", "周", "个月",
               "个小时", "个工作日", "个星期", "星期", "届", "中全会", "载", "多年", "余年", "多天", "余天")
# A lone Chinese digit stands as a number when followed by one of these (答案是四不是五).
_FOLLOWERS = frozenset("这那不而却和与或的")
# 负 is part of a word after these (担负, 胜负, 正负).
_NEGATION_GUARD = frozenset("担肩胜抱欺辜自背身正承")
_INFIXES = "余多几"
_NUMERIC = frozenset(NUMERAL_CHARS + "0123456789")
_YUAN = frozenset({"元", "圆", "块"})
_JIAO = frozenset({"角", "毛"})

_D = DIGIT_CHARS + "廿卅"
_S = SCALE_CHARS
_AR = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|(?<![0-9.])\.[0-9]+)"
_EXP = r"(?:[eE][+-]?[0-9]{1,2}(?![0-9])|\^[+-]{0,2}[0-9]{1,2}(?![0-9]))"
_ATOM = rf"(?:{_AR}{_EXP}?(?:[kK](?![A-Za-z]))?|[{_D}{_S}])"
_JOIN = rf"(?:点(?=[{DIGIT_CHARS}0-9])|个(?=[万亿])|[余多几](?=[{_S}]))"
# Atomic: a run of digits must not be re-split between atoms on backtracking (exponential on long runs).
_CORE = rf"(?>(?:[几数](?=[{_S}]))?{_ATOM}(?:{_JOIN}?{_ATOM})*)"
# The leading look-ahead lets the engine skip non-numeral characters cheaply (10x faster on prose).
_MASTER = (
    rf"(?=[0-9.{NUMERAL_CHARS}几数X×x半])(?:"
    rf"(?P<slash>(?<![0-9/.])[0-9]+(?: [0-9]+)?/[0-9]+(?![0-9/]))"
    rf"|(?P<num>(?:(?P<whole>{_CORE})又(?={_CORE}分之))?(?P<core>{_CORE})"
    rf"(?:(?P<fsep>分之|(?<=百)分(?=负?[0-9{NUMERAL_CHARS}]))(?P<fnum>负?{_CORE}))?)"
    rf"|(?P<ph>(?<![A-Za-z])[X×x]{{1,3}}(?![A-Za-z]))"
    rf"|(?P<half>半))"
)
_RANGE_SEP_RE = regex.compile(r"\s*(?:（含）|\(含\))?\s*(?:至|到|~|〜|—{1,2}|–|-{1,2}|―)\s*")
_BETWEEN_SEP_RE = regex.compile(r"\s*(?:与|和|及|跟)\s*")
_BOUND_SEP_RE = regex.compile(r"(?:\s|并且|并|且|而且|的同时|同时|而|，|,|、)*")
_SIGN_RE = regex.compile(r"(?r)(?:负的|负|零下|-)")
_RANGE_PREFIX_RE = regex.compile(r"(?r)(?:从|在|位于|介于)")
_MONEY_DIGIT = rf"[{DIGIT_CHARS}0-9]"
_JIAO_RE = regex.compile(rf"({_MONEY_DIGIT})[角毛]")
_FEN_RE = regex.compile(rf"(零?)({_MONEY_DIGIT})分(?!钟|之)")
_LONE_DIGIT_RE = regex.compile(rf"(零?)({_MONEY_DIGIT})(?![{NUMERAL_CHARS}0-9.]|[\p{{Han}}](?<![到至和或与]))")


# --- the compiled grammar for one lexicon -------------------------------------------------------------------


def _reverse_alternation(words: list[str]) -> regex.Pattern[str]:
    ordered = sorted(set(words), key=len, reverse=True)
    return regex.compile("(?r)(?:" + "|".join(regex.escape(w) for w in ordered) + r")[ \t\u3000]*")


@dataclass(frozen=True, slots=True)
class _Grammar:
    lexicon: UnitLexicon
    units: dict[str, Unit]
    max_unit: int
    master: regex.Pattern[str]
    blocked: tuple[regex.Pattern[str], ...]
    currency_prefix: regex.Pattern[str]
    qualifier_prefix: regex.Pattern[str]
    suffix: regex.Pattern[str]
    currency_suffix: dict[str, Unit]
    interesting_next: frozenset[str]
    unit_big: dict[str, Decimal]


def _unit_big(unit: Unit, units: dict[str, Unit]) -> Decimal:
    """The 万 of 万元 / 万人次: a scale word leading a unit word that is itself a unit of the same base."""
    k = 0
    while k < len(unit.surface) - 1 and unit.surface[k] in SCALE_CHARS:
        k += 1
    rest = units.get(unit.surface[k:]) if k else None
    if rest is None or rest.base != unit.base:
        return Decimal(1)
    return Decimal(str(unit.scale)) / Decimal(str(rest.scale))


@functools.lru_cache(maxsize=1)
def _grammar() -> _Grammar:
    lex = load_units()
    units = dict(lex.units)
    nq = lex.not_quantities
    parts = []  # compiled one by one: a single alternation of all of them is 10x slower
    if nq.terms:
        terms = sorted(nq.terms, key=len, reverse=True)
        parts.append(rf"(?<![0-9{NUMERAL_CHARS}])(?:" + "|".join(regex.escape(t) for t in terms) + ")")
    parts += list(nq.patterns)
    suffix_words = sorted(SUFFIX_QUALIFIERS, key=len, reverse=True)
    currency_suffix = {u.surface: u for u in units.values()
                       if u.dimension == "money" and u.scale == 1 and u.surface not in _YUAN | {"块钱"}}
    starts = {w[0] for w in units} | {w[0] for w in SUFFIX_QUALIFIERS} | set(_FOLLOWERS)
    starts |= set("分又半余多几至到~-—–―与和及比以之左上或（(") | set(NUMERAL_CHARS)
    return _Grammar(
        lexicon=lex,
        units=units,
        max_unit=lex.max_length,
        master=regex.compile(_MASTER),
        blocked=tuple(regex.compile(p) for p in parts),
        currency_prefix=_reverse_alternation(list(lex.currency_prefixes)),
        qualifier_prefix=_reverse_alternation(list(PREFIX_QUALIFIERS) + ["< =", "> ="]),
        suffix=regex.compile(r"(?:（含）|\(含\))?(?:" + "|".join(suffix_words) + ")"),
        currency_suffix=currency_suffix,
        interesting_next=frozenset(starts),
        unit_big={surface: _unit_big(u, units) for surface, u in units.items()},
    )


# --- text view: folded + squeezed, with offsets back to the original ------------------------------------


@dataclass(frozen=True, slots=True)
class _View:
    s: str
    cuts: tuple[int, ...]  # positions in s where removed characters used to be
    removed: tuple[int, ...]  # number of characters removed up to and including each cut

    @classmethod
    def build(cls, text: str) -> _View:
        folded = fold_width(text)
        pieces: list[str] = []
        cuts: list[int] = []
        removed: list[int] = []
        last = total = 0
        for m in SQUEEZE_RE.finditer(folded):
            pieces.append(folded[last:m.start()])
            cuts.append(m.start() - total)
            total += m.end() - m.start()
            removed.append(total)
            last = m.end()
        if not cuts:
            return cls(folded, (), ())
        pieces.append(folded[last:])
        return cls("".join(pieces), tuple(cuts), tuple(removed))

    def start(self, p: int) -> int:
        k = bisect.bisect_right(self.cuts, p)
        return p + (self.removed[k - 1] if k else 0)

    def end(self, p: int) -> int:
        return self.start(p - 1) + 1 if p > 0 else 0


# --- candidates ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Cand:
    start: int
    end: int
    nstart: int
    nend: int
    value: Decimal | None  # written value (before the unit scale); None when vague
    lo: Decimal | None = None  # written range of a vague/approximate numeral
    hi: Decimal | None = None
    unit: Unit | None = None
    base: str | None = None
    surface: str | None = None
    scale: Decimal = Decimal(1)  # written -> base unit
    big: Decimal = Decimal(1)  # the part of `scale` written as 万/亿 before the unit word
    extra: Decimal = Decimal(0)  # money tail in base units (元5角 -> 0.5)
    last_scale: int = 1
    kind: str = "number"
    approx: list[str] = field(default_factory=list)
    bound: str | None = None
    placeholder: bool = False
    weak: bool = False
    drop: str | None = None  # "hard": never a quantity; "soft": only as the end of a range
    merged: bool = False
    sign: int = 1

    def normalised(self, v: Decimal | None) -> Decimal | None:
        return None if v is None else v * self.sign * self.scale + self.extra


def _kind(dimension: str) -> str:
    if dimension == "money":
        return "money"
    return "percent" if dimension in ("percent", "points") else "count"


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


class _Scanner:
    """Finds candidates in the prepared text. One instance per call."""

    def __init__(self, s: str, grammar: _Grammar) -> None:
        self.s = s
        self.g = grammar
        self.blocked = _union(m.span() for pattern in grammar.blocked for m in pattern.finditer(s))
        self.blocked_starts = [a for a, _ in self.blocked]
        self.cands: list[_Cand] = []

    # -- helpers --

    def is_blocked(self, a: int, b: int) -> bool:
        i = bisect.bisect_left(self.blocked_starts, b) - 1
        return i >= 0 and self.blocked[i][1] > a

    def unit_at(self, p: int, min_end: int = 0) -> tuple[Unit | None, int]:
        s, units = self.s, self.g.units
        for k in range(min(self.g.max_unit, len(s) - p), 0, -1):
            u = units.get(s[p:p + k])
            if u is None or p + k < min_end or not u.accepts(s[p + k:p + k + 4]):
                continue
            if u.latin and not (p > 0 and s[p - 1] in "0123456789"):
                continue
            return u, k
        return None, 0

    # -- main loop --

    def scan(self) -> list[_Cand]:
        s, master = self.s, self.g.master
        pos = 0
        while True:
            m = master.search(s, pos)
            if m is None:
                break
            pos = max(self.dispatch(m), m.start() + 1)
        return self.cands

    def dispatch(self, m: regex.Match[str]) -> int:
        if m.group("slash") is not None:
            return self.slash(m)
        if m.group("ph") is not None:
            return self.placeholder(m)
        if m.group("half") is not None:
            return self.half(m)
        if m.group("fsep") is not None:
            end = self.fraction(m)
            if end:
                return end
        a = m.start()
        end = m.end("whole") if m.group("whole") is not None else m.end("core")
        return self.numeral(a, end)

    def add(self, c: _Cand) -> int:
        self.cands.append(c)
        return c.end

    # -- numerals --

    def longest(self, a: int, end: int) -> tuple[Numeral | None, int]:
        text = self.s[a:min(end, a + 64)]
        for k in range(len(text), 0, -1):
            if text[k - 1] in "点个余多几数" or _inside_arabic(self.s, a + k):
                continue
            n = parse_numeral(text[:k])
            if n is not None:
                return n, k
        return None, 0

    def numeral(self, a: int, end: int) -> int:
        s = self.s
        numeral, k = self.longest(a, end)
        if numeral is None:
            if s[a] in "0123456789":  # 1e99, 9^99, 70 digits: no part of the number is a figure
                return _ARABIC_RUN.match(s, a, end).end()
            return a + 1
        e = a + k
        if k == 1 and s[a] not in "0123456789":  # fast path: a Chinese digit inside a word (一定, 万家)
            nxt = s[e:e + 1]
            if nxt and _is_han(nxt) and nxt not in self.g.interesting_next:
                return e
        c = self.build(a, e, numeral)
        return self.add(c) if c is not None else e

    def resolve_unit(self, a: int, e: int, numeral: Numeral) -> tuple[Numeral, int, Unit | None, int, str | None, Decimal]:
        """(numeral, numeral end, unit, unit start, infix, big): where the number ends and the unit begins."""
        s = self.s
        r = e
        while r > a and s[r - 1] in SCALE_CHARS:
            r -= 1
        # 三千比特, 28.74万元, 12千米: a unit word that starts with the numeral's trailing scale
        for i in range(max(r, a + 1), e):
            unit, _ = self.unit_at(i, min_end=e + 1)
            if unit is None:
                continue
            prefix = parse_numeral(s[a:i])
            if prefix is not None and prefix.anchor is not None and numeral.anchor is not None:
                mult = _scale_product(s[i:e])
                if prefix.anchor * mult == numeral.anchor:
                    return prefix, i, unit, i, None, Decimal(1)
        infix = s[e] if e < len(s) and s[e] in _INFIXES and numeral.marker is None else None
        p = e + (1 if infix else 0)
        unit, _ = self.unit_at(p)
        if unit is None or infix or unit.latin or unit.dimension in ("percent", "points"):
            return numeral, e, unit, p, infix, Decimal(1)
        # 3.7万家, 387万亩: a 万/亿 written before an ordinary unit word becomes part of the unit
        r = e
        while r > a and s[r - 1] in BIG_SCALE_CHARS:
            r -= 1
        if a < r < e:
            prefix = parse_numeral(s[a:r])
            mult = _scale_product(s[r:e])
            if prefix is not None and prefix.anchor is not None and numeral.anchor is not None \
                    and prefix.anchor * mult == numeral.anchor:
                return prefix, r, unit, p, None, mult
        return numeral, e, unit, p, infix, Decimal(1)

    def build(self, a: int, e: int, numeral: Numeral) -> _Cand | None:
        s = self.s
        numeral, nend, unit, ustart, infix, big = self.resolve_unit(a, e, numeral)
        c = _Cand(a, nend, a, nend, numeral.value, numeral.lo, numeral.hi, last_scale=numeral.last_scale)
        if numeral.marker in ("余", "多", "几", "数"):
            c.approx.append(numeral.marker)
        if infix is not None:
            anchor = numeral.anchor
            if anchor is None:
                return None
            c.value, c.lo, c.hi = anchor, anchor, anchor + place_step(anchor)
            c.approx.append(infix)
            c.end = nend + 1
        if numeral.marker == "pair" and numeral.digit_string and unit is None:
            c.lo = c.hi = None  # 七八 without a unit: a digit string, dropped below
        elif numeral.marker == "pair":
            c.value = None
        timed = unit is None and (s.startswith(_TIME_WORDS, ustart)  # 2021年, 5月1日, 五年来, 30多年
                                  or (s[ustart:ustart + 1] == "点" and s[ustart + 1:ustart + 2] not in _NUMERIC))
        if unit is not None:
            self.attach_unit(c, unit, ustart, big)
        elif numeral.digit_string is False and s[c.end:c.end + 1] == "半" and numeral.value == 1 \
                and c.end - a == 1:
            c.value, c.kind, c.end = Decimal("0.5"), "fraction", c.end + 1  # 一半
        self.suffix(c)
        self.prefix(c)
        self.classify(c, numeral, timed)
        return c

    def attach_unit(self, c: _Cand, unit: Unit, ustart: int, big: Decimal) -> None:
        s = self.s
        q = ustart + len(unit.surface)
        written = s[c.nend if big != 1 else ustart:q]  # 万 + 家 when the numeral's 万 moved into the unit
        if unit.surface == "分" and any(ch in FINANCIAL for ch in s[c.nstart:c.nend]):
            unit = self.g.units.get("分钱", unit)  # 壹分: financial capitals write money (1 分 = 0.01 元)
        c.unit, c.base, c.surface = unit, unit.base, written
        c.scale = Decimal(str(unit.scale)) * big
        c.big = big * self.g.unit_big[unit.surface]
        c.kind = _kind(unit.dimension)
        if unit.surface == "折" and c.value is not None and c.value >= 10:
            c.scale = Decimal(1)  # 75折 = 75 %, 八折 = 80 %
        if s[q:q + 1] == "半" and not _is_han(s[q + 1:q + 2]) and c.value is not None:
            c.value += Decimal("0.5")  # 一吨半, 三成半
            q += 1
        elif unit.surface == "成":
            m = _LONE_DIGIT_RE.match(s, q)
            if m is not None and not m.group(1) and c.value is not None:
                c.value += _digit(m.group(2)) / 10
                q = m.end()  # 七成六 = 76 %
        if unit.dimension == "money":
            q = self.money_tail(c, unit, q, plain=big == 1 and unit.scale in (1, 0.1, 0.01))
        c.end = q

    def money_tail(self, c: _Cand, unit: Unit, q: int, plain: bool) -> int:
        """元5角3分, 块六, 块零四, 两毛五; then 钱/整 and a currency named after 元 (元人民币, 元日币)."""
        s = self.s
        after = unit.surface if plain else ""
        if after in _YUAN:
            m = _JIAO_RE.match(s, q)
            if m is not None:
                c.extra += _digit(m.group(1)) / 10
                q, after = m.end(), "角"
            elif after == "块":
                m = _LONE_DIGIT_RE.match(s, q)
                if m is not None:
                    c.extra += _digit(m.group(2)) / (100 if m.group(1) else 10)
                    q, after = m.end(), "分"
        if after in _JIAO or after in _YUAN:
            m = _FEN_RE.match(s, q)
            if m is not None:
                c.extra += _digit(m.group(2)) / 100
                q = m.end()
            elif after in _JIAO:
                m = _LONE_DIGIT_RE.match(s, q)
                if m is not None and not m.group(1):
                    c.extra += _digit(m.group(2)) / 100
                    q = m.end()
        if s.startswith("钱", q):
            q += 1
        if s.startswith(("整", "正"), q) and unit.surface[-1] in _YUAN | {"分"}:
            q += 1
        if unit.base == "元":
            for k in range(min(6, len(s) - q), 0, -1):
                other = self.g.currency_suffix.get(s[q:q + k])
                if other is not None:
                    c.base, q = other.base, q + k
                    break
        return q

    def suffix(self, c: _Cand) -> None:
        m = self.g.suffix.match(self.s, c.end)
        if m is not None:
            word = m.group()
            c.approx.append(word)
            c.bound = _stronger(c.bound, SUFFIX_QUALIFIERS[word.replace("（含）", "").replace("(含)", "")])
            c.end = m.end()

    def prefix(self, c: _Cand) -> None:
        """Sign, currency and qualifier written before the number (负, 人民币, 约, 超过, 比…大)."""
        s = self.s
        p = c.nstart
        floor = self.cands[-1].end if self.cands else 0  # never reach into the previous figure
        if p <= floor:
            return
        m = _SIGN_RE.match(s, floor, p)
        if m is not None and self.valid_sign(m.group(), m.start()):
            c.sign, p = -1, m.start()
        currency = self.currency_before(c, p, floor)
        if currency is not None:
            p = currency
        m = self.g.qualifier_prefix.match(s, floor, p)
        if m is not None and self.valid_qualifier(m.group().strip(), m.start(), c):
            word = m.group().strip()
            c.approx.insert(0, word)
            c.bound = _stronger(c.bound, PREFIX_QUALIFIERS.get(word.replace(" ", ""), LOWER))
            p = m.start()
            if currency is None:
                p = self.currency_before(c, p, floor) or p
        if p > floor and s[p - 1] == "比" and s[c.end:c.end + 1] in _COMPARATIVE:
            c.bound = _COMPARATIVE[s[c.end]]  # 比三十大 = more than 30
            c.approx.append("比…" + s[c.end])
            c.end += 1
            p -= 1
        c.start = p

    def currency_before(self, c: _Cand, p: int, floor: int) -> int | None:
        m = self.g.currency_prefix.match(self.s, floor, p)
        if m is None:
            return None
        base = self.g.lexicon.currency_prefixes[m.group().strip()]
        if c.base is None or c.base == "元":  # 港币两千九百六十元 -> 港元; ¥300 -> 元
            c.base = base
            c.kind = "money"
            if c.unit is None:
                c.surface = m.group().strip()
        elif c.unit is not None and c.unit.dimension != "money":
            return None
        return m.start()

    def valid_sign(self, sign: str, at: int) -> bool:
        s = self.s
        before = s[at - 1:at]
        if sign == "-":
            if before and ((before.isascii() and before.isalnum()) or before in "-.%)）"):
                return False
            if not self.cands:
                return True
            return s[self.cands[-1].end:at].strip() != ""  # right after a figure, - is a range dash
        if sign.startswith("负"):
            return before not in _NEGATION_GUARD
        return True

    def valid_qualifier(self, word: str, at: int, c: _Cand) -> bool:
        guard = _QUALIFIER_GUARD.get(word)
        if guard is None:
            return True
        if word == "上":  # 上百, 上千, 上万 only
            return self.s[c.nstart:c.nstart + 1] in "百千万"
        return not (at > 0 and self.s[at - 1] in guard)

    # -- classification --

    def classify(self, c: _Cand, numeral: Numeral, timed: bool) -> None:
        s = self.s
        a, e = c.nstart, c.nend
        if self.is_blocked(a, e) or s[a - 1:a] == "第":
            c.drop = "hard"
            return
        if s[a] in "0123456789.":
            glued = _ascii_letter(s[a - 1:a]) and not any(ch in SCALE_CHARS for ch in s[a:e])
            if glued or (s[a] == "0" and e - a > 1 and s[a + 1] != ".") or _AFTER_EXPONENT.match(s, a):
                c.drop = "hard"  # G331, A2021…; 0436 (codes keep their leading zero); 1.5e-400, 2^400
                return
        if c.unit is None and c.kind == "number" and (
                timed or (s[e - 1:e] in "0123456789" and _ascii_letter(s[c.end:c.end + 1]))):
            c.drop = "hard"  # dates, durations; 4S, 5G
            return
        qualified = bool(c.approx) or c.sign < 0
        single = e - a == 1 and s[a] not in "0123456789"
        if numeral.bare_scale and not qualified:
            c.drop = "soft"  # 百年, 万家: a scale word alone is not a figure (近百人 is)
        if c.unit is not None:
            if single and s[a] in "一壹" and c.unit.classifier:
                c.weak, c.kind = True, "number"  # 一批, 一名: an article, not a metric
            return
        if c.kind in ("fraction", "percent", "money"):
            return
        c.weak = True
        if numeral.digit_string and e - a == 2:
            c.drop = c.drop or "soft"  # 三七, 五四: two-digit strings in prose are names
        elif single and not qualified:
            nxt = s[c.end:c.end + 1]
            if s[a] in FINANCIAL or (nxt and _is_han(nxt) and nxt not in _FOLLOWERS
                                     and not s.startswith("分之", c.end)):
                c.drop = c.drop or "soft"

    # -- other candidate shapes --

    def fraction(self, m: regex.Match[str]) -> int:
        """三分之二, 三又五分之一, 百分之八十五, 千分之2.4, 百分百."""
        s = self.s
        den = m.group("core")
        whole = m.group("whole")
        num_start = m.start("fnum")
        num_text = m.group("fnum")
        denominator = percent_denominator(den) if whole is None else None
        for k in range(len(num_text), 0, -1):
            num = num_text[:k]  # the longest numerator that parses (百分之七十百分位 -> 七十)
            value = parse_percent("百", num) if denominator else parse_fraction(den, num, whole)
            if value is not None:
                break
        else:
            return 0
        start = m.start()
        c = _Cand(start, num_start + k, start, num_start + k, value, kind="fraction")
        if denominator:  # 百分之八十五: the numeral is 八十五, the unit 百分之 (千分之2.4 = 0.24 %)
            c.unit, c.base, c.kind = self.g.units.get("%"), "%", "percent"
            c.surface, c.scale = s[start:num_start], Decimal(100) / denominator
        self.suffix(c)
        self.prefix(c)
        if denominator:
            c.nstart = num_start
        if self.is_blocked(c.nstart, c.nend):
            c.drop = "hard"
        return self.add(c)

    def slash(self, m: regex.Match[str]) -> int:
        whole, _, frac = m.group().rpartition(" ")
        num, den = frac.split("/")
        if int(den) == 0:
            return m.end()
        value = Decimal(num) / Decimal(den) + (Decimal(whole) if whole else 0)
        c = _Cand(m.start(), m.end(), m.start(), m.end(), value, kind="fraction")
        self.suffix(c)
        self.prefix(c)
        if self.is_blocked(c.nstart, c.nend):
            c.drop = "hard"
        return self.add(c)

    def placeholder(self, m: regex.Match[str]) -> int:
        """X万元, XX名, ××人, X%, X余人次, X万多份: a figure left unfilled."""
        s = self.s
        p = m.end()
        infix = s[p] if p < len(s) and s[p] in "余多" else None
        p += 1 if infix else 0
        r = p
        while p < len(s) and s[p] in SCALE_CHARS:
            p += 1
        run = s[r:p]
        ustart = r
        unit, _ = self.unit_at(r, min_end=p + 1) if run else (None, 0)  # X万元: one unit word
        if unit is not None:
            run = ""
        else:
            if run and infix is None and s[p:p + 1] in ("余", "多"):
                infix, p = s[p], p + 1
            unit, _ = self.unit_at(p)
            ustart = p
        if unit is None and not run:
            return m.end()
        c = _Cand(m.start(), p, m.start(), m.end(), None, placeholder=True)
        if infix:
            c.approx.append(infix)
        if unit is not None:
            c.unit, c.base, c.kind = unit, unit.base, _kind(unit.dimension)
            c.surface = run + unit.surface
            c.scale = Decimal(str(unit.scale)) * _scale_product(run)
            c.end = ustart + len(unit.surface)
        else:
            c.weak = True  # X万 alone: only useful as one end of a range
        self.suffix(c)
        self.prefix(c)
        return self.add(c)

    def half(self, m: regex.Match[str]) -> int:
        """半百 = 50, 半斤 = 0.5 斤, 半成 = 5 %, 半折 = 50 %."""
        s = self.s
        a = m.start()
        if s[a + 1:a + 2] == "百":
            c = _Cand(a, a + 2, a, a + 2, Decimal(50), weak=True)
            return self.add(c)
        unit, _ = self.unit_at(a + 1)
        if unit is None or unit.surface in ("个月", "周", "天"):
            return a + 1
        c = _Cand(a, a + 1, a, a + 1, Decimal("0.5"))
        self.attach_unit(c, unit, a + 1, Decimal(1))
        if unit.surface == "折":
            c.value, c.scale = Decimal(50), Decimal(1)
        self.suffix(c)
        self.prefix(c)
        return self.add(c)


_EXPONENT_AT = regex.compile(r"[eE][+-]?[0-9]|\^[+-]{0,2}[0-9]")
_ARABIC_RUN = regex.compile(r"[0-9.,eE^+\-]+")


_AFTER_EXPONENT = regex.compile(r"(?<=[0-9.][eE][+-]?|\^[+-]{0,2})")


def _inside_arabic(s: str, p: int) -> bool:
    """Whether p cuts an Arabic number: between two of its digits, before its decimal part or before
    its exponent. A prefix cut there is not a reading of the number (1e99 is not 1e9 followed by 9)."""
    if p <= 0 or p >= len(s) or s[p - 1] not in "0123456789":
        return False
    return (s[p] in "0123456789" or (s[p] == "." and s[p + 1:p + 2].isdigit() and s[p + 1:p + 2].isascii())
            or _EXPONENT_AT.match(s, p) is not None)


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of spans."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _digit(ch: str) -> Decimal:
    return Decimal(DIGITS[ch]) if ch in DIGITS else Decimal(int(ch))


def _scale_product(chars: str) -> Decimal:
    result = Decimal(1)
    for ch in chars:
        result *= SCALES[ch]
    return result


def _ascii_letter(ch: str) -> bool:
    return bool(ch) and ch.isascii() and ch.isalpha()


def _stronger(current: str | None, new: str) -> str:
    """Bounds win over a plain approximation (约…以上 is a lower bound)."""
    if current in (LOWER, UPPER, EQUAL):
        return current
    return new


# --- merging neighbours into ranges ----------------------------------------------------------------------


def _compatible(c1: _Cand, c2: _Cand) -> bool:
    return c1.base is None or c2.base is None or c1.base == c2.base


def _range_ends(c1: _Cand, c2: _Cand) -> tuple[Decimal | None, Decimal | None]:
    """Normalised (lo, hi) of c1…c2, where a bare c1 borrows c2's unit and trailing scale (3至5万元)."""
    hi = c2.hi if c2.hi is not None else c2.value
    lo = c1.lo if c1.lo is not None else c1.value
    if c2.base is None and c1.base is not None:  # 百分之三十到四十一
        return c1.normalised(lo), None if hi is None else hi * c2.sign * c1.scale / c1.big
    if c1.base is not None or lo is None:
        return c1.normalised(lo), c2.normalised(hi)
    written = lo * c1.sign
    borrow = c2.big if c2.big > 1 else Decimal(c2.last_scale)
    if borrow > 1 and c1.last_scale < borrow and hi is not None and written * borrow <= hi * c2.big:
        written *= borrow
    return written * c2.scale / c2.big, c2.normalised(hi)


def _join(c1: _Cand, c2: _Cand, lo: Decimal | None, hi: Decimal | None, end: int) -> _Cand:
    owner = c2 if c2.base is not None or c1.base is None else c1
    drop = "hard" if "hard" in (c1.drop, c2.drop) else None
    merged = _Cand(
        c1.start, end, c1.nstart, c2.nend, None, lo, hi,
        unit=owner.unit, base=owner.base, surface=owner.surface, scale=owner.scale, big=owner.big, kind=owner.kind,
        approx=[w for w in c1.approx + c2.approx if w not in ("余", "多", "几")],
        placeholder=c1.placeholder or c2.placeholder, merged=True, drop=drop,
    )
    merged.weak = owner.base is None and owner.kind == "number"
    return merged


def _merge_ranges(s: str, cands: list[_Cand]) -> list[_Cand]:
    out: list[_Cand] = []
    i = 0
    while i < len(cands):
        c1 = cands[i]
        c2 = cands[i + 1] if i + 1 < len(cands) else None
        merged = _try_range(s, c1, c2) if c2 is not None else None
        if merged is not None:
            out.append(merged)
            i += 2
        else:
            out.append(c1)
            i += 1
    return out


def _try_range(s: str, c1: _Cand, c2: _Cand) -> _Cand | None:
    if c1.bound in (LOWER, UPPER, EQUAL) or c2.bound in (LOWER, UPPER, EQUAL) or not _compatible(c1, c2):
        return None
    if c1.kind == "fraction" or c2.kind == "fraction":
        return None
    gap = s[c1.end:c2.start]
    end = c2.end
    if _RANGE_SEP_RE.fullmatch(gap):
        start_word = _RANGE_PREFIX_RE.match(s, 0, c1.start)
    elif _BETWEEN_SEP_RE.fullmatch(gap) and (s.startswith(("之间", "间"), end) or c2.surface == "间"):
        if c2.surface == "间":  # 10000与20000间: 间 closes the range, it is not the measure word (rooms)
            c2.unit = c2.base = c2.surface = None
            c2.scale = c2.big = Decimal(1)
        else:
            end += 2 if s.startswith("之间", end) else 1
        start_word = _RANGE_PREFIX_RE.match(s, 0, c1.start)
    else:
        return None
    if c1.placeholder or c2.placeholder:
        lo = hi = None
    else:
        lo, hi = _range_ends(c1, c2)
        if lo is None or hi is None or lo > hi:
            return None
    merged = _join(c1, c2, lo, hi, end)
    if start_word is not None:
        merged.start = start_word.start()
    return merged


def _merge_bounds(s: str, cands: list[_Cand]) -> list[_Cand]:
    """大于10小于20, 1000以上，1500以下, 最多100最少20: a lower and an upper bound side by side."""
    out: list[_Cand] = []
    i = 0
    while i < len(cands):
        c1 = cands[i]
        c2 = cands[i + 1] if i + 1 < len(cands) else None
        if c2 is not None and {c1.bound, c2.bound} == {LOWER, UPPER} and not c1.merged and not c2.merged \
                and _compatible(c1, c2) and _BOUND_SEP_RE.fullmatch(s[c1.end:c2.start]):
            low, up = (c1, c2) if c1.bound == LOWER else (c2, c1)
            lo, hi = low.normalised(_anchor(low)), up.normalised(_anchor(up))
            if lo is not None and hi is not None and lo <= hi:
                merged = _join(c1, c2, lo, hi, c2.end)
                merged.approx = c1.approx + c2.approx
                out.append(merged)
                i += 2
                continue
        out.append(c1)
        i += 1
    return out


def _anchor(c: _Cand) -> Decimal | None:
    return c.value if c.value is not None else c.lo


# --- output ----------------------------------------------------------------------------------------------


def _float(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def _final_range(c: _Cand) -> tuple[Decimal | None, Decimal | None, Decimal | None, bool]:
    """(value, lo, hi, has_range) in the base unit."""
    if c.merged:
        return None, c.lo, c.hi, True
    if c.placeholder:
        return None, None, None, False
    value = c.normalised(c.value)
    if c.lo is not None or c.hi is not None:
        lo, hi = c.normalised(c.lo), c.normalised(c.hi)
        if c.sign < 0:
            lo, hi = hi, lo
        return value, lo, hi, True
    if c.bound == LOWER:
        return value, value, None, True
    if c.bound == UPPER:
        return value, None, value, True
    if c.bound == EQUAL:
        return value, value, value, True
    return value, None, None, False


def _to_quantity(c: _Cand, text: str, view: _View) -> Quantity:
    start, end = view.start(c.start), view.end(c.end)
    value, lo, hi, has_range = _final_range(c)
    unit = c.unit
    return Quantity(
        start=start,
        end=end,
        text=text[start:end],
        value=_float(value),
        unit=c.base,
        surface_unit=c.surface,
        scale=float(c.scale),
        approx="…".join(c.approx) if c.approx else None,
        kind=c.kind,
        dimension=unit.dimension if unit is not None else ("money" if c.kind == "money" else None),
        range=(_float(lo), _float(hi)) if has_range else None,
        placeholder=c.placeholder,
        number_start=view.start(c.nstart),
        number_end=view.end(c.nend),
    )


def find_quantities(text: str, *, include_bare: bool = False) -> list[Quantity]:
    """All quantities in `text`, sorted by start, non-overlapping. Bare numbers (no unit, no %) only with
    include_bare=True, which also returns a lone Chinese 一 before a measure word (一批, 一名) as kind 'number'."""
    if not isinstance(text, str) or not text:
        return []
    view = _View.build(text)
    scanner = _Scanner(view.s, _grammar())
    cands = _merge_bounds(view.s, _merge_ranges(view.s, scanner.scan()))
    out: list[Quantity] = []
    last_end = 0
    for c in cands:
        if c.drop or (c.weak and not include_bare) or c.start < last_end or c.end <= c.start:
            continue
        out.append(_to_quantity(c, text, view))
        last_end = c.end
    return out


def parse_quantity(text: str) -> Quantity | None:
    """The one quantity that spans the whole of `text` (surrounding spaces aside), else None."""
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    if not stripped:
        return None
    offset = text.index(stripped[0])
    for q in find_quantities(text, include_bare=True):
        if q.start <= offset and q.end >= offset + len(stripped):
            return q
    return None
