"""The console report of `auditor audit`, laid out like ruff and rustc diagnostics.

For every finding that is not suppressed::

    fixtures/001_x.txt:31:1  D002  warning  重复的分句：……
       |
    31 | 放救助资金2.8万元,为卫生、公安……
       | ^^^^^^^^^^
       = 另见 fixtures/001_x.txt:25:1 “发放慰问金2.8万元…” (note)

then a summary table (category × severity) and one closing line.

Everything taken from documents or rules (text, messages, paths) goes into rich ``Text``
objects, never through markup, so "[bold]" in a document prints literally.  Underlines are
measured in terminal cells (CJK wide characters are 2 cells), so the carets stay under the
flagged characters.
"""

from __future__ import annotations

import io
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..findings import CATEGORIES, SEVERITIES, Finding, Related, line_and_column

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult

__all__ = ["print_console", "render_console_text"]

MAX_FRAME_LINES = 3  # lines of a multi-line span shown in its code frame
MAX_RELATED = 5  # related locations listed per finding
MAX_FRAME_WIDTH = 120  # cells of source text shown per line, at most
MIN_FRAME_WIDTH = 40  # ... and at least, however narrow the console
_FRAME_CLIP = MAX_FRAME_WIDTH  # characters of a long line kept either side of a span (a cell or more each)
RELATED_TEXT_CHARS = 20  # characters of a related location's text quoted
TAB = "    "

SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold blue"}

_STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "see_also": "另见",
        "and_more": "… 另有 {n} 处",
        "offsets": "字符 {start}–{end}",
        "more_lines": "…（共 {n} 行）",
        "title": "审查汇总",
        "category": "类别",
        "total": "合计",
        "error": "错误",
        "warning": "警告",
        "info": "提示",
        "audited": "审查 {docs} 篇文档，共 {chars} 字，用时 {secs:.2f} 秒。",
        "suppressed": "另有 {n} 个已抑制的问题未列出。",
        "found": "共 {docs} 篇文档：{errors} 个错误，{warnings} 个警告，{infos} 条提示。",
        "clean": "未发现问题。",
    },
    "en": {
        "see_also": "see also",
        "and_more": "… and {n} more",
        "offsets": "chars {start}–{end}",
        "more_lines": "… ({n} lines in all)",
        "title": "Audit summary",
        "category": "Category",
        "total": "Total",
        "error": "error",
        "warning": "warning",
        "info": "info",
        "audited": "Audited {docs} {doc_word}, {chars} characters in {secs:.2f} s.",
        "suppressed": "{n} suppressed {finding_word} not shown.",
        "found": "Found {errors} {error_word}, {warnings} {warning_word}, {infos} info in {docs} {doc_word}.",
        "clean": "No problems found.",
    },
}

_CATEGORY_ZH = {
    "placeholder": "占位符", "duplicate": "重复", "unit": "单位", "yoy": "同比", "arithmetic": "算术",
    "ocr": "OCR 识别", "typo": "错别字", "other": "其他",
}


# --------------------------------------------------------------------------- public API


def print_console(result: "AuditResult", *, color: bool = True, quiet: bool = False, file=None) -> None:
    """Print the report to stdout (or `file`); colour only when `color` and the stream is a terminal."""
    if color:
        console = Console(file=file, force_terminal=None, no_color=False, highlight=False, emoji=False)
    else:
        # color_system=None: no escape codes at all, not even bold, for --no-color.
        console = Console(file=file, force_terminal=None, no_color=True, color_system=None,
                          highlight=False, emoji=False)
    _render(console, result, quiet=quiet)


