"""yoy: a figure against the same organisation's figure for the year before.

Figures are matched on (entity, metric id, unit key) in consecutive years, whatever documents they
come from. Two behaviours, chosen by `check:`:

- change   this year / last year outside the metric's band (rules/metrics.yaml `band`, default
           [1/3, 3]). When an entity-year has several figures of one metric, each current figure is
           compared with the NEAREST figure of the year before (smallest |log ratio|) and flagged only
           if even that one is outside the band AND the two years' figures do not overlap at all
           (every figure of one year below every figure of the other). Several figures of one
           metric in a year are usually items of a list (慰问品价值 of three programmes), not the
           year's total: a sum would be wrong whenever a figure repeats or is a subtotal of another,
           and item-to-item ratios are noise. Nearest-match never flags a figure that has a
           plausible counterpart, which is what an editor wants from a "look at this" check.
- copied   a figure identical to one of the year before, for metrics that are not `stable`
           (an identical relief total two years running is usually last year's page copied). Exact
           values only, and only when neither figure is approximate (余/近/多/约): rounded figures
           coincide by chance, so they are skipped rather than reported at a lower severity.

Approximate figures take part in `change` with their bounds (30余万元 is 30万–40万): a change is
reported only when no reading of the two figures falls inside the band. Figures below `min_value`
(counts of 1–9 where a ratio is noise) are never compared, and a copy is reported only for figures
with at least `min_digits` significant digits: 84 or 28.74万元 repeating is telling, 3万元 or 500人
repeating is chance. `skip_metrics` leaves out catch-all metrics (special_funds: 投入资金 of
different programmes each year) whose ratios say nothing.

The comparison itself works on plain `Observation`s, not on Metrics, so figures of earlier years
read from an archive (the history store) can be fed into `year_changes` / `copied_figures` next to
the audited ones; only observations whose `source` is a Metric of the audit produce findings.
When the audit has a history store (`ctx.history`), the same organisations' and metrics' archived
figures are read in one batched query and join the comparison.

Further back: when the year before is missing, the latest earlier year within `max_gap` years is
the baseline and the band widens to band**gap. With `robust_min_years` or more earlier years
(within `robust_years`), `change` uses a robust band instead of the fixed ratio: the median of
the years' figures (each year by the median of its own) ± k·1.4826·MAD on a log scale, with a
floor on the spread. Evidence names the strategy, the baseline and the years it came from.

The rule is three steps that engines may run apart: `observations` (figures → Observations),
`compare` (pure: Observations → Change / Copy, series by series) and `report` (Change / Copy →
Findings, with the audit's documents at hand). The local engine runs them in one `check`; the
Spark engine builds the observations and compares them on its executors, one (entity, metric,
unit) series per group, and reports on the driver.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...extract.taxonomy import load_taxonomy
from ...findings import Finding, Related
from ...metrics import Metric
from ..context import AuditContext
from ..model import Rule
from ..registry import register_kind
from ._parts import in_group_parts


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    check: Literal["change", "copied"]
    band_default: tuple[float, float] = Field(
        (1 / 3, 3.0), description="allowed ratio this year / last year for a metric id the taxonomy does not define")
    min_value: float = Field(10, ge=0, description="figures below this are not compared (both years)")
    min_digits: int = Field(2, ge=1, description="copied: round figures with fewer significant digits (3万元, "
                                                  "500人) repeat by chance and are not reported")
    dimensions: list[str] = Field(default_factory=list, description="only these dimensions (empty: all)")
    skip_metrics: list[str] = Field(default_factory=list,
                                    description="metric ids not compared (catch-alls such as special_funds, whose "
                                                "figures are different programmes from year to year)")
    max_gap: int = Field(1, ge=1, le=10, description="compare with the latest earlier year at most this many years "
                                                     "back when the year before is missing (the band widens to "
                                                     "band**gap)")
    robust_min_years: int = Field(3, ge=2, description="change: with this many earlier years, a robust band (median "
                                                       "and MAD of their figures) replaces the fixed ratio")
    robust_years: int = Field(6, ge=2, description="change: the robust band reads the earlier years within this many "
                                                   "years of the current one")
    robust_k: float = Field(3.0, gt=0, description="change: the robust band is median ± k·1.4826·MAD (of log values)")
    robust_min_spread: float = Field(0.15, ge=0, description="change: the robust band's spread (log scale) never goes "
                                                             "below this: three equal years do not make every "
                                                             "change an outlier")

    @field_validator("band_default")
    @classmethod
    def _ordered(cls, band: tuple[float, float]) -> tuple[float, float]:
        if not 0 < band[0] <= 1 <= band[1]:
            raise ValueError("band_default must be [low, high] with 0 < low <= 1 <= high")
        return band


# ---------------------------------------------------------------- observations

@dataclass(frozen=True, slots=True)
class Observation:
    """One figure of one organisation for one year: what the comparison needs, and where it is from.

    `source` is the audited Metric, or for archive figures any object with document/start/end/text
    (a history row); `unit` is the unit key that must match across years (see `unit_key`).
    `low`/`high` bound an approximate figure (30余万元 is 30万–40万); they default to `value`."""

    entity: str
    metric: str
    year: int
    value: float
    unit: str
    approx: str | None = None
    source: Any = None
    low: float | None = None
    high: float | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.value if self.low is None else self.low, self.value if self.high is None else self.high)


def unit_key(m: Metric) -> str:
    """What must match for two figures to be comparable: 人 and 名 count the same thing, 人次 does
    not; 家/个/户 for organisations are the same count. Money is always in 元 (the base unit)."""
    return _unit_key(m.unit, m.dimension)


def _unit_key(unit: str | None, dimension: str | None) -> str:
    unit = unit or ""
    if unit.endswith("人次"):
        return "人次"
    if dimension in ("people", "organisations", "events", "items"):
        return dimension
    return unit or (dimension or "")


# A figure's fields an observation is made of, in the order ``_observation`` takes them.
_FIELDS = ("placeholder", "value", "entity", "metric", "year", "dimension", "unit", "approx", "range_low", "range_high")


def observations(metrics: Iterable[Metric]) -> list[Observation]:
    out = []
    for m in metrics:
        o = _observation(m, *(getattr(m, name) for name in _FIELDS))
        if o is not None:
            out.append(o)
    return out


def _observation(source: Any, placeholder: bool, value: float | None, entity: str | None, metric: str | None,
                 year: int | None, dimension: str | None, unit: str | None, approx: str | None,
                 low: float | None, high: float | None) -> Observation | None:
    if placeholder or value is None:  # an open range or an unfilled X has no value
        return None
    if not (entity and metric and year):
        return None
    if low is not None and high is None:
        high = math.inf  # 70%以上: open above
    return Observation(entity, metric, year, float(value), _unit_key(unit, dimension), approx, source, low, high)


def _groups(obs: Iterable[Observation]) -> dict[tuple[str, str, str], dict[int, list[Observation]]]:
    groups: dict[tuple[str, str, str], dict[int, list[Observation]]] = defaultdict(lambda: defaultdict(list))
    for o in obs:
        groups[(o.entity, o.metric, o.unit)][o.year].append(o)
    return groups


@dataclass(frozen=True)
class Change:
    """A figure outside its band. `fixed-band`: against the nearest figure of the latest earlier
    year (`gap` years back), ratio and band as ratios to it. `robust-band`: against the median of
    the earlier years' figures (`baseline`, over `baseline_years`), ratio and band as ratios to
    that median; `previous` is still the nearest figure of the latest earlier year."""

    current: Observation
    previous: Observation
    ratio: float
    band: tuple[float, float]
    strategy: str = "fixed-band"
    gap: int = 1
    baseline: float | None = None
    baseline_years: tuple[int, ...] = ()
    history: tuple[tuple[int, float], ...] = ()  # (year, that year's median figure) the band was read from


@dataclass(frozen=True)
class Copy:
    current: Observation
    previous: tuple[Observation, ...]


@dataclass(frozen=True)
class Robust:
    """The robust band: median ± k·1.4826·MAD of the log figures of at least `min_years` earlier
    years within `years` of the current one. Logs, because growth is multiplicative: doubling
    and halving are the same distance from the median."""

    min_years: int = 3
    years: int = 6
    k: float = 3.0
    min_spread: float = 0.15


def year_changes(obs: Iterable[Observation], band_for: Callable[[str], tuple[float, float]],
                 min_value: float = 0, *, max_gap: int = 1, robust: Robust | None = None) -> Iterator[Change]:
    """Every figure outside its band: the robust band when the history is long enough, else the
    metric's fixed band against its nearest counterpart of the latest earlier year (the year
    before, or up to `max_gap` years back when that year is missing)."""
    for (_, metric, _), years in _groups(obs).items():
        band = band_for(metric)
        positive = {y: [o for o in v if o.value > 0] for y, v in years.items()}
        for year, current in positive.items():
            if not current:
                continue
            earlier = sorted(y for y in positive if y < year and positive[y])
            if robust is not None:
                window = [y for y in earlier if year - y <= robust.years]
                if len(window) >= robust.min_years:
                    yield from _robust_changes(current, [positive[y] for y in window], robust, min_value)
                    continue
            base = next((y for y in reversed(earlier) if year - y <= max_gap), None)
            if base is None:
                continue
            gap = year - base
            yield from _fixed_changes(current, positive[base], (band[0] ** gap, band[1] ** gap), gap, min_value)


def _fixed_changes(current: list[Observation], previous: list[Observation], band: tuple[float, float], gap: int,
                   min_value: float) -> Iterator[Change]:
    # Several figures in a year are items of a list (two programmes' amounts), not the
    # year's total: such a year is flagged only when all its figures moved the same way.
    listed = len(current) > 1 or len(previous) > 1
    now, before = [c.value for c in current], [p.value for p in previous]
    apart = max(now) < min(before) or min(now) > max(before)
    for cur in current:
        nearest = _nearest(cur, previous)
        if min(cur.value, nearest.value) < min_value:
            continue
        ratio = cur.value / nearest.value
        if not _within(cur, nearest, band) and (apart or not listed):
            yield Change(cur, nearest, ratio, band, gap=gap)


def _nearest(cur: Observation, previous: Sequence[Observation]) -> Observation:
    return min(previous, key=lambda p: abs(math.log(cur.value / p.value)))


def _robust_changes(current: list[Observation], earlier: list[list[Observation]], robust: Robust,
                    min_value: float) -> Iterator[Change]:
    """Figures outside median ± k·MAD of the earlier years (each year counted once, by the median
    of its figures, so a year listing five items does not outvote the others)."""
    yearly = [(obs[0].year, _median([o.value for o in obs])) for obs in earlier]
    logs = [math.log(v) for _, v in yearly]
    center = _median(logs)
    spread = max(1.4826 * _median([abs(x - center) for x in logs]), robust.min_spread)
    baseline = math.exp(center)
    band = (math.exp(-robust.k * spread), math.exp(robust.k * spread))  # as ratios to the baseline
    lo, hi = baseline * band[0], baseline * band[1]
    below = [c.bounds[1] < lo for c in current]
    above = [c.bounds[0] > hi for c in current]
    listed_ok = len(current) == 1 or all(below) or all(above)  # items of a list: all moved out the same way
    for cur, out_low, out_high in zip(current, below, above):
        if min(cur.value, baseline) < min_value or not (out_low or out_high) or not listed_ok:
            continue
        yield Change(cur, _nearest(cur, earlier[-1]), cur.value / baseline, band, strategy="robust-band",
                     gap=cur.year - yearly[-1][0], baseline=baseline, baseline_years=tuple(y for y, _ in yearly),
                     history=tuple(yearly))


def _median(values: Sequence[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _within(cur: Observation, prev: Observation, band: tuple[float, float]) -> bool:
    """Whether some reading of the two figures gives a ratio inside the band: 11.5万 against
    3万余 (3万–4万) may be 2.9×, so it is not reported."""
    (c_lo, c_hi), (p_lo, p_hi) = cur.bounds, prev.bounds
    if p_lo <= 0:
        return True
    lowest = c_lo / p_hi if p_hi not in (0, math.inf) else 0.0
    highest = c_hi / p_lo
    return lowest <= band[1] and highest >= band[0]


def significant_digits(value: float) -> int:
    """28.74万 (287400) → 4, 84 → 2, 3万 (30000) → 1."""
    digits = f"{abs(value):.6f}".replace(".", "").strip("0")
    return len(digits)


def copied_figures(obs: Iterable[Observation], is_stable: Callable[[str], bool],
                   min_value: float = 0, min_digits: int = 1, *, max_gap: int = 1) -> Iterator[Copy]:
    """Every exact figure that repeats one of the latest earlier year (the year before, or up to
    `max_gap` years back when that year is missing), for metrics that should move."""
    for (_, metric, _), years in _groups(obs).items():
        if is_stable(metric):
            continue
        for year, current in years.items():
            base = next((y for y in range(year - 1, year - max_gap - 1, -1) if years.get(y)), year - 1)
            previous = [p for p in years.get(base, ()) if p.approx is None]
            for cur in current:
                if cur.approx is not None or cur.value < min_value or significant_digits(cur.value) < min_digits:
                    continue
                same = tuple(p for p in previous if math.isclose(p.value, cur.value, rel_tol=1e-9, abs_tol=1e-9))
                if same:
                    yield Copy(cur, same)


# ---------------------------------------------------------------- the rule

@register_kind("yoy", Params)
def check(rule: Rule, ctx: AuditContext) -> Iterable[Finding]:
    params: Params = rule.params  # type: ignore[assignment]
    # Each observation's source is at first only its place (document << 32 | metric number): a
    # Metric is made for the figures a finding names (``_with_metrics``). An observation with a
    # Metric each took ~750 bytes a figure, 430 MB at 1 GB of text.
    made = (_observation(d << 32 | k, *fields) for d, k, fields in ctx.fields_where(
        _FIELDS, lambda placeholder, value, entity, metric, year, dimension, *_: compared(params, metric, dimension)))
    return report(rule, ctx, (_with_metrics(ctx, item) for part in in_group_parts(ctx, _with_archived(params, ctx, made), _series)
                              for item in compare(params, part)))


def _series(o: Observation) -> tuple[str, str, str]:
    return o.entity, o.metric, o.unit


def _with_archived(params: Params, ctx: AuditContext, made: Iterable[Observation | None]) -> Iterator[Observation]:
    """The audited observations, then, with a history store, the archived figures of their
    (entity, metric) series, read in one query once the audited ones are known. Compared a part
    of whole series at a time (``in_group_parts``): ``compare`` works series by series, so the
    parts find what the whole finds, and an archive's figures are never all held at once."""
    series: set[tuple[str, str]] = set()
    span: tuple[int, int] | None = None  # of the audited figures' years
    for o in made:
        if o is None:
            continue
        yield o
        if ctx.history is not None:
            series.add((o.entity, o.metric))
            span = (o.year, o.year) if span is None else (min(span[0], o.year), max(span[1], o.year))
    if series and span is not None:
        yield from archived(params, ctx, series, span)


