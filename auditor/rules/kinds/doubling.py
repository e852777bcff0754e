"""doubling: a run of text printed twice in a row, inside one sentence or line.

Two modes:

- ``adjacent`` (OCR doubling): a phrase of at least ``min_chars`` Han characters immediately
  followed by itself, with no punctuation inside it: "长春市总工会长春市总工会：：",
  "…节日快乐…节日快乐！！". Bold headlines extracted from PDF come out like this. A doubled
  punctuation mark right after it is part of the finding; marks listed in ``punctuation``
  ("：：", "，，") are reported even on their own. Reduplication is language, not noise: a
  unit is never shorter than three characters, so 常常, 看看, 研究研究 stay alone, and a unit
  that is itself a one- or two-character repetition (哈哈哈) is skipped.
- ``phrase``: a passage of at least ``min_chars`` Han characters that repeats within one
  sentence (``scope``) with at most ``max_gap`` characters between the copies — a paste done
  twice: "截至2022年末,共返还小微企业工会经费政策落实,截至2022年末,共返还小微企业工会经费".
  Copies are found by indexing every window of ``min_chars`` compared characters (punctuation and
  spaces set aside) in a dict and extending a hit to its full length: linear in the text. A bare
  phrase doubled with nothing between (no punctuation inside either) is the ``adjacent`` mode's.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Iterable, Iterator, Literal, NamedTuple, Sequence

import regex
from pydantic import BaseModel, ConfigDict, Field

from ...codepoints import CodeTable, code_points, from_code_points
from ...findings import Finding
from ..context import AuditContext
from ..model import Rule
from ..registry import register_kind
from ._common import Pattern
from .duplicate import FIGURE, PLACEHOLDER, han_count, note

if TYPE_CHECKING:  # pragma: no cover
    from ...pipeline import AnalysedDocument

_FIGURE = regex.compile(FIGURE)
_PUNCT_CLASS = r"[\p{P}\p{S}\s]"
_PUNCT = regex.compile(_PUNCT_CLASS)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["adjacent", "phrase"] = Field("adjacent", description="OCR doubling, or a pasted-twice passage")
    min_chars: int = Field(3, ge=3, description="Han characters the repeated unit needs (never fewer than 3)")
    max_unit: int = Field(40, ge=3, le=200, description="adjacent: longest unit looked for")
    punctuation: str = Field("：:，,、；;。", description="adjacent: marks reported when doubled on their own")
    scope: Literal["sentence", "paragraph"] = Field("sentence", description="phrase: where copies are sought")
    max_gap: int = Field(0, ge=0, description="phrase: characters (punctuation aside) allowed between the copies")
    placeholder: Pattern = Field(PLACEHOLDER, description="phrase: a placeholder (X人) never matches another")


@register_kind("doubling", Params)
def check(rule: Rule, ctx: AuditContext) -> Iterable[Finding]:
    params: Params = rule.params  # type: ignore[assignment]
    for doc in sorted(ctx.documents, key=lambda d: d.path):
        if params.mode == "adjacent":
            yield from _adjacent(rule, ctx, params, doc)
        else:
            yield from _phrases(rule, ctx, params, doc)


# ---------------------------------------------------------------- adjacent (OCR) doubling

def _adjacent(rule: Rule, ctx: AuditContext, params: Params, doc: "AnalysedDocument") -> Iterator[Finding]:
    text = doc.norm.text
    doubled = regex.compile(
        r"(?P<unit>[^\p{P}\p{S}\s]{3,%d}?)(?P=unit)(?:(?P<mark>\p{P})(?P=mark))?" % params.max_unit)
    taken: list[tuple[int, int]] = []
    for m in _doublings(doubled, text, params.max_unit):
        unit = m.group("unit")
        if han_count(unit) < params.min_chars or _short_period(unit):
            continue
        first_end = m.start() + len(unit)
        mark = m.group("mark") or ""
        taken.append(m.span())
        yield ctx.finding(rule, doc, m.start(), m.end(),
                          related=[ctx.related(doc, m.start(), first_end, note(ctx, "首次出现", "first occurrence"))],
                          evidence={"occurrences": 2, "chars": len(unit), "has_figures": bool(_FIGURE.search(unit))},
                          fields={"single": doc.norm.original_text(m.start(), first_end)
                                  + doc.norm.original_text(first_end + len(unit), first_end + len(unit) + len(mark))})
    if params.punctuation:
        marks = regex.compile("(?P<mark>[%s])(?P=mark)+" % regex.escape(params.punctuation))
        for m in marks.finditer(text, timeout=ctx.regex_timeout):
            if not any(s <= m.start() < e for s, e in taken):
                yield ctx.finding(rule, doc, m.start(), m.end(),
                                  related=[ctx.related(doc, m.start(), m.start() + 1,
                                                       note(ctx, "首次出现", "first occurrence"))],
                                  evidence={"occurrences": m.end() - m.start(), "chars": 1, "has_figures": False},
                                  fields={"single": doc.norm.original_text(m.start(), m.start() + 1)})


def _doublings(doubled: regex.Pattern, text: str, max_unit: int) -> Iterator[regex.Match]:
    """``doubled.finditer(text)``, run only where a doubling can start. A unit of L >= 3 characters
    followed by itself means text[i + t] == text[i + L + t] for t = 0, 1, 2: numpy finds those
    positions for every L at once, and the pattern is tried only there, going on after each match
    as one pass over the text would. Each try reads at most two units and a doubled mark, so its
    work is bounded by ``max_unit`` (at most 200) whatever the text: no time limit, whose timer
    cost more than the matching at the ~500 tries a page."""
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes)
    can_start = np.zeros(n, dtype=bool)
    if n >= 6:
        # the three characters from each position as one number (code points are below 2**21)
        triples = (codes[:-2] << np.uint64(42)) | (codes[1:-1] << np.uint64(21)) | codes[2:]
        for gap in range(3, min(max_unit, n - 3) + 1):
            can_start[:n - 2 - gap] |= triples[:-gap] == triples[gap:]  # text[i:i+3] == text[i+gap:i+gap+3]
    longest = 2 * max_unit + 2  # two units and a doubled mark
    end = 0
    for i in np.flatnonzero(can_start).tolist():
        if i >= end and (m := doubled.match(text, i, min(i + longest, n))) is not None:
            yield m
            end = m.end()


def _short_period(unit: str) -> bool:
    """哈哈哈, 研究研究: a unit that is itself a one- or two-character repetition."""
    return any(len(unit) % p == 0 and unit == unit[:p] * (len(unit) // p) for p in (1, 2))


# ---------------------------------------------------------------- a passage pasted twice

def _phrases(rule: Rule, ctx: AuditContext, params: Params, doc: "AnalysedDocument") -> Iterator[Finding]:
    text = doc.norm.text
    slots = {i for m in regex.finditer(params.placeholder, text, regex.V1, timeout=ctx.regex_timeout)
             for i in range(*m.span())}
    compared = _Compared.of(text, slots)
    spans = [(p.start, p.end) for p in doc.segmentation.paragraphs] if params.scope == "paragraph" else \
        [(s.start, s.end) for p in doc.segmentation.paragraphs for s in p.sentences]
    for (start, end), maybe in zip(spans, compared.may_repeat(spans, params.min_chars)):
        if maybe:
            for (a, b), (c, d), gap in _repeats(text, start, end, params.min_chars, params.max_gap, slots,
                                                compared):
                unit = text[c:d]
                yield ctx.finding(rule, doc, c, d,
                                  related=[ctx.related(doc, a, b, note(ctx, "首次出现", "first occurrence"))],
                                  evidence={"occurrences": 2, "chars": len(unit), "gap": gap,
                                            "has_figures": bool(_FIGURE.search(unit))})


class _Compared(NamedTuple):
    """The compared characters of a whole document (punctuation and spaces set aside): their
    offsets and the characters, so a sentence's are a slice rather than a walk over its text."""

    where: list[int]
    chars: str
    slots: list[int]  # sorted placeholder offsets

    @classmethod
    def of(cls, text: str, slots: set[int]) -> "_Compared":
        import numpy as np

        codes = code_points(text)
        kept = ~_PUNCTUATION(codes)
        return cls(np.flatnonzero(kept).tolist(), from_code_points(codes[kept]), sorted(slots))

    def may_repeat(self, spans: Sequence[tuple[int, int]], k: int) -> list[bool]:
        """For each span of the text (normalised offsets), whether a window of `k` compared
        characters may occur twice in it, as ``_repeats`` first asks: decided for the whole page at
        once from a hash of every window (a set of each sentence's windows was half the rule).
        False is certain; True may be a collision, which ``_repeats`` then rules out. Placeholder
        characters, which ``span`` makes distinct, and the private-use plane it makes them of,
        hash as one character: equal windows there hash equal here."""
        import numpy as np

        where = np.asarray(self.where, dtype=np.int64)
        codes = code_points(self.chars).astype(np.uint64)
        codes[codes >= 0xF0000] = 0xF0000
        if self.slots:
            slots = np.asarray(self.slots, dtype=np.int64)
            codes[np.searchsorted(where, slots[np.isin(slots, where)])] = 0xF0000
        windows = len(codes) - k + 1
        if not len(spans) or windows < 2:
            return [False] * len(spans)
        hashes = np.zeros(windows, dtype=np.uint64)
        with np.errstate(over="ignore"):  # wrapping: a collision only costs an exact look
            for t in range(k):
                hashes = hashes * np.uint64(1_000_003) + codes[t:t + windows]
        bounds = np.searchsorted(where, np.asarray(spans, dtype=np.int64).reshape(-1, 2))
        counts = np.maximum(bounds[:, 1] - bounds[:, 0] - k + 1, 0)
        counts[counts <= k] = 0  # as _repeats: too few windows for two copies that do not overlap
        span_of = np.repeat(np.arange(len(spans)), counts)
        first = np.cumsum(counts) - counts
        positions = np.arange(int(counts.sum())) + np.repeat(bounds[:, 0] - first, counts)
        with np.errstate(over="ignore"):  # the span mixed into the key: one plain sort, not a lexsort (25x)
            keys = hashes[positions] * np.uint64(0x9E3779B97F4A7C15) + span_of.astype(np.uint64)
        ordered = np.sort(keys)
        twice = ordered[1:][ordered[1:] == ordered[:-1]]
        out = np.zeros(len(spans), dtype=bool)
        if len(twice):
            out[span_of[np.isin(keys, twice)]] = True
        return out.tolist()

    def span(self, start: int, end: int) -> tuple[list[int], str]:
        """(offsets, characters) of text[start:end]; each placeholder character made distinct from
        everything (a private-use character numbered by its place in the span)."""
        a, b = bisect_left(self.where, start), bisect_left(self.where, end)
        where, chars = self.where[a:b], self.chars[a:b]
        lo, hi = bisect_left(self.slots, start), bisect_left(self.slots, end)
        if lo < hi:
            out = list(chars)
            for i in self.slots[lo:hi]:
                n = bisect_left(where, i)
                if n < len(where) and where[n] == i:
                    out[n] = chr(0xF0000 + n % 0xFFFD)
            chars = "".join(out)
        return where, chars