def render_console_text(result: "AuditResult", *, color: bool = False, quiet: bool = False, width: int = 100) -> str:
    """The same report as a string, for --output."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, emoji=False,
                      legacy_windows=False)
    _render(console, result, quiet=quiet)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the report


def _render(console: Console, result: "AuditResult", *, quiet: bool) -> None:
    lang = "en" if getattr(result, "lang", "zh") == "en" else "zh"
    strings = _STRINGS[lang]
    docs = {d.path: d for d in result.documents}
    active = sorted((f for f in result.findings if f.suppressed is None), key=Finding.sort_key)
    if not quiet:
        frame_width = max(MIN_FRAME_WIDTH, min(console.width, MAX_FRAME_WIDTH))
        for finding in active:
            for line in _finding_lines(finding, docs, strings, frame_width):
                console.print(line, soft_wrap=True)
            console.print()
    _print_summary(console, result, active, lang)


def _finding_lines(f: Finding, docs: dict[str, Any], strings: dict[str, str], frame_width: int) -> list[Text]:
    lines = [_header(f)]
    doc = docs.get(f.document)
    original = _original(doc) if doc is not None else None
    frame: list[_FrameLine] = []
    if original is not None and 0 <= f.start <= f.end <= len(original):
        frame = _frame(original, f.start, f.end, strings["more_lines"])
    related = list(f.related)
    numbers = [str(fl.number) for fl in frame if fl.number is not None]
    gutter = max((len(n) for n in numbers), default=1) + 1
    if frame:
        lines.append(_gutter_only(gutter))
        budget = max(MIN_FRAME_WIDTH - gutter, frame_width - gutter - 2)
        for fl in frame:
            lines.extend(fl.render(gutter, budget))
    for r in related[:MAX_RELATED]:
        lines.append(_note(gutter, Text.assemble(strings["see_also"], " ", _related(r, docs, strings))))
    if len(related) > MAX_RELATED:
        lines.append(_note(gutter, Text(strings["and_more"].format(n=len(related) - MAX_RELATED))))
    return lines


def _header(f: Finding) -> Text:
    text = Text()
    text.append(_inline(f.document), style="bold")
    text.append(f":{f.line}:{f.column}", style="cyan")
    text.append("  ")
    text.append(f.rule, style="bold")
    text.append("  ")
    text.append(f.severity, style=SEVERITY_STYLE.get(f.severity, "bold"))
    text.append("  ")
    text.append(_inline(f.message))
    return text


def _related(r: Related, docs: dict[str, Any], strings: dict[str, str]) -> Text:
    out = Text()
    doc = docs.get(r.document)
    original = _original(doc) if doc is not None else None
    if original is not None and 0 <= r.start <= len(original):
        line, column = line_and_column(original, r.start)
        out.append(f"{_inline(r.document)}:{line}:{column}", style="bold")
    else:
        out.append(_inline(r.document), style="bold")
        out.append(" " + strings["offsets"].format(start=r.start, end=r.end))
    if r.text:
        quoted = _inline(r.text)
        if len(quoted) > RELATED_TEXT_CHARS:
            quoted = quoted[:RELATED_TEXT_CHARS] + "…"
        out.append(f" “{quoted}”")
    if r.note:
        out.append(f" ({_inline(r.note)})", style="dim")
    return out


def _gutter_only(gutter: int) -> Text:
    return Text(" " * gutter + "|", style="bold blue")


def _note(gutter: int, body: Text) -> Text:
    return Text.assemble((" " * gutter + "= ", "bold blue"), body)


# --------------------------------------------------------------------------- code frames


@dataclass
class _FrameLine:
    number: int | None  # None: the "more lines" marker
    chars: list[tuple[str, int]]  # display string and cell width of each character of the line
    start: int = 0  # flagged part of the line, as indexes into chars
    end: int = 0
    marker: str = ""
    first: bool = True  # the line the span starts on

    def render(self, gutter: int, budget: int) -> list[Text]:
        if self.number is None:
            return [Text.assemble((" " * gutter + "| ", "bold blue"), (self.marker, "dim"))]
        shown, indent, carets = _window(self.chars, self.start, self.end, budget)
        number = f"{self.number:>{gutter - 1}} |"
        source = Text.assemble((number + " ", "bold blue"), shown) if shown.plain else Text(number, style="bold blue")
        if self.start == self.end and not self.first:
            return [source]  # a later line of a multi-line span that only contributes its line break
        underline = Text.assemble((" " * gutter + "| ", "bold blue"), " " * indent, ("^" * carets, "bold red"))
        return [source, underline]


def _frame(original: str, start: int, end: int, more: str) -> list[_FrameLine]:
    """The lines holding original[start:end] (at most MAX_FRAME_LINES), the flagged part of each marked."""
    number, column = line_and_column(original, start)
    first = start - column + 1
    last = max(start, end - 1)  # the span's last character (a trailing newline stays on its line)
    out: list[_FrameLine] = []
    pos = first
    while pos <= last or not out:
        if len(out) == MAX_FRAME_LINES:
            out.append(_FrameLine(None, [], marker=more.format(n=original.count("\n", first, last) + 1)))
            break
        nl = original.find("\n", pos)
        line_end = len(original) if nl < 0 else nl
        line = original[pos:line_end]
        if line.endswith("\r"):
            line = line[:-1]
        a = min(max(start, pos) - pos, len(line))
        b = min(max(min(end, line_end) - pos, a), len(line))
        # At most a frame's width is shown around the span: a page written as one 10 MB line must
        # not be turned into display cells whole, once for every finding on it.
        lo, hi = max(0, a - _FRAME_CLIP), min(len(line), min(b, a + _FRAME_CLIP) + _FRAME_CLIP)
        chars = [_display(c) for c in line[lo:hi]]
        out.append(_FrameLine(number, chars, a - lo, min(b, hi) - lo, first=not out))
        if nl < 0:
            break
        pos, number = nl + 1, number + 1
    return out


def _window(chars: list[tuple[str, int]], a: int, b: int, budget: int) -> tuple[Text, int, int]:
    """The visible part of a line and where its underline goes: (text, indent cells, caret count)."""
    prefix = [0]
    for _, width in chars:
        prefix.append(prefix[-1] + width)
    total = prefix[-1]
    lo, hi = 0, len(chars)
    if total > budget:
        avail = budget - 2  # room for an ellipsis at each cut end
        span = prefix[b] - prefix[a]
        if span <= avail:
            left = max(0, min(prefix[a] - (avail - span) // 2, total - avail))
        else:
            left = max(0, prefix[a] - min(10, avail // 4))
        while lo < len(chars) and prefix[lo] < left:
            lo += 1
        hi = lo
        while hi < len(chars) and prefix[hi + 1] - prefix[lo] <= avail:
            hi += 1
    shown = Text()
    lead = 0
    if lo > 0:
        shown.append("…", style="dim")
        lead = 1
    shown.append("".join(s for s, _ in chars[lo:hi]))
    if hi < len(chars):
        shown.append("…", style="dim")
    a_c, b_c = min(max(a, lo), hi), min(max(b, lo), hi)
    indent = lead + prefix[a_c] - prefix[lo]
    carets = max(1, prefix[b_c] - prefix[a_c])
    return shown, indent, carets


def _display(ch: str) -> tuple[str, int]:
    """How one character of a document is shown, and its width in cells."""
    if ch == "\t":
        return TAB, len(TAB)
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") and ch != " ":
        # Invisible or terminal-controlling characters are shown by code point: a
        # zero-width space a rule flags must be visible, and rich drops some controls.
        shown = f"<U+{ord(ch):04X}>"
        return shown, len(shown)
    return ch, cell_len(ch)


def _inline(text: str) -> str:
    """Text for one line of output: newlines and invisible characters made visible."""
    return "".join("⏎" if c == "\n" else "" if c == "\r" else _display(c)[0] for c in text)


def _original(doc: Any) -> str | None:
    """The text to frame findings in; None when there is none (a Parquet or Excel table)."""
    if hasattr(doc, "original"):
        text = doc.original
    else:
        text = getattr(getattr(doc, "document", None), "text", None)
    return text if isinstance(text, str) and text else None


# --------------------------------------------------------------------------- summary


def _print_summary(console: Console, result: "AuditResult", active: Sequence[Finding], lang: str) -> None:
    s = _STRINGS[lang]
    n_docs = len(result.documents)
    n_chars = sum(len(_original(d) or "") for d in result.documents)
    suppressed = sum(1 for f in result.findings if f.suppressed is not None)
    by_severity = Counter(f.severity for f in active)
    if active:
        console.print(Text(s["title"], style="bold"), soft_wrap=True)
        console.print(_summary_table(active, lang))
    words = _english_words(n_docs=n_docs, by_severity=by_severity, suppressed=suppressed) if lang == "en" else {}
    console.print(Text(s["audited"].format(docs=n_docs, chars=f"{n_chars:,}", secs=result.elapsed_s or 0.0,
                                           **words)), soft_wrap=True)
    if suppressed:
        console.print(Text(s["suppressed"].format(n=suppressed, **words), style="dim"), soft_wrap=True)
    if not active:
        console.print(Text(s["clean"], style="bold green"), soft_wrap=True)
        return
    worst = next((sev for sev in SEVERITIES if by_severity.get(sev)), "info")
    console.print(Text(s["found"].format(docs=n_docs, errors=by_severity.get("error", 0),
                                         warnings=by_severity.get("warning", 0),
                                         infos=by_severity.get("info", 0), **words),
                       style=SEVERITY_STYLE[worst]), soft_wrap=True)


def _summary_table(active: Iterable[Finding], lang: str) -> Table:
    s = _STRINGS[lang]
    counts = Counter((f.category, f.severity) for f in active)
    categories = [c for c in CATEGORIES if any(k[0] == c for k in counts)]
    categories += sorted({c for c, _ in counts} - set(categories))
    table = Table(header_style="bold")
    table.add_column(s["category"])
    for sev in SEVERITIES:
        table.add_column(s[sev], justify="right", header_style=SEVERITY_STYLE[sev])
    table.add_column(s["total"], justify="right")
    for cat in categories:
        row = [counts.get((cat, sev), 0) for sev in SEVERITIES]
        table.add_row(Text(_category_label(cat, lang)), *(_count(n) for n in row), Text(str(sum(row)), style="bold"))
    totals = [sum(counts.get((c, sev), 0) for c in categories) for sev in SEVERITIES]
    table.add_section()
    table.add_row(Text(s["total"], style="bold"), *(_count(n, bold=True) for n in totals),
                  Text(str(sum(totals)), style="bold"))
    return table


def _count(n: int, *, bold: bool = False) -> Text:
    return Text(str(n), style="dim" if n == 0 else "bold" if bold else "")


def _category_label(category: str, lang: str) -> str:
    if lang == "zh" and category in _CATEGORY_ZH:
        return f"{_CATEGORY_ZH[category]} ({category})"
    return category


def _english_words(*, n_docs: int, by_severity: Counter, suppressed: int) -> dict[str, str]:
    def plural(n: int, word: str) -> str:
        return word if n == 1 else word + "s"

    return {
        "doc_word": plural(n_docs, "document"),
        "error_word": plural(by_severity.get("error", 0), "error"),
        "warning_word": plural(by_severity.get("warning", 0), "warning"),
        "finding_word": plural(suppressed, "finding"),
    }
