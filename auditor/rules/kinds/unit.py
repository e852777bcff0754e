"""unit: a figure written at the wrong scale, at two scales, or with no unit at all.

One kind, several behaviours chosen by `check:`; each is one small function below.

- same-fact      the same value written twice in one article at two scales (0.7万元 … 7000元) for
                 the same metric (or the same label): the later one is flagged, related → the other.
- small-in-scale an amount under `threshold` written in a large scale (0.49万元 → 4900元).
- mixed-scale    a figure whose scale does not fit its size, while the same article writes a peer
                 at the other scale: 20000元 next to 万元 amounts, 23000人次 next to 1.2万人次. An amount
                 in the base unit under `threshold` (每人5000元 next to 万元 totals) is normal and never
                 flagged, nor are per-head figures (每人/人均 …) or exact figures that would read badly
                 at the large scale (95601人次 is not 9.5601万人次).

Scales are read from the figure as written (4.3万余元 is in 万元 even though the parser's surface
unit there is 元, the 万 belonging to the numeral).
- bare-scale     a number with a bare 万/亿 and no unit after it in a money context (出资X万,
                 投入资金5万, X万至X万的奖励); read from the normalised text, not from the metrics.
- magnitude-slip an amount in the base unit about `factor` (10⁴) below its peers: the same metric
                 of the same entity across the audited documents (28.74元 where peers are 28.74万元).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from typing import TYPE_CHECKING, Iterable, Iterator, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field

from ...findings import Finding
from ...metrics import Metric
from ..context import AuditContext
from ..model import Rule
from ..registry import register_kind
from ._parts import in_group_parts
from ._common import Pattern, Timed, timed

if TYPE_CHECKING:  # pragma: no cover
    from ...pipeline import AnalysedDocument


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    check: Literal["same-fact", "small-in-scale", "mixed-scale", "bare-scale", "magnitude-slip"]
    base_unit: str = Field("元", description="the unit as written for amounts below the threshold")
    scaled_units: list[str] = Field(default_factory=lambda: ["万元", "亿元"],
                                    description="surface units of the large scale")
    threshold: float = Field(10000, gt=0, description="base-unit value from which the large scale is expected")
    dimensions: list[str] = Field(default_factory=list, description="only figures of these dimensions (empty: all)")
    same_metric: bool = Field(False, description="mixed-scale: the peer at the other scale must be the same metric")
    both_directions: bool = Field(False, description="mixed-scale: also flag a large-scale figure under the threshold")
    per_head: Pattern = Field(r"(?:每|人均|户均|平均)\p{Han}{0,8}$",
                              description="text just before a figure that makes it a per-head amount (left alone)")
    factor: float = Field(10000, gt=1, description="magnitude-slip: how far off a slipped amount is")
    tolerance: float = Field(3.0, gt=1, description="magnitude-slip: accepted ratio around `factor`")
    cues: list[Pattern] = Field(default_factory=list,
                                description="bare-scale: money words; one must stand in the clause before the figure")
    cues_after: list[Pattern] = Field(default_factory=list,
                                      description="bare-scale: money words that may follow the figure instead")
    unit_chars: str = Field("", description="bare-scale: characters that, after 万/亿, are a unit or measure word")


@register_kind("unit", Params)
def check(rule: Rule, ctx: AuditContext) -> Iterable[Finding]:
    params: Params = rule.params  # type: ignore[assignment]
    return _CHECKS[params.check](rule, params, ctx)


# ---------------------------------------------------------------- shared helpers

def _note(ctx: AuditContext, zh: str, en: str) -> str:
    """A related location's note in the report language."""
    return en if ctx.lang == "en" else zh


