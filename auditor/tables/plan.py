"""Rules → row checks on the canonical table frame, in a form both engines compile.

A TableCheck is one expectation: a test on one frame column (``not_null``, ``matches`` a regex,
``between`` bounds, ``in_set``, ``not_in_set``) for the rows that satisfy ``where`` (a conjunction
of simple conditions). compile_pandera.py turns each into a pandera Check, compile_gx.py into a
Great Expectations expectation with a ``row_condition``; a row that fails is a finding of the rule.
Null cells pass every test but ``not_null`` (as in GX), rows outside ``where`` are not tested.

What each rule kind means on a table:

placeholder  every text cell (entity, label, metric, unit, and the year and value cells as written)
             must not hold a placeholder: the rule's patterns and terms, unless an ``allow`` pattern
             matches in the same cell (one regex, ``matches``). Required cells (entity, year, value,
             unit, and label or metric) must not be empty (``not_null``).
unit         small-in-scale: a figure in a scaled unit (万元) must be at least ``threshold`` in the base
             unit. bare-scale: the unit cell must not be a bare scale (万, 亿). magnitude-slip: per
             (entity, metric), a figure in the base unit (元) must not lie ``factor``/``tolerance``–
             ``factor``×``tolerance`` below the median of the group's figures in scaled units.
             same-fact and mixed-scale are about sentences and articles and do not apply to tables.
yoy          per (entity, metric id, unit key) and year, against the previous year's figures in the
             table and in the history (``history``) — or the latest earlier year within ``max_gap``
             years, the band then widened to band**gap: change — within [min(prev)×low, max(prev)×high]
             of the metric's band (the robust multi-year band of the text rule is not used); copied —
             not equal to an exact figure of the previous year
             (metrics not ``stable``; ``min_value`` and ``min_digits`` as for text).
arithmetic   table: non-negative base values (for ``dimensions``) and units the taxonomy allows per
             metric id (``unit-allowed``). parts-sum: a row whose entity (or label) is a total marker
             (合计, 总计, 小计, 共计, 总数, total) must equal the sum of the other rows of its metric, year and
             base unit (within half a unit of the last written digit of each figure). per-head,
             share-over-100 and implied-count read sentences and do not apply.
duplicate, doubling, pattern: text only.

Checks that depend on the data (magnitude-slip, yoy, parts-sum) are compiled from the table being
checked, so a suite exported without a table holds only the data-independent ones.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping, Sequence

from ..errors import RuleFileError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..rules.model import Rule

Test = Literal["not_null", "matches", "between", "in_set", "not_in_set"]
Op = Literal["==", "in", ">=", "<=", ">", "<"]
TOTAL_MARKERS = ("合计", "总计", "小计", "共计", "总数", "合计数", "total", "Total", "TOTAL")
TABLE_KINDS = ("placeholder", "unit", "yoy", "arithmetic")


@dataclass(frozen=True)
class Cond:
    column: str
    op: Op
    value: Any


@dataclass(frozen=True)
class TableCheck:
    id: str  # unique in a plan: "<rule>.<n>"
    rule: str
    column: str  # the frame column tested
    test: Test
    regex: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    strict_max: bool = False
    value_set: tuple = ()
    where: tuple[Cond, ...] = ()
    what: str = ""  # which check of the rule: "placeholder", "required", "non-negative", "yoy-change" …
    fields: Mapping[str, Any] = field(default_factory=dict)  # shared message fields and evidence

    def describe(self) -> str:
        return f"{self.rule} {self.what} on {self.column}"


@dataclass(frozen=True)
class HistoryFigure:
    """A figure of an earlier year (from the history store or another table): what yoy compares."""

    entity: str
    metric: str
    year: int
    value: float  # in the base unit
    unit_key: str
    text: str = ""
    document: str = ""
    approx: bool = False  # 30余万元: never taken as a copied figure


def table_rules(rules: Sequence["Rule"]) -> list["Rule"]:
    """The rules that mean something on a table (see the module doc), in their order."""
    out = []
    for r in rules:
        check = getattr(r.params, "check", None)
        if r.kind == "placeholder" \
                or (r.kind == "unit" and check in ("small-in-scale", "bare-scale", "magnitude-slip")) \
                or r.kind == "yoy" \
                or (r.kind == "arithmetic" and check in ("table", "parts-sum")):
            out.append(r)
    return out


def plan_checks(rules: Sequence["Rule"], frame: "pd.DataFrame | None" = None, *,
                history: Iterable[HistoryFigure] = (), columns: Sequence[str] = ()) -> list[TableCheck]:
    """Every check of the table rules; data-dependent ones only when `frame` is given.

    `columns` are the canonical columns the table has (label/metric may be absent)."""
    history = list(history)
    present = set(columns) if columns else {"entity", "year", "label", "metric", "value", "unit"}
    out: list[TableCheck] = []
    for rule in table_rules(rules):
        made: list[TableCheck] = []
        params = rule.params
        if rule.kind == "placeholder":
            made = _placeholder(rule, present)
        elif rule.kind == "unit":
            made = _unit(rule, params, frame)
        elif rule.kind == "yoy":
            made = _yoy(rule, params, frame, history) if frame is not None else []
        elif rule.kind == "arithmetic":
            made = _arithmetic(rule, params, frame)
        out.extend(TableCheck(**{**c.__dict__, "id": f"{rule.id}.{i}"}) for i, c in enumerate(made, 1))
    return out


def _check(rule: "Rule", column: str, test: Test, what: str, **kw) -> TableCheck:
    return TableCheck(id="", rule=rule.id, column=column, test=test, what=what, **kw)


# ---------------------------------------------------------------- placeholder

def placeholder_regex(rule: "Rule") -> str:
    """One regex a cell must match: an allow pattern matches in it, or no placeholder does.

    Written for Python's `re` (what pandas and GX use): a rule whose patterns need the `regex`
    module's syntax cannot be compiled for tables and is reported as a rule-file error."""
    params = rule.params
    bad = [p for p in [*params.patterns, *params.allow] if not _re_ok(p)]
    if bad:
        raise RuleFileError(f"rule {rule.id}: pattern {bad[0]!r} uses syntax Python's re lacks, so it cannot run on "
                            "tables", path=rule.source, line=rule.line)
    found = [f"(?:{p})" for p in params.patterns] + [re.escape(t) for t in sorted(params.terms, key=len, reverse=True)]
    if not found:
        return r"(?s)^"
    none = f"(?!.*(?:{'|'.join(found)}))"
    if params.allow:
        allowed = f"(?=.*(?:{'|'.join(f'(?:{a})' for a in params.allow)}))"
        return f"(?s)^(?:{allowed}|{none})"
    return f"(?s)^{none}"


