"""arithmetic: figures in one sentence that contradict each other, and metric-level table checks.

One kind, several behaviours chosen by `check:`:

- parts-sum     a stated total and its parts in one sentence that do not add up. Three clear shapes:
                "全市有工会组织298家，独立工会287家，联合工会11家" (an enumeration of sibling types:
                the parts' labels share a head word with the total, none starts with a verb such as
                新建), "共X家（A a家，B b家）" (a bracket), and "共X家，其中A a家，B b家". A 其中 list
                may be partial, so it is flagged only when its parts EXCEED the total, and never for
                people (女职工 and 农民工 overlap). Approximate figures (余/近/约) are never summed.
- per-head      count × per-head amount against a stated total, only where the sentence says
                每人/人均/每户…: "为14名…每人发放500元，共计7000元".
- share-over-100 a percentage above 100 that is not a growth or completion rate (增长, 同比, 完成率 …).
- implied-count "发展党员21人，一线职工占78%": the share names no base of its own, so its base is the
                count just before it; no whole number of the 21 gives 78% at the precision written
                (16/21 = 76%, 17/21 = 81%), so the two figures cannot both be right.
- table         metric-level checks on the metrics table (ctx.metrics_frame()) expressed as pandera
                checks: `non-negative` values, `unit-allowed` (the unit is one metrics.yaml lists for
                the metric id). Each failing row is reported on its figure.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field

from ...findings import Finding
from ...metrics import Metric
from ..context import AuditContext
from ..model import Rule
from ..registry import register_kind
from ._common import Pattern, timed, vetted

if TYPE_CHECKING:  # pragma: no cover
    from ...pipeline import AnalysedDocument


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    check: Literal["parts-sum", "per-head", "share-over-100", "implied-count", "table"]
    total_cue: Pattern = Field(
        vetted(r"(?:共有|总共|共计|合计|总计|总数|全[市区县省州盟旗]\p{Han}{0,2}?有|^共|^有)"),
        description="parts-sum / per-head: words in the clause before a figure that make it a total")
    breakdown: Pattern = Field(vetted(r"^\s*[,，;；]?\s*(?:其中|包括)"), description="parts-sum: what opens a 其中 list")
    not_parts: Pattern = Field(
        vetted(r"^(?:新|撤|发展|成立|建立|组建|覆盖|涉及|惠及|发放|培训|开展|吸纳|参与|参加|举办|完成|实现)"),
        description="parts-sum: part labels starting like this are activities, not sibling types")
    per_head: Pattern = Field(vetted(r"(?:每人|人均|每户|户均|每名|每家|每个)\p{Han}{0,8}$"),
                              description="per-head: the words just before a per-head amount")
    not_share: Pattern = Field(
        vetted(r"(?:增长|增加|增幅|同比|环比|上升|提高|提升|上涨|涨幅|比上年|较上年|较去年|比去年|完成|超额|达成|执行|倍)"),
        description="share-over-100: words before a percentage that make it a growth or completion rate")
    share_of_own: Pattern = Field(vetted(r"^\p{Han}{1,12}?(?:占比|占)(?:约|达|为|达到)?$"),
                                  description="implied-count: a share with no base of its own (一线职工占78%)")
    checks: list[Literal["non-negative", "unit-allowed"]] = Field(
        default_factory=lambda: ["non-negative"], description="table: which metric-level checks to run")
    dimensions: list[str] = Field(default_factory=list, description="only these dimensions (empty: all)")


@register_kind("arithmetic", Params)
def check(rule: Rule, ctx: AuditContext) -> Iterable[Finding]:
    params: Params = rule.params  # type: ignore[assignment]
    if params.check == "table":
        return _table(rule, params, ctx)
    fn = _SENTENCE_CHECKS[params.check]
    return (f for doc in ctx.documents for f in fn(rule, params, ctx, _Page(doc)))


# ---------------------------------------------------------------- sentences and clauses of one page

@dataclass
class _Figure:
    m: Metric
    clause: int  # index of its clause in the page
    before: str  # its clause's text from the clause start (or the previous figure) to the figure


class _Page:
    def __init__(self, doc: "AnalysedDocument"):
        self.doc = doc
        self.text = doc.norm.text
        self.sentences = doc.segmentation.sentences()
        self.clauses = [(c.start, c.end) for s in self.sentences for c in s.clauses]
        self._clause_starts = [s for s, _ in self.clauses]
        self._sentence_starts = [s.start for s in self.sentences]

    def clause_of(self, pos: int) -> int:
        return bisect_right(self._clause_starts, pos) - 1

    def by_sentence(self) -> Iterator[list[_Figure]]:
        """The figures of each sentence, in order, with their clause and the text before them."""
        groups: dict[int, list[Metric]] = {}
        for m in sorted(self.doc.metrics, key=lambda m: m.norm_start):
            i = bisect_right(self._sentence_starts, m.norm_start) - 1
            if i >= 0 and m.norm_start < self.sentences[i].end:
                groups.setdefault(i, []).append(m)
        for ms in groups.values():
            figures, previous_end, previous_clause = [], None, None
            for m in ms:
                c = self.clause_of(m.norm_start)
                start = self.clauses[c][0] if c >= 0 else m.norm_start
                if previous_clause == c and previous_end is not None:
                    start = max(start, previous_end)
                figures.append(_Figure(m, c, self.text[start:m.norm_start]))
                previous_end, previous_clause = m.norm_end, c
            yield figures

    def after(self, m: Metric, width: int = 6) -> str:
        return self.text[m.norm_end:m.norm_end + width]


def _exact(m: Metric) -> bool:
    return not m.placeholder and m.value is not None and m.approx is None and m.range_low is None


def _decimals(text: str) -> int:
    found = regex.search(r"[0-9]+(?:\.([0-9]+))?", text)
    return len(found.group(1)) if found and found.group(1) else 0


def _scale(m: Metric) -> float:
    """The scale the figure is written at, read from its text (28.74万元 → 10⁴)."""
    return 1e8 if "亿" in m.text else 1e4 if "万" in m.text else 1.0


def _written_unit(m: Metric) -> str:
    return ("亿" if "亿" in m.text else "万" if "万" in m.text else "") + (m.unit or "")


def _tolerance(figures: Iterable[Metric]) -> float:
    """Half a unit of the last written digit, per figure: 1.25万 + 0.5万 may round to 1.76万."""
    figures = list(figures)
    return sum(0.5 * 10 ** -_decimals(f.text) * _scale(f) for f in figures if _decimals(f.text)) + 1e-6


def _note(ctx: AuditContext, zh: str, en: str) -> str:
    """A related location's note in the report language."""
    return en if ctx.lang == "en" else zh