def _fmt(value: float) -> str:
    """A number as an editor writes it: 4900, 28.74, never 4900.0 or 2.8000000001."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _spell(value: float, unit: str, approx: str | None = None) -> str:
    """4900 元 with its qualifier where a writer puts it: 近4900元, 4900余元, 4900元左右."""
    number = _fmt(value)
    if not approx:
        return number + unit
    if approx in ("余", "多"):
        return f"{number}{approx}{unit}"
    if approx in ("左右", "上下", "以上", "以下"):
        return f"{number}{unit}{approx}"
    return f"{approx}{number}{unit}"


def _as_written(m: Metric) -> str:
    """The unit as the writer wrote it, scale included: 万元 for 28.74万元 and also for 4.3万余元,
    whose surface unit from the parser is 元 (there the 万 belongs to the numeral)."""
    return _written(m.text, m.unit)


def _written(text: str, unit: str | None) -> str:
    """``_as_written`` of a figure's text and unit."""
    prefix = "亿" if "亿" in text else "万" if "万" in text else ""
    return prefix + (unit or "")


def _flat(text: str) -> str:
    """A figure's text for a message: the page's hard line breaks removed (2.6万\n余元 → 2.6万余元)."""
    return regex.sub(r"\s+", "", text)


def _clean(scaled: float) -> bool:
    """Whether a value reads well at the large scale: 2万, 2.35万; not 9.5601万 (keep 95601 as written)."""
    return abs(scaled * 100 - round(scaled * 100)) < 1e-6


def _usable(m: Metric) -> bool:
    return _usable_fields(m.placeholder, m.value, m.unit)


def _usable_fields(placeholder: bool, value: float | None, unit: str | None) -> bool:
    return not placeholder and value is not None and unit is not None


def _in_dimensions(m: Metric, params: Params) -> bool:
    return _dimension_in(m.dimension, params)


def _dimension_in(dimension: str | None, params: Params) -> bool:
    return not params.dimensions or dimension in params.dimensions


def _by_article(doc: "AnalysedDocument") -> dict[int | None, list[Metric]]:
    groups: dict[int | None, list[Metric]] = defaultdict(list)
    for m in doc.metrics:
        groups[m.article].append(m)
    for ms in groups.values():
        ms.sort(key=lambda m: m.norm_start)
    return groups


class _Page:
    """One document with its clauses indexed, for "the text just before this figure"."""

    def __init__(self, doc: "AnalysedDocument"):
        self.doc = doc
        self.text = doc.norm.text
        spans = sorted(doc.segmentation.clause_spans())
        self._starts = [s for s, _ in spans]
        self._spans = spans
        self._sentences = doc.segmentation.sentence_spans()
        self._sentence_starts = [s for s, _ in self._sentences]
        self._people = sorted((m.norm_start, m.value) for m in doc.metrics
                              if m.dimension == "people" and m.value is not None)

    def people_between(self, lo: int, hi: int) -> set[float]:
        """Values of the head counts that start in [lo, hi)."""
        i = bisect_left(self._people, (lo, -math.inf))
        j = bisect_left(self._people, (hi, -math.inf))
        return {value for _, value in self._people[i:j]}

    def clause_start(self, pos: int) -> int:
        i = bisect_right(self._starts, pos) - 1
        if i >= 0 and self._spans[i][0] <= pos <= self._spans[i][1]:
            return self._spans[i][0]
        return self.text.rfind("\n", 0, pos) + 1

    def before(self, pos: int, width: int = 16) -> str:
        """The clause text just before offset `pos` (at most `width` characters)."""
        return self.text[max(self.clause_start(pos), pos - width):pos]

    def sentence(self, pos: int) -> tuple[int, int] | None:
        i = bisect_right(self._sentence_starts, pos) - 1
        if i >= 0 and pos < self._sentences[i][1]:
            return self._sentences[i]
        return None

    def per_head(self, m: Metric, pattern: Timed) -> bool:
        return bool(pattern.search(self.before(m.norm_start, 12)))


# ---------------------------------------------------------------- same-fact

