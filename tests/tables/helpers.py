"""Helpers for the table gate and CI-format tests: the CLI in a subprocess and a table with errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SARIF_SCHEMA = SHARED / "contracts" / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = SHARED / "contracts" / "audit-report.schema.json"
COLUMNS = ["entity", "year", "label", "metric", "value", "unit"]


def cli_env() -> dict:
    """This checkout's auditor first on the path, whatever copy is installed."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONIOENCODING": "utf-8", "COLUMNS": "120",
            "GX_ANALYTICS_ENABLED": "False"}


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "auditor", *map(str, args)], cwd=cwd or ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=timeout, env=cli_env())


def sarif_validator():
    import json

    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def _written(m) -> tuple[float, str] | None:
    """A fixture metric as a table row writes it: 28.74 with 万元 (the value in its written unit)."""
    from auditor.tables.read import unit_info

    prefix = "亿" if "亿" in m.text else "万" if "万" in m.text else ""
    unit = prefix + (m.unit or "")
    info = unit_info(unit)
    if info.base != m.unit or not m.unit:
        return None
    value = m.value / info.scale
    return round(value, 6), unit


def fixture_rows(analysed) -> list[dict]:
    """The figures of the two 白城 pages (2021 and 2020) that name an organisation, year and metric."""
    rows = []
    for key in ("000", "001"):
        for m in analysed[key].metrics:
            if m.placeholder or m.value is None or m.approx or m.range_low is not None:
                continue
            if not (m.entity and m.year and m.metric):
                continue
            written = _written(m)
            if written is None:
                continue
            value, unit = written
            text = f"{int(value)}" if float(value).is_integer() else f"{value:g}"
            rows.append({"entity": m.entity, "year": str(m.year), "label": m.label or "", "metric": m.metric,
                         "value": text, "unit": unit})
    return rows


# Rows with one error each (what they must produce: rule, column).
INJECTED = [
    ({"entity": "某某区总工会", "year": "2021", "label": "新增会员", "metric": "new_members", "value": "120",
      "unit": "人"}, ("P001", "entity")),
    ({"entity": "洮南市总工会", "year": "2021", "label": "慰问金", "metric": "condolence_money", "value": "X",
      "unit": "万元"}, ("P001", "value")),
    ({"entity": "白城市总工会", "year": "2021", "label": "新增会员", "metric": "new_members", "value": "35",
      "unit": ""}, ("P001", "unit")),
    ({"entity": "大安市总工会", "year": "2021", "label": "慰问金", "metric": "condolence_money", "value": "0.49",
      "unit": "万元"}, ("U002", "value")),
    ({"entity": "测试区总工会", "year": "2021", "label": "救助资金", "metric": "relief_funds", "value": "28.74",
      "unit": "万元"}, None),
    ({"entity": "测试区总工会", "year": "2021", "label": "帮扶救助资金", "metric": "relief_funds", "value": "30.1",
      "unit": "万元"}, None),
    ({"entity": "测试区总工会", "year": "2021", "label": "生活救助", "metric": "relief_funds", "value": "31.2",
      "unit": "元"}, ("U006", "value")),
    ({"entity": "测试区总工会", "year": "2021", "label": "投入资金", "metric": "special_funds", "value": "5",
      "unit": "万"}, ("U005", "unit")),
    ({"entity": "测试区总工会", "year": "2021", "label": "助学金", "metric": "student_aid", "value": "-3",
      "unit": "万元"}, ("A005", "value")),
    ({"entity": "测试区总工会", "year": "2021", "label": "新组建基层工会", "metric": "new_union_orgs", "value": "12",
      "unit": "人"}, ("A006", "unit")),
    ({"entity": "测试区总工会", "year": "2021", "label": "新建工会组织", "metric": "new_union_orgs", "value": "12",
      "unit": "家"}, None),
    ({"entity": "测试县总工会", "year": "2021", "label": "新建工会组织", "metric": "new_union_orgs", "value": "8",
      "unit": "家"}, None),
    ({"entity": "合计", "year": "2021", "label": "新建工会组织", "metric": "new_union_orgs", "value": "25",
      "unit": "家"}, ("A001", "value")),
    ({"entity": "测试县总工会", "year": "2021", "label": "落实“3+X”帮扶机制", "metric": "", "value": "5",
      "unit": "项"}, None),
]


def write_csv(path: Path, rows: list[dict], columns=COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        w = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path


def injected_table(analysed, path: Path) -> tuple[Path, list[tuple[int, str, str]]]:
    """The fixtures' figures plus INJECTED: the CSV and the expected (line, rule, column) of each error."""
    rows = fixture_rows(analysed)
    expected = []
    for row, want in INJECTED:
        rows.append(row)
        if want:
            expected.append((len(rows) + 1, want[0], want[1]))  # header is line 1
    return write_csv(path, rows), expected


_AUDITS: dict = {}


def audit_result(analysed, *, suppress: bool = True):
    """The text audit of the five fixtures (the `analysed` session fixture), built once per session."""
    key = (id(analysed), suppress)
    if key not in _AUDITS:
        from auditor.audit import AuditResult, apply_suppressions, load_selected_rules
        from auditor.config import Config
        from auditor.rules.context import AuditContext
        from auditor.rules.engine import run_rules

        rule_set, rules = load_selected_rules(Config())
        documents = [analysed[k] for k in sorted(analysed)]
        findings = run_rules(rules, AuditContext(documents))
        if suppress:
            findings = apply_suppressions(documents, findings)
        _AUDITS[key] = AuditResult(tuple(documents), tuple(findings), rule_set, tuple(rules), 1.0, "zh")
    return _AUDITS[key]