def _with_metrics(ctx: AuditContext, item: "Change | Copy") -> "Change | Copy":
    """`item` with the places its observations hold as sources made into the audit's Metrics."""
    from dataclasses import replace

    def made(o: Observation) -> Observation:
        if not isinstance(o.source, int):
            return o
        return replace(o, source=ctx.documents[o.source >> 32].metrics[o.source & 0xFFFFFFFF])

    if isinstance(item, Change):
        return replace(item, current=made(item.current), previous=made(item.previous))
    return replace(item, current=made(item.current), previous=tuple(map(made, item.previous)))


def compared(params: Params, metric: str | None, dimension: str | None) -> bool:
    """Whether a rule compares figures of this metric id and dimension (its `dimensions` and
    `skip_metrics`). Takes the two fields rather than a Metric: the Spark engine filters
    observation rows with it."""
    return (not params.dimensions or dimension in params.dimensions) and metric not in params.skip_metrics


def compare(params: Params, obs: Iterable[Observation]) -> Iterator[Change | Copy]:
    """What the rule finds among these observations: changes beyond the band (`change`) or copied
    figures (`copied`), with the taxonomy's bands and stable metrics. Pure and series by series,
    so an engine may call it on each (entity, metric, unit) series apart (the Spark engine does,
    in a grouped map) and get what one call over every observation gives."""
    if params.check == "change":
        return year_changes(obs, _taxonomy_band(params), params.min_value, max_gap=params.max_gap,
                            robust=_robust(params))
    return copied_figures(obs, _taxonomy_stable(), params.min_value, params.min_digits, max_gap=params.max_gap)


