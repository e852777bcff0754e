"""Numerals: Arabic, full-width and Chinese (incl. financial capitals), with 十/百/千/万/亿/兆 scales.

`parse_number` is the public whole-string converter. `parse_numeral` and `parse_fraction` are the building
blocks quantities.py applies to candidate spans of width-folded, space-squeezed text.

Arithmetic is done in Decimal so that 28.74万 is exactly 287400, and converted to float at the edge.
"""

from __future__ import annotations

from functools import lru_cache
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, NamedTuple, Sequence

import regex

DIGITS: dict[str, int] = {
    "〇": 0, "零": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4, "肆": 4,
    "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}
TENS: dict[str, int] = {"廿": 20, "卅": 30}  # archaic 20 / 30
SCALES: dict[str, int] = {
    "十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000,
    "万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8, "兆": 10**12,
}
BIG_SCALE_CHARS = "万萬亿億兆"
FINANCIAL = frozenset("壹贰叁肆伍陆柒捌玖拾佰仟")
DIGIT_CHARS = "".join(DIGITS)
SCALE_CHARS = "".join(SCALES)
NUMERAL_CHARS = DIGIT_CHARS + "".join(TENS) + SCALE_CHARS
MARKERS = "余多几数"  # inner approximation: 十余万, 三十多万, 十几万, 数十亿

# 百分之 / 千分之 / 万分之 ...: denominators of percent-like fractions (value in percentage points).
PERCENT_DENOMINATORS: dict[str, int] = {
    "百": 100, "千": 1000, "万": 10**4, "十万": 10**5, "百万": 10**6, "千万": 10**7, "万万": 10**8,
    "亿": 10**8, "百万万": 10**10,
}

MAX_NUMERAL_LENGTH = 64
_MAX_ABS = Decimal("1e30")  # larger values are identifiers or garbage, not report figures

# Full-width ASCII (！..～, except the comma: see _FW_COMMA_RE) to ASCII, ideographic space to space,
# minus sign to hyphen. Length-preserving, so offsets into the folded text are offsets into the original.
_FOLD = str.maketrans(
    {**{chr(0xFF01 + i): chr(0x21 + i) for i in range(94) if i != 0x0B}, "\u3000": " ", "\u2212": "-", "\uFE6A": "%"}
)

# Spaces between a CJK character and a CJK character, a digit or a placeholder X are stray
# (一百 五 十, 1000  万, X  万元).
# Spaces between two ASCII characters are kept: they separate figures (1, 234, 567).
SQUEEZE_RE = regex.compile(
    r"(?<=[\p{Han}0-9%.X×])[ \t\u3000]+(?=\p{Han})|(?<=\p{Han})[ \t\u3000]+(?=[0-9.%X×])"
)


# A full-width comma between digits is a thousands separator only in a formatted figure (４，５６５,
# 82，225.00, 233,333，333); otherwise it is a list comma ($20，300美圆) and is left alone.
_FW_COMMA_RE = regex.compile(
    r"(?<=[０-９])，(?=[０-９])|(?<=[0-9])，(?=[0-9]{3}[.,，][0-9])|(?<=,[0-9]{3})，(?=[0-9]{3}(?![0-9]))"
)


# What fold_width changes: a normalised text has none of it (``normalise`` folds full-width ASCII), and
# one search for it costs a tenth of a translate that would change nothing.
def _class_of(codes: Iterable[int]) -> str:
    """A character class of `codes` written as ranges: the engine tests a range at a time, and
    ninety-odd single characters made the search as slow as the translate it saves."""
    ranges: list[list[int]] = []
    for c in sorted(set(codes)):
        if ranges and c == ranges[-1][1] + 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]"


_FOLDABLE = regex.compile(_class_of([*_FOLD, ord("，")]))


def fold_width(text: str) -> str:
    """Fold full-width ASCII characters to ASCII (same length); see _FW_COMMA_RE for the comma."""
    if not _FOLDABLE.search(text):
        return text
    if "，" in text:
        text = _FW_COMMA_RE.sub(",", text)
    return text.translate(_FOLD)


