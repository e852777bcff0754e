"""Baselines: record findings by fingerprint, then report only new ones."""

from __future__ import annotations

import json

import pytest

from auditor.audit import run_audit
from auditor.baseline import apply_baseline, baseline_dict, load_baseline, write_baseline
from auditor.config import Config
from auditor.errors import UsageError
from tests.tables.helpers import run_cli

PAGE = "本报讯 2021年，洮南市总工会为困难职工发放救助金X元。\n新建基层工会X家。\n"


def test_write_and_apply(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    first = run_audit([str(page)], Config(select=("P001",)))
    assert len(first.findings) == 2
    base = tmp_path / "b.json"
    assert write_baseline(base, first.findings) == 2
    data = json.loads(base.read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert [set(e) for e in data["findings"]] == [{"fingerprint", "rule", "document", "text", "reason"}] * 2
    # a reason written by hand survives a rewrite
    data["findings"][0]["reason"] = "已知问题，下一期修正"
    base.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    write_baseline(base, first.findings)
    assert json.loads(base.read_text(encoding="utf-8"))["findings"][0]["reason"] == "已知问题，下一期修正"
    # a new paragraph above with one new placeholder: only the new one is active
    page.write_text("会员总数为XX人。\n前言一段。\n\n" + PAGE, encoding="utf-8")
    again = run_audit([str(page)], Config(select=("P001",)), baseline=str(base))
    active = [f for f in again.findings if f.suppressed is None]
    assert [f.text for f in active] == ["XX"]
    reasons = sorted(f.suppressed for f in again.findings if f.suppressed)
    assert reasons == ["baseline", "baseline: 已知问题，下一期修正"]


def test_inline_suppressed_are_not_written(tmp_path):
    from dataclasses import replace

    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    findings = run_audit([str(page)], Config(select=("P001",))).findings
    marked = [replace(findings[0], suppressed="inline: x"), findings[1]]
    assert [e["text"] for e in baseline_dict(marked)["findings"]] == [findings[1].text]
    assert apply_baseline(marked, {findings[0].fingerprint: {}})[0].suppressed == "inline: x"


def test_bad_baseline_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        load_baseline(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_baseline(bad)
    bad.write_text('{"findings": [{"rule": "P001"}]}', encoding="utf-8")
    with pytest.raises(UsageError, match="fingerprint"):
        load_baseline(bad)


def test_cli_adoption_on_a_backlog(tmp_path):
    base = tmp_path / "baseline.json"
    first = run_cli("audit", "fixtures/", "--write-baseline", base, "-q")
    assert first.returncode == 1 and "wrote" in first.stderr
    second = run_cli("audit", "fixtures/", "--baseline", base, "--format", "json")
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["summary"]["findings"] == 0
    assert report["summary"]["suppressed"] == len(json.loads(base.read_text(encoding="utf-8"))["findings"])
    assert run_cli("audit", "fixtures/", "--baseline", tmp_path / "missing.json").returncode == 2