def report(rule: Rule, ctx: AuditContext, found: Iterable[Change | Copy]) -> Iterator[Finding]:
    """The findings of `compare`'s results whose current figure is a Metric of the audit (an
    archived figure is context, never a finding), with messages, related places and baseline
    notes. Every engine renders through here, so their findings are the same."""
    params: Params = rule.params  # type: ignore[assignment]
    docs = {doc.path: doc for doc in ctx.documents}
    for item in found:
        cur = item.current.source
        if not isinstance(cur, Metric) or cur.document not in docs:
            continue
        if isinstance(item, Change):
            yield _change_finding(rule, params, ctx, docs[cur.document], item)
        else:
            yield _copy_finding(rule, ctx, docs[cur.document], item)


def archived(params: Params, ctx: AuditContext, series: set[tuple[str, str]],
             years: tuple[int, int]) -> list[Observation]:
    """Figures of the given (entity, metric) series from the history store (earlier pages), as
    observations whose source is the archived place: context for the comparison, never a
    finding. `years` spans the audited figures' years; the archive is read as far back as the
    robust band or the gap may look. One batched query."""
    from dataclasses import replace

    from ...history.store import Exclusion

    back = max(params.max_gap, params.robust_years)  # the same window for every yoy rule: one query, shared
    rows = ctx.history.earlier_figures(series, (years[0] - back, years[1]), Exclusion.of(ctx.documents))
    where = {id(m): place for m, place in rows}
    kept = [m for m, _ in rows if compared(params, m.metric, m.dimension)]
    return [replace(o, source=where[id(o.source)]) for o in observations(kept)]