def _flat(text: str) -> str:
    """A figure's text for a message, without the page's hard line breaks."""
    return "".join(text.split())


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- parts-sum

def _parts_sum(rule: Rule, params: Params, ctx: AuditContext, page: _Page) -> Iterator[Finding]:
    total_cue = timed(params.total_cue, ctx.regex_timeout)
    breakdown = timed(params.breakdown, ctx.regex_timeout)
    not_parts = timed(params.not_parts, ctx.regex_timeout)
    for figures in page.by_sentence():
        for i, total in enumerate(figures):
            t = total.m
            if not _exact(t) or (params.dimensions and t.dimension not in params.dimensions):
                continue
            if not total_cue.search(page.text[page.clauses[total.clause][0]:t.norm_start]):
                continue
            follow = figures[i + 1:]
            if not follow:
                continue
            gap = page.text[t.norm_end:follow[0].m.norm_start]
            if regex.match(r"^\s*[(（]", gap):
                mode, parts = "bracket", _bracketed(page, t, follow)
            elif breakdown.search(gap) or breakdown.search(follow[0].before):
                mode, parts = "breakdown", _same_unit_run(t, follow)
            else:
                mode, parts = "enumeration", _siblings(t, total.before, follow, total_cue, not_parts)
            if len(parts) < 2 or not all(_exact(p) for p in parts):
                continue
            stated, summed = t.value, sum(p.value for p in parts)
            if abs(stated - summed) <= _tolerance([t, *parts]):
                continue
            if mode == "breakdown" and (summed < stated or t.dimension == "people"):
                continue  # a 其中 list may be partial, and groups of people overlap
            yield ctx.finding_at(
                rule, page.doc, t.start, t.end,
                evidence={"total": stated, "parts": [p.value for p in parts], "sum": summed, "form": mode},
                related=[ctx.related_metric(p, _note(ctx, "分项", "a part")) for p in parts],
                fields={"parts_text": " + ".join(_flat(p.text) for p in parts), "sum_text": _fmt(summed / _scale(t))
                        + _written_unit(t)})