def _same_fact(rule: Rule, params: Params, ctx: AuditContext) -> Iterator[Finding]:
    """The same value, the same metric (or label), one article, two scales: one fact written twice."""
    for doc in ctx.documents:
        page = _Page(doc)
        for metrics in _by_article(doc).values():
            figures = [m for m in metrics if _usable(m) and _in_dimensions(m, params)]
            # Earlier figures by dimension and value, then by scale as written: a later figure looks
            # only at earlier ones of its value, not at every earlier figure (quadratic: minutes for
            # an article of tens of thousands of figures, a page with no datelines).
            seen: dict[tuple, dict[str, list[Metric]]] = defaultdict(lambda: defaultdict(list))
            for later in figures:
                written = _as_written(later)
                by_written = seen[(later.dimension, _value_key(later.value))]
                earlier = _nearest_copy(by_written, later, written)
                by_written[written].append(later)
                if earlier is not None:
                    if regex.fullmatch(r"\s*[(（]\s*", page.text[earlier.norm_end:later.norm_start]):
                        continue  # 5000元（0.5万元）: a gloss in brackets, written twice on purpose
                    evidence = {
                        "values": [earlier.value, later.value],
                        "surface_units": [_as_written(earlier), _as_written(later)],
                        "metric": later.metric or later.label,
                    }
                    count = _shared_count(page, earlier, later)
                    if count is not None:
                        evidence["count"] = count
                    yield ctx.finding_at(
                        rule, doc, later.start, later.end, evidence=evidence,
                        related=[ctx.related_metric(
                            earlier, _note(ctx, "同一数字的另一种写法", "the same figure at another scale"))],
                        fields={"other": _flat(earlier.text), "count_note": _count_note(count, ctx.lang)})


_MAX_SAME_VALUE = 200  # earlier figures of one value and scale looked at, newest first


def _value_key(value: float) -> str:
    """Values that are the same fact agree to 9 significant digits (7000.0 and 0.7万 × 10⁴)."""
    return f"{value:.8e}"


def _nearest_copy(by_written: dict[str, list[Metric]], later: Metric, written: str) -> Metric | None:
    """The nearest earlier figure of the same value and the same thing at another written scale:
    one finding per figure, against the nearest earlier copy."""
    best = None
    for scale, earlier in by_written.items():
        if scale == written:
            continue
        for m in reversed(earlier[-_MAX_SAME_VALUE:]):
            if best is not None and m.norm_start <= best.norm_start:
                break
            if _same_thing(m, later) and math.isclose(m.value, later.value, rel_tol=1e-9, abs_tol=1e-9):
                best = m
                break
    return best


def _same_thing(a: Metric, b: Metric) -> bool:
    if a.dimension != b.dimension:
        return False
    if a.metric is not None and b.metric is not None:
        return a.metric == b.metric
    return a.label is not None and a.label == b.label


def _shared_count(page: _Page, a: Metric, b: Metric) -> float | None:
    """A head count written before both figures with the same value (为7名劳模… / 慰问劳模7人…)."""
    def counts(m: Metric) -> set[float]:
        span = page.sentence(m.norm_start)
        if span is None:
            return set()
        # Up to 40 characters back inside the sentence: where the recipients are named.
        lo = max(span[0], m.norm_start - 40)
        return page.people_between(lo, m.norm_start)

    shared = counts(a) & counts(b)
    return max(shared) if shared else None


def _count_note(count: float | None, lang: str) -> str:
    if count is None:
        return ""
    return f"（人数同为{_fmt(count)}）" if lang == "zh" else f" (both for {_fmt(count)} people)"


# ---------------------------------------------------------------- small-in-scale