def _taxonomy_band(params: Params) -> Callable[[str], tuple[float, float]]:
    taxonomy = load_taxonomy()

    def band_for(metric: str) -> tuple[float, float]:
        m = taxonomy.by_id.get(metric)
        return tuple(m.band) if m is not None else params.band_default  # type: ignore[return-value]

    return band_for


def _taxonomy_stable() -> Callable[[str], bool]:
    taxonomy = load_taxonomy()
    return lambda metric: bool(taxonomy.by_id[metric].stable) if metric in taxonomy.by_id else False


def _robust(params: Params) -> Robust:
    return Robust(params.robust_min_years, params.robust_years, params.robust_k, params.robust_min_spread)


def _change_finding(rule: Rule, params: Params, ctx: AuditContext, doc: Any, change: Change) -> Finding:
    """A change beyond the band, on the current figure of `doc`."""
    cur = change.current.source
    prev = change.previous
    lo, hi = change.band
    evidence = {
        "previous": prev.value, "current": change.current.value, "ratio": round(change.ratio, 3),
        "band": [round(lo, 4), round(hi, 4)], "band_kind": "ratio", "previous_year": prev.year,
        "current_year": change.current.year, "strategy": change.strategy, "match": "nearest",
        "metric": cur.metric, "gap": change.gap, "baseline": prev.value, "baseline_year": prev.year,
    }
    if change.strategy == "robust-band":
        # The band as values of the current year (what the chart draws), and where it came from.
        evidence.update({
            "band": [round(change.baseline * lo, 4), round(change.baseline * hi, 4)], "band_kind": "absolute",
            "ratio_band": [round(lo, 4), round(hi, 4)], "baseline": round(change.baseline, 4),
            "baseline_year": None, "baseline_years": [change.baseline_years[0], change.baseline_years[-1]],
            "history": [[y, round(v, 4)] for y, v in change.history], "match": "median",
            "method": f"median ± {params.robust_k:g}·1.4826·MAD of log values",
        })
    return ctx.finding_at(rule, doc, cur.start, cur.end, evidence=evidence,
                          related=_related(ctx, [prev], _previous_note(ctx, change.current.year, prev.year)),
                          fields={"previous_text": _text_of(prev), "times": _times(change.ratio),
                                  "band_text": f"{_times(lo)}–{_times(hi)}",
                                  "baseline_text": _baseline_text(ctx, change)})


