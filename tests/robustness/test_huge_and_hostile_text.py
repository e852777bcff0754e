"""Text that is valid but hostile: control and bidi characters, one 10 MB line, huge numbers, HTML
with scripts and entities, files near the size limit. Each gives a correct result (spans that map
back, finite values, reports that parse) within a time and memory bound, or one clear error line."""

from __future__ import annotations

import hashlib
import json
import math
import time

import pytest

from .fuzzing import schema_validator
from .helpers import FIXTURES, one_line_error, run_cli


def _fixture_text() -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("0*.txt")))


def _one_line(size_bytes: int) -> str:
    """The fixtures with their line breaks removed, repeated to `size_bytes` of UTF-8: a page
    exported as a single line, dense with figures, organisations and repeated clauses."""
    pages = _fixture_text().replace("\r", "").replace("\n", "")
    text = pages * (size_bytes // len(pages.encode("utf-8")) + 1)
    data = text.encode("utf-8")[:size_bytes]
    return data.decode("utf-8", "ignore")


def _spans_map_back(records: list[dict], originals: dict[str, str]) -> None:
    for r in records:
        original = originals[r["document"]]
        assert original[r["start"]:r["end"]] == r["text"], r


# --------------------------------------------------------------------------- control and bidi characters

HOSTILE_LINE = ("本报讯 2021年，长春市总工会\u202e救助困难职工\u200b84名\u2066，发放\x07救助资金28.74\u200d万元，"
                "\x1b[31m慰问金\x1b[0m X元。\u202a\u202c\ufeff\u00ad\u2028\x85\x0b\x0c终。\n")


def test_control_and_bidi_characters_give_a_correct_report(tmp_path) -> None:
    page = tmp_path / "controls.txt"
    page.write_text(HOSTILE_LINE * 40, encoding="utf-8")
    original = page.read_text(encoding="utf-8")
    out = tmp_path / "r.json"
    run = run_cli("audit", str(page), "--format", "json", "-o", str(out))
    assert run.returncode == 1 and run.stderr == "", run.stderr  # the X placeholder is an error finding
    report = json.loads(out.read_text(encoding="utf-8"))
    assert not list(schema_validator().iter_errors(report))
    _spans_map_back(report["metrics"], {str(page): original})
    _spans_map_back(report["findings"], {str(page): original})
    assert {m["text"] for m in report["metrics"]} >= {"84名", "28.74\u200d万元"}
    assert {m["value"] for m in report["metrics"] if m["text"] == "28.74\u200d万元"} == {287400}
    assert any(f["rule"] == "P001" and f["text"] == "X" for f in report["findings"])


def test_control_and_bidi_characters_stay_visible_on_the_console(tmp_path) -> None:
    page = tmp_path / "controls\x1b[31m\u202e.txt"
    page.write_text(HOSTILE_LINE, encoding="utf-8")
    run = run_cli("audit", str(page), "--no-color")
    assert run.returncode == 1, run.stderr
    # A terminal must not be driven by the document: no ESC, no bidi override, no BEL reach it.
    for ch in ("\x1b", "\u202e", "\u2066", "\x07"):
        assert ch not in run.stdout, repr(ch)
    assert "<U+202E>" in run.stdout or "<U+001B>" in run.stdout


def test_text_full_of_control_characters_is_refused_as_binary(tmp_path) -> None:
    page = tmp_path / "noise.txt"
    page.write_bytes(("本报讯" + "\x01\x02\x03\x1b\x07" * 20 + "\n").encode() * 50)
    one_line_error(run_cli("audit", str(page)), "noise.txt", "binary file (control characters)")


# --------------------------------------------------------------------------- one very long line


def test_a_ten_megabyte_line_is_extracted_with_exact_spans(tmp_path) -> None:
    """The whole page on one 10 MB line: every figure found, every span exact, in bounded time."""
    page = tmp_path / "one-line.txt"
    page.write_text(_one_line(10 * 1024 * 1024), encoding="utf-8")
    out = tmp_path / "metrics.json"
    run = run_cli("extract", str(page), "--format", "json", "-o", str(out), timeout=180)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert run.seconds < 90, f"{run.seconds:.0f} s"
    assert run.peak_mb < 2000, f"{run.peak_mb:.0f} MB"
    records = json.loads(out.read_text(encoding="utf-8"))
    assert len(records) > 40000
    _spans_map_back(records, {str(page): page.read_text(encoding="utf-8")})


def test_a_one_megabyte_line_is_audited_in_seconds(tmp_path) -> None:
    """Was minutes: same-value figures and duplicate widening scanned the whole line once per figure."""
    page = tmp_path / "one-line.txt"
    page.write_text(_one_line(1024 * 1024), encoding="utf-8")
    out = tmp_path / "r.json"
    run = run_cli("audit", str(page), "--format", "json", "-o", str(out), timeout=180)
    assert run.returncode == 1 and run.stderr == "", run.stderr
    assert run.seconds < 60, f"{run.seconds:.0f} s"
    report = json.loads(out.read_text(encoding="utf-8"))
    original = page.read_text(encoding="utf-8")
    _spans_map_back(report["findings"], {str(page): original})
    assert not list(schema_validator().iter_errors(report))


@pytest.mark.slow
def test_a_ten_megabyte_line_is_audited_in_bounded_time(tmp_path) -> None:
    page = tmp_path / "one-line.txt"
    page.write_text(_one_line(10 * 1024 * 1024), encoding="utf-8")
    run = run_cli("audit", str(page), "--quiet", "--no-color", timeout=400)
    assert run.returncode == 1 and run.stderr == "", run.stderr
    assert run.seconds < 240, f"{run.seconds:.0f} s"
    assert run.peak_mb < 3000, f"{run.peak_mb:.0f} MB"
    assert "审查 1 篇文档" in run.stdout


def test_an_article_of_twenty_thousand_equal_figures_is_checked_in_linear_time() -> None:
    """U001 (same fact at two scales) compared each figure with every earlier one: 205 s here."""
    from auditor.documents.load import Document
    from auditor.pipeline import analyse
    from auditor.rules.context import AuditContext
    from auditor.rules.engine import run_rules
    from auditor.rules.loader import load_rules

    text = "本报讯 2021年，长春市总工会" + "救助困难职工84名，发放慰问金3万元，发放慰问金30000元，" * 7000 + "。\n"
    data = text.encode("utf-8")
    doc = analyse(Document("big.txt", text, "utf-8", hashlib.sha256(data).hexdigest(), "txt", len(data)))
    assert len(doc.metrics) > 20000
    rules = [r for r in load_rules().rules if r.kind in ("unit", "duplicate")]
    started = time.perf_counter()
    findings = run_rules(rules, AuditContext([doc]))
    assert time.perf_counter() - started < 30
    same_fact = [f for f in findings if f.rule == "U001"]
    assert same_fact and all(doc.original[f.start:f.end] == f.text for f in same_fact)


# --------------------------------------------------------------------------- the size limit


def test_the_size_limit_is_a_setting_and_an_option(tmp_path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(HOSTILE_LINE * 10, encoding="utf-8")
    size = page.stat().st_size
    one_line_error(run_cli("extract", str(page), "--max-bytes", str(size - 1)), "page.txt", "over the limit",
                   "(--max-bytes)")
    assert run_cli("extract", str(page), "--max-bytes", str(size)).returncode == 0
    (tmp_path / "auditor.toml").write_text(f"max-bytes = {size // 2}\n", encoding="utf-8")
    one_line_error(run_cli("extract", "page.txt", cwd=tmp_path), "page.txt", "over the limit")
    assert run_cli("extract", "page.txt", "--max-bytes", str(size), cwd=tmp_path).returncode == 0


# --------------------------------------------------------------------------- huge numbers

HUGE = ("本报讯 2021年，长春市总工会发放救助资金28.74万元，另有1e308元、99999999999999999999亿元、"
        + "9" * 400 + "元、1e99元、9^99元、0.1^-99元、1.5e-400万元、" + "一" * 300 + "万元、1e30元，"
        "慰问职工1e309人次、" + "9" * 5000 + "%，帮扶2^10元。\n")


def test_huge_numbers_are_finite_or_not_figures(tmp_path) -> None:
    page = tmp_path / "huge.txt"
    page.write_text(HUGE, encoding="utf-8")
    out = tmp_path / "r.json"
    run = run_cli("audit", str(page), "--format", "json", "-o", str(out))
    assert run.returncode in (0, 1) and run.stderr == "", run.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert not list(schema_validator().iter_errors(report))
    _spans_map_back(report["metrics"], {str(page): HUGE})
    by_text = {m["text"]: m["value"] for m in report["metrics"]}
    for m in report["metrics"]:
        for key in ("value", "range_low", "range_high"):
            v = m.get(key)
            assert v is None or (math.isfinite(v) and abs(v) < 1e45), m
    assert by_text["28.74万元"] == 287400 and by_text["2^10元"] == 1024 and by_text["1e30元"] == 1e30
    # What is not a readable figure is not reported as a smaller one (1e99元 is not "9元").
    for text in by_text:
        assert text not in ("9元", "99元", "400万元", "1^-99元", "308元"), text
    assert not any(t.startswith("9999") for t in by_text)


# --------------------------------------------------------------------------- HTML with scripts and entities


def test_html_with_scripts_and_entities_reads_only_the_visible_text(tmp_path) -> None:
    from auditor.documents.load import load_document

    page = tmp_path / "page.html"
    page.write_text(
        "<!doctype html><html><head><title>84名</title><script>var x='5万元';</script>"
        "<style>p::after{content:'7万元'}</style></head><body>"
        "<p>本报讯 2021年，长春市总工会救助困难职工84名，发放救助资金28.74万元&amp;&lt;script&gt;alert(1)"
        "&lt;/script&gt;&#x4e00;&nbsp;&#0;&#xD800;&#1114112;&bogus;</p>"
        "<script>document.write('<p>3万元</p>')</script><noscript>6万元</noscript>"
        "<img src=x onerror=alert(2)><table><tr><td>1</td><td>2万元</td></tr></table></body></html>",
        encoding="utf-8")
    run = run_cli("extract", str(page), "--format", "json")
    assert run.returncode == 0 and run.stderr == "", run.stderr
    records = json.loads(run.stdout)
    text = load_document(page).text
    _spans_map_back(records, {str(page): text})
    assert [r["text"] for r in records] == ["84名", "28.74万元", "2万元"]
    assert "<script>alert(1)</script>" in text and "&amp;" not in text  # entities decoded, as text
    for hidden in ("5万元", "7万元", "3万元", "6万元", "var x"):
        assert hidden not in text


@pytest.mark.parametrize("tail", ["<!--", "<a ", "</a ", "<!x", "<?x", "<![CDATA[", "<a b='"],
                         ids=["comments", "start-tags", "end-tags", "declarations", "instructions", "cdata", "quotes"])
def test_html_with_unterminated_markup_is_read_in_linear_time(tmp_path, tail) -> None:
    """300 000 tags or comments that never close: html.parser rescanned to the end from each one
    (minutes for 800 KB); what never closes is not text, as in a browser."""
    from auditor.documents.load import load_document
    from auditor.pipeline import analyse

    page = tmp_path / "page.html"
    page.write_text("<p>本报讯 2021年，长春市总工会救助困难职工84名。</p>" + tail * 300_000, encoding="utf-8")
    started = time.perf_counter()
    doc = analyse(load_document(page))
    assert time.perf_counter() - started < 15
    assert [m.text for m in doc.metrics] == ["84名"]
    if tail == "<!--":  # and through the command line
        run = run_cli("extract", str(page), "--format", "json", timeout=60)
        assert run.returncode == 0 and run.stderr == "" and [r["text"] for r in json.loads(run.stdout)] == ["84名"]