def _re_ok(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _placeholder(rule: "Rule", present: set[str]) -> list[TableCheck]:
    regex = placeholder_regex(rule)
    out = []
    for column, canonical in (("entity", "entity"), ("label", "label"), ("metric", "metric"), ("unit", "unit"),
                              ("year_raw", "year"), ("value_raw", "value")):
        if canonical in present:
            out.append(_check(rule, column, "matches", "placeholder", regex=regex))
    required = ["entity", "year_raw", "value_raw", "unit", "name"]  # name: the label, or else the metric
    for column in required:
        out.append(_check(rule, column, "not_null", "required"))
    return out


# ---------------------------------------------------------------- unit

def _unit(rule: "Rule", params, frame: "pd.DataFrame | None") -> list[TableCheck]:
    dims = tuple(params.dimensions)
    dim_cond = (Cond("dimension", "in", dims),) if dims else ()
    if params.check == "small-in-scale":
        return [_check(rule, "base_value", "between", "small-in-scale", min_value=float(params.threshold),
                       where=(Cond("unit", "in", tuple(params.scaled_units)), *dim_cond, Cond("base_value", ">", 0.0)),
                       fields={"base_unit": params.base_unit})]
    if params.check == "bare-scale":
        return [_check(rule, "unit", "not_in_set", "bare-scale", value_set=("万", "亿", "千", "百万", "千万", "万亿"))]
    if params.check != "magnitude-slip" or frame is None:
        return []
    out = []
    usable = frame[frame["entity"].notna() & frame["metric_id"].notna() & (frame["base_value"] > 0)]
    if dims:
        usable = usable[usable["dimension"].isin(dims)]
    lo, hi = params.factor / params.tolerance, params.factor * params.tolerance
    for (entity, metric), group in usable.groupby(["entity", "metric_id"], sort=True):
        scaled = group[group["unit"].isin(params.scaled_units)]["base_value"].tolist()
        if not scaled or not (group["unit"] == params.base_unit).any():
            continue
        median = statistics.median(scaled)
        # slipped: median / value in [lo, hi], i.e. value in [median/hi, median/lo]
        out.append(_check(rule, "base_value", "between", "magnitude-slip", max_value=median / hi, strict_max=True,
                          where=(Cond("entity", "==", entity), Cond("metric_id", "==", metric),
                                 Cond("unit", "==", params.base_unit), Cond("base_value", "<=", median / lo)),
                          fields={"peer_median": median, "factor": params.factor,
                                  "scaled_unit": next((u for u in params.scaled_units
                                                       if _scale_of(u) == params.factor), "")}))
    return out


def _scale_of(surface: str) -> float:
    return {"亿": 1e8, "万": 1e4, "千": 1e3}.get(surface[:1], 1.0)


# ---------------------------------------------------------------- yoy

def _yoy(rule: "Rule", params, frame: "pd.DataFrame", history: list[HistoryFigure]) -> list[TableCheck]:
    from ..extract.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    figures: dict[tuple[str, str, str], dict[int, list[tuple[float, str]]]] = defaultdict(lambda: defaultdict(list))
    approx: set[tuple[str, str, str, int, float]] = set()  # archived approximate figures
    rows = frame[frame["entity"].notna() & frame["metric_id"].notna() & frame["year"].notna()
                 & frame["base_value"].notna() & frame["unit_key"].notna()]
    if params.dimensions:
        rows = rows[rows["dimension"].isin(params.dimensions)]
    rows = rows[~rows["metric_id"].isin(params.skip_metrics)]
    own: set[tuple[str, str, str, int]] = set()  # the table's own (entity, metric, unit key, year)
    for r in rows.itertuples():
        figures[(r.entity, r.metric_id, r.unit_key)][int(r.year)].append((float(r.base_value), _spell(r)))
        own.add((r.entity, r.metric_id, r.unit_key, int(r.year)))
    for h in history:
        if h.metric in params.skip_metrics:
            continue
        key = (h.entity, h.metric, h.unit_key)
        if key in figures:
            figures[key][int(h.year)].append((round(float(h.value), 6), h.text or f"{h.value:g}"))
            if h.approx:
                approx.add((*key, int(h.year), round(float(h.value), 6)))
    out = []
    for (entity, metric, ukey), years in sorted(figures.items()):
        for year in sorted(years):
            if (entity, metric, ukey, year) not in own:
                continue  # only the table's own figures are tested
            max_gap = max(int(getattr(params, "max_gap", 1) or 1), 1)
            earlier = [y for y in years if year - max_gap <= y < year]
            if not earlier:
                continue
            before = max(earlier)  # the latest earlier year on record (the year before, when there)
            gap = year - before
            previous = years[before]
            where = (Cond("entity", "==", entity), Cond("metric_id", "==", metric), Cond("unit_key", "==", ukey),
                     Cond("year", "==", float(year)))
            prev_text = "、".join(dict.fromkeys(t for _, t in previous))
            common = {"metric": metric, "previous_year": before, "gap": gap, "previous_text": prev_text,
                      "previous": [v for v, _ in previous], "previous_texts": {v: t for v, t in previous}}
            if params.check == "change":
                prev = [v for v, _ in previous if v > 0 and v >= params.min_value]
                if not prev:
                    continue
                d = taxonomy.by_id.get(metric)
                low, high = tuple(d.band) if d is not None else tuple(params.band_default)
                low, high = low ** gap, high ** gap  # a bridged gap widens the band
                out.append(_check(rule, "base_value", "between", "yoy-change", min_value=min(prev) * low,
                                  max_value=max(prev) * high,
                                  where=(*where, Cond("base_value", ">=", float(params.min_value)),
                                         Cond("base_value", ">", 0.0)),
                                  fields={**common, "previous": prev, "band": [round(low, 4), round(high, 4)]}))
            else:
                d = taxonomy.by_id.get(metric)
                if d is not None and d.stable:
                    continue
                prev = sorted({v for v, _ in previous if v >= params.min_value
                               and _significant_digits(v) >= params.min_digits
                               and (entity, metric, ukey, before, v) not in approx})
                if not prev:
                    continue
                out.append(_check(rule, "base_value", "not_in_set", "yoy-copied", value_set=tuple(prev), where=where,
                                  fields=common))
    return out


def _spell(r) -> str:
    return f"{_fmt(r.value)}{r.unit or ''}" if r.value == r.value else f"{r.value_raw or ''}{r.unit or ''}"


def _significant_digits(value: float) -> int:
    return len(f"{abs(value):.6f}".replace(".", "").strip("0"))


# ---------------------------------------------------------------- arithmetic

def _arithmetic(rule: "Rule", params, frame: "pd.DataFrame | None") -> list[TableCheck]:
    if params.check == "table":
        out = []
        if "non-negative" in params.checks:
            where = (Cond("dimension", "in", tuple(params.dimensions)),) if params.dimensions else ()
            out.append(_check(rule, "base_value", "between", "non-negative", min_value=0.0, where=where))
        if "unit-allowed" in params.checks:
            from ..extract.taxonomy import load_taxonomy

            taxonomy = load_taxonomy()
            ids = sorted(taxonomy.by_id)
            if frame is not None:
                ids = sorted(set(frame["metric_id"].dropna()) & set(ids))
            for mid in ids:
                units = taxonomy.by_id[mid].units
                allowed = sorted({_strip_scale(u) for u in units} | set(units))
                out.append(_check(rule, "unit", "in_set", "unit-allowed", value_set=tuple(allowed),
                                  where=(Cond("metric_id", "==", mid),),
                                  fields={"metric": mid, "allowed": list(units), "allowed_text": "、".join(units)}))
        return out
    if params.check != "parts-sum" or frame is None:
        return []
    return _parts_sum(rule, frame)


def _strip_scale(unit: str) -> str:
    return unit[1:] if unit[:1] in ("万", "亿", "千") and len(unit) > 1 else unit


def _decimals(text: str | None) -> int:
    m = re.search(r"[0-9]+(?:\.([0-9]+))?", text or "")
    return len(m.group(1)) if m and m.group(1) else 0


def _parts_sum(rule: "Rule", frame: "pd.DataFrame") -> list[TableCheck]:
    out = []
    usable = frame[frame["base_value"].notna() & frame["year"].notna() & frame["base_unit"].notna()]
    for marker_col, group_cols in (("entity", ("label", "metric", "year", "base_unit")),
                                   ("label", ("entity", "year", "base_unit"))):
        if marker_col not in usable or usable[marker_col].isna().all():
            continue
        is_total = usable[marker_col].isin(TOTAL_MARKERS)
        for _, total in usable[is_total].iterrows():
            same = usable[~is_total]
            where = [Cond(marker_col, "==", total[marker_col])]
            for c in group_cols:
                if total[c] is None or (isinstance(total[c], float) and math.isnan(total[c])):
                    same = same[same[c].isna()]
                    continue
                same = same[same[c] == total[c]]
                where.append(Cond(c, "==", float(total[c]) if c == "year" else total[c]))
            if len(same) < 2:
                continue
            summed = float(same["base_value"].sum())
            tol = 1e-6 + sum(0.5 * 10 ** -_decimals(raw) * scale for raw, scale in
                             zip([total["value_raw"], *same["value_raw"]],
                                 [_ratio(total), *(_ratio(r) for _, r in same.iterrows())]) if _decimals(raw))
            spelled = [f"{r['value_raw']}{r['unit'] or ''}" for _, r in same.iterrows()]
            scale = _ratio(total)
            out.append(_check(rule, "base_value", "between", "parts-sum", min_value=summed - tol,
                              max_value=summed + tol, where=tuple(where),
                              fields={"parts": [float(v) for v in same["base_value"]], "sum": summed,
                                      "parts_text": " + ".join(spelled),
                                      "sum_text": _fmt(summed / scale) + (total["unit"] or ""),
                                      "form": f"total-{marker_col}"}))
    return out


def _ratio(row) -> float:
    v, b = row["value"], row["base_value"]
    return float(b / v) if v and not math.isnan(v) and v != 0 else 1.0


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")