def _comparable(a: Metric, b: Metric) -> bool:
    return a.dimension == b.dimension and a.unit == b.unit


def _bracketed(page: _Page, total: Metric, follow: list[_Figure]) -> list[Metric]:
    close = regex.compile(r"[)）]").search(page.text, total.norm_end)
    end = close.start() if close else total.norm_end
    return [f.m for f in follow if f.m.norm_start < end and _comparable(total, f.m)]


def _same_unit_run(total: Metric, follow: list[_Figure]) -> list[Metric]:
    parts = []
    for f in follow:
        if not _comparable(total, f.m):
            break
        parts.append(f.m)
    return parts


def _siblings(total: Metric, total_before: str, follow: list[_Figure], total_cue: regex.Pattern,
              not_parts: regex.Pattern) -> list[Metric]:
    """Figures in the clauses after the total, one each, whose labels are sibling types of the total's
    label: 工会组织298家 → 独立工会287家, 联合工会11家 (heads 工会)."""
    head = total_cue.split(total_before)[-1] if total_before else ""
    head = total.label or head
    parts: list[Metric] = []
    clauses_seen = set()
    for f in follow:
        label = f.m.label or f.before.strip()
        if (not _comparable(total, f.m) or f.clause in clauses_seen or total_cue.search(f.before)
                or not label or not_parts.search(label)):
            break
        clauses_seen.add(f.clause)
        parts.append(f.m)
    if len(parts) < 2:
        return []
    labels = [p.label or "" for p in parts]
    suffix = _common_suffix(labels)
    if len(suffix) < 2 or suffix not in head or len(set(labels)) != len(labels):
        return []
    return parts


def _common_suffix(words: list[str]) -> str:
    if not words:
        return ""
    reversed_words = [w[::-1] for w in words]
    out = []
    for chars in zip(*reversed_words):
        if len(set(chars)) != 1:
            break
        out.append(chars[0])
    return "".join(out)[::-1]


# ---------------------------------------------------------------- per-head

def _per_head(rule: Rule, params: Params, ctx: AuditContext, page: _Page) -> Iterator[Finding]:
    per_head = timed(params.per_head, ctx.regex_timeout)
    total_cue = timed(params.total_cue, ctx.regex_timeout)
    for figures in page.by_sentence():
        for i, f in enumerate(figures):
            each = f.m
            if each.dimension != "money" or not _exact(each) or not per_head.search(f.before):
                continue
            counts = [g.m for g in figures[:i] if g.m.dimension in ("people", "organisations")
                      and not (g.m.unit or "").endswith("人次")]
            totals = [g.m for g in figures[i + 1:] if g.m.dimension == "money" and total_cue.search(g.before)]
            if not counts or not totals:
                continue
            count, total = counts[-1], totals[0]
            if not (_exact(count) and _exact(total)):
                continue
            implied = count.value * each.value
            if abs(implied - total.value) <= _tolerance([total]) + 0.5 * count.value * 10 ** -_decimals(each.text) \
                    * _scale(each):
                continue
            yield ctx.finding_at(
                rule, page.doc, total.start, total.end,
                evidence={"count": count.value, "per_head": each.value, "implied": implied, "stated": total.value},
                related=[ctx.related_metric(count, _note(ctx, "人数", "the count")),
                         ctx.related_metric(each, _note(ctx, "每人金额", "the per-head amount"))],
                fields={"count_text": _flat(count.text), "each_text": _flat(each.text),
                        "implied_text": _fmt(implied) + "元"})


# ---------------------------------------------------------------- share-over-100

def _share_over_100(rule: Rule, params: Params, ctx: AuditContext, page: _Page) -> Iterator[Finding]:
    growth = timed(params.not_share, ctx.regex_timeout)
    for figures in page.by_sentence():
        for f in figures:
            m = f.m
            if m.unit != "%" or m.placeholder or m.value is None or m.value <= 100:
                continue
            clause_start = page.clauses[f.clause][0] if f.clause >= 0 else m.norm_start
            if growth.search(page.text[clause_start:m.norm_start]) or growth.match(page.after(m).lstrip("的")):
                continue
            yield ctx.finding_at(rule, page.doc, m.start, m.end, evidence={"percent": m.value})


# ---------------------------------------------------------------- implied-count

