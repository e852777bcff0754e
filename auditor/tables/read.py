"""Reading incoming metric tables: CSV/TSV, JSON lines, Parquet and Excel, into one canonical frame.

The canonical columns are those of the metrics table: ``entity``, ``year``, ``label`` and/or
``metric``, ``value``, ``unit``. A file may name them otherwise; the built-in aliases below cover the
usual Chinese headers, and ``--column CANONICAL=HEADER`` (``column_map``) names any other:

    entity  entity, organisation, organization, org, 单位名称, 机构, 机构名称, 组织, 主体, 填报单位
    year    year, 年份, 年度, 年
    label   label, 指标名称, 项目, 名称, 指标项
    metric  metric, metric_id, 指标, 指标代码, 指标编码
    value   value, 数值, 数据, 值, 金额, 数量
    unit    unit, 计量单位, 单位

``entity``, ``year``, ``value`` and ``unit`` are required, with ``label`` or ``metric`` (or both).
Values are written in the unit of their row (28.74 with unit 万元); the frame also carries the
value in the base unit (287400 元), the unit's dimension and the metric id from the taxonomy.

Where a cell is: ``line`` is the line of the file (CSV: the header is line 1 and a cell of a quoted
multi-line record has its own line; JSON lines: the record's line; Excel: the sheet row; Parquet:
the data row + 1, as if a header were line 1), ``column`` the 1-based index of the file's column,
and for CSV ``start``/``end`` the cell's character offsets in the decoded file
(``text[start:end]`` is the cell as written, without its quotes). JSON lines, Parquet and Excel cells
have ``start == end == 0``.

A table that cannot be read as one (a required column missing, text in the value or year column,
a byte that is not UTF-8, a JSON line that is not an object) raises InputError naming the file,
line and column: exit code 2.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from ..documents.load import Document
from ..errors import InputError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

CANONICAL = ("entity", "year", "label", "metric", "value", "unit")
REQUIRED = ("entity", "year", "value", "unit")
ALIASES: dict[str, tuple[str, ...]] = {
    "entity": ("entity", "organisation", "organization", "org", "单位名称", "机构", "机构名称", "组织", "主体",
               "填报单位"),
    "year": ("year", "年份", "年度", "年"),
    "label": ("label", "指标名称", "项目", "名称", "指标项"),
    "metric": ("metric", "metric_id", "指标", "指标代码", "指标编码"),
    "value": ("value", "数值", "数据", "值", "金额", "数量"),
    "unit": ("unit", "计量单位", "单位"),
}
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xlsm": "excel"}
TEXT_COLUMNS = ("entity", "label", "metric", "unit", "year_raw", "value_raw")
# Frame columns a check may name, and the canonical column each reports on.
REPORTS_ON = {"entity": "entity", "label": "label", "metric": "metric", "unit": "unit", "year_raw": "year",
              "year": "year", "value_raw": "value", "value": "value", "base_value": "value",
              "metric_id": "metric", "dimension": "unit", "name": "label"}
# The placeholder reading used while parsing value/year cells when no placeholder rule is loaded.
_FALLBACK_PLACEHOLDER = re.compile(r"(?<![A-Za-z])X{1,4}(?![A-Za-z])|某某|[×✕╳]{2,}|□|待(?:补充|定|填|核实)")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True, slots=True)
class Cell:
    line: int  # 1-based line in the file (see the module doc for each format)
    column: int  # 1-based index of the file's column
    header: str  # the file's name for the column
    text: str | None  # as written (None: an absent or empty cell)
    start: int = 0  # character offsets in the decoded file (CSV only; 0 otherwise)
    end: int = 0


@dataclass
class Table:
    path: str
    format: str
    document: Document  # text: the decoded file for CSV and JSON lines, "" for Parquet and Excel
    headers: tuple[str, ...]
    mapping: dict[str, str]  # canonical column → the file's header
    rows: list[dict[str, Cell]]  # per data row: canonical column → its cell
    frame: Any = None  # the canonical frame (pandas), built by build_frame
    _info: dict = field(default_factory=dict, repr=False)

    def cell(self, row: int, column: str) -> Cell:
        """The cell of data row `row` (0-based) under canonical or frame column `column`."""
        canonical = REPORTS_ON.get(column, column)
        if column == "name" and canonical not in self.rows[row]:
            canonical = "metric"
        found = self.rows[row].get(canonical)
        if found is not None:
            return found
        # A column the file does not have (label when only metric is given): report on the row.
        first = next(iter(self.rows[row].values()))
        return Cell(first.line, 1, canonical, None, first.start, first.start)


# ---------------------------------------------------------------- column mapping

def parse_column_map(items: Iterable[str]) -> dict[str, str]:
    """`--column value=金额` options → {"value": "金额"}."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, header = item.partition("=")
        key = key.strip()
        if not sep or key not in CANONICAL or not header.strip():
            raise UsageError(f"--column {item!r}: expected CANONICAL=HEADER with CANONICAL one of "
                             f"{', '.join(CANONICAL)}")
        out[key] = header.strip()
    return out