class _Tok(NamedTuple):
    kind: str  # D digit, T 廿/卅, S scale, A Arabic number, P 点, Q marker
    value: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class Numeral:
    """A parsed numeral. `value` is exact, or the anchor of an approximate form (十余 -> 10);
    it is None for a vague form without anchor (几十, 三五百). `lo`/`hi` bound the vague forms."""

    value: Decimal | None
    lo: Decimal | None = None
    hi: Decimal | None = None
    marker: str | None = None  # 余 多 几 数, or "pair" for 三五百 / 十五六
    digit_string: bool = False  # 一二三, 二〇二三
    bare_scale: bool = False  # only scale characters: 百, 万, 千万
    last_scale: int = 1  # the last scale character (1 if the numeral ends with a digit)

    @property
    def anchor(self) -> Decimal | None:
        return self.value if self.value is not None else self.lo


_ARABIC_RE = regex.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_EXPONENT_RE = regex.compile(r"[eE]([+-]?[0-9]{1,2})(?![0-9])|\^([+-]{0,2})([0-9]{1,2})(?![0-9])")


def _arabic_token(text: str, i: int, toks: list[_Tok]) -> int | None:
    """Read an Arabic number (commas, decimals, e/^ exponents, k suffix) at i; return the new index."""
    m = _ARABIC_RE.match(text, i)
    if m is None:
        return None
    raw = m.group()
    value = Decimal(raw.replace(",", ""))
    i = m.end()
    e = _EXPONENT_RE.match(text, i)
    if e is not None:
        if e.group(1) is not None:
            value = value.scaleb(int(e.group(1)))
        else:  # 2^5, 2.5^-1, 1.1^--23 (a doubled sign cancels)
            power = int(e.group(3)) * (-1 if e.group(2).count("-") % 2 else 1)
            value = value**power
        raw += e.group()
        i = e.end()
    toks.append(_Tok("A", value, raw))
    if i < len(text) and text[i] in "kK":  # 15k = 15 000
        toks.append(_Tok("S", Decimal(1000), text[i]))
        i += 1
    return i


def _tokenize(text: str) -> list[_Tok] | None:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if "0" <= ch <= "9" or ch == ".":
            nxt = _arabic_token(text, i, toks)
            if nxt is None:
                return None
            i = nxt
            continue
        if ch in DIGITS:
            toks.append(_Tok("D", Decimal(DIGITS[ch]), ch))
        elif ch in TENS:
            toks.append(_Tok("T", Decimal(TENS[ch]), ch))
        elif ch in SCALES:
            toks.append(_Tok("S", Decimal(SCALES[ch]), ch))
        elif ch == "点":
            toks.append(_Tok("P", Decimal(0), ch))
        elif ch in MARKERS:
            toks.append(_Tok("Q", Decimal(0), ch))
        elif ch == "个" and i + 1 < n and text[i + 1] in "万亿萬億":  # 两个亿 = 2亿
            pass
        else:
            return None
        i += 1
    return toks


def _compound(entries: list[list[Decimal]], m: Decimal) -> bool:
    """A scale right after a scale (千万, 万亿, 四万万): multiply the open group."""
    if m < 10**4:
        return False  # 五十千 is not a number; compounds end with 万/亿 (千万, 百亿, 万亿)
    popped, count = Decimal(0), 0
    while entries and entries[-1][1] < m:
        popped += entries.pop()[0]
        count += 1
    if count:
        if entries and entries[-1][1] <= m:
            return False
        entries.append([popped * m, m])
        return True
    if entries and entries[-1][1] == m and m >= 10**4:  # 万万 = 亿
        value, scale = entries.pop()
        if entries and entries[-1][1] <= scale * m:
            return False
        entries.append([value * m, scale * m])
        return True
    return False


def _leading_bare(toks: Sequence[_Tok]) -> Decimal | None:
    """百三 = 130, 千一 = 1100: a bare leading 百/千 takes one abbreviated digit and nothing else."""
    first = toks[0].value
    if first in (100, 1000) and len(toks) == 2 and toks[1].kind == "D" and toks[1].value:
        return first + toks[1].value * first / 10
    return None