def _baseline_text(ctx: AuditContext, change: Change) -> str:
    """What the figure is compared with, for the message: the year before, an earlier year when
    that one is missing, or the median of several years."""
    prev = change.previous
    if change.strategy == "robust-band":
        first, last = change.baseline_years[0], change.baseline_years[-1]
        median = _value_text(change.baseline, change.current)
        return _note(ctx, f"{first}–{last}年{len(change.baseline_years)}个年度的中位数（{median}）",
                     f"the median of {len(change.baseline_years)} years {first}–{last} ({median})")
    if change.gap == 1:
        return _note(ctx, f"上一年（{prev.year}年“{_text_of(prev)}”）",
                     f"the year before ({prev.year}: “{_text_of(prev)}”)")
    return _note(ctx, f"{prev.year}年（此前最近有数据的一年，“{_text_of(prev)}”）",
                 f"{prev.year} (the latest earlier year on record: “{_text_of(prev)}”)")


def _value_text(value: float, like: Observation) -> str:
    """A computed value (a median) in the unit of an audited figure: 28.74万元-style for money."""
    unit = getattr(like.source, "unit", None) or ""
    if unit == "元" and value >= 1e4:
        return f"{value / 1e4:.2f}".rstrip("0").rstrip(".") + "万元"
    return f"{value:.2f}".rstrip("0").rstrip(".") + unit


