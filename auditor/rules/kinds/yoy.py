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

    @field_validator("band_default")
    @classmethod
    def _ordered(cls, band: tuple[float, float]) -> tuple[float, float]:
        if not 0 < band[0] <= 1 <= band[1]:
            raise ValueError("band_default must be [low, high] with 0 < low <= 1 <= high")
        return band


# ---------------------------------------------------------------- observations

@dataclass(frozen=True)
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
    unit = m.unit or ""
    if unit.endswith("人次"):
        return "人次"
    if m.dimension in ("people", "organisations", "events", "items"):
        return m.dimension
    return unit or (m.dimension or "")


def observations(metrics: Iterable[Metric]) -> list[Observation]:
    out = []
    for m in metrics:
        if m.placeholder or m.value is None:  # an open range or an unfilled X has no value
            continue
        if not (m.entity and m.metric and m.year):
            continue
        low, high = m.range_low, m.range_high
        if low is not None and high is None:
            high = math.inf  # 70%以上: open above
        out.append(Observation(m.entity, m.metric, m.year, float(m.value), unit_key(m), m.approx, m, low, high))
    return out


def _groups(obs: Iterable[Observation]) -> dict[tuple[str, str, str], dict[int, list[Observation]]]:
    groups: dict[tuple[str, str, str], dict[int, list[Observation]]] = defaultdict(lambda: defaultdict(list))
    for o in obs:
        groups[(o.entity, o.metric, o.unit)][o.year].append(o)
    return groups


@dataclass(frozen=True)
class Change:
    current: Observation
    previous: Observation
    ratio: float
    band: tuple[float, float]


@dataclass(frozen=True)
class Copy:
    current: Observation
    previous: tuple[Observation, ...]


def year_changes(obs: Iterable[Observation], band_for: Callable[[str], tuple[float, float]],
                 min_value: float = 0) -> Iterator[Change]:
    """Every figure whose nearest counterpart of the year before is outside the metric's band."""
    for (_, metric, _), years in _groups(obs).items():
        band = band_for(metric)
        for year, current in years.items():
            previous = [p for p in years.get(year - 1, ()) if p.value > 0]
            if not previous:
                continue
            current = [c for c in current if c.value > 0]
            if not current:
                continue
            # Several figures in a year are items of a list (two programmes' amounts), not the
            # year's total: such a year is flagged only when all its figures moved the same way.
            listed = len(current) > 1 or len(previous) > 1
            now, before = [c.value for c in current], [p.value for p in previous]
            apart = max(now) < min(before) or min(now) > max(before)
            for cur in current:
                nearest = min(previous, key=lambda p: abs(math.log(cur.value / p.value)))
                if min(cur.value, nearest.value) < min_value:
                    continue
                ratio = cur.value / nearest.value
                if not _within(cur, nearest, band) and (apart or not listed):
                    yield Change(cur, nearest, ratio, band)


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
                   min_value: float = 0, min_digits: int = 1) -> Iterator[Copy]:
    """Every exact figure that repeats one of the year before, for metrics that should move."""
    for (_, metric, _), years in _groups(obs).items():
        if is_stable(metric):
            continue
        for year, current in years.items():
            previous = [p for p in years.get(year - 1, ()) if p.approx is None]
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
    metrics = [m for m in ctx.metrics() if (not params.dimensions or m.dimension in params.dimensions)
               and m.metric not in params.skip_metrics]
    obs = observations(metrics)
    if params.check == "change":
        return _report_changes(rule, params, ctx, obs)
    return _report_copies(rule, params, ctx, obs)


def _taxonomy_band(params: Params) -> Callable[[str], tuple[float, float]]:
    taxonomy = load_taxonomy()

    def band_for(metric: str) -> tuple[float, float]:
        m = taxonomy.by_id.get(metric)
        return tuple(m.band) if m is not None else params.band_default  # type: ignore[return-value]

    return band_for


def _taxonomy_stable() -> Callable[[str], bool]:
    taxonomy = load_taxonomy()
    return lambda metric: bool(taxonomy.by_id[metric].stable) if metric in taxonomy.by_id else False


def _report_changes(rule: Rule, params: Params, ctx: AuditContext, obs: Sequence[Observation]) -> Iterator[Finding]:
    docs = {doc.path: doc for doc in ctx.documents}
    for change in year_changes(obs, _taxonomy_band(params), params.min_value):
        cur = change.current.source
        if not isinstance(cur, Metric) or cur.document not in docs:
            continue  # an archive figure: context, never a finding
        prev = change.previous
        lo, hi = change.band
        evidence = {
            "previous": prev.value, "current": change.current.value, "ratio": round(change.ratio, 3),
            "band": [round(lo, 4), round(hi, 4)], "previous_year": prev.year, "current_year": change.current.year,
            "strategy": "fixed-band", "match": "nearest", "metric": cur.metric,
        }
        yield ctx.finding_at(rule, docs[cur.document], cur.start, cur.end, evidence=evidence,
                             related=_related(ctx, [prev], _note(ctx, "上一年的数字", "the figure the year before")),
                             fields={"previous_text": _text_of(prev), "times": _times(change.ratio),
                                     "band_text": f"{_times(lo)}–{_times(hi)}"})


def _report_copies(rule: Rule, params: Params, ctx: AuditContext, obs: Sequence[Observation]) -> Iterator[Finding]:
    docs = {doc.path: doc for doc in ctx.documents}
    for copy in copied_figures(obs, _taxonomy_stable(), params.min_value, params.min_digits):
        cur = copy.current.source
        if not isinstance(cur, Metric) or cur.document not in docs:
            continue
        prev = copy.previous[0]
        evidence = {
            "previous": prev.value, "current": copy.current.value, "previous_year": prev.year,
            "current_year": copy.current.year, "metric": cur.metric,
        }
        yield ctx.finding_at(rule, docs[cur.document], cur.start, cur.end, evidence=evidence,
                             related=_related(ctx, copy.previous,
                                              _note(ctx, "上一年相同的数字", "the identical figure the year before")),
                             fields={"previous_text": _text_of(prev)})


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