def _small_in_scale(rule: Rule, params: Params, ctx: AuditContext) -> Iterator[Finding]:
    """0.49万元: an amount under the threshold written in the large scale."""
    for doc in ctx.documents:
        for m in doc.metrics:
            if not _usable(m) or not _in_dimensions(m, params) or _as_written(m) not in params.scaled_units:
                continue
            if m.value <= 0 or m.value >= params.threshold:
                continue
            suggestion = _spell(m.value, params.base_unit, m.approx)
            yield ctx.finding_at(rule, doc, m.start, m.end,
                                 evidence={"value": m.value, "surface_unit": _as_written(m),
                                           "suggestion": suggestion},
                                 fields={"suggestion": suggestion})


# ---------------------------------------------------------------- mixed-scale

def _mixed_scale(rule: Rule, params: Params, ctx: AuditContext) -> Iterator[Finding]:
    """A figure whose scale does not fit its size while a peer in the article uses the other scale."""
    per_head = timed(params.per_head, ctx.regex_timeout)
    base, scaled = params.base_unit, set(params.scaled_units)
    for doc in ctx.documents:
        page = _Page(doc)
        for metrics in _by_article(doc).values():
            figures = [m for m in metrics if _usable(m) and _in_dimensions(m, params)
                       and (_as_written(m) == base or _as_written(m) in scaled)]
            # Positions of the figures of each written scale (and metric), for the nearest peer by
            # bisection rather than a scan of the whole article per figure (quadratic on huge pages).
            where: dict[tuple[str, str | None], list[int]] = defaultdict(list)
            for i, p in enumerate(figures):
                if not params.same_metric or p.metric is not None:
                    where[(_as_written(p), p.metric if params.same_metric else None)].append(i)
            for i, m in enumerate(figures):
                if _as_written(m) == base and m.value >= params.threshold and _clean(m.value / params.threshold):
                    wanted = scaled
                elif params.both_directions and _as_written(m) in scaled and 0 < m.value < params.threshold:
                    wanted = {base}
                else:
                    continue
                if page.per_head(m, per_head):
                    continue
                if params.same_metric and m.metric is None:
                    continue
                peer = _nearest_peer(figures, i, [where.get((w, m.metric if params.same_metric else None), [])
                                                  for w in wanted])
                if peer is None:
                    continue
                if _as_written(m) == base:
                    unit = _as_written(peer)
                    suggestion = _spell(m.value / _unit_scale(unit), unit, m.approx)
                else:
                    suggestion = _spell(m.value, base, m.approx)
                yield ctx.finding_at(
                    rule, doc, m.start, m.end,
                    evidence={"value": m.value, "surface_unit": _as_written(m), "peer": _flat(peer.text),
                              "peer_surface_unit": _as_written(peer), "suggestion": suggestion},
                    related=[ctx.related_metric(
                        peer, _note(ctx, "本文另一量级的数字", "a figure of this article at the other scale"))],
                    fields={"suggestion": suggestion})


def _nearest_peer(figures: list[Metric], i: int, positions: list[list[int]]) -> Metric | None:
    """The figure nearest to figures[i] among those at `positions` (ascending indexes into
    `figures`, which is in page order); of two as near, the earlier one."""
    best: tuple[int, int] | None = None
    at = figures[i].norm_start
    for idx in positions:
        k = bisect_left(idx, i)
        for j in idx[max(k - 1, 0):k + 2]:
            if j != i:
                key = (abs(figures[j].norm_start - at), j)
                best = key if best is None or key < best else best
    return figures[best[1]] if best is not None else None


# ---------------------------------------------------------------- bare-scale

_NUM = r"(?:[0-9]+(?:\.[0-9]+)?|X{1,4})"
# Led by a lookahead of the characters a figure starts with: 5x faster than trying the lookbehind and
# both branches at every position (as duplicate.FIGURE).
_BARE = regex.compile(
    rf"(?=[0-9X])(?<![0-9.A-Za-z]){_NUM}[万亿](?:余|多)?(?:\s*[至到~\-—－]\s*{_NUM}[万亿](?:余|多)?)?", regex.V1)
_COMPOUND = "0123456789X千百十万亿"