def _implied_count(rule: Rule, params: Params, ctx: AuditContext, page: _Page) -> Iterator[Finding]:
    own = timed(params.share_of_own, ctx.regex_timeout)
    for figures in page.by_sentence():
        for i, f in enumerate(figures):
            pct = f.m
            if pct.unit != "%" or not _exact(pct) or not own.match(f.before.strip()) or i == 0:
                continue
            prev = figures[i - 1]
            base = prev.m
            if prev.clause == f.clause or prev.clause != f.clause - 1:
                continue  # the base must close the clause just before the share
            if base.dimension != "people" or (base.unit or "").endswith("人次") or not _exact(base):
                continue
            if not base.value.is_integer() or base.value < 1:
                continue
            d = _decimals(pct.text)
            half = 0.5 * 10 ** -d + 1e-9
            n = int(base.value)
            lo = math.ceil((pct.value - half) * n / 100 - 1e-9)
            hi = math.floor((pct.value + half) * n / 100 + 1e-9)
            if max(lo, 0) <= min(hi, n):
                continue  # some whole count gives this share at the written precision
            implied = round(base.value * pct.value / 100, 2)
            below, above = math.floor(base.value * pct.value / 100), math.ceil(base.value * pct.value / 100)
            yield ctx.finding_at(
                rule, page.doc, pct.start, pct.end,
                evidence={"base": base.value, "percent": pct.value, "implied": implied},
                related=[ctx.related_metric(base, _note(ctx, "比例所依据的人数", "the count the share refers to"))],
                fields={"base_text": _flat(base.text), "below": below, "above": above,
                        "below_pct": _fmt(round(100 * below / base.value, d + 1)),
                        "above_pct": _fmt(round(100 * above / base.value, d + 1))})


# ---------------------------------------------------------------- table checks (pandera)

def _table(rule: Rule, params: Params, ctx: AuditContext) -> Iterator[Finding]:
    metrics = ctx.metrics()
    if not metrics:
        return
    import pandera.pandas as pa

    from ...extract.taxonomy import load_taxonomy

    frame = ctx.metrics_frame()
    taxonomy = load_taxonomy()
    allowed = {mid: {_strip_scale(u) for u in d.units} | set(d.units) for mid, d in taxonomy.by_id.items()}
    checks = {
        "non-negative": pa.Check(lambda df: df["value"].isna() | (df["value"] >= 0) | (df["kind"] == "number"),
                                 name="non-negative"),
        "unit-allowed": pa.Check(lambda df: _units_ok(df, allowed), name="unit-allowed"),
    }
    schema = pa.DataFrameSchema(checks=[checks[c] for c in params.checks])
    try:
        schema.validate(frame, lazy=True)
        return
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
    docs = {doc.path: doc for doc in ctx.documents}
    seen: set[tuple[int, str]] = set()
    for _, row in failures.iterrows():
        index, name = row.get("index"), str(row.get("check"))
        if index is None or (isinstance(index, float) and math.isnan(index)) or (int(index), name) in seen:
            continue
        seen.add((int(index), name))
        m = metrics[int(index)]
        if params.dimensions and m.dimension not in params.dimensions:
            continue
        allowed_units = sorted(taxonomy.by_id[m.metric].units) if m.metric in taxonomy.by_id else []
        yield ctx.finding_at(rule, docs[m.document], m.start, m.end,
                             evidence={"check": name, "value": m.value, "unit": m.unit, "metric": m.metric,
                                       "allowed": allowed_units},
                             fields={"allowed_text": "、".join(allowed_units)})


def _units_ok(df, allowed: dict[str, set[str]]):
    """The unit-allowed check over the table, column-wise (a row-wise DataFrame.apply cost more
    than the rest of the table checks together)."""
    import pandas as pd

    ok = [_unit_ok(m, u, s, allowed) for m, u, s in zip(df["metric"], df["unit"], df["surface_unit"])]
    return pd.Series(ok, index=df.index, dtype=bool)


def _unit_ok(metric, unit, surface, allowed: dict[str, set[str]]) -> bool:
    metric, unit, surface = _text(metric), _text(unit), _text(surface)
    if metric is None or metric not in allowed or unit is None:
        return True
    return unit in allowed[metric] or (surface is not None and _strip_scale(surface) in allowed[metric])


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _strip_scale(unit: str) -> str:
    return unit[1:] if unit[:1] in ("万", "亿", "千") and len(unit) > 1 else unit


_SENTENCE_CHECKS = {
    "parts-sum": _parts_sum,
    "per-head": _per_head,
    "share-over-100": _share_over_100,
    "implied-count": _implied_count,
}