def _parse_int(toks: Sequence[_Tok]) -> Decimal | None:
    """Integer part (Arabic decimals allowed before a scale: 2.3万). None if malformed."""
    if not toks:
        return None
    if len(toks) == 1:
        return toks[0].value if toks[0].kind in "DATS" else None
    if all(t.kind == "D" for t in toks):  # 一二三, 二〇〇二: digit by digit
        if any(t.text == "两" for t in toks):
            return None
        return Decimal("".join(str(int(t.value)) for t in toks))
    if all(t.kind == "S" for t in toks):  # 百万, 千万, 万万: a bare compound scale
        return _stack_value(toks)
    if toks[0].kind == "S" and toks[0].value != 10:
        return _leading_bare(toks) if toks[0].value < 10**4 else None
    return _stack_value(toks)


def _stack_value(toks: Sequence[_Tok]) -> Decimal | None:
    entries: list[list[Decimal]] = []  # [value, scale], scales strictly decreasing
    pending: _Tok | None = None
    after_zero = zero = frozen = False
    prev = ""
    last_scale = Decimal(0)
    for t in toks:
        if t.kind == "D" and t.value == 0:
            if pending is not None or frozen:
                return None
            zero, prev = True, "Z"
            continue
        if t.kind in "DA":
            if pending is not None or frozen:
                return None
            pending, after_zero, zero, prev = t, zero, False, t.kind
            continue
        if t.kind == "T":  # 廿 = 二十
            if pending is not None or frozen or (entries and entries[-1][1] <= 10):
                return None
            entries.append([t.value, Decimal(10)])
            zero, prev, last_scale = False, "S", Decimal(10)
            continue
        if t.kind != "S":
            return None
        m = t.value
        if pending is None:
            if prev == "S":
                if m == 10 and entries and entries[-1][1] > 10:  # 一百十一: a bare 十
                    entries.append([Decimal(10), Decimal(10)])
                elif not _compound(entries, m):
                    return None
                last_scale = m
                continue
            if prev not in ("", "Z"):
                return None
            coef = Decimal(1)
        else:
            coef = pending.value
        if m >= 10**4:
            while entries and entries[-1][1] < m:
                coef += entries.pop()[0]
        if entries and entries[-1][1] <= m:
            return None
        entries.append([coef * m, m])
        frozen = pending is not None and pending.kind == "A" and "." in pending.text
        pending, zero, prev, last_scale = None, False, "S", m
    if zero and pending is None:
        return None  # 一百零: a dangling zero
    total = sum((e[0] for e in entries), Decimal(0))
    if pending is not None:
        if pending.text == "两":
            return None  # 两 is never a units digit: 两万两 is 20000 两 (taels)
        value = pending.value
        if pending.kind == "D" and prev == "D" and not after_zero and last_scale > 10:
            value = value * last_scale / 10  # 一万三 = 13000, 两千四百五 = 2450
        total += value
    return total


def place_step(value: Decimal) -> Decimal:
    """Spacing of the last significant place: 30 -> 10, 3000 -> 1000, 4.3万 -> 1000 (for 30余, 3000多)."""
    if value == 0:
        return Decimal(1)
    return Decimal(1).scaleb(value.normalize().as_tuple().exponent)


def _product(toks: Sequence[_Tok]) -> Decimal:
    result = Decimal(1)
    for t in toks:
        result *= t.value
    return result


def _last_scale(toks: Sequence[_Tok]) -> int:
    return int(toks[-1].value) if toks and toks[-1].kind == "S" else 1


def _parse_marked(toks: Sequence[_Tok], i: int) -> Numeral | None:
    """十余万, 三十多万, 十几万, 一百零几万, 数十亿, 几百."""
    mark = toks[i].text
    tail = toks[i + 1:]
    if any(t.kind != "S" for t in tail):
        return None
    mult = _product(tail)
    if i == 0:
        if mark not in "几数" or not tail:
            return None
        return Numeral(None, mult, mult * 10, mark, last_scale=_last_scale(tail))
    head = list(toks[:i])
    while len(head) > 1 and head[-1].kind == "D" and head[-1].value == 0:  # 一百零几
        head.pop()
    anchor = _parse_int(head)
    if anchor is None or mark == "数":
        return None
    lo = anchor * mult
    return Numeral(lo, lo, lo + place_step(anchor) * mult, mark, last_scale=_last_scale(tail or head))


