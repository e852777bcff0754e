"""Reading tables: four formats, column mapping, and malformed tables (exit 2, file:line:column)."""

from __future__ import annotations

import json

import pytest

from auditor.config import Config
from auditor.errors import InputError
from auditor.tables.gate import GateOptions, check_tables
from auditor.tables.read import parse_column_map, read_table

from .helpers import COLUMNS, run_cli, write_csv

ROWS = [
    {"entity": "洮南市总工会", "year": "2020", "label": "救助资金", "metric": "relief_funds", "value": "28.74", "unit": "万元"},
    {"entity": "洮南市总工会", "year": "2021", "label": "救助资金", "metric": "relief_funds", "value": "28.74", "unit": "万元"},
    {"entity": "某某县总工会", "year": "2021", "label": "新增会员", "metric": "new_members", "value": "X", "unit": "人"},
    {"entity": "大安市总工会", "year": "2021", "label": "慰问金", "metric": "condolence_money", "value": "0.49", "unit": "万元"},
]


def _jsonl(path, rows):
    with path.open("w", encoding="utf-8") as out:
        for r in rows:
            rec = dict(r)
            rec["year"] = int(rec["year"])
            try:
                rec["value"] = float(rec["value"])
            except ValueError:
                pass
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def _parquet(path, rows):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["year"] = frame["year"].astype(int)
    frame.to_parquet(path)
    return path


def _excel(path, rows):
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(COLUMNS)
    for r in rows:
        ws.append([int(r["year"]) if c == "year" else r[c] for c in COLUMNS])
    book.save(path)
    return path


@pytest.mark.parametrize("suffix,write", [(".jsonl", _jsonl), (".parquet", _parquet), (".xlsx", _excel)])
def test_every_format_gives_the_csv_findings(tmp_path, suffix, write):
    csv_result = check_tables([str(write_csv(tmp_path / "t.csv", ROWS))], Config(), GateOptions())
    other = check_tables([str(write(tmp_path / f"t{suffix}", ROWS))], Config(), GateOptions())

    def key(result):
        return [(f.rule, f.evidence["row"], f.evidence["column"], f.text, f.message) for f in result.findings]

    assert key(other) == key(csv_result)
    assert {f.rule for f in csv_result.findings} == {"Y002", "P001", "U002"}
    # lines: data row + 1 for all of these (JSON lines: the record's line, no header)
    offset = 0 if suffix == ".jsonl" else 1
    assert [f.line for f in other.findings] == [f.evidence["row"] + offset for f in other.findings]
    assert all(f.start == f.end == 0 for f in other.findings)


def test_chinese_headers_map_by_alias(tmp_path):
    path = tmp_path / "zh.csv"
    path.write_text("单位名称,年度,指标名称,数值,计量单位\n洮南市总工会,2021年,救助资金,0.49,万元\n", encoding="utf-8")
    table = read_table(path)
    assert table.mapping == {"entity": "单位名称", "year": "年度", "label": "指标名称", "value": "数值", "unit": "计量单位"}
    assert table.frame.loc[0, "metric_id"] == "relief_funds"  # classified from the label
    assert table.frame.loc[0, "base_value"] == 4900.0


def test_explicit_column_mapping(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("org,yr,what,amount,u\n洮南市总工会,2021,救助资金,28.74,万元\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        read_table(path)
    mapping = parse_column_map(["entity=org", "year=yr", "label=what", "value=amount", "unit=u"])
    table = read_table(path, column_map=mapping)
    assert table.frame.loc[0, "base_value"] == 287400.0


def test_csv_offsets_quotes_and_multiline_records(tmp_path):
    path = tmp_path / "q.csv"
    text = 'entity,year,label,value,unit\n"洮南市总工会",2021,"救助资金,\n含""生活""救助",X,万元\n'
    path.write_text(text, encoding="utf-8")
    table = read_table(path)
    label = table.rows[0]["label"]
    assert label.text == '救助资金,\n含"生活"救助' and label.line == 2
    value = table.rows[0]["value"]
    assert value.line == 3 and value.column == 4 and text[value.start:value.end] == "X"
    (f,) = [f for f in check_tables([str(path)], Config(select=("P001",)), GateOptions()).findings]
    assert (f.line, f.column, f.text) == (3, 4, "X")


def test_malformed_missing_column(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("entity,year,label,value\n洮南市总工会,2021,救助资金,1\n", encoding="utf-8")
    proc = run_cli("check-table", path)
    assert proc.returncode == 2
    assert str(path) in proc.stderr and "'unit'" in proc.stderr and ":1:" in proc.stderr


def test_malformed_text_in_value_column(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("entity,year,label,value,unit\n洮南市总工会,2021,救助资金,1,元\n洮南市总工会,2021,慰问金,很多,元\n",
                    encoding="utf-8")
    proc = run_cli("check-table", path)
    assert proc.returncode == 2
    assert f"{path}:3:4:" in proc.stderr and "很多" in proc.stderr and proc.stdout == ""


def test_malformed_year(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("entity,year,label,value,unit\n洮南市总工会,去年,救助资金,1,元\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_table(path)
    assert (exc.value.line, exc.value.column) == (2, 2)


def test_wrong_encoding_names_line_and_column(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("entity,year,label,value,unit\n洮南市总工会,2021,救助资金,1,元\n".encode("gb18030"))
    proc = run_cli("check-table", path)
    assert proc.returncode == 2
    assert f"{path}:2:1:" in proc.stderr and "UTF-8" in proc.stderr
    ok = run_cli("check-table", path, "--encoding", "gb18030")
    assert ok.returncode == 0, ok.stderr


def test_broken_jsonl_and_unknown_suffix(tmp_path):
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"entity": "a"}\n{not json\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_table(bad)
    assert exc.value.line == 2
    odd = tmp_path / "t.docx"
    odd.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a table"):
        read_table(odd)