def _bare_scale(rule: Rule, params: Params, ctx: AuditContext) -> Iterator[Finding]:
    """出资X万 / 投入资金5万, / X万至X万的奖励: a scale with no unit after it, where money is meant."""
    cues = timed("|".join(f"(?:{c})" for c in params.cues), ctx.regex_timeout) if params.cues else None
    cues_after = timed("|".join(f"(?:{c})" for c in params.cues_after), ctx.regex_timeout) \
        if params.cues_after else None
    units = set(params.unit_chars)
    for doc in ctx.documents:
        page = _Page(doc)
        text = doc.norm.text
        for m in _BARE.finditer(text, timeout=ctx.regex_timeout):
            nxt = text[m.end()] if m.end() < len(text) else ""
            if nxt and (nxt in units or nxt in _COMPOUND):
                continue
            if text.startswith("左右", m.end()) and m.end() + 2 < len(text) and text[m.end() + 2] in units:
                continue
            before = page.before(m.start())
            after = text[m.end():m.end() + 8]
            if not ((cues and cues.search(before)) or (cues_after and cues_after.match(after))):
                continue
            scale = "亿" if "亿" in m.group() else "万"
            yield ctx.finding(rule, doc, m.start(), m.end(), evidence={"scale": scale})


# ---------------------------------------------------------------- magnitude-slip

def _magnitude_slip(rule: Rule, params: Params, ctx: AuditContext) -> Iterator[Finding]:
    """28.74元 where the same entity's same metric is 28.74万元 elsewhere: 元 written for 万元."""
    per_head = timed(params.per_head, ctx.regex_timeout)
    documents = ctx.documents
    # Of every usable figure only its value and where it is (document << 32 | metric number) are
    # kept, grouped by (entity, metric), a part of whole groups at a time (``in_group_parts``);
    # Metric objects are made for the slips and their peers alone. A Metric for every figure of
    # the archive took ~1 GB at 1 GB of text.
    figures = ((entity, metric, value, d << 32 | k, _written(text, unit) == params.base_unit)
               for d, k, (value, unit, text, entity, metric, _, _) in ctx.fields_where(
                   ("value", "unit", "text", "entity", "metric", "placeholder", "dimension"),
                   lambda value, unit, text, entity, metric, placeholder, dimension:
                       _usable_fields(placeholder, value, unit) and value > 0 and entity and metric
                       and _dimension_in(dimension, params)))
    slips = list(_slips(params, ctx, figures))
    # A page's clauses are indexed to look before a slip ("每人…"), one page at a time: slips in
    # document order, each page let go before the next (held for every page with a slip, they
    # took more memory than the documents).
    slips.sort(key=lambda slip: slip[:2])
    page: _Page | None = None
    for d, k, median, peers in slips:
        if page is None or page.doc is not documents[d]:
            page = _Page(documents[d])
        m = page.doc.metrics[k]
        if page.per_head(m, per_head):
            continue
        close = [documents[e].metrics[j] for e, j in peers]
        big = next((u for u in params.scaled_units if _unit_scale(u) == params.factor), None)
        suggestion = f"{_fmt(m.value)}{big}" if big else ""
        yield ctx.finding_at(
            rule, page.doc, m.start, m.end,
            evidence={"value": m.value, "peer_median": median, "ratio": round(median / m.value, 2),
                      "factor": params.factor, "peers": [p.value for p in close], "suggestion": suggestion},
            related=[ctx.related_metric(p, _note(ctx, "该单位同一指标", "the same metric of the same organisation"))
                     for p in close],
            fields={"suggestion": suggestion or "?"})