def _parse_decimal(toks: Sequence[_Tok], i: int) -> Numeral | None:
    """两千万点五五四四, 一百点123, 二十点一万 (trailing scales multiply the whole)."""
    whole = _parse_int(toks[:i])
    rest = toks[i + 1:]
    if whole is None or not rest:
        return None
    j = 0
    if rest[0].kind == "A":
        if "." in rest[0].text or "," in rest[0].text:
            return None
        frac, j = rest[0].text, 1
    else:
        while j < len(rest) and rest[j].kind == "D" and rest[j].text != "两":
            j += 1
        frac = "".join(str(int(t.value)) for t in rest[:j])
    if not frac or any(t.kind != "S" for t in rest[j:]):
        return None
    value = (whole + Decimal("0." + frac)) * _product(rest[j:])
    return Numeral(value, last_scale=_last_scale(rest[j:]))


def _vague_pair(toks: Sequence[_Tok]) -> Numeral | None:
    """三五百 = 300~500, 十五六 = 15~16, 一万六七 = 16000~17000, 七八 (only before a unit)."""
    n = len(toks)
    for i in range(n - 1):
        a, b = toks[i], toks[i + 1]
        if a.kind != "D" or b.kind != "D" or not a.value or not b.value or b.text == "两":
            continue
        if (i > 0 and toks[i - 1].kind == "D") or (i + 2 < n and toks[i + 2].kind == "D"):
            continue
        if not (b.value == a.value + 1 or (a.value, b.value) == (3, 5)):
            continue
        scaled = (i > 0 and toks[i - 1].kind in "ST") or (i + 2 < n and toks[i + 2].kind == "S")
        if n == 2:
            value = a.value * 10 + b.value  # read as digits unless a unit follows (七八公斤)
            return Numeral(value, a.value, b.value, "pair", digit_string=True)
        if not scaled:
            return None
        lo = _parse_int([*toks[:i], a, *toks[i + 2:]])
        hi = _parse_int([*toks[:i], b, *toks[i + 2:]])
        if lo is None or hi is None:
            return None
        return Numeral(None, lo, hi, "pair", last_scale=_last_scale(toks))
    return None


def _parse_tokens(toks: Sequence[_Tok]) -> Numeral | None:
    if not toks:
        return None
    kinds = [t.kind for t in toks]
    if kinds.count("Q") > 1 or kinds.count("P") > 1 or ("Q" in kinds and "P" in kinds):
        return None
    if "Q" in kinds:
        return _parse_marked(toks, kinds.index("Q"))
    if "P" in kinds:
        return _parse_decimal(toks, kinds.index("P"))
    if kinds.count("D") >= 2:
        pair = _vague_pair(toks)
        if pair is not None:
            return pair
    value = _parse_int(toks)
    if value is None:
        return None
    return Numeral(
        value,
        digit_string=len(toks) > 1 and all(k == "D" for k in kinds),
        bare_scale=all(k == "S" for k in kinds) and toks[0].value != 10,  # 十万 is a number, 百万 is not
        last_scale=_last_scale(toks),
    )


def _in_range(numeral: Numeral | None) -> Numeral | None:
    if numeral is None:
        return None
    for v in (numeral.value, numeral.lo, numeral.hi):
        if v is not None and (not v.is_finite() or abs(v) > _MAX_ABS):
            return None
    return numeral


@lru_cache(maxsize=16384)  # Numeral is frozen; the same short numerals recur on every page (~370 bytes each)
def parse_numeral(text: str) -> Numeral | None:
    """Parse one numeral (no sign, no unit) of folded, squeezed text; None if malformed."""
    if not text or len(text) > MAX_NUMERAL_LENGTH:
        return None
    try:
        toks = _tokenize(text)
        return _in_range(_parse_tokens(toks)) if toks else None
    except (ArithmeticError, ValueError):
        return None


def _signed(text: str) -> tuple[int, str]:
    for sign in ("负的", "负", "零下", "-"):
        if text.startswith(sign) and len(text) > len(sign):
            return -1, text[len(sign):]
    return 1, text


def _exact(text: str) -> Decimal | None:
    """An exact numeral value, optionally signed (负一百五十七). Digit pairs read as digits (三五 = 35)."""
    sign, body = _signed(text)
    numeral = parse_numeral(body)
    if numeral is None or numeral.value is None or numeral.bare_scale:
        return None
    if numeral.marker not in (None, "pair"):
        return None
    return sign * numeral.value