def map_columns(headers: Sequence[str], column_map: Mapping[str, str], path: str) -> dict[str, str]:
    """Canonical column → the file's header: explicit mapping first, then exact names, then aliases."""
    folded = {h.strip().lower(): h for h in headers}
    mapping: dict[str, str] = {}
    for canonical, header in column_map.items():
        if header.strip().lower() not in folded:
            raise InputError(f"--column {canonical}={header}: the table has no column '{header}' "
                             f"(columns: {', '.join(headers)})", path=path)
        mapping[canonical] = folded[header.strip().lower()]
    used = set(mapping.values())
    for canonical in CANONICAL:
        if canonical in mapping:
            continue
        for alias in ALIASES[canonical]:
            header = folded.get(alias.lower())
            if header is not None and header not in used:
                mapping[canonical] = header
                used.add(header)
                break
    missing = [c for c in REQUIRED if c not in mapping]
    if "label" not in mapping and "metric" not in mapping:
        missing.append("label or metric")
    if missing:
        raise InputError(f"missing column {', '.join(repr(m) for m in missing)} (columns: {', '.join(headers)}); "
                         "name it with --column CANONICAL=HEADER", path=path, line=1)
    return mapping


# ---------------------------------------------------------------- reading files

def table_format(path: str | Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"not a table file (supported: {', '.join(sorted(FORMATS))})", path=str(path))
    return fmt


def read_table(path: str | Path, *, column_map: Mapping[str, str] | None = None, encoding: str = "utf-8",
               sheet: str | None = None, is_placeholder: Callable[[str], bool] | None = None,
               max_bytes: int = 64 * 1024 * 1024) -> Table:
    """Read one table file; raise InputError (exit 2) when it cannot be read as a metrics table."""
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise InputError("no such file", path=name)
    data = p.read_bytes()
    if len(data) > max_bytes:
        raise InputError(f"file is larger than {max_bytes} bytes", path=name)
    fmt = table_format(p)
    if fmt == "csv":
        text = _decode(data, encoding, name)
        headers, records = _read_csv(text, "\t" if p.suffix.lower() == ".tsv" else ",", name)
    elif fmt == "jsonl":
        text = _decode(data, encoding, name)
        headers, records = _read_jsonl(text, name)
    elif fmt == "parquet":
        text = ""
        headers, records = _read_parquet(p, name)
    else:
        text = ""
        headers, records = _read_excel(p, name, sheet)
    document = Document(path=name, text=text, encoding=encoding if text else fmt,
                        sha256=hashlib.sha256(data).hexdigest(), format=fmt, size=len(data))
    mapping = map_columns(headers, column_map or {}, name)
    index = {h: i for i, h in enumerate(headers)}
    rows = []
    for record in records:
        rows.append({canonical: record[index[header]] for canonical, header in mapping.items()})
    table = Table(name, fmt, document, tuple(headers), mapping, rows)
    build_frame(table, is_placeholder or (lambda s: bool(_FALLBACK_PLACEHOLDER.search(s))))
    return table


def _decode(data: bytes, encoding: str, path: str) -> str:
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(enc)
    except LookupError:
        raise UsageError(f"unknown encoding '{encoding}'") from None
    except UnicodeDecodeError as exc:
        good = data[:exc.start].decode(enc, errors="replace")
        line = good.count("\n") + 1
        column = len(good) - (good.rfind("\n") + 1) + 1
        raise InputError(f"not valid {encoding} (byte 0x{data[exc.start]:02x}); save the table as UTF-8 or pass "
                         "--encoding (gb18030 for Excel exports from Chinese Windows)",
                         path=path, line=line, column=column) from None


