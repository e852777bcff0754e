"""SARIF 2.1.0: valid against the official schema (shared/contracts), rules in tool.driver.rules, and
regions that point at the flagged text of the original file."""

from __future__ import annotations

import json
from dataclasses import replace

from auditor.report.sarif import render_sarif, sarif_dict
from tests.tables.helpers import audit_result, run_cli, sarif_validator


def _errors(data) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in sarif_validator().iter_errors(data)]


def test_fixture_audit_is_valid_sarif(analysed):
    result = audit_result(analysed)
    data = json.loads(render_sarif(result))
    assert _errors(data) == []
    assert data["version"] == "2.1.0"
    run = data["runs"][0]
    assert run["tool"]["driver"]["name"] == "auditor"
    assert len(run["results"]) == len(result.findings) > 10


def test_sarif_is_written_in_pieces_that_join_to_the_whole_log(analysed, tmp_path):
    from auditor.report.sarif import iter_sarif
    from auditor.report.write import write_output

    result = audit_result(analysed)
    whole = json.dumps(sarif_dict(result), ensure_ascii=False, indent=2) + "\n"
    pieces = list(iter_sarif(result))
    assert len(pieces) > len(result.findings) and "".join(pieces) == whole  # a piece per result at least
    write_output(tmp_path / "r.sarif", iter_sarif(result))
    assert (tmp_path / "r.sarif").read_text(encoding="utf-8") == whole


def test_rules_metadata(analysed):
    result = audit_result(analysed)
    run = sarif_dict(result)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in result.rules]
    for r in rules:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]


def test_regions_point_at_the_original_text(analysed):
    result = audit_result(analysed)
    originals = {d.path: d.original for d in result.documents}
    run = sarif_dict(result)["runs"][0]
    for f, res in zip(result.findings, run["results"]):
        region = res["locations"][0]["physicalLocation"]["region"]
        original = originals[f.document]
        assert (region["startLine"], region["startColumn"]) == (f.line, f.column)
        start, length = region["charOffset"], region["charLength"]
        assert original[start:start + length] == f.text == region["snippet"]["text"]
        lines = original.split("\n")
        # endLine/endColumn (exclusive, code points) land at the end of the flagged text
        assert sum(len(x) + 1 for x in lines[:region["endLine"] - 1]) + region["endColumn"] - 1 == start + length
        assert res["partialFingerprints"]["auditorFingerprint/v1"] == f.fingerprint
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("file:///") or not uri.startswith(("/", "file:"))


def test_levels_and_suppressions(analysed):
    result = audit_result(analysed)
    findings = list(result.findings)
    findings[0] = replace(findings[0], suppressed="inline: checked")
    findings[1] = replace(findings[1], suppressed="baseline: old")
    data = sarif_dict(replace(result, findings=tuple(findings)))
    assert _errors(data) == []
    results = data["runs"][0]["results"]
    assert results[0]["suppressions"] == [{"kind": "inSource", "justification": "inline: checked"}]
    assert results[1]["suppressions"][0]["kind"] == "external"
    assert "suppressions" not in results[2]
    levels = {f.severity: r["level"] for f, r in zip(findings, results)}
    assert levels.get("info", "note") == "note" and levels.get("error", "error") == "error"


def test_cli_writes_sarif(tmp_path):
    out = tmp_path / "r.sarif"
    proc = run_cli("audit", "fixtures/", "--format", "sarif", "-o", out)
    assert proc.returncode == 1, proc.stderr  # the fixtures hold errors (placeholders, copies)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert _errors(data) == []
    uris = {a["location"]["uri"] for a in data["runs"][0]["artifacts"]}
    assert "fixtures/004_b6e2a60db747514b.txt" in uris
