"""The table gate: read each table, plan the rules' checks, run one engine, map failures to Findings.

Both engines receive the same TableChecks (auditor.tables.plan) and return, per check, the failing
row indexes; the Findings are built from those here, by one function, so the pandera and GX engines
can only differ in which rows they report — and a test holds them to the same rows.

A table finding is located on its cell: ``document`` is the table's path, ``line`` the file line
(CSV: header line 1), ``column`` the 1-based index of the table column, ``start``/``end`` the cell's
character offsets in a CSV (0 for JSON lines, Parquet and Excel), ``text`` the cell as written, and
``evidence`` holds {row (1-based data row), column (header), column_index, value, check} with the
check's figures (previous year's value, the band, the parts of a total …).

The result is an AuditResult whose documents are TableDocuments (path, decoded text, no articles
or metrics), so every reporter renders it unchanged.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..audit import AuditResult, _load_baseline, apply_suppressions, load_selected_rules
from ..config import Config
from ..documents.load import Document
from ..errors import UsageError
from ..findings import Finding
from ..rules.model import Rule
from .plan import HistoryFigure, TableCheck, placeholder_regex, plan_checks, table_rules
from .read import FORMATS, Table, read_table

ENGINES = ("pandera", "gx")


@dataclass(frozen=True)
class _NoSegments:
    articles: tuple = ()


@dataclass(frozen=True)
class TableDocument:
    """A table in the shape reporters read documents in."""

    document: Document
    table: Table = field(repr=False, compare=False)
    metrics: tuple = ()
    segmentation: _NoSegments = _NoSegments()
    norm: Any = None

    @property
    def path(self) -> str:
        return self.document.path

    @property
    def original(self) -> str | None:
        """The decoded CSV / JSON-lines text; None for Parquet and Excel (no text to frame)."""
        return self.document.text or None


@dataclass
class GateOptions:
    engine: str = "pandera"
    column_map: dict = field(default_factory=dict)
    encoding: str = "utf-8"
    sheet: str | None = None
    history: Sequence[str] = ()  # tables of earlier years (or a history store)
    gx_project: str | None = None
    gx_data_docs: str | None = None
    baseline: str | None = None  # a baseline file (auditor/baseline.py)
    use_store: bool = False  # without `history`: read the configured history store when it exists (the CLI does)


def table_paths(paths: Iterable[str]) -> list[str]:
    out: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(str(f) for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in FORMATS
                       and not f.name.startswith("."))
        else:
            out.append(str(p))
    if not out:
        raise UsageError(f"no tables found (supported: {', '.join(sorted(FORMATS))})")
    return out


def placeholder_test(rules: Sequence[Rule]):
    """Whether a value/year cell that is not a number is a placeholder (else the table is malformed):
    read with every placeholder rule loaded, selected or not."""
    import re

    compiled = [re.compile(placeholder_regex(r)) for r in rules if r.kind == "placeholder"]
    if not compiled:
        return None
    return lambda text: any(not c.search(text) for c in compiled)


def read_tables(paths: Sequence[str], rules: Sequence[Rule], config: Config, options: GateOptions) -> list[Table]:
    is_placeholder = placeholder_test(rules)
    return [read_table(p, column_map=options.column_map, encoding=options.encoding, sheet=options.sheet,
                       is_placeholder=is_placeholder, max_bytes=config.max_bytes) for p in table_paths(paths)]


def check_tables(paths: Sequence[str], config: Config, options: GateOptions | None = None) -> AuditResult:
    options = options or GateOptions()
    if options.engine not in ENGINES:
        raise UsageError(f"unknown engine '{options.engine}' (choose {' or '.join(ENGINES)})")
    started = time.perf_counter()
    rule_set, selected = load_selected_rules(config)
    rules = table_rules(selected)
    baselined = _load_baseline(options.baseline)
    tables = read_tables(paths, rule_set.rules, config, options)
    archive = list(history_figures(options.history, rule_set.rules, config, options, tables))
    if not options.history and options.use_store:  # the configured store (default .auditor/history.duckdb)
        archive += store_figures(None, tables, config)
    by_id = {r.id: r for r in rules}
    findings: list[Finding] = []
    for table in tables:
        others = [f for t in tables if t is not table for f in table_figures(t)]
        checks = plan_checks(rules, table.frame, history=archive + others, columns=tuple(table.mapping))
        failing = run_engine(options, checks, table.frame)
        findings.extend(findings_for(table, checks, failing, by_id, config.lang))
    documents = tuple(TableDocument(t.document, t) for t in tables)
    findings.sort(key=lambda f: (f.document, f.line, f.column, f.rule))
    findings = apply_suppressions(documents, findings, baselined)
    return AuditResult(documents, tuple(findings), rule_set, tuple(rules), time.perf_counter() - started,
                       config.lang)


def run_engine(options: GateOptions, checks: Sequence[TableCheck], frame) -> dict[str, list[int]]:
    if options.engine == "gx":
        from .compile_gx import run_validation

        failing, _ = run_validation(checks, frame, project=options.gx_project, data_docs=options.gx_data_docs)
        return failing
    from .compile_pandera import failing_rows

    return failing_rows(checks, frame)


# ---------------------------------------------------------------- history

def table_figures(table: Table) -> Iterable[HistoryFigure]:
    """The rows of a table as figures of their year, for yoy against another table."""
    f = table.frame
    for r in f.itertuples():
        if r.entity is None or r.metric_id is None or r.unit_key is None or _nan(r.year) or _nan(r.base_value):
            continue
        yield HistoryFigure(r.entity, r.metric_id, int(r.year), float(r.base_value), r.unit_key,
                            f"{r.value_raw}{r.unit or ''}", table.path)


def history_figures(paths: Sequence[str], rules: Sequence[Rule], config: Config, options: GateOptions,
                    tables: Sequence[Table] = ()) -> Iterable[HistoryFigure]:
    """Figures of earlier years: metric tables (any format read_table reads, e.g. `auditor extract`
    output), or a DuckDB file: auditor's history store (`auditor history add`), or any DuckDB
    database with a table holding entity, metric, year, value and unit columns."""
    for path in paths:
        if Path(path).suffix.lower() in (".duckdb", ".db"):
            found = store_figures(path, tables, config)
            yield from (found if found is not None else _duckdb_figures(path))
            continue
        hist_options = GateOptions(encoding=options.encoding)
        for table in read_tables([path], rules, config, hist_options):
            yield from table_figures(table)


def store_figures(path: str | None, tables: Sequence[Table], config: Config) -> list[HistoryFigure] | None:
    """Archived figures of the tables' organisations and metrics from auditor's history store
    (`path`, or the configured one when None): [] when there is no store, None when `path` is not
    an auditor history store (then it is read as a plain DuckDB table)."""
    try:
        from ..history import HistoryError, open_for_audit
    except ImportError:  # pragma: no cover - a build without the history package
        return None if path else []
    keys: set[tuple[str, str]] = set()
    years: list[int] = []
    for t in tables:
        f = t.frame
        usable = f[f["entity"].notna() & f["metric_id"].notna() & f["year"].notna()]
        keys |= set(zip(usable["entity"], usable["metric_id"]))
        years += [int(y) for y in usable["year"]]
    try:
        store = open_for_audit(config, path)
    except HistoryError:
        if path is None:
            raise
        return None
    if store is None:
        return [] if path is None else None
    try:
        if not keys:
            return []
        rows = store.earlier_figures(keys, (min(years) - 10, max(years)))
    finally:
        store.close()
    from .read import unit_key

    out = []
    for m, place in rows:
        if m.placeholder or m.value is None or not (m.entity and m.metric and m.year):
            continue
        out.append(HistoryFigure(m.entity, m.metric, int(m.year), float(m.value), unit_key(m.unit, m.dimension),
                                 "".join(m.text.split()), place.document, approx=m.approx is not None))
    return out


def _duckdb_figures(path: str) -> Iterable[HistoryFigure]:
    import duckdb

    from ..errors import InputError
    from .read import unit_info, unit_key

    if not Path(path).is_file():
        raise InputError("no such history store", path=path)
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        raise InputError(f"cannot open the history store: {exc}", path=path) from None
    try:
        found = None
        for (name,) in con.execute("select table_name from information_schema.tables").fetchall():
            cols = {c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_name = ?", [name]).fetchall()}
            if {"entity", "metric", "year", "value", "unit"} <= cols:
                found = (name, "text" in cols, "dimension" in cols)
                break
        if found is None:
            raise InputError("the history store has no table with entity, metric, year, value and unit", path=path)
        name, has_text, has_dim = found
        sql = (f'select entity, metric, year, value, unit, {"text" if has_text else "null"}, '
               f'{"dimension" if has_dim else "null"} from "{name}" where entity is not null and metric is not null '
               "and year is not null and value is not null")
        for entity, metric, year, value, unit, text, dimension in con.execute(sql).fetchall():
            info = unit_info(unit)
            yield HistoryFigure(entity, metric, int(year), float(value) * info.scale,
                                unit_key(info.base or unit, dimension or info.dimension), text or "", path)
    finally:
        con.close()


# ---------------------------------------------------------------- findings

def findings_for(table: Table, checks: Sequence[TableCheck], failing: dict[str, list[int]],
                 rules: dict[str, Rule], lang: str) -> list[Finding]:
    by_id = {c.id: c for c in checks}
    out: dict[tuple, Finding] = {}
    for check_id in sorted(failing, key=lambda k: (k.split(".")[0], int(k.split(".")[1]))):
        check = by_id[check_id]
        rule = rules[check.rule]
        for row in failing[check_id]:
            f = _finding(table, check, rule, row, lang)
            out.setdefault((f.rule, row, f.column), f)
    return list(out.values())


def _finding(table: Table, check: TableCheck, rule: Rule, row: int, lang: str) -> Finding:
    cell = table.cell(row, check.column)
    r = table.frame.iloc[row]
    written = cell.text if cell.text is not None else ""
    evidence: dict[str, Any] = {"row": row + 1, "column": cell.header, "column_index": cell.column,
                                "value": cell.text, "check": check.what}
    fields: dict[str, Any] = {}
    figure = (_fmt(r["value"]) if not _nan(r["value"]) else (r["value_raw"] or "")) + (r["unit"] or "")
    if check.column in ("base_value", "value"):
        fields["text"] = figure
    elif not written:
        fields["text"] = "（空）" if lang == "zh" else "(empty)"
    extra = dict(check.fields)
    base = r["base_value"]
    if check.what == "small-in-scale":
        fields["suggestion"] = _fmt(base) + extra.get("base_unit", "")
        evidence.update(suggestion=fields["suggestion"])
    elif check.what == "bare-scale":
        fields["scale"] = written
    elif check.what == "magnitude-slip":
        fields["suggestion"] = f"{r['value_raw']}{extra.get('scaled_unit') or ''}"
        evidence.update(peer_median=extra["peer_median"], ratio=round(extra["peer_median"] / base, 2),
                        factor=extra["factor"], suggestion=fields["suggestion"])
    elif check.what in ("yoy-change", "yoy-copied"):
        previous = extra["previous"]
        nearest = min(previous, key=lambda p: abs(math.log(base / p)) if p > 0 and base > 0 else math.inf)
        evidence.update(previous=nearest, current=base, previous_year=extra["previous_year"],
                        current_year=int(r["year"]), metric=extra["metric"])
        prev_text = extra.get("previous_texts", {}).get(nearest) or extra["previous_text"]
        year, gap = extra["previous_year"], extra.get("gap", 1)
        evidence["gap"] = gap
        zh = lang != "en"
        if gap == 1:
            when = f"上一年（{year}年）" if zh else f"the year before ({year})"
            baseline_text = f"上一年（{year}年“{prev_text}”）" if zh else f"the year before ({year}: “{prev_text}”)"
        else:
            when = f"{year}年（此前最近有数据的一年）" if zh else f"{year} (the latest earlier year on record)"
            baseline_text = (f"{year}年（此前最近有数据的一年，“{prev_text}”）" if zh
                             else f"{year} (the latest earlier year on record: “{prev_text}”)")
        fields.update(previous_text=prev_text, when=when, baseline_text=baseline_text)
        if check.what == "yoy-change":
            lo, hi = extra["band"]
            ratio = base / nearest if nearest else math.inf
            evidence.update(ratio=round(ratio, 3), band=[lo, hi], strategy="fixed-band", match="nearest")
            fields.update(times=_times(ratio), band_text=f"{_times(lo)}–{_times(hi)}")
    elif check.what == "unit-allowed":
        evidence.update(metric=extra["metric"], allowed=extra["allowed"], unit=r["unit"])
        fields["allowed_text"] = extra["allowed_text"]
    elif check.what == "parts-sum":
        evidence.update(total=base, parts=extra["parts"], sum=extra["sum"], form=extra["form"])
        fields.update(parts_text=extra["parts_text"], sum_text=extra["sum_text"])
    values = {"text": written, **evidence, **fields}
    return Finding(rule=rule.id, category=rule.category, severity=rule.severity, message=rule.text(values, lang),
                   document=table.path, start=cell.start, end=cell.end, line=cell.line, column=max(cell.column, 1),
                   text=written, evidence=evidence,
                   fingerprint=table_fingerprint(rule.id, table.path, r, cell.header, written, check.what))


def table_fingerprint(rule: str, path: str, row, header: str, text: str, what: str) -> str:
    """A table finding's id that survives rows moving: the rule, the file name, the row's identity
    (entity, metric or label, year), the column and the cell as written — never the row number."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    ident = [str(row.get(k)) for k in ("entity", "metric", "label", "year_raw")]
    key = "\x1f".join((rule, name, *ident, header, text, what))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _times(ratio: float) -> str:
    if math.isinf(ratio):
        return "∞"
    return f"{ratio:.2f}".rstrip("0").rstrip(".") if ratio >= 1 else f"{ratio:.3f}".rstrip("0").rstrip(".")