def _slips(params: Params, ctx: AuditContext, figures: Iterable[tuple[str, str, float, int, bool]]
           ) -> Iterator[tuple[int, int, float, list[tuple[int, int]]]]:
    """Every figure written in the base unit whose peers' median (the other figures of its entity
    and metric) is about `factor` times it: (document number, metric number, the median, the
    places of the three peers nearest the figure scaled up), from (entity, metric, value, place,
    in base unit) rows."""
    lo, hi = params.factor / params.tolerance, params.factor * params.tolerance
    for part in in_group_parts(ctx, figures, lambda figure: figure[:2]):
        groups: dict[tuple[str, str], _Group] = {}
        for entity, metric, value, where, in_base in part:
            group = groups.get((entity, metric)) or groups.setdefault((entity, metric), _Group())
            group.add(value, where, in_base)
        for group in groups.values():
            if len(group) < 2:
                continue
            group.index()
            for i in group.in_base:
                value = group.value(i)
                median = group.median_without(value)
                if lo <= median / value <= hi:
                    yield (*group.place(i), median, [group.place(j) for j in group.nearest(value * params.factor, i)])


class _Group:
    """The figures of one (entity, metric): each one's value and place, and whether it is written
    in the base unit; indexed (``index``) so that the median of all but one figure and the three
    figures nearest a value each cost a bisection, not a pass over the group (a group of
    thousands of figures made magnitude-slip quadratic). Members are numbered in audit order."""

    def __init__(self) -> None:
        self._values = array("d")
        self._places = array("q")  # document << 32 | metric number
        self.in_base = array("q")  # the members written in the base unit

    def add(self, value: float, where: int, in_base: bool) -> None:
        """A figure's value, its place (document << 32 | metric number), and whether it is in the base unit."""
        if in_base:
            self.in_base.append(len(self._values))
        self._values.append(value)
        self._places.append(where)

    def __len__(self) -> int:
        return len(self._values)

    def value(self, i: int) -> float:
        return self._values[i]

    def place(self, i: int) -> tuple[int, int]:
        """(document number, metric number) of member i."""
        return self._places[i] >> 32, self._places[i] & 0xFFFFFFFF

    def index(self) -> None:
        self.values = sorted(self._values)
        runs: dict[float, list[int]] = defaultdict(list)  # value -> members, ascending
        for i, value in enumerate(self._values):
            runs[value].append(i)
        self.run_values = sorted(runs)
        self.runs = [runs[v] for v in self.run_values]

    def median_without(self, value: float) -> float:
        """statistics.median of the values with one occurrence of `value` left out."""
        v, n = self.values, len(self.values) - 1
        gone = bisect_left(v, value)

        def at(k: int) -> float:
            return v[k] if k < gone else v[k + 1]

        return at(n // 2) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2

    def nearest(self, target: float, skip: int, k: int = 3) -> list[int]:
        """The k members other than `skip` nearest `target` in ratio, ties in member order:
        sorted(others, key=|log(value / target)|)[:k]. Distances grow away from `target` on
        either side, so runs of equal values are taken outward from it, the nearer side first."""
        def dist(j: int) -> float:
            return abs(math.log(self.run_values[j] / target)) if 0 <= j < len(self.runs) else math.inf

        out: list[int] = []
        left = bisect_left(self.run_values, target) - 1
        right = left + 1
        while len(out) < k:
            dl, dr = dist(left), dist(right)
            if dl == dr == math.inf:
                break
            if dl < dr:
                taken, left = self.runs[left], left - 1
            elif dr < dl:
                taken, right = self.runs[right], right + 1
            else:
                taken, left, right = sorted(self.runs[left] + self.runs[right]), left - 1, right + 1
            out.extend(j for j in taken if j != skip)
        return out[:k]


def _unit_scale(surface: str) -> float:
    return {"亿": 1e8, "万": 1e4, "千": 1e3}.get(surface[:1], 1.0)


_CHECKS = {
    "same-fact": _same_fact,
    "small-in-scale": _small_in_scale,
    "mixed-scale": _mixed_scale,
    "bare-scale": _bare_scale,
    "magnitude-slip": _magnitude_slip,
}