def _read_csv(text: str, delimiter: str, path: str) -> tuple[list[str], list[list[Cell]]]:
    """RFC 4180 with offsets: every field with its line and its character span in `text`."""
    raw = list(_scan_csv(text, delimiter, path))
    while raw and all(v == "" for v, *_ in raw[-1]):
        raw.pop()  # trailing blank lines
    if not raw:
        raise InputError("empty table: no header row", path=path)
    headers = [v.strip() for v, *_ in raw[0]]
    _check_headers(headers, path)
    records = []
    for fields in raw[1:]:
        if len(fields) == 1 and fields[0][0] == "":
            continue  # a blank line
        line = fields[0][3]
        if len(fields) > len(headers) and any(f[0].strip() for f in fields[len(headers):]):
            extra = fields[len(headers)]
            raise InputError(f"row has {len(fields)} fields, the header {len(headers)}", path=path, line=extra[3],
                             column=len(headers) + 1)
        cells = []
        for i, h in enumerate(headers):
            if i < len(fields):
                value, start, end, cell_line = fields[i]
                cells.append(Cell(cell_line, i + 1, h, value if value.strip() else None, start, end))
            else:
                cells.append(Cell(line, i + 1, h, None, fields[-1][2], fields[-1][2]))
        records.append(cells)
    return headers, records


def _scan_csv(text: str, delimiter: str, path: str):
    """Yield each record as [(value, start, end, line)]; start/end bound the value inside any quotes."""
    i, n, line = 0, len(text), 1
    while i < n:
        record = []
        while True:
            field_line = line
            if i < n and text[i] == '"':
                i += 1
                start = i
                parts = []
                while True:
                    j = text.find('"', i)
                    if j < 0:
                        raise InputError("unterminated quoted field", path=path, line=field_line)
                    parts.append(text[i:j])
                    line += text.count("\n", i, j)
                    if j + 1 < n and text[j + 1] == '"':
                        parts.append('"')
                        i = j + 2
                        continue
                    end = j
                    i = j + 1
                    break
                value = "".join(parts)
                # anything between the closing quote and the delimiter is kept out of the value
                while i < n and text[i] not in (delimiter, "\n", "\r"):
                    i += 1
            else:
                start = i
                while i < n and text[i] not in (delimiter, "\n", "\r"):
                    i += 1
                end = i
                value = text[start:end]
            record.append((value, start, end, field_line))
            if i < n and text[i] == delimiter:
                i += 1
                continue
            break
        if i < n and text[i] == "\r":
            i += 1
        if i < n and text[i] == "\n":
            i += 1
        line += 1
        yield record


def _check_headers(headers: Sequence[str], path: str) -> None:
    seen = set()
    for i, h in enumerate(headers):
        if not h:
            continue
        if h.lower() in seen:
            raise InputError(f"column '{h}' appears twice in the header", path=path, line=1, column=i + 1)
        seen.add(h.lower())


def _read_jsonl(text: str, path: str) -> tuple[list[str], list[list[Cell]]]:
    objects = []
    stripped = text.lstrip()
    if stripped.startswith("["):  # a .json file holding one array of objects
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno, column=exc.colno) from None
        for k, obj in enumerate(items):
            objects.append((k + 1, obj))
    else:
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                objects.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON line: {exc.msg}", path=path, line=number, column=exc.colno) from None
    headers: list[str] = []
    for number, obj in objects:
        if not isinstance(obj, dict):
            raise InputError("a JSON record must be an object", path=path, line=number)
        for k in obj:
            if str(k) not in headers:
                headers.append(str(k))
    records = [[Cell(number, i + 1, h, _as_text(obj.get(h))) for i, h in enumerate(headers)] for number, obj in objects]
    return headers, records


def _read_parquet(p: Path, path: str) -> tuple[list[str], list[list[Cell]]]:
    import pyarrow.parquet as pq

    try:
        data = pq.read_table(p)
    except Exception as exc:  # pyarrow raises several kinds for a broken file
        raise InputError(f"cannot read Parquet: {exc}", path=path) from None
    headers = [str(c) for c in data.column_names]
    _check_headers(headers, path)
    records = [[Cell(k + 2, i + 1, h, _as_text(row.get(h))) for i, h in enumerate(headers)]
               for k, row in enumerate(data.to_pylist())]
    return headers, records


