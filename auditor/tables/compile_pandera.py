"""Table checks → a pandera DataFrameSchema, written as Python source and run from that same source.

`schema_source(checks)` is a small Python module (what `auditor export-suite --engine pandera`
writes): the canonical frame's columns and one dataframe-level `pa.Check` per TableCheck, named by
the check's id — except that checks differing only in the organisation/year they apply to (year over
year, magnitude slips, totals: one per group of rows) are merged into one Check over a lookup table,
so a table of 10,000 rows costs a few passes, not thousands. `build_schema` executes that source, so the schema auditor runs is byte for byte the
one a team gets. `failing_rows` validates lazily and returns, per check id, the failing row indexes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

from .plan import Cond, TableCheck

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FRAME_COLUMNS = {
    "entity": "object", "label": "object", "metric": "object", "unit": "object", "year_raw": "object",
    "value_raw": "object", "year": "float64", "value": "float64", "base_value": "float64", "base_unit": "object",
    "dimension": "object", "unit_key": "object", "metric_id": "object", "name": "object",
}


def _lit(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        return repr(float(value))
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    return repr(value)


def _col(name: str) -> str:
    return f"df[{json.dumps(name)}]"


def cond_expr(where: Sequence[Cond]) -> str | None:
    parts = []
    for c in where:
        if c.op == "in":
            parts.append(f"{_col(c.column)}.isin({_lit(tuple(c.value))})")
        else:
            parts.append(f"({_col(c.column)} {c.op} {_lit(c.value)})")
    return " & ".join(parts) if parts else None


def pass_expr(check: TableCheck) -> str:
    """A vectorised expression over `df`: True where the row passes (nulls pass but for not_null)."""
    col = _col(check.column)
    if check.test == "not_null":
        return f"{col}.notna()"
    if check.test == "matches":
        return f"{col}.isna() | {col}.astype(str).str.contains({_lit(check.regex)}, regex=True)"
    if check.test == "between":
        bounds = []
        if check.min_value is not None:
            bounds.append(f"({col} >= {_lit(float(check.min_value))})")
        if check.max_value is not None:
            bounds.append(f"({col} {'<' if check.strict_max else '<='} {_lit(float(check.max_value))})")
        return f"{col}.isna() | ({' & '.join(bounds) or 'True'})"
    if check.test == "in_set":
        return f"{col}.isna() | {col}.isin({_lit(tuple(check.value_set))})"
    if check.test == "not_in_set":
        return f"{col}.isna() | ~{col}.isin({_lit(tuple(check.value_set))})"
    raise ValueError(f"unknown test {check.test}")


def check_expr(check: TableCheck) -> str:
    cond = cond_expr(check.where)
    passed = pass_expr(check)
    return f"~({cond}) | ({passed})" if cond else passed


@dataclass
class _Group:
    """Checks that differ only in the values their `==` conditions name and in their bounds or sets
    (the year-over-year checks of many organisations): one pandera Check with a lookup table."""

    id: str
    first: TableCheck
    keys: tuple[str, ...]  # the columns of the `==` conditions
    extra: tuple[Cond, ...]  # the other conditions, the same for every member
    members: dict[tuple, TableCheck]


def _signature(c: TableCheck):
    eq = tuple(x.column for x in c.where if x.op == "==")
    extra = tuple(x for x in c.where if x.op != "==")
    return (c.rule, c.what, c.column, c.test, c.strict_max, eq, extra), eq, extra


def plan_groups(checks: Iterable[TableCheck]) -> list:
    """The checks as pandera will run them: single TableChecks, and _Groups of MERGE_AT or more
    checks that one lookup serves (a check per organisation and year would cost a pass each)."""
    buckets: dict[tuple, list[TableCheck]] = {}
    for c in checks:
        buckets.setdefault(_signature(c)[0], []).append(c)
    out: list = []
    for members in buckets.values():
        _, eq, extra = _signature(members[0])
        keyed = {tuple(x.value for x in m.where if x.op == "=="): m for m in members}
        if eq and len(members) >= MERGE_AT and len(keyed) == len(members) \
                and members[0].test in ("between", "in_set", "not_in_set"):
            out.append(_Group(f"{members[0].rule}.{members[0].what}", members[0], eq, extra, keyed))
        else:
            out.extend(members)
    return out


MERGE_AT = 4

_HELPERS = '''
def _entries(df, keys, table):
    """Per row, the entry of `table` for the row's values in `keys` (None when there is none)."""
    return [table.get(k) for k in zip(*(df[c] for c in keys))]


