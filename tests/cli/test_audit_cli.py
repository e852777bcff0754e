"""`auditor audit` end to end: JSON contract, exit codes, selection, bad rule files, regex timeouts."""

from __future__ import annotations

import json

import jsonschema
import pytest

from .helpers import ROOT, run_auditor

SCHEMA = json.loads((ROOT / "tests" / "contracts" / "audit-report.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fixtures_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit") / "report.json"
    proc = run_auditor("audit", "fixtures", "--format", "json", "--output", str(out))
    assert proc.returncode == 1, proc.stderr  # the fixtures hold errors: exit 1 at --fail-on error
    return json.loads(out.read_text(encoding="utf-8")), out.read_text(encoding="utf-8")


def test_json_report_meets_the_contract(fixtures_report):
    report, raw = fixtures_report
    jsonschema.validate(report, SCHEMA)
    assert "\\u" not in raw


def test_offsets_point_into_the_original_text(fixtures_report):
    report, _ = fixtures_report
    originals = {d["path"]: (ROOT / d["path"]).read_text(encoding="utf-8") for d in report["documents"]}
    for f in report["findings"]:
        assert originals[f["document"]][f["start"]:f["end"]] == f["text"], f
        for r in f.get("related", []):
            assert originals[r["document"]][r["start"]:r["end"]] == r["text"], r
    for m in report["metrics"]:
        assert originals[m["document"]][m["start"]:m["end"]] == m["text"]


def test_summary_counts_and_fingerprints(fixtures_report):
    report, _ = fixtures_report
    summary = report["summary"]
    assert summary["documents"] == 5 and summary["findings"] == len(report["findings"])
    assert sum(summary["by_severity"].values()) == summary["findings"]
    prints = [f["fingerprint"] for f in report["findings"]]
    assert all(prints) and len(set(prints)) == len(prints)


def test_fingerprint_survives_unrelated_edits(tmp_path):
    page = (ROOT / "fixtures" / "004_b6e2a60db747514b.txt").read_text(encoding="utf-8")
    (tmp_path / "a.txt").write_text(page, encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a.txt").write_text("编者按：此稿为草稿。\n\n" + page, encoding="utf-8")

    def prints(path):
        proc = run_auditor("audit", str(path), "--select", "P001", "--format", "json")
        return [f["fingerprint"] for f in json.loads(proc.stdout)["findings"]]

    before, after = prints(tmp_path / "a.txt"), prints(tmp_path / "b" / "a.txt")
    assert before and len(set(before) & set(after)) >= 0.95 * len(before)


def test_fail_on_levels_and_select(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("本报讯 2021年,某区总工会和诣劳动关系创建积极有为。\n", encoding="utf-8")
    assert run_auditor("audit", str(page), "--select", "T001").returncode == 0  # a warning: below error
    assert run_auditor("audit", str(page), "--select", "T001", "--fail-on", "warning").returncode == 1
    assert run_auditor("audit", str(page), "--ignore", "T001", "--fail-on", "info").returncode in (0, 1)
    proc = run_auditor("audit", str(page), "--select", "T001", "--format", "json")
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["text"] == "和诣" and "和谐" in finding["message"]


def test_english_messages(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("2021年度拨缴工会经费总额为 X元。\n", encoding="utf-8")
    proc = run_auditor("audit", str(page), "--select", "P001", "--format", "json", "--lang", "en")
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["message"].startswith("Unfilled placeholder")


BAD_RULES = {
    "syntax.yaml": ("rules:\n  - id: Z001\n    name: [oops\n", "YAML syntax error"),
    "kind.yaml": ("rules:\n  - id: Z001\n    name: z\n    kind: nope\n    category: other\n    severity: info\n"
                  "    summary: {zh: 测}\n    message: {zh: 测}\n", "unknown rule kind"),
    "type.yaml": ("rules:\n  - id: Z001\n    name: z\n    kind: placeholder\n    category: other\n    severity: info\n"
                  "    summary: {zh: 测}\n    message: {zh: 测}\n    params: {terms: 3}\n", "terms"),
    "regex.yaml": ("rules:\n  - id: Z001\n    name: z\n    kind: pattern\n    category: other\n    severity: info\n"
                   "    summary: {zh: 测}\n    message: {zh: 测}\n    params:\n      checks: [{pattern: '(['}]\n",
                   "does not compile"),
}


@pytest.mark.parametrize("name", sorted(BAD_RULES))
def test_malformed_rule_file_exit_2_with_file_and_line(tmp_path, name):
    body, word = BAD_RULES[name]
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    out = tmp_path / "r.json"
    proc = run_auditor("audit", "fixtures/002_708bad69e24645bd.txt", "--rules", str(path), "--format", "json", "-o", str(out))
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert f"{path}:" in line and word in line
    assert not out.exists()
    assert run_auditor("rules", "validate", str(path)).returncode == 2


def test_catastrophic_regex_times_out_naming_the_rule(tmp_path):
    rule = tmp_path / "slow.yaml"
    rule.write_text(
        "rules:\n  - id: Z009\n    name: slow-rule\n    kind: pattern\n    category: other\n    severity: info\n"
        "    summary: {zh: 慢}\n    message: {zh: 慢}\n    params:\n      checks: [{pattern: '(a|a)+$'}]\n",
        encoding="utf-8")
    page = tmp_path / "aaa.txt"
    page.write_text("a" * 40 + "!\n", encoding="utf-8")
    proc = run_auditor("audit", str(page), "--rules", str(rule), "--select", "Z009", "--regex-timeout", "0.5",
                       timeout=60)
    assert proc.returncode == 2
    assert "Z009" in proc.stderr and "slow-rule" in proc.stderr and str(rule) in proc.stderr


def test_rules_commands():
    listing = run_auditor("rules", "list")
    assert listing.returncode == 0 and "P001" in listing.stdout
    shown = run_auditor("rules", "show", "P001")
    assert shown.returncode == 0 and "unfilled-placeholder" in shown.stdout and "X元" in shown.stdout
    assert run_auditor("rules", "show", "NOPE1").returncode == 2
    ok = run_auditor("rules", "validate", "rules")
    assert ok.returncode == 0 and "ok:" in ok.stdout


def test_console_output_reads_like_a_linter():
    proc = run_auditor("audit", "fixtures/002_708bad69e24645bd.txt", "--no-color")
    assert proc.returncode in (0, 1)
    assert "fixtures/002_708bad69e24645bd.txt:27:" in proc.stdout and "T001" in proc.stdout
    assert "\x1b[" not in proc.stdout