def _read_excel(p: Path, path: str, sheet: str | None) -> tuple[list[str], list[list[Cell]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # zipfile / openpyxl errors for a broken workbook
        raise InputError(f"cannot read Excel workbook: {exc}", path=path) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InputError(f"no sheet '{sheet}' (sheets: {', '.join(book.sheetnames)})", path=path)
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        raise InputError("empty table: no header row", path=path)
    headers = [(_as_text(h) or "").strip() for h in rows[0]]
    while headers and not headers[-1]:
        headers.pop()
    _check_headers(headers, path)
    records = []
    for k, row in enumerate(rows[1:], start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        records.append([Cell(k, i + 1, h, _as_text(row[i] if i < len(row) else None)) for i, h in enumerate(headers)])
    return headers, records


def _as_text(value: Any) -> str | None:
    """A cell of a typed format as the text a CSV would hold: 2021 not 2021.0, None for empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    text = str(value)
    return text if text.strip() else None


# ---------------------------------------------------------------- the canonical frame

def parse_number(text: str) -> float | None:
    """28.74, 1,234, １２３, −5 → a float; None when the cell is not a plain number."""
    s = unicodedata.normalize("NFKC", text).strip().replace("−", "-").replace(",", "").replace("，", "")
    s = s.replace(" ", "")
    if _NUMBER.fullmatch(s):
        return float(s)
    return None


def parse_year(text: str) -> int | None:
    s = unicodedata.normalize("NFKC", text).strip()
    s = s[:-1] if s.endswith("年") else s
    if re.fullmatch(r"\d{4}(?:\.0+)?", s):
        return int(float(s))
    return None


@dataclass(frozen=True)
class UnitInfo:
    base: str | None
    scale: float
    dimension: str | None


def unit_info(unit: str | None) -> UnitInfo:
    """万元 → (元, 10⁴, money); 万人 → (人, 10⁴, people); an unknown unit keeps itself at scale 1."""
    from ..extract.units import load_units

    if not unit:
        return UnitInfo(None, 1.0, None)
    units = load_units().units
    u = unicodedata.normalize("NFKC", unit).strip()
    if u in units:
        x = units[u]
        return UnitInfo(x.base, x.scale, x.dimension)
    scales = {"万": 1e4, "亿": 1e8, "千": 1e3, "百": 1e2}
    if len(u) > 1 and u[0] in scales and u[1:] in units:
        x = units[u[1:]]
        return UnitInfo(x.base, x.scale * scales[u[0]], x.dimension)
    return UnitInfo(None, 1.0, None)


def unit_key(base: str | None, dimension: str | None) -> str:
    """What must match for figures of two years to be compared (as auditor.rules.kinds.yoy.unit_key)."""
    if base and base.endswith("人次"):
        return "人次"
    if dimension in ("people", "organisations", "events", "items"):
        return dimension
    return base or (dimension or "")


def build_frame(table: Table, is_placeholder: Callable[[str], bool]) -> "pd.DataFrame":
    """The canonical frame the engines check, one row per data row (index 0..n-1):

    entity, label, metric, unit, year_raw, value_raw   the cells as written (None when empty)
    year, value                                          parsed (NaN for an empty or placeholder cell)
    base_value, base_unit, dimension, unit_key           the value in the unit's base unit
    metric_id                                            the taxonomy id (the metric cell, or classified)
    name                                                 the label, or else the metric cell (what the row counts)
    """
    import pandas as pd

    from ..extract.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    columns: dict[str, list] = {c: [] for c in ("entity", "label", "metric", "unit", "year_raw", "value_raw", "year",
                                                 "value", "base_value", "base_unit", "dimension", "unit_key",
                                                 "metric_id", "name")}
    for cells in table.rows:
        def text(c: str) -> str | None:
            cell = cells.get(c)
            return None if cell is None or cell.text is None else cell.text.strip() or None

        entity, label, metric, unit = text("entity"), text("label"), text("metric"), text("unit")
        year_raw, value_raw = text("year"), text("value")
        year = value = None
        if year_raw is not None:
            year = parse_year(year_raw)
            if year is None and not is_placeholder(year_raw):
                c = cells["year"]
                raise InputError(f"column '{c.header}': '{year_raw}' is not a year", path=table.path, line=c.line,
                                 column=c.column)
        if value_raw is not None:
            value = parse_number(value_raw)
            if value is None and not is_placeholder(value_raw):
                c = cells["value"]
                raise InputError(f"column '{c.header}': '{value_raw}' is not a number", path=table.path,
                                 line=c.line, column=c.column)
        info = unit_info(unit)
        base_value = None if value is None else round(value * info.scale, 6)
        metric_id = metric if metric in taxonomy.by_id else None
        if metric_id is None:
            metric_id = taxonomy.classify(metric or label, info.dimension, (unit, info.base))
        for k, v in (("entity", entity), ("label", label), ("metric", metric), ("unit", unit),
                     ("year_raw", year_raw), ("value_raw", value_raw), ("year", year), ("value", value),
                     ("base_value", base_value), ("base_unit", info.base), ("dimension", info.dimension),
                     ("unit_key", unit_key(info.base, info.dimension) if unit else None), ("metric_id", metric_id),
                     ("name", label or metric)):
            columns[k].append(v)
    frame = pd.DataFrame({k: pd.Series(v, dtype="float64" if k in ("year", "value", "base_value") else object)
                          for k, v in columns.items()})
    table.frame = frame
    return frame