_PUNCTUATION = CodeTable(_PUNCT_CLASS)  # _PUNCT by code point, per process


def _repeats(text: str, start: int, end: int, min_chars: int, max_gap: int, slots: set[int],
             compared: _Compared | None = None) -> Iterator[tuple[tuple[int, int], tuple[int, int], int]]:
    """(first copy, second copy, gap) for each passage of text[start:end] that repeats with at
    most `max_gap` compared characters between the copies. Spans are normalised offsets.
    Characters at `slots` (placeholders) are compared as distinct from everything. `compared`:
    the document's compared characters, when the caller looks at many spans of one text."""
    where, c = (compared or _Compared.of(text, slots)).span(start, end)  # compared char -> offset
    k = min_chars
    windows = len(c) - k + 1
    if windows <= k or len({c[j:j + k] for j in range(windows)}) == windows:
        return  # no window of k compared characters occurs twice without overlapping: nothing repeats
    seen: dict[str, list[int]] = {}
    j = 0
    while j + k <= len(c):
        window = c[j:j + k]
        earlier = seen.get(window, [])
        x = bisect_right(earlier, j - k) - 1  # the latest earlier copy that does not overlap
        if x >= 0:
            i = earlier[x]
            length = k
            while j + length < len(c) and c[i + length] == c[j + length]:
                length += 1
            distance = j - i
            unit = min(length, distance)
            gap = distance - unit
            shift = _clause_aligned_shift(text, where, j, length - unit) if length > distance else 0
            first = (where[i + shift], where[i + shift + unit - 1] + 1)
            second = (where[j + shift], where[j + shift + unit - 1] + 1)
            bare_doubling = gap == 0 and not _PUNCT.search(text, first[0], second[1])  # the OCR mode's
            if gap <= max_gap and han_count(text[second[0]:second[1]]) >= min_chars and not bare_doubling:
                yield first, second, gap
            if gap <= max_gap:  # found (or left to the OCR mode): go on after it, not inside it
                j += length
                continue
        seen.setdefault(window, []).append(j)
        j += 1


def _clause_aligned_shift(text: str, where: list[int], j: int, slack: int) -> int:
    """A doubled passage can be read from several starting points (ABCABCAB); prefer the reading
    whose second copy starts right after a punctuation mark, as a writer would have pasted it."""
    for shift in range(slack + 1):
        at = where[j + shift]
        if at > 0 and _PUNCT.match(text, at - 1):
            return shift
    return 0
