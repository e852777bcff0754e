"""pandera and Great Expectations: the same rules, the same findings, finding by finding (GX for real)."""

from __future__ import annotations

import json

import pytest

from auditor.report.json_report import finding_dict

from .helpers import run_cli, sarif_validator

pytestmark = pytest.mark.slow


def test_gx_engine_finds_the_injected_errors(gx_result, table_with_errors):
    _, expected = table_with_errors
    found = {(f.line, f.rule, f.evidence["column"]) for f in gx_result.findings}
    assert {(line, rule, col) for line, rule, col in expected} <= found


def test_engines_agree_finding_by_finding(pandera_result, gx_result):
    a = [finding_dict(f) for f in pandera_result.findings]
    b = [finding_dict(f) for f in gx_result.findings]
    assert len(a) >= 10
    assert a == b


def test_gx_suite_is_a_real_expectation_suite(table_with_errors):
    from auditor.audit import load_selected_rules
    from auditor.config import Config
    from auditor.tables.compile_gx import build_suite, row_condition
    from auditor.tables.gate import read_tables
    from auditor.tables.plan import plan_checks, table_rules

    rule_set, rules = load_selected_rules(Config())
    (table,) = read_tables([str(table_with_errors[0])], rule_set.rules, Config(), __import__(
        "auditor.tables.gate", fromlist=["GateOptions"]).GateOptions())
    checks = plan_checks(table_rules(rules), table.frame, columns=tuple(table.mapping))
    suite = build_suite(checks)
    assert len(suite.expectations) == len(checks)
    types = {e.expectation_type for e in suite.expectations}
    assert {"expect_column_values_to_match_regex", "expect_column_values_to_not_be_null",
            "expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
            "expect_column_values_to_not_be_in_set"} <= types
    conditional = [c for c in checks if c.where]
    assert conditional and all(row_condition(c.where) for c in conditional)
    # the pandera side merges the per-organisation checks into lookups: the agreement test covers both
    from auditor.tables.compile_pandera import _Group, plan_groups

    assert any(isinstance(g, _Group) for g in plan_groups(checks))


def test_export_suite_gx_without_and_with_table(tmp_path, table_with_errors):
    out = tmp_path / "suite.json"
    proc = run_cli("export-suite", "--engine", "gx", "-o", out)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["name"] == "auditor" and data["expectations"]
    rules = {e["meta"]["rule"] for e in data["expectations"]}
    assert {"P001", "U002", "U005", "A005", "A006"} <= rules and "Y001" not in rules  # data-dependent need --table
    with_table = tmp_path / "suite2.json"
    proc = run_cli("export-suite", "--engine", "gx", "--table", table_with_errors[0], "-o", with_table)
    assert proc.returncode == 0, proc.stderr
    rules = {e["meta"]["rule"] for e in json.loads(with_table.read_text(encoding="utf-8"))["expectations"]}
    assert {"Y001", "Y002", "U006", "A001"} <= rules


def test_exported_pandera_schema_runs_on_its_own(tmp_path, table_with_errors, pandera_result):
    """The exported module defines `schema`; validating the canonical frame with it fails on exactly the
    rows auditor reports."""
    import pandera.pandas as pa

    from auditor.tables.read import read_table

    out = tmp_path / "schema.py"
    proc = run_cli("export-suite", "--engine", "pandera", "--table", table_with_errors[0], "-o", out)
    assert proc.returncode == 0, proc.stderr
    namespace: dict = {}
    exec(compile(out.read_text(encoding="utf-8"), str(out), "exec"), namespace)
    frame = read_table(table_with_errors[0]).frame
    with pytest.raises(pa.errors.SchemaErrors) as exc:
        namespace["schema"].validate(frame, lazy=True)
    rows = {(str(c).split(".")[0], int(i) + 1) for c, i in zip(exc.value.failure_cases["check"],
                                                                 exc.value.failure_cases["index"])}
    assert rows == {(f.rule, f.evidence["row"]) for f in pandera_result.findings}


def test_check_table_cli_gx_with_data_docs(tmp_path, table_with_errors, monkeypatch):
    sarif = tmp_path / "t.sarif"
    docs = tmp_path / "docs"
    scratch = tmp_path / "scratch"  # the run's temporary folder: GX's ephemeral site would be built here
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    proc = run_cli("check-table", table_with_errors[0], "--engine", "gx", "--gx-data-docs", docs,
                   "--format", "sarif", "-o", sarif)
    assert proc.returncode == 1, proc.stderr  # P001 is an error
    data = json.loads(sarif.read_text(encoding="utf-8"))
    assert not list(sarif_validator().iter_errors(data))
    assert list(docs.rglob("index.html"))
    assert not list(scratch.rglob("index.html"))  # only the site asked for is built


def test_check_table_cli_in_a_gx_project(tmp_path, table_with_errors):
    import os
    import warnings

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
    gx.get_context(mode="file", project_root_dir=str(tmp_path))
    proc = run_cli("check-table", table_with_errors[0], "--engine", "gx", "--gx-project", tmp_path,
                   "--format", "json", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["findings"] > 0
    suites = list((tmp_path / "gx" / "expectations").glob("*.json"))
    assert [s.stem for s in suites] == ["auditor"]
