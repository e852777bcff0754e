"""The HTML report: plain-Python checks of its structure and safety, then real headless Chromium.

Browser tests use Debian's /usr/bin/chromium through Playwright (no browser download). Without the
browser they are skipped locally, but in CI (CI=true) a missing browser fails them.
"""

from __future__ import annotations

import json
import re
import time
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from auditor.findings import Finding, Related, fingerprint, line_and_column
from auditor.metrics import Metric
from auditor.report.html import json_for_script, render_html
from auditor.rules.model import Rule
from tests.support import chromium

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


# --------------------------------------------------------------------------- data


def audit_fixtures(lang: str = "zh"):
    from auditor.audit import run_audit
    from auditor.config import Config

    return run_audit([str(FIXTURES)], Config(lang=lang))


@pytest.fixture(scope="module")
def zh_result():
    return audit_fixtures("zh")


@pytest.fixture(scope="module")
def zh_html(zh_result) -> str:
    return render_html(zh_result)


@pytest.fixture(scope="module")
def en_html() -> str:
    return render_html(audit_fixtures("en"))


class _NoParams(BaseModel):
    pass


def _rule(rid: str, category: str, severity: str) -> Rule:
    return Rule(id=rid, name=f"{category}-rule", kind="pattern", category=category, severity=severity,
                message={"zh": "{text}", "en": "{text}"}, summary={"zh": f"{category} 检查", "en": f"{category} check"},
                params=_NoParams(), source="test.yaml", line=1)


def minimal_result(docs: dict[str, str], spans: list[tuple], *, metrics: list[Metric] = (), lang: str = "zh",
                   articles: dict[str, list] | None = None):
    """An AuditResult-like object without the pipeline: `spans` are
    (document, start, end, rule, category, severity, message[, related, evidence])."""
    rules: dict[str, Rule] = {}
    findings = []
    for spec in spans:
        path, start, end, rid, cat, sev, msg, *rest = spec
        related = tuple(rest[0]) if rest else ()
        evidence = rest[1] if len(rest) > 1 else {}
        text = docs[path]
        line, column = line_and_column(text, start)
        rules.setdefault(rid, _rule(rid, cat, sev))
        findings.append(Finding(rid, cat, sev, msg, path, start, end, line, column, text[start:end], related, evidence,
                                fingerprint(rid, path, text, start, end)))
    documents = []
    for path, text in docs.items():
        arts = [SimpleNamespace(parts=((s, e),), entity=ent, year=yr, title=None)
                for s, e, ent, yr in (articles or {}).get(path, [])]
        documents.append(SimpleNamespace(
            path=path, original=text,
            document=SimpleNamespace(path=path, text=text, encoding="utf-8", sha256="0" * 64),
            norm=SimpleNamespace(to_original=lambda s, e: (s, e)),
            segmentation=SimpleNamespace(articles=tuple(arts)),
            metrics=tuple(m for m in metrics if m.document == path)))
    findings.sort(key=Finding.sort_key)
    return SimpleNamespace(documents=tuple(documents), findings=tuple(findings),
                           rule_set=SimpleNamespace(rules=tuple(rules.values()), files=("test.yaml",)),
                           rules=tuple(rules.values()), elapsed_s=0.01, lang=lang)


def metric(path: str, text: str, start: int, end: int, value: float, unit: str, **kw) -> Metric:
    return Metric(document=path, start=start, end=end, text=text[start:end], value=value, unit=unit,
                  surface_unit=unit, approx=None, kind="money", dimension="money", entity=kw.get("entity"),
                  year=kw.get("year"), label=kw.get("label"), metric=kw.get("metric"))


# --------------------------------------------------------------------------- plain Python


