"""The HTML report for editors: one self-contained file, no network.

Everything comes from :func:`report_dict` (the JSON report), so the HTML and the JSON can never
disagree; only the documents' original text is read from the :class:`AuditResult` itself.

The page holds:

* a summary (documents, findings by severity and category, the rules that fired);
* duplicates side by side with the differing characters marked;
* year-over-year charts (inline SVG) per organisation and metric;
* every document in full, its findings highlighted in place and listed beside it;
* the metrics table, sortable and filterable, each row linked to its place in the text.

Safety: every piece of document text, path and rule message goes through ``html.escape`` (quote=True);
the data the script reads sits in a ``<script type="application/json">`` block with ``<``, ``>``,
``&``, U+2028 and U+2029 escaped; and a Content-Security-Policy allows only the report's own script
(by its hash), so even a slip in escaping could not run anything a document smuggled in.

Large inputs: each document's text is cut into chunks of a few thousand characters, each rendered
with ``content-visibility: auto`` (the browser lays out only what is on screen); the findings list
shows the first entries and a "show more" button; the metrics table is built by the script a page
at a time. The page itself is written piece by piece (``iter_html``), reading findings and metrics
through views (``FindingRecord``, ``MetricRecord``): a report of 10^5 findings is never one string
nor a dict per row in memory.
"""

from __future__ import annotations

import base64
from bisect import bisect_left
import difflib
import hashlib
import heapq
import html
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from .. import __version__
from ..findings import CATEGORIES, SEVERITIES, SEVERITY_RANK, line_and_column
from .json_report import (FindingRecord, Lazy, MetricRecord, _plain, finding_items, iter_encode, metric_items,
                          report_parts)
from .write import batches

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult

__all__ = ["render_html"]

CHUNK_CHARS = 6000  # characters of document text per content-visibility chunk (cut at a line end)
CHUNK_SLACK = 2000  # how far past CHUNK_CHARS to look for a line end before cutting mid-line
LIST_LIMIT = 150  # findings shown per document list before "show more"
MAX_DUPLICATE_PAIRS = 120  # duplicate pairs drawn side by side (the rest are in the lists)
MAX_DIFF_CHARS = 2000  # characters per side of one duplicate pair that are diffed
MAX_YOY_CHARTS = 120
QUOTE_CHARS = 60  # characters of a finding's text quoted in the list
TITLE_CHARS = 300  # characters of one message in a mark's title attribute

LANGS = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "title": "审查报告",
        "generated": "auditor {version} 生成 · 用时 {secs} 秒 · 规则文件 {rules} 个",
        "nav_summary": "摘要", "nav_duplicates": "重复对照", "nav_yoy": "同比", "nav_documents": "原文与问题",
        "nav_metrics": "数据表",
        "summary": "审查摘要",
        "documents": "文档", "chars": "字", "findings": "问题", "suppressed": "已抑制",
        "error": "错误", "warning": "警告", "info": "提示",
        "by_category": "按类别", "per_document": "按文档", "category": "类别", "total": "合计",
        "rules_fired": "触发的规则", "rule": "规则", "rule_name": "名称", "rule_summary": "检查内容",
        "severity": "级别", "count": "数量", "filter_this": "只看此规则",
        "rules_quiet": "未触发的规则（{n} 条）",
        "no_findings": "未发现问题。",
        "filters": "筛选", "all_rules": "全部规则", "show_suppressed": "显示已抑制",
        "reset": "重置", "showing": "显示 {shown} / {total} 个问题",
        "duplicates": "重复内容对照",
        "duplicates_intro": "左栏为被标记处，右栏为另一处；删除线为左栏独有的字，下划线为右栏独有的字。",
        "here": "本处", "there": "另一处", "identical": "两处文字完全相同", "similarity": "相似度 {pct}%",
        "more_pairs": "另有 {n} 组重复未在此对照，见下方各文档的问题列表。",
        "truncated": "（只比较了前 {n} 个字）",
        "yoy": "同比变化",
        "yoy_intro": "每张小图是一个单位的一项指标：折线为各年数值，绿色竖条为按上年推算的合理范围，红点为被标记的本年数值。",
        "expected_ratio": "合理比值 {lo}–{hi}", "expected_range": "合理范围 {lo}–{hi}",
        "ratio": "比值 {r}", "this_year": "本年：", "last_year": "上年：", "unknown_entity": "未识别单位", "more_charts": "另有 {n} 项未绘图。",
        "documents_heading": "原文与问题",
        "doc_meta": "{chars} 字 · {articles} 篇稿件 · 编码 {encoding}",
        "doc_clean": "本文未发现问题。", "doc_missing": "原文不在本次审查中，只列出问题。",
        "list_heading": "问题列表",
        "line_col": "第 {line} 行第 {column} 列",
        "see_also": "另见", "back": "回到问题",
        "related_title": "{rule} 所指的另一处：{message}",
        "show_more": "再显示 {n} 条（还剩 {rest} 条）",
        "metrics": "数据表", "metrics_intro": "从原文中抽取的每一个数字。点击表头排序，点击“原文”跳到它在文中的位置。",
        "metrics_filter": "筛选数据表…", "metrics_none": "未抽取到数字。",
        "m_document": "文档", "m_text": "原文", "m_value": "数值", "m_unit": "单位", "m_approx": "约数",
        "m_label": "名目", "m_metric": "指标", "m_entity": "单位/主体", "m_year": "年份",
        "m_rows": "{shown} / {total} 行",
        "suppressed_note": "已抑制：{reason}",
        "noscript": "本报告的筛选、排序和数据表需要启用 JavaScript；问题标注与列表不受影响。",
        "year_suffix": "年",
    },
    "en": {
        "html_lang": "en",
        "title": "Audit report",
        "generated": "Generated by auditor {version} in {secs} s · {rules} rule files",
        "nav_summary": "Summary", "nav_duplicates": "Duplicates", "nav_yoy": "Year over year",
        "nav_documents": "Documents", "nav_metrics": "Metrics",
        "summary": "Audit summary",
        "documents": "documents", "chars": "characters", "findings": "findings", "suppressed": "suppressed",
        "error": "error", "warning": "warning", "info": "info",
        "by_category": "By category", "per_document": "By document", "category": "Category", "total": "Total",
        "rules_fired": "Rules that fired", "rule": "Rule", "rule_name": "Name", "rule_summary": "Checks",
        "severity": "Severity", "count": "Count", "filter_this": "Show only this rule",
        "rules_quiet": "Rules that found nothing ({n})",
        "no_findings": "No problems found.",
        "filters": "Filter", "all_rules": "All rules", "show_suppressed": "Show suppressed",
        "reset": "Reset", "showing": "Showing {shown} of {total} findings",
        "duplicates": "Duplicates side by side",
        "duplicates_intro": "Left: the flagged text; right: the other copy. Struck-through characters are only on the left, underlined ones only on the right.",
        "here": "Here", "there": "Other copy", "identical": "The two copies are identical",
        "similarity": "{pct}% similar",
        "more_pairs": "{n} more duplicate pairs are not compared here; see the document lists below.",
        "truncated": "(only the first {n} characters compared)",
        "yoy": "Year over year",
        "yoy_intro": "One small chart per organisation and metric: the line is the yearly values, the green bar the range expected from the previous year, the red dot the flagged value.",
        "expected_ratio": "expected ratio {lo}–{hi}", "expected_range": "expected range {lo}–{hi}",
        "ratio": "ratio {r}", "this_year": "this year:", "last_year": "previous year:", "unknown_entity": "unknown organisation", "more_charts": "{n} more not charted.",
        "documents_heading": "Documents and findings",
        "doc_meta": "{chars} characters · {articles} articles · encoding {encoding}",
        "doc_clean": "No problems in this document.",
        "doc_missing": "The text of this document is not part of this audit; its findings are listed only.",
        "list_heading": "Findings",
        "line_col": "line {line}, column {column}",
        "see_also": "See also", "back": "Back to the finding",
        "related_title": "The other place {rule} points at: {message}",
        "show_more": "Show {n} more ({rest} left)",
        "metrics": "Metrics", "metrics_intro": "Every figure read from the text. Click a header to sort, a figure to jump to it in the text.",
        "metrics_filter": "Filter the table…", "metrics_none": "No figures were extracted.",
        "m_document": "Document", "m_text": "Text", "m_value": "Value", "m_unit": "Unit", "m_approx": "Approx.",
        "m_label": "Label", "m_metric": "Metric", "m_entity": "Organisation", "m_year": "Year",
        "m_rows": "{shown} of {total} rows",
        "suppressed_note": "Suppressed: {reason}",
        "noscript": "Filters, sorting and the metrics table need JavaScript; the highlights and lists work without it.",
        "year_suffix": "",
    },
}

CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "zh": {"placeholder": "占位符", "duplicate": "重复", "unit": "单位", "yoy": "同比", "arithmetic": "算术",
           "ocr": "OCR 识别", "typo": "错别字", "other": "其他"},
    "en": {"placeholder": "placeholder", "duplicate": "duplicate", "unit": "unit", "yoy": "year over year",
           "arithmetic": "arithmetic", "ocr": "OCR", "typo": "typo", "other": "other"},
}

# Strings the script needs, handed over in the JSON block.
_JS_KEYS = ("showing", "show_more", "m_rows", "error", "warning", "info")

_SURROGATES = re.compile("[\ud800-\udfff]")
_JSON_UNSAFE = re.compile("[<>&\u2028\u2029]")


def esc(value: Any) -> str:
    """Text for HTML content or a quoted attribute."""
    text = "" if value is None else str(value)
    if _SURROGATES.search(text):  # a lone surrogate cannot be written as UTF-8
        text = _SURROGATES.sub("\ufffd", text)
    return html.escape(text, quote=True)


def json_for_script(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no '<', '>', '&', U+2028/2029."""
    return "".join(iter_json_for_script(data))


def iter_json_for_script(data: Any) -> Iterator[str]:
    """``json_for_script`` in pieces: `data` may hold ``Lazy`` arrays, written item by item (and
    made safe a batch of items at a time: the escapes work character by character)."""
    return (_script_safe(batch) for batch in batches(iter_encode(data, _script_dumps)))


_SCRIPT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_plain)


def _script_dumps(value: Any) -> str:
    text = _SCRIPT_JSON.encode(value)
    if "NaN" in text or "Infinity" in text:  # JSON.parse rejects them: redo with null in their place
        text = _SCRIPT_JSON.encode(_finite(value))
    return text


def _script_safe(text: str) -> str:
    if _SURROGATES.search(text):
        text = _SURROGATES.sub("\ufffd", text)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


@lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- public API


def render_html(result: "AuditResult", *, lang: str | None = None) -> str:
    """The whole report as one HTML page (UTF-8 text, no external resources)."""
    return "".join(iter_html(result, lang=lang))


def iter_html(result: "AuditResult", *, lang: str | None = None) -> Iterator[str]:
    """``render_html`` in pieces, for writing a large report without holding the page
    (``write_output``)."""
    lang = lang or getattr(result, "lang", None) or "zh"
    if lang not in LANGS:
        lang = "zh"
    return _Report(result, _page_data(result), lang).pieces()


def _page_data(result: "AuditResult") -> dict[str, Any]:
    """``report_dict`` as the page reads it: each finding and metric a view of the Finding or
    Metric (``FindingRecord``, ``MetricRecord``), not one more dict per row of the audit."""
    data = report_parts(result)
    data["documents"] = list(data["documents"].items)
    data["findings"] = [FindingRecord(f) for f in result.findings]
    data["metrics"] = [r for d in result.documents for r in MetricRecord.each(d.metrics)]
    return data


# --------------------------------------------------------------------------- the page


@dataclass(slots=True)
class _Span:
    kind: str  # "f" finding, "r" related place, "m" metric
    key: Any  # finding index; (finding index, related index); metric index
    start: int
    end: int


@dataclass
class _DocView:
    index: int
    path: str
    text: str | None
    info: Mapping[str, Any]
    findings: list[int] = field(default_factory=list)
    related: list[tuple[int, int]] = field(default_factory=list)  # (finding, related place) marked here
    metrics: list[int] = field(default_factory=list)


class _Report:
    def __init__(self, result: "AuditResult", data: dict[str, Any], lang: str) -> None:
        self.result = result
        self.data = data
        self.lang = lang
        self.t = STRINGS[lang]
        self.cats = CATEGORY_NAMES[lang]
        self.findings: list[Mapping[str, Any]] = data["findings"]
        self.metrics: list[Mapping[str, Any]] = data["metrics"]
        rules = list(getattr(result.rule_set, "rules", ())) + list(result.rules)
        self.rules = {r.id: r for r in rules}
        self.ran = [r.id for r in result.rules]

        self.docs: list[_DocView] = []
        self.doc_index: dict[str, int] = {}
        for i, (d, info) in enumerate(zip(result.documents, data["documents"])):
            self.doc_index[d.path] = i
            self.docs.append(_DocView(i, d.path, d.original, info))
        for i, f in enumerate(self.findings):  # findings in documents the audit did not read (history)
            if f["document"] not in self.doc_index:
                self.doc_index[f["document"]] = len(self.docs)
                self.docs.append(_DocView(len(self.docs), f["document"], None, {"path": f["document"]}))
        for i, f in enumerate(self.findings):
            doc = self.docs[self.doc_index[f["document"]]]
            doc.findings.append(i)
            for k, r in enumerate(f.get("related", ())):
                j = self.doc_index.get(r.get("document"))
                if j is not None and self.docs[j].text is not None:
                    self.docs[j].related.append((i, k))
        for k, m in enumerate(self.metrics):
            j = self.doc_index.get(m["document"])
            if j is not None and self.docs[j].text is not None:
                self.docs[j].metrics.append(k)
        for doc in self.docs:
            doc.findings.sort(key=lambda i: (self.findings[i]["start"], self.findings[i]["end"], self.findings[i]["rule"]))
        self.active = [i for i, f in enumerate(self.findings) if "suppressed" not in f]

    def _spans(self, doc: _DocView) -> list[_Span]:
        """The places marked in a document's text, made when the text is written (not for every
        document at once): its findings and the related places pointing at it in finding order
        (a finding before its own related places), then its metrics."""
        marks = heapq.merge(((i, -1) for i in sorted(doc.findings)), doc.related)
        spans = []
        for i, k in marks:
            f = self.findings[i]
            if k < 0:
                spans.append(_Span("f", i, f["start"], f["end"]))
            else:
                r = f["related"][k]
                spans.append(_Span("r", (i, k), r["start"], r["end"]))
        spans.extend(_Span("m", k, self.metrics[k]["start"], self.metrics[k]["end"]) for k in doc.metrics)
        return spans

    # ----------------------------------------------------------------- assembly

    def pieces(self) -> Iterator[str]:
        """The page in template order; the body and the data block a piece at a time."""
        js = _asset("report.js")
        css = _asset("report.css")
        if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover - our own files
            raise ValueError("report assets must not close their own element")
        script_hash = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
        csp = ("default-src 'none'; script-src 'sha256-" + script_hash + "'; style-src 'unsafe-inline'; "
               "img-src data:; base-uri 'none'; form-action 'none'")
        # The long arrays of the data block are written item by item, as the JSON report's are.
        report = {**self.data, "documents": Lazy(self.data["documents"]),
                  "findings": Lazy(finding_items(self.result)), "metrics": Lazy(metric_items(self.result))}
        payload = {
            "lang": self.lang,
            "strings": {k: self.t[k] for k in _JS_KEYS},
            "categories": self.cats,
            "docs": Lazy({"path": d.path, "name": _basename(d.path)} for d in self.docs),
            "ran": self.ran,
            "limit": LIST_LIMIT,
            "report": report,
        }
        values = {
            "lang": lambda: [esc(self.t["html_lang"])],
            "title": lambda: [esc(self.t["title"])],
            "csp": lambda: [esc(csp)],
            "css": lambda: [css],
            "body": self._body,
            "data": lambda: iter_json_for_script(payload),
            "js": lambda: [js],
        }
        # The template split at its {{name}} slots: literal text at even places, names at odd ones.
        for k, part in enumerate(re.split(r"\{\{(\w+)\}\}", _asset("report.html.tmpl"))):
            if k % 2 == 0:
                yield part
            else:
                yield from values[part]()

    def render(self) -> str:
        return "".join(self.pieces())

    def _body(self) -> Iterable[str]:
        t = self.t
        yield '<header class="top"><div class="wrap"><h1>' + esc(t["title"]) + "</h1>"
        yield '<p class="gen">' + esc(t["generated"].format(
            version=__version__, secs=self.data["summary"].get("elapsed_s", 0),
            rules=len(self.data["tool"].get("rules", ())))) + "</p>"
        yield '<nav class="toc">'
        parts = [("summary", "nav_summary")]
        if self._duplicates():
            parts.append(("duplicates", "nav_duplicates"))
        if self._yoy_groups():
            parts.append(("yoy", "nav_yoy"))
        parts += [("documents", "nav_documents"), ("metrics", "nav_metrics")]
        for anchor, key in parts:
            yield f'<a href="#{anchor}">{esc(t[key])}</a>'
        yield "</nav></div></header>"
        yield '<noscript><p class="noscript">' + esc(t["noscript"]) + "</p></noscript>"
        yield '<main class="wrap">'
        yield from self._summary()
        yield from self._filters()
        yield from self._duplicate_section()
        yield from self._yoy_section()
        yield from self._documents()
        yield from self._metrics_section()
        yield "</main>"
        yield '<div id="tip" role="tooltip" hidden></div>'

    # ----------------------------------------------------------------- summary

    def _summary(self) -> Iterable[str]:
        t, s = self.t, self.data["summary"]
        by_sev = s.get("by_severity", {})
        chars = sum(d.info.get("chars", 0) or 0 for d in self.docs)
        yield '<section id="summary" class="card"><h2>' + esc(t["summary"]) + "</h2>"
        yield '<div class="tiles">'
        yield _tile(f'{s["documents"]}', f'{t["documents"]} · {chars:,} {t["chars"]}', "docs")
        yield _tile(f'{s["findings"]}', t["findings"], "total")
        for sev in SEVERITIES:
            yield _tile(str(by_sev.get(sev, 0)), t[sev], f"s-{sev}")
        if s.get("suppressed"):
            yield _tile(str(s["suppressed"]), t["suppressed"], "sup")
        yield "</div>"
        if not self.active:
            yield '<p class="clean">' + esc(t["no_findings"]) + "</p>"
        else:
            yield from self._category_table()
            yield from self._rules_table()
        quiet = [rid for rid in self.ran if not any(self.findings[i]["rule"] == rid for i in self.active)]
        if quiet:
            yield '<details class="quiet"><summary>' + esc(t["rules_quiet"].format(n=len(quiet))) + "</summary><ul>"
            for rid in quiet:
                rule = self.rules.get(rid)
                yield (f'<li><code>{esc(rid)}</code> {esc(rule.name if rule else "")} — '
                       f'{esc(rule.summary_in(self.lang) if rule else "")}</li>')
            yield "</ul></details>"
        yield "</section>"

    def _category_table(self) -> Iterable[str]:
        t = self.t
        counts = Counter((self.findings[i]["category"], self.findings[i]["severity"]) for i in self.active)
        cats = [c for c in CATEGORIES if any(counts[(c, s)] for s in SEVERITIES)]
        cats += sorted({c for c, _ in counts} - set(cats))
        yield '<div class="twocol"><div><h3>' + esc(t["by_category"]) + '</h3><table class="grid cat"><thead><tr>'
        yield "<th>" + esc(t["category"]) + "</th>"
        for sev in SEVERITIES:
            yield f'<th class="num"><span class="dot s-{sev}"></span>{esc(t[sev])}</th>'
        yield "<th class=num>" + esc(t["total"]) + "</th></tr></thead><tbody>"
        for c in cats:
            yield f'<tr><th scope="row">{esc(self.cats.get(c, c))}</th>'
            for sev in SEVERITIES:
                n = counts[(c, sev)]
                yield f'<td class="num">{n if n else ""}</td>'
            yield f'<td class="num"><b>{sum(counts[(c, s)] for s in SEVERITIES)}</b></td></tr>'
        yield "</tbody></table>"
        yield from self._documents_table()
        yield "</div>"

    def _documents_table(self) -> Iterable[str]:
        t = self.t
        yield '<h3 class="gap">' + esc(t["per_document"]) + '</h3><table class="grid docs"><thead><tr>'
        yield "<th>" + esc(t["m_document"]) + "</th>"
        for sev in SEVERITIES:
            yield f'<th class="num"><span class="dot s-{sev}"></span>{esc(t[sev])}</th>'
        yield "</tr></thead><tbody>"
        for doc in self.docs:
            counts = Counter(self.findings[i]["severity"] for i in doc.findings if "suppressed" not in self.findings[i])
            yield (f'<tr><td><a href="#doc-{doc.index}" title="{esc(doc.path)}">{esc(_basename(doc.path))}</a></td>'
                   + "".join(f'<td class="num">{counts[sev] or ""}</td>' for sev in SEVERITIES) + "</tr>")
        yield "</tbody></table>"

    def _rules_table(self) -> Iterable[str]:
        t = self.t
        counts = Counter(self.findings[i]["rule"] for i in self.active)
        sev_of: dict[str, str] = {}
        for i in self.active:
            f = self.findings[i]
            if f["rule"] not in sev_of or SEVERITY_RANK[f["severity"]] > SEVERITY_RANK[sev_of[f["rule"]]]:
                sev_of[f["rule"]] = f["severity"]
        order = sorted(counts, key=lambda r: (-SEVERITY_RANK[sev_of[r]], r))
        yield '<div><h3>' + esc(t["rules_fired"]) + '</h3><table class="grid rules"><thead><tr>'
        for key in ("rule", "rule_name", "rule_summary", "severity"):
            yield "<th>" + esc(t[key]) + "</th>"
        yield '<th class="num">' + esc(t["count"]) + "</th><th></th></tr></thead><tbody>"
        for rid in order:
            rule = self.rules.get(rid)
            sev = sev_of[rid]
            yield (f'<tr data-rule="{esc(rid)}"><td><code>{esc(rid)}</code></td>'
                   f'<td>{esc(rule.name if rule else "")}</td>'
                   f'<td>{esc(rule.summary_in(self.lang) if rule else "")}</td>'
                   f'<td><span class="badge s-{sev}">{esc(t[sev])}</span></td>'
                   f'<td class="num"><b>{counts[rid]}</b></td>'
                   f'<td><button type="button" class="only-rule ctl" data-rule="{esc(rid)}">'
                   f'{esc(t["filter_this"])}</button></td></tr>')
        yield "</tbody></table></div></div>"

    # ----------------------------------------------------------------- filters

    def _filters(self) -> Iterable[str]:
        t = self.t
        active = [self.findings[i] for i in self.active]
        sev_n = Counter(f["severity"] for f in active)
        cat_n = Counter(f["category"] for f in active)
        rule_n = Counter(f["rule"] for f in active)
        cats = [c for c in CATEGORIES if c in cat_n] + sorted(set(cat_n) - set(CATEGORIES))
        yield f'<form id="filters" class="filters ctl" aria-label="{esc(t["filters"])}"><b>{esc(t["filters"])}</b>'
        yield '<fieldset class="sev"><legend class="sr">' + esc(t["severity"]) + "</legend>"
        for sev in SEVERITIES:
            yield (f'<label class="chk"><input type="checkbox" name="sev" value="{sev}" checked>'
                   f'<span class="dot s-{sev}"></span>{esc(t[sev])} <small>{sev_n.get(sev, 0)}</small></label>')
        yield "</fieldset>"
        if cats:
            yield '<fieldset class="cat"><legend class="sr">' + esc(t["category"]) + "</legend>"
            for c in cats:
                yield (f'<label class="chk"><input type="checkbox" name="cat" value="{esc(c)}" checked>'
                       f'{esc(self.cats.get(c, c))} <small>{cat_n[c]}</small></label>')
            yield "</fieldset>"
        yield f'<label class="sel"><span class="sr">{esc(t["rule"])}</span><select name="rule" id="f-rule">'
        yield f'<option value="">{esc(t["all_rules"])}</option>'
        for rid in sorted(rule_n):
            rule = self.rules.get(rid)
            name = f" {rule.name}" if rule else ""
            yield f'<option value="{esc(rid)}">{esc(rid + name)} ({rule_n[rid]})</option>'
        yield "</select></label>"
        if self.data["summary"].get("suppressed"):
            yield (f'<label class="chk"><input type="checkbox" name="sup" value="1">'
                   f'{esc(t["show_suppressed"])} <small>{self.data["summary"]["suppressed"]}</small></label>')
        yield f'<button type="reset" class="reset">{esc(t["reset"])}</button>'
        yield (f'<output id="f-status" aria-live="polite">'
               f'{esc(t["showing"].format(shown=len(self.active), total=len(self.active)))}</output></form>')

    # ----------------------------------------------------------------- duplicates

    def _duplicates(self) -> list[tuple[int, int]]:
        if not hasattr(self, "_dups"):
            self._dups = [(i, k) for i in self.active if self.findings[i]["category"] == "duplicate"
                          for k, _ in enumerate(self.findings[i].get("related", ()))]
        return self._dups

    def _duplicate_section(self) -> Iterable[str]:
        pairs = self._duplicates()
        if not pairs:
            return
        t = self.t
        yield '<section id="duplicates" class="card"><h2>' + esc(t["duplicates"]) + "</h2>"
        yield '<p class="intro">' + esc(t["duplicates_intro"]) + "</p>"
        for i, k in pairs[:MAX_DUPLICATE_PAIRS]:
            f = self.findings[i]
            r = f["related"][k]
            a, b = f.get("text") or "", r.get("text") or ""
            truncated = max(len(a), len(b)) > MAX_DIFF_CHARS
            a_html, b_html, ratio = _char_diff(a[:MAX_DIFF_CHARS], b[:MAX_DIFF_CHARS])
            same = a == b
            j = self.doc_index.get(r.get("document"))
            there_link = (f'<a href="#r-{i}-{k}" class="go" data-target="r-{i}-{k}">' if j is not None
                          and self.docs[j].text is not None else "<span>")
            there_close = "</a>" if there_link.startswith("<a") else "</span>"
            yield (f'<article class="pair" data-i="{i}" data-sev="{esc(f["severity"])}" data-cat="duplicate" '
                   f'data-rule="{esc(f["rule"])}">')
            yield (f'<h3><span class="badge s-{esc(f["severity"])}">{esc(t[f["severity"]])}</span> '
                   f'<code>{esc(f["rule"])}</code> {esc(f["message"])}</h3>')
            yield '<p class="sim">' + esc(t["identical"] if same else t["similarity"].format(pct=round(ratio * 100)))
            if truncated:
                yield " " + esc(t["truncated"].format(n=MAX_DIFF_CHARS))
            yield "</p><div class=\"sides\">"
            yield (f'<div class="side"><div class="where"><b>{esc(t["here"])}</b> '
                   f'<a href="#f-{i}" class="go" data-target="f-{i}">{esc(self._where(f["document"], f["start"]))}</a>'
                   f'</div><div class="dtext">{a_html}</div></div>')
            yield (f'<div class="side"><div class="where"><b>{esc(t["there"])}</b> {there_link}'
                   f'{esc(self._where(r.get("document", ""), r.get("start", 0)))}{there_close}'
                   + (f' <span class="note">{esc(r["note"])}</span>' if r.get("note") else "")
                   + f'</div><div class="dtext">{b_html}</div></div>')
            yield "</div></article>"
        if len(pairs) > MAX_DUPLICATE_PAIRS:
            yield '<p class="more-note">' + esc(t["more_pairs"].format(n=len(pairs) - MAX_DUPLICATE_PAIRS)) + "</p>"
        yield "</section>"

    def _where(self, document: str, offset: int) -> str:
        """"file.txt · line 12, column 3" for a place in a document of this report."""
        j = self.doc_index.get(document)
        name = _basename(document)
        text = self.docs[j].text if j is not None else None
        if text is None or not 0 <= offset <= len(text):
            return name
        line, column = line_and_column(text, offset)  # by bisection on big pages, the last few pages' lines kept
        return f"{name} · " + self.t["line_col"].format(line=line, column=column)

    # ----------------------------------------------------------------- year over year

    def _yoy_groups(self) -> dict[tuple, list[int]]:
        if hasattr(self, "_yoy"):
            return self._yoy
        by_doc: dict[str, list[tuple[int, int, int]]] = defaultdict(list)  # document -> (start, end, k), sorted
        self._by_series: dict[tuple, dict[int, set[float]]] = defaultdict(lambda: defaultdict(set))
        for k, m in enumerate(self.metrics):
            by_doc[m["document"]].append((m["start"], m["end"], k))
            year, value = _int(m.get("year")), _num(m.get("value"))
            if m.get("entity") and m.get("metric") and year is not None and value is not None:
                self._by_series[(m["entity"], m["metric"], m.get("unit"))][year].add(value)
        for spans in by_doc.values():
            spans.sort()
        groups: dict[tuple, list[int]] = defaultdict(list)
        self._yoy_meta: dict[tuple, dict] = {}
        for i in self.active:
            f = self.findings[i]
            if f["category"] != "yoy":
                continue
            ev = f.get("evidence", {}) or {}
            m = self._metric_at(f, by_doc.get(f["document"], ()))
            entity = ev.get("entity") or (m or {}).get("entity")
            metric = ev.get("metric") or (m or {}).get("metric") or (m or {}).get("label") or ev.get("label")
            key = (entity or "", metric or "")
            groups[key].append(i)
            meta = self._yoy_meta.setdefault(key, {"unit": None, "label": None})
            meta["unit"] = meta["unit"] or ev.get("unit") or (m or {}).get("unit")
            meta["label"] = meta["label"] or ev.get("label") or (m or {}).get("label")
        # One chart per organisation and metric, unless its findings disagree about a year's value
        # (two different figures under one metric id): then one chart per consistent set.
        self._yoy = {}
        for key, idx in groups.items():
            charts: list[tuple[dict[int, float], list[int]]] = []
            for i in idx:
                points = _yoy_points(self.findings[i].get("evidence", {}) or {})
                for series, members in charts:
                    if all(series.get(yr, v) == v for yr, v in points.items()):
                        series.update(points)
                        members.append(i)
                        break
                else:
                    charts.append((dict(points), [i]))
            for n, (_, members) in enumerate(charts):
                self._yoy[key + (n,)] = members
                self._yoy_meta[key + (n,)] = self._yoy_meta[key]
        return self._yoy

    def _metric_at(self, f: dict, spans: list[tuple[int, int, int]]) -> dict | None:
        """The figure at a finding's place: the one starting there, else one overlapping it."""
        at = bisect_left(spans, (f["start"], -1, -1))
        if at < len(spans) and spans[at][0] == f["start"]:
            return self.metrics[spans[at][2]]
        for start, end, k in spans[max(0, at - 8):at + 8]:
            if start < f["end"] and f["start"] < end:
                return self.metrics[k]
        return None

    def _yoy_section(self) -> Iterable[str]:
        groups = self._yoy_groups()
        if not groups:
            return
        t = self.t
        yield '<section id="yoy" class="card"><h2>' + esc(t["yoy"]) + "</h2>"
        yield '<p class="intro">' + esc(t["yoy_intro"]) + '</p><div class="charts">'
        for n, ((entity, metric, sub), idx) in enumerate(groups.items()):
            if n >= MAX_YOY_CHARTS:
                yield '<p class="more-note">' + esc(t["more_charts"].format(n=len(groups) - n)) + "</p>"
                break
            yield from self._yoy_card(entity, metric, idx, self._yoy_meta[(entity, metric, sub)], own=sub > 0 or
                                      (entity, metric, 1) in groups)
        yield "</div></section>"

    def _yoy_card(self, entity: str, metric: str, idx: list[int], meta: dict, own: bool = False) -> Iterable[str]:
        t = self.t
        unit = meta.get("unit")
        series: dict[int, float] = {}
        bands: list[tuple[int, float, float, float | None, int]] = []  # year, lo, hi, flagged value, finding
        flagged: set[tuple[int, float]] = set()  # (year, value) of each flagged figure
        for i in idx:
            ev = self.findings[i].get("evidence", {}) or {}
            py, cy = _int(ev.get("previous_year")), _int(ev.get("current_year"))
            prev, cur = _num(ev.get("previous")), _num(ev.get("current"))
            if py is not None and prev is not None:
                series.setdefault(py, prev)
            if cy is not None and cur is not None:
                series.setdefault(cy, cur)
            band = _band(ev)
            if cy is not None and cur is not None:
                flagged.add((cy, cur))
            if cy is not None and band is not None:
                bands.append((cy, band[0], band[1], cur, i))
        if not own and entity and metric:  # other years of the same figure, when the table is unambiguous
            for year, values in self._by_series.get((entity, metric, unit), {}).items():
                if len(values) == 1:
                    series.setdefault(year, next(iter(values)))
        title = " · ".join(x for x in (entity or t["unknown_entity"], meta.get("label") or metric) if x)
        if metric and meta.get("label") and meta["label"] != metric:
            title += f" ({metric})"
        f0 = self.findings[idx[0]]
        yield (f'<figure class="yoy-card" data-i="{idx[0]}" data-sev="{esc(f0["severity"])}" data-cat="yoy" '
               f'data-rule="{esc(f0["rule"])}"><figcaption><b>{esc(title)}</b></figcaption>')
        yield _yoy_svg(series, bands, flagged, unit, self.lang, title)
        yield "<ul>"
        for i in idx:
            f = self.findings[i]
            ev = f.get("evidence", {}) or {}
            bits = []
            py, cy = _int(ev.get("previous_year")), _int(ev.get("current_year"))
            if ev.get("previous") is not None:
                bits.append(f'{py or "?"}{t["year_suffix"]} {_fmt_value(_num(ev.get("previous")), unit, self.lang)}')
            if ev.get("current") is not None:
                bits.append(f'{cy or "?"}{t["year_suffix"]} {_fmt_value(_num(ev.get("current")), unit, self.lang)}')
            line = " → ".join(bits)
            extra = []
            if _num(ev.get("ratio")) is not None:
                extra.append(t["ratio"].format(r=_fmt_plain(_num(ev["ratio"]))))
            band = ev.get("band")
            if isinstance(band, (list, tuple)) and len(band) == 2 and all(_num(b) is not None for b in band):
                if _band_is_ratio(ev):
                    extra.append(t["expected_ratio"].format(lo=_fmt_plain(_num(band[0])), hi=_fmt_plain(_num(band[1]))))
                else:
                    extra.append(t["expected_range"].format(lo=_fmt_value(_num(band[0]), unit, self.lang),
                                                            hi=_fmt_value(_num(band[1]), unit, self.lang)))
            if extra:
                line += ("，" if self.lang == "zh" else ", ") + ("，" if self.lang == "zh" else ", ").join(extra)
            links = [f'{esc(t["this_year"])} <a href="#f-{i}" class="go" data-target="f-{i}">'
                     f'{esc(self._where(f["document"], f["start"]))}</a>']
            for k, r in enumerate(f.get("related", ())):
                j = self.doc_index.get(r.get("document"))
                where = esc(self._where(r.get("document", ""), r.get("start", 0)))
                if j is not None and self.docs[j].text is not None:
                    where = f'<a href="#r-{i}-{k}" class="go" data-target="r-{i}-{k}">{where}</a>'
                links.append(f'{esc(t["last_year"])} {where}')
            yield (f'<li><span class="badge s-{esc(f["severity"])}">{esc(t[f["severity"]])}</span> '
                   f'{esc(line)}<br><small>{"<br>".join(links)}</small></li>')
        yield "</ul></figure>"

    # ----------------------------------------------------------------- documents

    def _documents(self) -> Iterable[str]:
        t = self.t
        yield '<section id="documents"><h2>' + esc(t["documents_heading"]) + "</h2>"
        for doc in self.docs:
            yield from self._document(doc)
        yield "</section>"

    def _document(self, doc: _DocView) -> Iterable[str]:
        t = self.t
        active = [i for i in doc.findings if "suppressed" not in self.findings[i]]
        sev_n = Counter(self.findings[i]["severity"] for i in active)
        yield f'<section class="doc card" id="doc-{doc.index}" data-doc="{doc.index}">'
        name = _basename(doc.path)
        folder = doc.path[: len(doc.path) - len(name)]
        yield f'<h3 class="doc-title"><span class="folder">{esc(folder)}</span>{esc(name)}'
        for sev in SEVERITIES:
            if sev_n.get(sev):
                yield f' <span class="badge s-{sev}">{esc(t[sev])} {sev_n[sev]}</span>'
        yield "</h3>"
        if doc.text is not None:
            articles = {(a.get("entity"), a.get("year"), a.get("title")) for a in doc.info.get("articles", ())}
            yield '<p class="meta">' + esc(t["doc_meta"].format(chars=f'{len(doc.text):,}', articles=len(articles),
                                                               encoding=doc.info.get("encoding", "?"))) + "</p>"
        else:
            yield '<p class="meta">' + esc(t["doc_missing"]) + "</p>"
        yield '<div class="doc-body">'
        if doc.text is not None:
            yield '<div class="text" lang="zh-CN">'
            yield from self._text(doc)
            yield "</div>"
        yield from self._finding_list(doc)
        yield "</div></section>"

    def _finding_list(self, doc: _DocView) -> Iterable[str]:
        t = self.t
        yield f'<aside class="flist" aria-label="{esc(t["list_heading"])}"><h4>{esc(t["list_heading"])}</h4>'
        if not doc.findings:
            yield '<p class="clean">' + esc(t["doc_clean"]) + "</p></aside>"
            return
        yield "<ol>"
        shown = 0
        for i in doc.findings:
            f = self.findings[i]
            classes = ["finding", f"s-{f['severity']}"]
            if "suppressed" in f:
                classes.append("filtered sup")
            else:
                if shown >= LIST_LIMIT:
                    classes.append("cap")
                shown += 1
            yield from self._finding_item(i, f, " ".join(classes), doc)
        yield "</ol>"
        rest = shown - LIST_LIMIT
        yield (f'<button type="button" class="more ctl"{"" if rest > 0 else " hidden"}>'
               f'{esc(t["show_more"].format(n=min(rest, LIST_LIMIT), rest=rest)) if rest > 0 else ""}</button>')
        yield "</aside>"

    def _finding_item(self, i: int, f: dict, classes: str, doc: _DocView) -> Iterable[str]:
        t = self.t
        sev = f["severity"]
        rule = self.rules.get(f["rule"])
        quote = f.get("text") or ""
        if len(quote) > QUOTE_CHARS:
            quote = quote[:QUOTE_CHARS] + "…"
        has_text = doc.text is not None
        yield (f'<li class="{classes}" id="fi-{i}" data-i="{i}" data-sev="{esc(sev)}" data-cat="{esc(f["category"])}"'
               f' data-rule="{esc(f["rule"])}">')
        head = (f'<span class="badge s-{esc(sev)}">{esc(t.get(sev, sev))}</span> <code>{esc(f["rule"])}</code>'
                f'<span class="rname">{esc(rule.name if rule else "")}</span>'
                f'<span class="loc">{esc(t["line_col"].format(line=f["line"], column=f["column"]))}</span>')
        if has_text:
            yield f'<a class="go" href="#f-{i}" data-target="f-{i}">{head}</a>'
        else:
            yield f'<span class="go">{head}</span>'
        yield f'<p class="msg" id="fm-{i}">{esc(f["message"])}</p>'
        if quote and (f.get("text") or "") not in f["message"]:  # most messages quote the text already
            yield f'<q class="quote">{esc(quote)}</q>'
        if "suppressed" in f:
            yield '<p class="supnote">' + esc(t["suppressed_note"].format(reason=f["suppressed"])) + "</p>"
        for k, r in enumerate(f.get("related", ())):
            j = self.doc_index.get(r.get("document"))
            where = self._where(r.get("document", ""), r.get("start", 0))
            rtext = r.get("text") or ""
            if len(rtext) > QUOTE_CHARS:
                rtext = rtext[:QUOTE_CHARS] + "…"
            if j is not None and self.docs[j].text is not None:
                target = f'<a href="#r-{i}-{k}" class="go" data-target="r-{i}-{k}">{esc(where)}</a>'
            else:
                target = f"<span>{esc(where)}</span>"
            note = f' <span class="note">({esc(r["note"])})</span>' if r.get("note") else ""
            full = r.get("text") or ""
            show_text = full and full != f.get("text") and full not in f["message"]
            yield (f'<p class="related">{esc(t["see_also"])} {target}'
                   + (f' <q>{esc(rtext)}</q>' if show_text else "") + f"{note}</p>")
        yield "</li>"

    # ----------------------------------------------------------------- the marked-up text

    def _text(self, doc: _DocView) -> Iterable[str]:
        """The document's text with every span marked, split at every span boundary, in chunks."""
        text = doc.text or ""
        n = len(text)
        starts: dict[int, list[_Span]] = defaultdict(list)
        ends: dict[int, list[_Span]] = defaultdict(list)
        points: dict[int, list[_Span]] = defaultdict(list)
        for sp in self._spans(doc):
            s = min(max(int(sp.start), 0), n)
            e = min(max(int(sp.end), s), n)
            if e > s:
                starts[s].append(sp)
                ends[e].append(sp)
            else:
                points[s].append(sp)
        labels: dict[int, str] = {}
        for a in doc.info.get("articles", ()):
            label = " · ".join(str(x) + (self.t["year_suffix"] if x == a.get("year") else "")
                               for x in (a.get("entity"), a.get("year")) if x)
            if label and 0 <= a.get("start", -1) < n:
                labels.setdefault(a["start"], label)
        breaks = _chunk_breaks(text)
        bounds = sorted(set(starts) | set(ends) | set(points) | set(labels) | set(breaks) | {0, n})
        active_f: dict[int, None] = {}
        active_r: dict[tuple, None] = {}
        active_m: dict[int, None] = {}
        break_set = set(breaks)
        yield self._chunk_open(text, 0, breaks[0] if breaks else n)
        next_break = iter(breaks[2:] + [n])
        for b, b_next in zip(bounds, bounds[1:] + [None]):
            for sp in ends.get(b, ()):
                if sp.kind == "f":
                    active_f.pop(sp.key, None)
                elif sp.kind == "r":
                    active_r.pop(sp.key, None)
                    i, k = sp.key
                    f = self.findings[i]
                    label = esc(f'{self.t["back"]}: {f["rule"]} · {self._where(f["document"], f["start"])}')
                    yield (f'<a class="back ctl" href="#f-{i}" data-target="f-{i}" data-i="{i}" '
                           f'title="{label}" aria-label="{label}">↩</a>')
                else:
                    active_m.pop(sp.key, None)
            if b in break_set and b != 0:
                yield "</div>" + self._chunk_open(text, b, next(next_break))
            if b in labels:
                yield f'<span class="art" data-label="{esc(labels[b])}" aria-hidden="true"></span>'
            for sp in starts.get(b, ()):
                yield self._anchor(sp)
                if sp.kind == "f":
                    active_f[sp.key] = None
                elif sp.kind == "r":
                    active_r[sp.key] = None
                else:
                    active_m[sp.key] = None
            for sp in points.get(b, ()):
                yield self._anchor(sp)
                if sp.kind == "f":
                    yield self._mark([sp.key], "", point=True)
            if b_next is None or b_next <= b:
                continue
            segment = esc(text[b:b_next])
            if active_f:
                segment = self._mark(list(active_f), segment)
            if active_r:
                back = " ".join(str(i) for i, _ in active_r)
                titles = "\n".join(self.t["related_title"].format(rule=self.findings[i]["rule"],
                                                                  message=_clip(self.findings[i]["message"]))
                                   for i, _ in active_r)
                segment = f'<span class="rel" data-back="{back}" title="{esc(titles)}">{segment}</span>'
            if active_m:
                segment = f'<span class="q" data-m="{" ".join(map(str, active_m))}">{segment}</span>'
            yield segment
        yield "</div>"

    def _chunk_open(self, text: str, start: int, end: int) -> str:
        # An estimate of the chunk's height until the browser has laid it out once.
        piece = text[start:end]
        lines = sum(1 + len(line) // 48 for line in piece.split("\n"))
        return f'<div class="chunk" style="contain-intrinsic-size:auto {max(1, lines) * 29}px">'

    def _anchor(self, sp: _Span) -> str:
        if sp.kind == "f":
            return f'<a class="anc" id="f-{sp.key}"></a>'
        if sp.kind == "r":
            return f'<a class="anc" id="r-{sp.key[0]}-{sp.key[1]}"></a>'
        return f'<a class="anc" id="m-{sp.key}"></a>'

    def _mark(self, ids: list[int], inner: str, *, point: bool = False) -> str:
        fs = [self.findings[i] for i in ids]
        shown = [f for f in fs if "suppressed" not in f]
        top = max(shown or fs, key=lambda f: SEVERITY_RANK.get(f["severity"], 0))["severity"]
        classes = [f"s-{top}"]
        if not shown:
            classes.append("off")
        if len(ids) > 1:
            classes.append("multi")
        if point:
            classes.append("pt")
        title = "\n".join(f'{f["rule"]} {self.t.get(f["severity"], f["severity"])}: {_clip(f["message"])}' for f in fs)
        described = " ".join(f"fm-{i}" for i in ids)
        return (f'<mark class="{esc(" ".join(classes))}" data-f="{" ".join(map(str, ids))}" tabindex="{-1 if not shown else 0}" '
                f'title="{esc(title)}" aria-describedby="{described}">{inner}</mark>')

    # ----------------------------------------------------------------- metrics table

    def _metrics_section(self) -> Iterable[str]:
        t = self.t
        yield '<section id="metrics" class="card"><h2>' + esc(t["metrics"]) + "</h2>"
        if not self.metrics:
            yield '<p class="clean">' + esc(t["metrics_none"]) + "</p></section>"
            return
        yield '<p class="intro">' + esc(t["metrics_intro"]) + "</p>"
        yield (f'<div class="mtools ctl"><input type="search" id="m-filter" placeholder="{esc(t["metrics_filter"])}" '
               f'aria-label="{esc(t["metrics_filter"])}"> <output id="m-status"></output></div>')
        yield '<div class="mwrap"><table class="grid metrics" id="m-table"><thead><tr>'
        for key, cls in (("document", ""), ("text", ""), ("value", "num"), ("unit", ""), ("approx", ""),
                         ("label", ""), ("metric", ""), ("entity", ""), ("year", "num")):
            yield (f'<th class="{cls}" data-key="{key}" aria-sort="none"><button type="button">'
                   f'{esc(t["m_" + key])}</button></th>')
        yield '</tr></thead><tbody></tbody></table></div>'
        yield '<button type="button" class="more ctl" id="m-more" hidden></button></section>'


# --------------------------------------------------------------------------- helpers


def _basename(path: str) -> str:
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def _clip(message: str) -> str:
    return message if len(message) <= TITLE_CHARS else message[:TITLE_CHARS] + "…"


def _tile(value: str, label: str, cls: str) -> str:
    return f'<div class="tile {cls}"><b>{esc(value)}</b><span>{esc(label)}</span></div>'


def _chunk_breaks(text: str) -> list[int]:
    """Where the text's chunks start: 0, then about every CHUNK_CHARS, just after a line end."""
    out = [0]
    n = len(text)
    pos = CHUNK_CHARS
    while pos < n:
        nl = text.find("\n", pos, pos + CHUNK_SLACK)
        cut = nl + 1 if nl != -1 else pos
        if cut >= n:
            break
        out.append(cut)
        pos = cut + CHUNK_CHARS
    return out


def _char_diff(a: str, b: str) -> tuple[str, str, float]:
    """Both sides as HTML, differing characters in <del> (only in a) and <ins> (only in b)."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    left, right = [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(esc(a[i1:i2]))
            right.append(esc(b[j1:j2]))
            continue
        if i2 > i1:
            left.append(f"<del>{esc(a[i1:i2])}</del>")
        if j2 > j1:
            right.append(f"<ins>{esc(b[j1:j2])}</ins>")
    return "".join(left), "".join(right), matcher.ratio()


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _int(value: Any) -> int | None:
    x = _num(value)
    return int(x) if x is not None else None


def _yoy_points(ev: Mapping[str, Any]) -> dict[int, float]:
    out = {}
    for year, value in (("previous_year", "previous"), ("current_year", "current")):
        yr, v = _int(ev.get(year)), _num(ev.get(value))
        if yr is not None and v is not None:
            out[yr] = v
    return out


def _band_is_ratio(ev: Mapping[str, Any]) -> bool:
    kind = str(ev.get("band_kind") or ev.get("band_type") or "")
    if kind:
        return kind.startswith("ratio")
    lo, hi = (_num(x) for x in ev["band"])
    prev = _num(ev.get("previous"))
    if lo is None or hi is None or hi > 100:
        return False
    return lo <= 1 <= hi or prev is None or abs(prev) > 100


def _band(ev: Mapping[str, Any]) -> tuple[float, float] | None:
    """The band as absolute values of the current year, or None."""
    band = ev.get("band")
    if not isinstance(band, (list, tuple)) or len(band) != 2:
        return None
    lo, hi = _num(band[0]), _num(band[1])
    if lo is None or hi is None:
        return None
    if _band_is_ratio(ev):
        prev = _num(ev.get("previous"))
        if prev is None:
            return None
        lo, hi = prev * lo, prev * hi
    return (min(lo, hi), max(lo, hi))


def _fmt_plain(x: float | None) -> str:
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3f}".rstrip("0").rstrip(".") or "0"


def _fmt_value(x: float | None, unit: str | None, lang: str) -> str:
    if x is None:
        return "—"
    unit = unit or ""
    if lang == "zh" and unit != "%" and abs(x) >= 1e4:
        scale, word = (1e8, "亿") if abs(x) >= 1e8 else (1e4, "万")
        return f"{x / scale:.4f}".rstrip("0").rstrip(".") + word + unit
    if abs(x) >= 1000 and lang != "zh":
        number = f"{x:,.2f}".rstrip("0").rstrip(".")
    else:
        number = f"{x:.4f}".rstrip("0").rstrip(".") or "0"
    return number + ("" if not unit else (unit if lang == "zh" or unit == "%" else " " + unit))


def _yoy_svg(series: dict[int, float], bands: list, flagged: set, unit: str | None, lang: str, title: str) -> str:
    """A small line chart: yearly values, the expected band of each flagged year, the flagged value."""
    years = sorted(set(series) | {b[0] for b in bands} | {yr for yr, _ in flagged})
    if not years:
        return ""
    w, h, left, right, top, bottom = 300, 150, 12, 12, 18, 26
    values = list(series.values()) + [v for _, v in flagged]
    vmax = max([abs(v) for v in values] + [1e-9])
    band_max = max([b[2] for b in bands] + [0])
    ymax = max(vmax, min(band_max, vmax * 2.5)) * 1.12
    ymin = min([0.0] + values + [b[1] for b in bands])
    span = (ymax - ymin) or 1.0

    def x(year: int) -> float:
        if len(years) == 1:
            return w / 2
        return left + 30 + (w - left - right - 60) * (years.index(year) / (len(years) - 1))

    def y(v: float) -> float:
        v = min(max(v, ymin), ymax)
        return top + (h - top - bottom) * (1 - (v - ymin) / span)

    out = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{esc(title)}">',
           f"<title>{esc(title)}</title>",
           f'<line x1="{left}" y1="{y(ymin):.1f}" x2="{w - right}" y2="{y(ymin):.1f}" class="axis"/>']
    for year, lo, hi, cur, i in bands:
        bx = x(year)
        y1, y2 = y(hi), y(lo)
        out.append(f'<rect class="band" x="{bx - 9:.1f}" y="{y1:.1f}" width="18" height="{max(y2 - y1, 1.5):.1f}">'
                   f"<title>{esc(_fmt_value(lo, unit, lang))} – {esc(_fmt_value(hi, unit, lang))}</title></rect>")
    pts = [(x(yr), y(series[yr])) for yr in years if yr in series]
    if len(pts) > 1:
        out.append('<polyline class="line" points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
    for yr in years:
        out.append(f'<text class="yr" x="{x(yr):.1f}" y="{h - 8}" text-anchor="middle">{yr}</text>')
        if yr in series:
            v = series[yr]
            bad = (yr, v) in flagged
            out.append(f'<circle class="{"pt bad" if bad else "pt"}" cx="{x(yr):.1f}" cy="{y(v):.1f}" r="{5 if bad else 3.5}"/>')
            out.append(f'<text class="val{" bad" if bad else ""}" x="{x(yr):.1f}" y="{y(v) - 8:.1f}" '
                       f'text-anchor="middle">{esc(_fmt_value(v, unit, lang))}</text>')
    for year, cur in sorted(flagged):
        if series.get(year) != cur and year in years:  # a flagged figure that is not the year's charted value
            out.append(f'<circle class="pt bad" cx="{x(year):.1f}" cy="{y(cur):.1f}" r="5"/>'
                       f'<text class="val bad" x="{x(year):.1f}" y="{y(cur) - 8:.1f}" text-anchor="middle">'
                       f'{esc(_fmt_value(cur, unit, lang))}</text>')
    out.append("</svg>")
    return "".join(out)
