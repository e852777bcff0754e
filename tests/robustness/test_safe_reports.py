"""Reports are safe to open whatever the documents and rule files hold: the HTML report runs no
script from a document or a rule message (checked in Chromium), SARIF and JUnit stay well-formed
with markup and control characters in them, and paths stay relative where they were given so."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .fuzzing import report_tags, schema_validator, _Tags
from tests.support import chromium

from .helpers import run_cli


EVIL_PAGE = ('本报讯 2021年，长春市总工会救助困难职工X名<script>window.__pwned=1</script>，'
             '发放救助资金28.74万元</textarea><img src=x onerror="window.__pwned=2">\x07\x1b[31m\u202e。\n'
             '<svg onload=window.__pwned=3>慰问金2.8万元，慰问金2.8万元。]]><!-- {text} {{x}} ${x} \u2028\n')
EVIL_RULE = """rules:
  - id: Z900
    name: evil-message
    kind: pattern
    category: typo
    severity: error
    summary: {zh: "<script>window.__pwned=4</script>摘要", en: "<b onmouseover=window.__pwned=5>s</b>"}
    message: {zh: "<img src=x onerror=window.__pwned=6>“{text}”\\u0007 & <!--", en: "<script>x</script>{text}"}
    example: "<script>window.__pwned=7</script>救助"
    params:
      checks:
        - pattern: '救助'
          note: '<iframe src=javascript:window.__pwned=8>'
"""


@pytest.fixture(scope="module")
def evil(tmp_path_factory) -> Path:
    """A working folder: the hostile page and rule file, audited into every report format, with
    the paths given relative to it."""
    work = tmp_path_factory.mktemp("evil")
    (work / "in").mkdir()
    (work / "in" / "evil page.txt").write_text(EVIL_PAGE, encoding="utf-8")
    (work / "evil.yaml").write_text(EVIL_RULE, encoding="utf-8")
    for fmt in ("json", "sarif", "junit", "github", "markdown"):
        run = run_cli("audit", "in/evil page.txt", "--rules", "evil.yaml", "--format", fmt, "-o", f"out.{fmt}",
                      *(["--html", "out.html"] if fmt == "json" else []), cwd=work)
        assert run.returncode == 1 and run.stderr == "", run.stderr
    return work


def test_the_html_report_escapes_documents_and_rule_texts(evil) -> None:
    html = (evil / "out.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    tags = [t for t, _ in parser.tags]
    assert tags.count("script") == 2 and set(tags) <= report_tags()
    assert not any(name.startswith("on") for _, attrs in parser.tags for name in attrs)
    for needle in ("<script>window", "<img src=x", "<svg onload", "<iframe", "<b onmouseover"):
        assert needle not in html, needle
    assert "&lt;img src=x onerror=window.__pwned=6&gt;" in html  # the rule message, shown as text


def test_no_script_from_a_document_or_a_rule_runs_in_chromium(evil) -> None:
    uri = (evil / "out.html").as_uri()
    with chromium() as browser:
        page = browser.new_page()
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(uri)
        page.wait_for_load_state("load")
        for mark in page.locator("mark").all()[:10]:  # hover and focus what the user would
            mark.hover()
            mark.focus()
        page.locator("li.finding").first.click()
        page.wait_for_timeout(200)
        assert page.evaluate("window.__pwned") is None
        assert page.locator(".doc .text img, .doc .text script, .doc .text svg, iframe").count() == 0
        assert "<script>window.__pwned=1</script>" in page.locator(".doc .text").inner_text()
        assert errors == []
        assert [u for u in requests if not (u == uri or u.startswith("data:"))] == []


def test_json_report_validates_and_keeps_relative_paths(evil) -> None:
    report = json.loads((evil / "out.json").read_text(encoding="utf-8"))
    assert not list(schema_validator().iter_errors(report))
    assert [d["path"] for d in report["documents"]] == ["in/evil page.txt"]
    original = (evil / "in" / "evil page.txt").read_text(encoding="utf-8")
    for f in report["findings"]:
        assert f["document"] == "in/evil page.txt" and original[f["start"]:f["end"]] == f["text"]


def test_sarif_is_valid_json_with_relative_uris(evil) -> None:
    sarif = json.loads((evil / "out.sarif").read_text(encoding="utf-8"))
    run = sarif["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"in/evil%20page.txt"}
    assert run["artifacts"][0]["location"]["uri"] == "in/evil%20page.txt"
    messages = [r["message"]["text"] for r in run["results"]]
    assert any("<img src=x onerror=window.__pwned=6>" in m and "\x07" in m for m in messages)


def test_junit_parses_with_control_characters_made_visible(evil) -> None:
    text = (evil / "out.junit").read_text(encoding="utf-8")
    root = ET.fromstring(text.split("\n", 1)[1])
    assert {s.get("name") for s in root.iter("testsuite")} == {"in/evil page.txt"}
    failures = " ".join((f.text or "") + (f.get("message") or "") for f in root.iter("failure"))
    assert "\\x07" in failures and "\x07" not in text and "\x1b" not in text
    assert "<img src=x onerror=window.__pwned=6>" in failures  # escaped in the file, text once parsed


def test_github_annotations_stay_one_line_each(evil) -> None:
    lines = (evil / "out.github").read_text(encoding="utf-8").rstrip("\n").split("\n")
    assert all(line.startswith(("::error ", "::warning ", "::notice ", "auditor: ")) for line in lines)
    assert all("\r" not in line for line in lines)
    assert any("file=in/evil page.txt" in line for line in lines)


def test_an_absolute_path_outside_the_working_folder_stays_absolute(evil, tmp_path) -> None:
    run = run_cli("audit", str(evil / "in" / "evil page.txt"), "--format", "sarif", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    uri = json.loads(run.stdout)["runs"][0]["artifacts"][0]["location"]["uri"]
    assert uri.startswith("file:///") and uri.endswith("evil%20page.txt")