def _previous_note(ctx: AuditContext, year: int, previous_year: int) -> str:
    if year - previous_year == 1:
        return _note(ctx, "上一年的数字", "the figure the year before")
    return _note(ctx, f"{previous_year}年的数字（此前最近有数据的一年）", f"the figure of {previous_year} (latest on record)")


def _copy_finding(rule: Rule, ctx: AuditContext, doc: Any, copy: Copy) -> Finding:
    """A figure identical to one of the latest earlier year, on the current figure of `doc`."""
    cur = copy.current.source
    prev = copy.previous[0]
    gap = copy.current.year - prev.year
    evidence = {
        "previous": prev.value, "current": copy.current.value, "previous_year": prev.year,
        "current_year": copy.current.year, "metric": cur.metric, "gap": gap,
    }
    when = (_note(ctx, f"上一年（{prev.year}年）", f"the year before ({prev.year})") if gap == 1 else
            _note(ctx, f"{prev.year}年（此前最近有数据的一年）", f"{prev.year} (the latest earlier year on record)"))
    note = (_note(ctx, "上一年相同的数字", "the identical figure the year before") if gap == 1 else
            _note(ctx, f"{prev.year}年相同的数字", f"the identical figure of {prev.year}"))
    return ctx.finding_at(rule, doc, cur.start, cur.end, evidence=evidence, related=_related(ctx, copy.previous, note),
                          fields={"previous_text": _text_of(prev), "when": when})


def _note(ctx: AuditContext, zh: str, en: str) -> str:
    """A related location's note in the report language."""
    return en if ctx.lang == "en" else zh


def _related(ctx: AuditContext, previous: Iterable[Observation], note: str) -> list[Related]:
    out = []
    for p in previous:
        src = p.source
        if isinstance(src, Metric):
            out.append(ctx.related_metric(src, note))
        elif src is not None and all(hasattr(src, k) for k in ("document", "start", "end", "text")):
            out.append(Related(src.document, src.start, src.end, src.text, note))
    return out


def _text_of(o: Observation) -> str:
    text = getattr(o.source, "text", None)
    return "".join(text.split()) if text else f"{o.value:g}"


def _times(ratio: float) -> str:
    return f"{ratio:.2f}".rstrip("0").rstrip(".") if ratio >= 1 else f"{ratio:.3f}".rstrip("0").rstrip(".")
