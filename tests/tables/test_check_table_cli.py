"""`auditor check-table` on the command line: exit codes, formats, baselines, usage errors."""

from __future__ import annotations

import json

from .helpers import run_cli, sarif_validator, write_csv

CLEAN = [{"entity": "洮南市总工会", "year": "2021", "label": "救助资金", "metric": "relief_funds", "value": "28.74",
          "unit": "万元"}]
INFO_ONLY = [{"entity": "大安市总工会", "year": "2021", "label": "慰问金", "metric": "condolence_money", "value": "0.49",
              "unit": "万元"}]  # U002: info


def test_exit_codes(tmp_path, table_with_errors):
    clean = write_csv(tmp_path / "clean.csv", CLEAN)
    info = write_csv(tmp_path / "info.csv", INFO_ONLY)
    assert run_cli("check-table", clean, cwd=tmp_path).returncode == 0
    assert run_cli("check-table", info, cwd=tmp_path).returncode == 0
    assert run_cli("check-table", info, "--fail-on", "info", cwd=tmp_path).returncode == 1
    errors = run_cli("check-table", table_with_errors[0], "-q", cwd=tmp_path)
    assert errors.returncode == 1, errors.stderr
    assert run_cli("check-table", table_with_errors[0], "--fail-on", "never", "-q", cwd=tmp_path).returncode == 0
    assert run_cli("check-table", tmp_path / "missing.csv", cwd=tmp_path).returncode == 2
    usage = run_cli("check-table", clean, "--gx-project", tmp_path, cwd=tmp_path)
    assert usage.returncode == 2 and "--engine gx" in usage.stderr
    bad_map = run_cli("check-table", clean, "--column", "colour=x", cwd=tmp_path)
    assert bad_map.returncode == 2


def test_console_shows_the_cell(tmp_path, table_with_errors):
    proc = run_cli("check-table", table_with_errors[0], "--no-color", "--select", "P001", cwd=tmp_path)
    assert proc.returncode == 1
    path = str(table_with_errors[0])
    assert f"{path}:" in proc.stdout and "某某区总工会" in proc.stdout


def test_sarif_json_junit_github_markdown(tmp_path, table_with_errors):
    import junitparser

    path = table_with_errors[0]
    sarif = json.loads(run_cli("check-table", path, "--format", "sarif", cwd=tmp_path).stdout)
    assert not list(sarif_validator().iter_errors(sarif))
    results = sarif["runs"][0]["results"]
    text = path.read_text(encoding="utf-8")
    for r in results:
        region = r["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 2
        if "charOffset" in region:
            assert text[region["charOffset"]:region["charOffset"] + region["charLength"]] == region["snippet"]["text"]
        assert r["properties"]["table"]["row"] == region["startLine"] - 1
    report = json.loads(run_cli("check-table", path, "--format", "json", cwd=tmp_path).stdout)
    assert report["summary"]["findings"] == len(results)
    junit = tmp_path / "t.xml"
    assert run_cli("check-table", path, "--format", "junit", "-o", junit, cwd=tmp_path).returncode == 1
    xml = junitparser.JUnitXml.fromfile(str(junit))
    assert sum(s.failures for s in xml) > 0
    gh = run_cli("check-table", path, "--format", "github", cwd=tmp_path).stdout
    assert f"::error file={path},line=" in gh
    md = run_cli("check-table", path, "--format", "markdown", cwd=tmp_path).stdout
    assert md.startswith("## ❌ auditor:")


def test_write_baseline_then_only_new_findings(tmp_path, table_with_errors):
    path = table_with_errors[0]
    base = tmp_path / "baseline.json"
    first = run_cli("check-table", path, "--write-baseline", base, "-q", cwd=tmp_path)
    assert first.returncode == 1 and base.is_file()
    entries = json.loads(base.read_text(encoding="utf-8"))["findings"]
    assert entries and all({"fingerprint", "rule", "document", "text", "reason"} <= set(e) for e in entries)
    second = run_cli("check-table", path, "--baseline", base, "--format", "json", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["summary"]["findings"] == 0 and report["summary"]["suppressed"] == len(entries)
    # a new error on top of the backlog fails again
    grown = tmp_path / "grown.csv"
    grown.write_text(path.read_text(encoding="utf-8") + "某某镇总工会,2021,新增会员,new_members,3,人\n", encoding="utf-8")
    (tmp_path / "metrics.csv").write_text(grown.read_text(encoding="utf-8"), encoding="utf-8")
    third = run_cli("check-table", tmp_path / "metrics.csv", "--baseline", base, "--format", "json", cwd=tmp_path)
    assert third.returncode == 1
    assert [f["text"] for f in json.loads(third.stdout)["findings"] if "suppressed" not in f] == ["某某镇总工会"]


def test_history_store_feeds_year_over_year(tmp_path):
    """`auditor history add` the 2020 page; a 2021 table repeating 洮南's 28.74万元 is then a copy (Y002),
    read from the store by default (and not with --no-history)."""
    from .helpers import ROOT

    page = ROOT / "fixtures" / "001_4056ee0728c65a9a.txt"
    added = run_cli("history", "add", page, "--year", "2021", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert (tmp_path / ".auditor" / "history.duckdb").is_file()
    table = write_csv(tmp_path / "t.csv", CLEAN)
    proc = run_cli("check-table", table, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # Y002 is a warning
    (f,) = json.loads(proc.stdout)["findings"]
    assert f["rule"] == "Y002" and f["evidence"]["previous_year"] == 2020
    quiet = run_cli("check-table", table, "--format", "json", "--no-history", cwd=tmp_path)
    assert json.loads(quiet.stdout)["findings"] == []
    explicit = run_cli("check-table", table, "--format", "json", "--history",
                       tmp_path / ".auditor" / "history.duckdb", cwd=ROOT)
    assert [x["rule"] for x in json.loads(explicit.stdout)["findings"]] == ["Y002"]