class _Collect(HTMLParser):
    """Every tag with its attributes; the text inside each document view, without controls."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.doc_texts: list[str] = []
        self._depth = 0  # inside div.text
        self._skip = 0  # inside a.back
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        classes = (a.get("class") or "").split()
        if tag == "div" and "text" in classes and not self._depth:
            self._depth = 1
            self.doc_texts.append("")
            self._stack = ["div"]
            return
        if self._depth:
            self._stack.append(tag)
            if tag == "a" and "back" in classes:
                self._skip = len(self._stack)

    def handle_endtag(self, tag):
        if self._depth:
            if self._skip and len(self._stack) == self._skip:
                self._skip = 0
            self._stack.pop()
            if not self._stack:
                self._depth = 0

    def handle_data(self, data):
        if self._depth and not self._skip:
            self.doc_texts[-1] += data


def parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


def data_block(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


def test_fixture_report_parses_and_references_nothing_on_the_network(zh_html):
    p = parse(zh_html)
    assert p.tags and p.tags[0][0] == "html"
    for tag, attrs in p.tags:
        for name in ("src", "href", "action", "poster", "data", "srcset"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (tag, name, value)
        if tag == "script":
            assert "src" not in attrs
        if tag == "link":
            assert attrs.get("rel") == "icon" and attrs.get("href", "").startswith("data:")
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", zh_html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", zh_html, re.I)
    assert "@import" not in zh_html


def test_fixture_report_shows_every_document_in_full(zh_result, zh_html):
    p = parse(zh_html)
    originals = [d.original for d in zh_result.documents]
    assert len(p.doc_texts) == len(originals)
    for shown, original in zip(p.doc_texts, originals):
        # the HTML parser turns CR LF into LF, exactly as the browser does
        assert shown == original.replace("\r\n", "\n").replace("\r", "\n")


def test_embedded_data_is_the_json_report(zh_result, zh_html):
    from auditor.report.json_report import render_json

    assert data_block(zh_html)["report"] == json.loads(render_json(zh_result))


def test_every_active_finding_is_marked_and_listed(zh_result, zh_html):
    p = parse(zh_html)
    marked = {int(i) for tag, a in p.tags if tag == "mark" for i in a["data-f"].split()}
    listed = {int(a["data-i"]) for tag, a in p.tags if tag == "li" and "finding" in a.get("class", "")}
    active = {i for i, f in enumerate(zh_result.findings) if f.suppressed is None and f.end > f.start}
    assert active and active <= marked
    assert listed == set(range(len(zh_result.findings)))
    ids = [a["id"] for _, a in p.tags if "id" in a]
    assert len(ids) == len(set(ids)), "duplicate element ids"


def test_summary_lists_rules_that_fired(zh_result, zh_html):
    fired = {f.rule for f in zh_result.findings if f.suppressed is None}
    rows = {a["data-rule"] for tag, a in parse(zh_html).tags if tag == "tr" and "data-rule" in a}
    assert rows == fired


def test_overlapping_spans_are_split_at_every_boundary():
    text = "甲乙丙丁戊己庚辛壬癸"
    result = minimal_result({"a.txt": text}, [
        ("a.txt", 2, 6, "R001", "other", "warning", "first"),
        ("a.txt", 4, 9, "R002", "typo", "error", "second"),
        ("a.txt", 5, 5, "R003", "other", "info", "a point"),
    ])
    html = render_html(result)
    marks = re.findall(r'<mark class="([^"]*)" data-f="([^"]*)"[^>]*>([^<]*)</mark>', html)
    assert [(f, t) for _, f, t in marks] == [("0", "丙丁"), ("0 1", "戊"), ("2", ""), ("0 1", "己"), ("1", "庚辛壬")]
    classes = {t: c.split() for c, _, t in marks}
    assert "s-warning" in classes["丙丁"] and "s-error" in classes["戊"] and "multi" in classes["戊"]
    assert parse(html).doc_texts == [text]


def test_hostile_text_is_escaped_everywhere(tmp_path):
    evil = ('<script>window.__pwned=1</script></textarea><img src=x onerror="window.__pwned=2"> X元 </script>\u2028'
            " {{js}} {{data}} <!-- ]]> \x00")
    path = "dir/<b>evil</b>.txt"
    result = minimal_result({path: evil}, [
        (path, evil.index("X"), evil.index("X") + 1, "P001", "placeholder", "error",
         'message <script>alert("m")</script> & "quotes"',
         [Related(path, 0, 8, "<script>", '<img src=x onerror="window.__pwned=3">')]),
    ])
    html = render_html(result)
    assert "<script>window" not in html and "<img src=x" not in html and "<b>evil" not in html
    assert "window.__pwned=1&lt;/script&gt;&lt;/textarea&gt;&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;" in html
    assert 'alert("m")' not in html
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S).group(1)
    assert not re.search("[<>&\u2028\u2029]", block)
    assert json.loads(block)["report"]["findings"][0]["message"].startswith("message <script>")
    # only our two script elements (the data block and the code)
    assert len(re.findall(r"<script\b", html)) == 2
    assert parse(html).doc_texts == [evil]


def test_suppressed_findings_are_listed_but_hidden_by_default():
    import dataclasses

    text = "甲乙丙丁戊"
    result = minimal_result({"s.txt": text}, [
        ("s.txt", 0, 1, "R001", "other", "error", "shown"),
        ("s.txt", 2, 3, "R002", "other", "warning", "silenced"),
    ])
    findings = (result.findings[0], dataclasses.replace(result.findings[1], suppressed="baseline"))
    result = dataclasses.replace(result, findings=findings) if dataclasses.is_dataclass(result) else \
        SimpleNamespace(**{**vars(result), "findings": findings})
    html = render_html(result)
    assert re.search(r'<li class="finding s-warning filtered sup" id="fi-1"', html)
    assert re.search(r'<mark class="s-warning off" data-f="1" tabindex="-1"', html)
    assert 'name="sup"' in html and "已抑制：baseline" in html


def test_findings_on_documents_outside_the_audit_are_listed_without_text():
    result = minimal_result({"a.txt": "甲乙丙"}, [("a.txt", 0, 1, "R001", "other", "error", "here")])
    ghost = Finding("Y001", "yoy", "warning", "from history", "archive/2020.txt", 5, 9, 1, 6, "28.74")
    result = SimpleNamespace(**{**vars(result), "findings": result.findings + (ghost,)})
    html = render_html(result)
    assert "2020.txt" in html and 'id="fi-1"' in html and "原文不在本次审查中" in html
    assert 'data-f="1"' not in html  # nothing to mark


def test_json_for_script_escapes_what_could_close_the_block():
    value = {"t": "</script><!-- & \u2028 \u2029 >", "n": float("nan")}
    text = json_for_script(value)
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"t": value["t"], "n": None}


def test_content_security_policy_allows_only_our_script(zh_html):
    import base64
    import hashlib

    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', zh_html).group(1))
    code = re.findall(r"<script>(.*?)</script>", zh_html, re.S)
    assert len(code) == 1
    digest = base64.b64encode(hashlib.sha256(code[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline'; img" not in csp.split("script-src")[1].split(";")[0]


def test_language_follows_result_and_can_be_overridden(zh_result, zh_html, en_html):
    assert '<html lang="zh-CN">' in zh_html and "审查摘要" in zh_html
    assert '<html lang="en">' in en_html and "Audit summary" in en_html and "审查摘要" not in en_html
    assert "Audit summary" in render_html(zh_result, lang="en")


def test_english_interface_has_no_chinese_fixed_strings(en_html):
    # Remove what comes from documents and rules; what is left is the interface.
    body = re.sub(r'<div class="text".*?</div></div>', "", en_html, flags=re.S)  # document views
    body = re.sub(r'<script type="application/json".*?</script>', "", body, flags=re.S)
    body = re.sub(r'(title|aria-label|data-label)="[^"]*"', "", body)
    body = re.sub(r"<(p class=\"msg\"|q|h3|div class=\"dtext\"|figcaption|li|td|option)[^>]*>.*?</\1?[a-z0-9]*>", "",
                  body, flags=re.S)
    for word in ("审查", "摘要", "问题列表", "错误", "警告", "提示", "筛选", "数据表", "原文"):
        assert word not in body, word


def test_duplicates_side_by_side_mark_the_differing_characters():
    a = "发放慰问金2.8万元，惠及职工100人"
    b = "发放慰问金3.8万元，惠及职工100人"
    text = a + "\n" + b
    result = minimal_result({"d.txt": text}, [
        ("d.txt", len(a) + 1, len(text), "D003", "duplicate", "warning", "near duplicate",
         [Related("d.txt", 0, len(a), a, "first")]),
    ])
    html = render_html(result)
    section = html[html.index('id="duplicates"'):html.index('id="documents"')]
    assert "<del>3</del>" in section and "<ins>2</ins>" in section


def test_yoy_chart_draws_series_band_and_flagged_value():
    text = "2021年 救助84人，发放28.74万元。\n2020年 救助84人，发放10万元。"
    cur = text.index("28.74万元")
    prev = text.index("10万元")
    ev = {"previous": 100000.0, "current": 287400.0, "ratio": 2.874, "band": [0.5, 2.0], "previous_year": 2020,
          "current_year": 2021, "metric": "relief_funds"}
    metrics = [metric("y.txt", text, cur, cur + 7, 287400.0, "元", entity="洮南市总工会", year=2021, metric="relief_funds",
                      label="救助资金"),
               metric("y.txt", text, prev, prev + 4, 100000.0, "元", entity="洮南市总工会", year=2020, metric="relief_funds",
                      label="救助资金")]
    result = minimal_result({"y.txt": text}, [
        ("y.txt", cur, cur + 7, "Y001", "yoy", "warning", "out of band", [Related("y.txt", prev, prev + 4, "10万元")], ev),
    ], metrics=metrics)
    html = render_html(result)
    section = html[html.index('id="yoy"'):html.index('id="documents"')]
    assert "洮南市总工会" in section and "<svg" in section and 'class="band"' in section
    assert 'class="pt bad"' in section and "28.74万元" in section and "10万元" in section
    assert 'href="#r-0-0"' in section and 'href="#f-0"' in section


def test_metric_spans_get_anchors(zh_result, zh_html):
    n = sum(len(d.metrics) for d in zh_result.documents)
    assert n > 0
    for k in (0, n // 2, n - 1):
        assert f'id="m-{k}"' in zh_html


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


class Opened(SimpleNamespace):
    page: object
    requests: list
    errors: list


@pytest.fixture
def open_html(browser, tmp_path):
    contexts = []

    def _open(html: str, name: str = "report.html", width: int = 1400, height: int = 900) -> Opened:
        path = tmp_path / name
        path.write_text(html, encoding="utf-8")
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page=page, requests=[], errors=[])
        page.on("request", lambda r: opened.requests.append(r.url))
        page.on("console", lambda m: opened.errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        opened.uri = path.as_uri()
        return opened

    yield _open
    for c in contexts:
        c.close()


def in_viewport(page, selector: str) -> bool:
    return page.evaluate("""sel => { const el = document.querySelector(sel); if (!el) return false;
        const r = el.getBoundingClientRect();
        return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth; }""", selector)


def test_report_loads_without_errors_or_network(open_html, zh_html):
    o = open_html(zh_html)
    assert o.errors == []
    assert [u for u in o.requests if not (u == o.uri or u.startswith("data:"))] == []
    assert o.page.locator("#summary h2").inner_text() == "审查摘要"
    assert o.page.locator("mark:not(.off)").count() > 0
    assert o.page.locator("#m-table tbody tr").count() > 0


def test_clicking_a_finding_scrolls_to_its_span_and_flashes_it(open_html, zh_result, zh_html):
    o = open_html(zh_html)
    page = o.page
    # a finding far down the page: the last active one in the last document with findings
    i = max(i for i, f in enumerate(zh_result.findings) if f.suppressed is None and f.end > f.start)
    mark = f'mark[data-f~="{i}"]'
    page.evaluate("window.scrollTo(0, 0)")
    assert not in_viewport(page, mark)
    page.evaluate(f"""() => {{ const li = document.getElementById('fi-{i}');
        li.classList.remove('cap'); li.scrollIntoView({{block: 'nearest'}}); }}""")
    page.locator(f"#fi-{i} a.go").click()
    assert "flash" in page.locator(mark).first.get_attribute("class")
    assert in_viewport(page, mark)
    assert "sel" in page.locator(f"#fi-{i}").get_attribute("class")
    # the message is on the mark, and focus shows it in the tooltip
    assert zh_result.findings[i].message[:20] in page.locator(mark).first.get_attribute("title")
    assert page.locator("#tip").is_visible()
    assert zh_result.findings[i].message[:20] in page.locator("#tip").inner_text()


def test_keyboard_focus_on_a_mark_shows_its_message_and_enter_selects_it(open_html, zh_result, zh_html):
    page = open_html(zh_html).page
    i = next(i for i, f in enumerate(zh_result.findings) if f.suppressed is None and f.end > f.start)
    mark = page.locator(f'mark[data-f~="{i}"]').first
    assert mark.get_attribute("tabindex") == "0"
    assert f"fm-{i}" in mark.get_attribute("aria-describedby").split()
    mark.focus()
    assert page.locator("#tip").is_visible()
    assert zh_result.findings[i].message[:20] in page.locator("#tip").inner_text()
    page.keyboard.press("Enter")
    assert "sel" in page.locator(f"#fi-{i}").get_attribute("class")
    page.keyboard.press("Escape")
    assert not page.locator("#tip").is_visible()


def test_filters_hide_marks_and_list_items(open_html, zh_result, zh_html):
    o = open_html(zh_html)
    page = o.page
    active = [f for f in zh_result.findings if f.suppressed is None]
    assert any(f.severity == "warning" for f in active)

    def shown(sev):
        return page.evaluate("""sev => [...document.querySelectorAll('mark.s-' + sev)]
            .filter(m => !m.classList.contains('off') && getComputedStyle(m).backgroundColor !== 'rgba(0, 0, 0, 0)').length""", sev)

    assert shown("warning") > 0
    page.locator('#filters input[name=sev][value=warning]').uncheck()
    assert shown("warning") == 0
    assert page.locator('li.finding[data-sev=warning]:visible').count() == 0
    assert shown("error") > 0
    page.locator('#filters input[name=sev][value=warning]').check()
    assert shown("warning") > 0

    rule = next(f.rule for f in active if f.severity == "warning")
    page.select_option("#f-rule", rule)
    visible_rules = page.evaluate("""() => [...document.querySelectorAll('li.finding')]
        .filter(li => li.offsetParent !== null).map(li => li.dataset.rule)""")
    assert visible_rules and set(visible_rules) == {rule}
    n = sum(1 for f in active if f.rule == rule)
    assert page.locator("#f-status").inner_text().startswith(f"显示 {n} /")

    page.select_option("#f-rule", "")
    category = next(f.category for f in active if f.category != "placeholder")
    page.locator(f'#filters input[name=cat][value="{category}"]').uncheck()
    assert page.locator(f'li.finding[data-cat="{category}"]:visible').count() == 0
    page.locator("#filters button.reset").click()
    page.wait_for_timeout(50)
    assert page.locator(f'li.finding[data-cat="{category}"]:visible').count() > 0


def test_related_spans_link_both_ways(open_html, zh_result, zh_html):
    o = open_html(zh_html)
    page = o.page
    paths = {d.path for d in zh_result.documents}
    i, f = next((i, f) for i, f in enumerate(zh_result.findings)
                if f.suppressed is None and f.related and f.related[0].document in paths)
    page.locator(f'#fi-{i} .related a[data-target="r-{i}-0"]').click()
    rel = f'.rel[data-back~="{i}"]'
    assert page.locator(rel).count() > 0
    assert "flash" in page.locator(rel).first.get_attribute("class")
    assert in_viewport(page, rel)
    page.locator(f'a.back[data-i="{i}"]').first.click()
    mark = f'mark[data-f~="{i}"]'
    assert "flash" in page.locator(mark).first.get_attribute("class")
    assert in_viewport(page, mark)


def test_metrics_table_sorts_filters_and_links_to_the_text(open_html, zh_result, zh_html):
    o = open_html(zh_html)
    page = o.page
    rows = page.locator("#m-table tbody tr")
    total = sum(len(d.metrics) for d in zh_result.documents)
    assert rows.count() == min(total, 300)
    page.locator('#m-table th[data-key=value] button').click()
    values = page.evaluate("""() => [...document.querySelectorAll('#m-table tbody tr td:nth-child(3)')]
        .map(td => td.textContent)""")
    numbers = [float(v.replace(",", "")) for v in values if v != "—"]
    assert numbers == sorted(numbers)
    page.locator('#m-table th[data-key=value] button').click()
    assert page.locator('#m-table th[data-key=value]').get_attribute("aria-sort") == "descending"
    word = next(m.text for d in zh_result.documents for m in d.metrics if "万元" in m.text)
    page.fill("#m-filter", word)
    page.wait_for_timeout(300)
    texts = page.evaluate("() => [...document.querySelectorAll('#m-table tbody tr')].map(tr => tr.textContent)")
    assert texts and all(word in t for t in texts) and len(texts) < min(total, 300)
    link = page.locator("#m-table tbody tr td:nth-child(2) a").first
    k = link.get_attribute("data-target").split("-")[1]
    link.click()
    assert "flash" in page.locator(f'.q[data-m~="{k}"]').first.get_attribute("class")
    assert in_viewport(page, f'.q[data-m~="{k}"]')


def test_hostile_document_runs_nothing(open_html, tmp_path):
    from auditor.audit import run_audit
    from auditor.config import Config

    evil = ('<script>window.__pwned=1</script></textarea><img src=x onerror="window.__pwned=2">\n'
            "2021年拨缴经费 X元。</script><svg onload=window.__pwned=4>\n")
    folder = tmp_path / "in"
    folder.mkdir()
    doc = folder / "evil<img src=x onerror=window.__pwned=3>.txt"
    doc.write_text(evil, encoding="utf-8")
    result = run_audit([str(doc)], Config())
    assert any(f.rule.startswith("P") for f in result.findings), "the X placeholder must give a finding"
    o = open_html(render_html(result), name="evil.html")
    page = o.page
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".doc .text img, .doc .text script, .doc .text svg").count() == 0
    shown = page.locator(".doc .text").inner_text()
    assert '<script>window.__pwned=1</script></textarea><img src=x onerror="window.__pwned=2">' in shown
    assert "evil<img src=x onerror=window.__pwned=3>.txt" in page.locator(".doc-title").inner_text()
    assert page.locator("mark.s-error").count() >= 1
    assert o.errors == []
    assert [u for u in o.requests if not (u == o.uri or u.startswith("data:"))] == []


def test_content_security_policy_stops_injected_script_even_if_escaping_failed(open_html, zh_html):
    broken = zh_html.replace("</main>", "<script>window.__pwned=9</script>"
                                        "<img src=x onerror=\"window.__pwned=8\"></main>", 1)
    o = open_html(broken, name="broken.html")
    assert o.page.evaluate("window.__pwned") is None
    assert o.page.locator("#summary h2").inner_text() == "审查摘要"  # our own script still ran
    assert o.page.locator("#m-table tbody tr").count() > 0


def test_clean_report_without_findings_or_metrics(open_html):
    o = open_html(render_html(minimal_result({"clean.txt": "一切正常。\n"}, [])), name="clean.html")
    assert o.errors == []
    assert o.page.locator("#summary .clean").inner_text() == "未发现问题。"
    assert o.page.locator(".doc .text").inner_text().strip() == "一切正常。"


def test_english_switch(open_html, zh_html, en_html):
    en = open_html(en_html, name="en.html").page
    assert en.locator("#summary h2").inner_text() == "Audit summary"
    assert en.locator("html").get_attribute("lang") == "en"
    assert en.locator("#f-status").inner_text().startswith("Showing")
    zh = open_html(zh_html, name="zh.html").page
    assert zh.locator("#summary h2").inner_text() == "审查摘要"


def test_print_stylesheet_hides_controls_and_expands_lists(open_html, zh_html):
    page = open_html(zh_html).page
    page.emulate_media(media="print")
    assert not page.locator("#filters").is_visible()
    assert page.locator("li.finding.cap").count() == 0 or page.locator("li.finding.cap").first.is_visible()
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")


# --------------------------------------------------------------------------- a big page


def big_result(target_bytes: int = 5 * 1024 * 1024, findings_wanted: int = 3000):
    line = "本报讯 2021年，某某区总工会为困难职工发放救助金28.74万元，走访慰问劳模7人，发放慰问金7000元。"
    lines, size = [], 0
    while size < target_bytes:
        n = len(lines)
        text = f"{n:06d} {line}"
        lines.append(text)
        size += len(text.encode("utf-8")) + 1
    text = "\n".join(lines) + "\n"
    step = max(1, len(lines) // findings_wanted)
    spans, metrics, offset = [], [], 0
    sev = ("error", "warning", "info")
    for n, ln in enumerate(lines):
        if n % step == 0 and len(spans) < findings_wanted:
            s = offset + ln.index("某某")
            spans.append(("big.txt", s, s + 2, "P001", "placeholder", sev[n % 3], "未填写的占位符“某某”"))
            if n % (step * 10) == 0:  # some overlapping ones
                spans.append(("big.txt", s - 3, s + 5, "T001", "typo", "info", "overlap"))
            if n % (step * 7) == 0 and n:  # duplicates of the line before, linked both ways
                prev = offset - len(lines[n - 1]) - 1
                spans.append(("big.txt", offset + 7, offset + len(ln), "D001", "duplicate", "warning", "duplicate",
                              [Related("big.txt", prev + 7, prev + len(lines[n - 1]), lines[n - 1][7:])]))
        if n % 5 == 0:
            s = offset + ln.index("28.74万元")
            metrics.append(metric("big.txt", text, s, s + 7, 287400.0, "元", year=2021, metric="relief_funds"))
        offset += len(ln) + 1
    return minimal_result({"big.txt": text}, spans, metrics=metrics), text


@pytest.mark.slow
def test_five_megabyte_page_renders_and_opens_quickly(open_html, tmp_path):
    result, text = big_result()
    assert len(text.encode("utf-8")) >= 5 * 1024 * 1024
    started = time.perf_counter()
    html = render_html(result)
    render_s = time.perf_counter() - started
    started = time.perf_counter()
    o = open_html(html, name="big.html")
    page = o.page
    open_s = time.perf_counter() - started
    print(f"\n5 MB page: {len(result.findings)} findings, {sum(len(d.metrics) for d in result.documents)} metrics, "
          f"HTML {len(html.encode()) / 1e6:.1f} MB, render {render_s:.2f} s, open in Chromium {open_s:.2f} s")
    assert render_s < 8, render_s
    assert open_s < 10, open_s
    assert o.errors == []
    # the list is capped: only the first entries are laid out until "show more"
    visible = page.locator("li.finding:visible").count()
    assert 0 < visible <= 150
    page.locator("aside.flist button.more").click()
    assert page.locator("li.finding:visible").count() == min(300, len(result.findings))
    # jumping to the last finding works, and its chunk gets laid out
    i = len(result.findings) - 1
    started = time.perf_counter()
    page.evaluate(f"() => document.getElementById('fi-{i}').classList.remove('cap')")
    page.locator(f"#fi-{i} a.go").click()
    jump_s = time.perf_counter() - started
    assert "flash" in page.locator(f'mark[data-f~="{i}"]').first.get_attribute("class")
    assert in_viewport(page, f'mark[data-f~="{i}"]')
    assert jump_s < 3, jump_s
    # scrolling through the middle: what is on screen is laid out text
    for fraction in (0.25, 0.5, 0.75):
        page.evaluate(f"window.scrollTo(0, document.documentElement.scrollHeight * {fraction})")
        page.wait_for_timeout(100)
        probe = page.evaluate("""() => { const el = document.elementFromPoint(innerWidth * 0.3, innerHeight / 2);
            return el ? el.closest('.chunk') !== null || el.closest('.text') !== null : false; }""")
        assert probe