def parse_fraction(denominator: str, numerator: str, whole: str | None = None) -> Decimal | None:
    """三分之二 -> 0.666…, 三又五分之一 -> 3.2, 负３分之负一百五十七 -> 52.33…"""
    sign, den_text = _signed(denominator)
    den = _exact(den_text)
    num = _exact(numerator)
    if den is None or num is None or den == 0:
        return None
    value = sign * num / den
    if whole is not None:
        w = _exact(whole)
        if w is None:
            return None
        value = w + value if w >= 0 else w - value
    return value


_PLAIN_SCALE = str.maketrans("拾佰仟萬億", "十百千万亿")


def percent_denominator(text: str) -> int | None:
    """百 -> 100, 千 -> 1000, 万万 -> 10**8 ... for 百分之 / 千分之 / 万分之; None otherwise."""
    return PERCENT_DENOMINATORS.get(text.translate(_PLAIN_SCALE))


def parse_percent(denominator: str, numerator: str) -> Decimal | None:
    """百分之八十五 -> 85, 千分之2.4 -> 0.24 (percentage points)."""
    den = percent_denominator(denominator)
    num = Decimal(100) if numerator == "百" else _exact(numerator)  # 百分之百
    if den is None or num is None:
        return None
    return num * 100 / den


_PERCENT_PREFIX_RE = regex.compile(r"(百万万|百万|千万|万万|十万|百|千|万)分之|百分(?=[0-9" + NUMERAL_CHARS + "])")
_SLASH_RE = regex.compile(r"(?:([0-9]+) )?([0-9]+)/([0-9]+)")
_WHOLE_SPACE_RE = regex.compile(r"\s+(?![0-9])|(?<![0-9])\s+")  # keep only the space of 1 3/5
_SI_SUFFIX = {"M": Decimal(10**6), "G": Decimal(10**9)}


def _whole_fraction(body: str) -> Decimal | None:
    m = _SLASH_RE.fullmatch(body)
    if m is not None:
        den = Decimal(m.group(3))
        if den == 0:
            return None
        return Decimal(m.group(1) or 0) + Decimal(m.group(2)) / den
    whole, _, rest = body.rpartition("又") if "又" in body else (None, "", body)
    den, sep, num = rest.partition("分之")
    return parse_fraction(den, num, whole or None) if sep else None


def _whole_plain(body: str) -> Decimal | None:
    if body == "一半":
        return Decimal("0.5")
    if body == "半百":
        return Decimal(50)
    if body[-1] in _SI_SUFFIX and _ARABIC_RE.fullmatch(body[:-1]):  # 1.2M, .0012G
        return Decimal(body[:-1].replace(",", "")) * _SI_SUFFIX[body[-1]]
    numeral = parse_numeral(body)  # 十余 -> 10, 几十 -> 10: the lower bound of a vague form
    if numeral is None or numeral.bare_scale:
        return None
    return numeral.anchor


def _parse_whole(text: str) -> Decimal | None:
    s = _WHOLE_SPACE_RE.sub("", SQUEEZE_RE.sub("", fold_width(text)))
    if not s or len(s) > MAX_NUMERAL_LENGTH:
        return None
    sign, body = _signed(s)
    if body[-1] in "%‰":
        value = _exact(body[:-1])
        return None if value is None else sign * value / (10 if body[-1] == "‰" else 1)
    m = _PERCENT_PREFIX_RE.match(body)
    if m is not None:
        value = parse_percent(m.group(1) or "百", body[m.end():])
    elif "分之" in body or "/" in body:
        value = _whole_fraction(body)
    else:
        value = _whole_plain(body)
    return None if value is None else sign * value


def parse_number(text: str) -> float | None:
    """Whole-string numeral -> value: '一百二十三'->123, '两千'->2000, '1.5万'->15000, '3万4000',
    '2千零30万', '十余'->10 (lower bound), '１２３'(full-width)->123, '1,234'->1234, '三分之二'->0.666..,
    '百分之八十五'->85 (percent points), negatives '负五'. None if not one well-formed numeral."""
    if not isinstance(text, str):
        return None
    try:
        value = _parse_whole(text)
        if value is None or not value.is_finite() or abs(value) > _MAX_ABS:
            return None
        return float(value)
    except (ArithmeticError, ValueError):
        return None
