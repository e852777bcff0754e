"""Tests for auditor.report.console: the ruff/rustc-style console report."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from auditor.documents.load import Document, load_document
from auditor.findings import Finding, Related, line_and_column
from auditor.report.console import print_console, render_console_text

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "001_4056ee0728c65a9a.txt"
ANSI = re.compile(r"\x1b\[")


# --------------------------------------------------------------------------- building results


@dataclass(frozen=True)
class _Doc:
    """Stand-in for pipeline.AnalysedDocument: the reporter reads only these attributes."""

    document: Document

    @property
    def path(self) -> str:
        return self.document.path

    @property
    def original(self) -> str:
        return self.document.text


@dataclass(frozen=True)
class _Result:
    """Stand-in for audit.AuditResult, used while auditor.audit cannot be imported."""

    documents: tuple
    findings: tuple
    rule_set: object
    rules: tuple
    elapsed_s: float
    lang: str


def _analysed(document: Document):
    try:
        from auditor.pipeline import analyse

        return analyse(document)
    except Exception:  # the extraction stage may not be ready yet
        return _Doc(document)


def _result(documents, findings, *, lang="zh", elapsed=0.25):
    try:
        from auditor.audit import AuditResult
    except Exception:
        AuditResult = _Result
    return AuditResult(tuple(documents), tuple(findings), None, (), elapsed, lang)


def _memory_document(text: str, path: str = "mem/doc.txt") -> Document:
    data = text.encode("utf-8")
    return Document(path=path, text=text, encoding="utf-8", sha256=hashlib.sha256(data).hexdigest(),
                    format="txt", size=len(data))


def _finding(doc: Document, start: int, end: int, *, rule="D002", severity="warning", category="duplicate",
             message="重复的分句", related=(), suppressed=None) -> Finding:
    line, column = line_and_column(doc.text, start)
    return Finding(rule, category, severity, message, doc.path, start, end, line, column, doc.text[start:end],
                   related=tuple(related), suppressed=suppressed)


@pytest.fixture(scope="module")
def fixture_doc() -> Document:
    return load_document(FIXTURE)


@pytest.fixture(scope="module")
def analysed(fixture_doc):
    return _analysed(fixture_doc)


def _dup_start(doc: Document) -> int:
    return doc.text.index("放救助资金2.8万元")  # line 31; its first 5 characters are CJK


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _under(out: str, prefix: str) -> str:
    """The line printed right after the first line starting with `prefix`."""
    lines = _lines(out)
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            return lines[i + 1]
    raise AssertionError(f"no line starting with {prefix!r} in:\n{out}")


# --------------------------------------------------------------------------- findings


def test_header_format(fixture_doc, analysed):
    s = _dup_start(fixture_doc)
    out = render_console_text(_result([analysed], [_finding(fixture_doc, s + 5, s + 10)]))
    first = _lines(out)[0]
    assert first == f"{fixture_doc.path}:31:6  D002  warning  重复的分句"


def test_underline_after_five_cjk_characters_is_ten_cells(fixture_doc, analysed):
    s = _dup_start(fixture_doc)
    out = render_console_text(_result([analysed], [_finding(fixture_doc, s + 5, s + 10)]))
    source = next(line for line in _lines(out) if line.startswith("31 | "))
    assert source.startswith("31 | 放救助资金2.8万元,")
    # "2.8万元": 3 narrow + 2 wide characters = 7 cells, after 5 wide characters = 10 cells.
    assert _under(out, "31 | ") == "   | " + " " * 10 + "^" * 7
    assert _lines(out)[1] == "   |"


def test_underline_of_a_cjk_span_counts_two_cells_each(fixture_doc, analysed):
    s = _dup_start(fixture_doc)
    out = render_console_text(_result([analysed], [_finding(fixture_doc, s, s + 5)]))
    assert _under(out, "31 | ") == "   | " + "^" * 10


def test_zero_length_span_gets_one_caret(fixture_doc, analysed):
    s = _dup_start(fixture_doc)
    out = render_console_text(_result([analysed], [_finding(fixture_doc, s + 2, s + 2)]))
    assert _under(out, "31 | ") == "   | " + " " * 4 + "^"


def test_multi_line_span_underlines_each_line(fixture_doc, analysed):
    text = fixture_doc.text
    s = _dup_start(fixture_doc)
    end = text.index("\n", text.index("\n", s) + 1) + 1 + 6  # 6 characters into line 33
    out = render_console_text(_result([analysed], [_finding(fixture_doc, s + 40, end)]))
    lines = _lines(out)
    numbers = [line.split("|")[0].strip() for line in lines if re.match(r"^\d+ \|", line)]
    assert numbers == ["31", "32", "33"]
    assert set(_under(out, "31 | ").split("| ", 1)[1].strip()) == {"^"}
    assert "32 |" in lines and _under(out, "32 |").startswith("33 | 维权服务")  # an empty line: no underline
    # Line 33 is underlined from its start for its first 6 characters (all CJK).
    assert _under(out, "33 | ") == "   | " + "^" * 12


def test_multi_line_span_shows_at_most_three_lines(fixture_doc, analysed):
    text = fixture_doc.text
    s = _dup_start(fixture_doc)
    end = s
    for _ in range(5):
        end = text.index("\n", end) + 1
    out = render_console_text(_result([analysed], [_finding(fixture_doc, s, end - 1)]))
    numbers = [line.split("|")[0].strip() for line in _lines(out) if re.match(r"^\d+ \|", line)]
    assert numbers == ["31", "32", "33"]
    assert "   | …（共 5 行）" in out


def test_related_location_line_and_note(fixture_doc, analysed):
    text = fixture_doc.text
    s, r = _dup_start(fixture_doc), text.index("发放慰问金2.8万元")
    related = Related(fixture_doc.path, r, r + 40, text[r:r + 40], "第一次出现")
    out = render_console_text(_result([analysed], [_finding(fixture_doc, s, s + 40, related=[related])]))
    assert f"   = 另见 {fixture_doc.path}:25:1 “发放慰问金2.8万元,为卫生、公安、环卫…” (第一次出现)" in _lines(out)


def test_related_outside_the_result_prints_offsets_and_at_most_five(fixture_doc, analysed):
    s = _dup_start(fixture_doc)
    related = [Related("elsewhere/other.txt", 10 * i, 10 * i + 4, "其他文本") for i in range(7)]
    out = render_console_text(_result([analysed], [_finding(fixture_doc, s, s + 4, related=related)]))
    see_also = [line for line in _lines(out) if line.startswith("   = 另见 ")]
    assert len(see_also) == 5
    assert see_also[1] == "   = 另见 elsewhere/other.txt 字符 10–14 “其他文本”"
    assert "   = … 另有 2 处" in _lines(out)


def test_findings_sorted_and_suppressed_counted_not_listed(fixture_doc, analysed):
    s = _dup_start(fixture_doc)
    findings = [
        _finding(fixture_doc, s + 20, s + 22, rule="U001", severity="error", category="unit"),
        _finding(fixture_doc, s, s + 2, rule="T001", severity="info", category="typo"),
        _finding(fixture_doc, s + 10, s + 12, rule="P001", suppressed="baseline"),
    ]
    out = render_console_text(_result([analysed], findings))
    headers = [line for line in _lines(out) if line.startswith(fixture_doc.path)]
    assert [h.split()[1] for h in headers] == ["T001", "U001"]
    assert "另有 1 个已抑制的问题未列出。" in out
    assert out.rstrip().endswith("共 1 篇文档：1 个错误，0 个警告，1 条提示。")


def test_markup_in_documents_and_messages_prints_literally():
    text = "第一行\n报告[bold]x[/bold]中的[/]方括号\n"
    doc = _memory_document(text)
    start = text.index("[bold]")
    finding = _finding(doc, start, start + len("[bold]x[/bold]"), message="含有 [red]标记[/red] 与 [/]",
                       related=[Related(doc.path, 0, 3, "[link=x]y[/link]", "[/]")])
    for color in (False, True):
        out = render_console_text(_result([_Doc(doc)], [finding]), color=color)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
        assert "2 | 报告[bold]x[/bold]中的[/]方括号" in plain
        assert "含有 [red]标记[/red] 与 [/]" in plain
        assert "“[link=x]y[/link]” ([/])" in plain
        # Underline: "报告" is 4 cells; the markup text is 14 narrow characters.
        assert _under(plain, "2 | ") == "  | " + " " * 4 + "^" * 14


def test_no_ansi_escapes_without_colour(fixture_doc, analysed):
    s = _dup_start(fixture_doc)
    result = _result([analysed], [_finding(fixture_doc, s, s + 5, severity="error")])
    assert not ANSI.search(render_console_text(result, color=False))
    for color in (False, True):  # a StringIO is not a terminal: no escapes either way
        buffer = io.StringIO()
        print_console(result, color=color, file=buffer)
        assert not ANSI.search(buffer.getvalue())
        assert buffer.getvalue().startswith(f"{fixture_doc.path}:31:1  D002  error  ")
    assert ANSI.search(render_console_text(result, color=True))


def test_quiet_prints_only_the_summary(fixture_doc, analysed):
    s = _dup_start(fixture_doc)
    result = _result([analysed], [_finding(fixture_doc, s, s + 5)])
    buffer = io.StringIO()
    print_console(result, quiet=True, file=buffer)
    out = buffer.getvalue()
    assert fixture_doc.path not in out
    assert " | " not in out and "^" not in out
    assert out.startswith("审查汇总")
    assert "重复 (duplicate)" in out
    assert f"审查 1 篇文档，共 {len(fixture_doc.text):,} 字，用时 0.25 秒。" in out
    assert out.rstrip().endswith("共 1 篇文档：0 个错误，1 个警告，0 条提示。")


def test_english_strings(fixture_doc, analysed):
    text = fixture_doc.text
    s, r = _dup_start(fixture_doc), text.index("发放慰问金2.8万元")
    findings = [_finding(fixture_doc, s, s + 5, message="Duplicate clause",
                         related=[Related(fixture_doc.path, r, r + 5, text[r:r + 5], "first copy")]),
                _finding(fixture_doc, s + 6, s + 8, severity="error", category="unit", rule="U001",
                         message="Unit mismatch")]
    out = render_console_text(_result([analysed], findings, lang="en"))
    assert f"   = see also {fixture_doc.path}:25:1 “发放慰问金” (first copy)" in out
    assert "Audit summary" in out and "Category" in out and "Total" in out
    assert "Audited 1 document," in out
    assert out.rstrip().endswith("Found 1 error, 1 warning, 0 info in 1 document.")
    assert "另见" not in out and "共" not in out


def test_no_findings(fixture_doc, analysed):
    zh = render_console_text(_result([analysed], []))
    en = render_console_text(_result([analysed], [], lang="en"))
    assert zh.rstrip().endswith("未发现问题。")
    assert en.rstrip().endswith("No problems found.")
    assert "┃" not in zh  # no table when there is nothing to count


# --------------------------------------------------------------------------- code frame details


def test_long_line_is_windowed_and_underline_lines_up():
    line = "甲" * 150 + "错别字" + "乙" * 150
    text = "标题\n" + line + "\n"
    doc = _memory_document(text)
    start = text.index("错别字")
    out = render_console_text(_result([_Doc(doc)], [_finding(doc, start, start + 3)]), width=100)
    source = next(l for l in _lines(out) if l.startswith("2 | "))
    underline = _under(out, "2 | ")
    assert cell_len(source) <= 100
    assert source.startswith("2 | …") and source.endswith("…")
    shown = source[len("2 | "):]
    assert underline.startswith("  | ")
    marks = underline[len("  | "):]
    indent = len(marks) - len(marks.lstrip(" "))
    assert indent == cell_len(shown[: shown.index("错别字")])
    assert underline.endswith("^" * 6)


def test_tabs_become_spaces_and_invisible_characters_are_shown():
    text = "\t数据\u200b有误\n"
    doc = _memory_document(text)
    start = text.index("\u200b")
    out = render_console_text(_result([_Doc(doc)], [_finding(doc, start, start + 1, rule="O001",
                                                                      category="ocr")]))
    assert "1 |     数据<U+200B>有误" in _lines(out)
    assert _under(out, "1 | ") == "  | " + " " * 8 + "^" * len("<U+200B>")


def test_crlf_lines(fixture_doc):
    text = "第一行\r\n第二行有问题\r\n"
    doc = _memory_document(text)
    start = text.index("问题")
    out = render_console_text(_result([_Doc(doc)], [_finding(doc, start, start + 2)]))
    assert "2 | 第二行有问题" in _lines(out)
    assert _under(out, "2 | ") == "  | " + " " * 8 + "^" * 4


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="数据报告ABC12,，。“”…\t ", min_size=1, max_size=60), st.data())
def test_caret_indent_matches_display_width(line, data):
    text = "x\n" + line + "\n"
    doc = _memory_document(text)
    a = data.draw(st.integers(0, len(line)))
    b = data.draw(st.integers(a, len(line)))
    out = render_console_text(_result([_Doc(doc)], [_finding(doc, 2 + a, 2 + b)]), width=200)
    shown = lambda s: s.replace("\t", "    ")
    underline = _under(out, "2 | ")
    assert underline == "  | " + " " * cell_len(shown(line[:a])) + "^" * max(1, cell_len(shown(line[a:b])))