def _between(values, entries, strict_max):
    out = []
    for v, e in zip(values, entries):
        if e is None or v is None or v != v:
            out.append(True)
            continue
        lo, hi = e
        out.append((lo is None or v >= lo) and (hi is None or (v < hi if strict_max else v <= hi)))
    return pd.Series(out, index=values.index, dtype=bool)


def _in_set(values, entries, wanted):
    out = [True if e is None or v is None or v != v else ((v in e) == wanted) for v, e in zip(values, entries)]
    return pd.Series(out, index=values.index, dtype=bool)
'''


def _group_expr(g: _Group, table: str) -> str:
    col = _col(g.first.column)
    entries = f"_entries(df, {_lit(list(g.keys))}, {table})"
    if g.first.test == "between":
        passed = f"_between({col}, {entries}, {g.first.strict_max!r})"
    else:
        passed = f"_in_set({col}, {entries}, {g.first.test == 'in_set'!r})"
    cond = cond_expr(g.extra)
    return f"~({cond}) | {passed}" if cond else passed


def _group_table(g: _Group) -> str:
    items = []
    for key, m in g.members.items():
        if g.first.test == "between":
            entry = f"({_lit(m.min_value) if m.min_value is not None else 'None'}, " \
                    f"{_lit(m.max_value) if m.max_value is not None else 'None'})"
        else:
            entry = "frozenset(" + _lit(tuple(m.value_set)) + ")"
        items.append(f"    ({', '.join(_lit(k) for k in key)},): {entry},")
    return "\n".join(items)


def schema_source(checks: Iterable[TableCheck], *, title: str = "") -> str:
    planned = plan_groups(checks)
    lines = [
        f'"""{title or "auditor table gate"}: the pandera schema compiled from auditor\'s rules.',
        "",
        "Validate the canonical frame of a metric table (auditor.tables.read.build_frame) with",
        "    schema.validate(frame, lazy=True)",
        "Each check is named '<rule>.<n>' (or '<rule>.<check>' for a lookup over many organisations);",
        "a failing row is a finding of that rule.",
        '"""',
        "",
        "import pandas as pd",
        "import pandera.pandas as pa",
        _HELPERS,
    ]
    tables = {}
    for n, item in enumerate(planned):
        if isinstance(item, _Group):
            tables[item.id] = f"_T{n}"
            lines += [f"_T{n} = {{  # {item.id}: {', '.join(item.keys)} → "
                      f"{'(min, max)' if item.first.test == 'between' else 'values'}",
                      _group_table(item), "}", ""]
    lines += ["schema = pa.DataFrameSchema(", "    columns={"]
    for name, dtype in FRAME_COLUMNS.items():
        lines.append(f"        {json.dumps(name)}: pa.Column({json.dumps(dtype)}, nullable=True),")
    lines += ["    },", "    checks=["]
    for item in planned:
        if isinstance(item, _Group):
            expr, cid = _group_expr(item, tables[item.id]), item.id
            error = f"{cid}: {item.first.rule} {item.first.what} on {item.first.column} ({len(item.members)} groups)"
        else:
            expr, cid, error = check_expr(item), item.id, f"{item.id}: {item.describe()}"
        lines.append(f"        pa.Check(lambda df: {expr},")
        lines.append(f"                 name={_lit(cid)}, error={_lit(error)}, ignore_na=False),")
    lines += ["    ],", "    strict=False,", '    name="auditor-table-gate",', ")", ""]
    return "\n".join(lines)


def build_schema(checks: Sequence[TableCheck]):
    namespace: dict = {}
    exec(compile(schema_source(checks), "<auditor pandera schema>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace["schema"]


def failing_rows(checks: Sequence[TableCheck], frame: "pd.DataFrame") -> dict[str, list[int]]:
    """Validate `frame` with the compiled schema: check id → failing row indexes (sorted)."""
    import pandera.pandas as pa

    schema = build_schema(checks)
    try:
        schema.validate(frame, lazy=True)
        return {}
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    out: dict[str, set[int]] = {}
    ids = {c.id for c in checks}
    groups = {g.id: g for g in plan_groups(checks) if isinstance(g, _Group)}
    for check, index in zip(cases["check"], cases["index"]):
        name = str(check).split(":", 1)[0]  # the error text starts with the check's id
        if name not in ids and name not in groups:
            # a schema-level failure (a column's dtype): the frame is auditor's own, so this is a bug
            raise RuntimeError(f"pandera schema failure outside the rule checks: {name}")
        if index is None or (isinstance(index, float) and math.isnan(index)):
            continue
        if name in groups:  # back from the lookup to the check of the row's organisation and year
            g = groups[name]
            row = frame.loc[int(index)]
            name = g.members[tuple(row[k] for k in g.keys)].id
        out.setdefault(name, set()).add(int(index))
    return {k: sorted(v) for k, v in out.items()}
