"""Strategies and properties shared by the fuzz tests (tests/robustness/test_fuzz.py, a short
profile that CI runs) and the long profile (bench/fuzz_profile.py).

Each ``check_*`` function takes one generated input and asserts what must hold for EVERY input:
no exception other than the documented one escapes, every span maps back to the text exactly,
the JSON report validates against its schema, the HTML report parses and carries no markup from
the input, the XML reports parse.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "contracts" / "audit-report.schema.json"

# --------------------------------------------------------------------------- strategies

# Pieces real pages are made of, and pieces hostile input is made of.
WORDS = [
    "本报讯", "2021年", "2020年以来", "去年", "长春市总工会", "洮南市总工会", "救助困难职工", "发放救助资金",
    "慰问金", "其中", "共计", "合计", "占", "同比增长", "每人", "人均", "工作总结", "一、", "（二）", "3.",
    "84名", "28.74万元", "2.8万元", "7000元", "0.7万元", "X元", "XX名", "××人", "某某", "□", "3+X",
    "百分之八十五", "三分之二", "1,234", "１２３", "十余万", "近300人", "3至5万元", "1e308", "1e99元",
    "99999999999999999999亿", "9^99", "0.1^-99元", "2^10元", "—", "……", "。", "，", "、", "：", "；", "！",
    "？", "“", "”", "（", "）", " ", "\u3000", "\t", "\n", "\n\n", "\r\n", "\r",
    "<script>alert(1)</script>", "</textarea>", "<img src=x onerror=alert(2)>", "&amp;", "&lt;", "]]>",
    "<!--", "{text}", "{", "}", "%s", "\\", "\"", "'", "`",
    "\u202e", "\u202d", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff", "\u00ad", "\u2028", "\u2029",
    "\x07", "\x1b[31m", "\x0b", "\x0c", "\x7f", "\x85", "\ufffe", "\uffff", "\U0001F600", "e\u0301",
]

# Characters drawn one at a time: CJK, ASCII, full-width, numerals, units, controls, bidi marks.
ALPHABET = st.one_of(
    st.sampled_from("0123456789.,%万亿千百十元人名家个次户零一二两三四五六七八九〇壹贰叁拾佰仟余多几约近超以上下"),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(codec="utf-8"),
)

texts = st.lists(st.one_of(st.sampled_from(WORDS), st.text(ALPHABET, min_size=1, max_size=6)),
                 max_size=60).map("".join)

# Bytes for the loaders: encodings of generated text, BOMs, binary magic, truncation, noise.
_PREFIXES = [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x89PNG\r\n\x1a\n",
             b"PK\x03\x04", b"%PDF-1.4\n", b"\x1f\x8b", b"\x00", b"<html><meta charset=gbk>",
             b'<meta charset="utf-16">', b"<meta charset=x-unknown>"]


@st.composite
def document_bytes(draw) -> bytes:
    text = draw(texts)
    codec = draw(st.sampled_from(["utf-8", "gb18030", "utf-16-le", "utf-16-be", "utf-16", "big5", "latin-1"]))
    data = text.encode(codec, errors=draw(st.sampled_from(["ignore", "replace", "backslashreplace"])))
    data = draw(st.sampled_from(_PREFIXES)) + data
    cut = draw(st.integers(0, 3))
    if cut and len(data) > cut:
        data = data[:-cut]  # truncated in the middle of a character
    if draw(st.booleans()):
        data += draw(st.binary(max_size=16))
    return data


# --------------------------------------------------------------------------- loaders


def check_load_text(data: bytes) -> None:
    """Any bytes: the text and how it was decoded, or InputError; nothing else."""
    from auditor.documents.load import load_text
    from auditor.errors import InputError

    try:
        text, encoding = load_text(data, path="fuzz.txt")
    except InputError as exc:
        assert "\n" not in exc.one_line()
        return
    assert isinstance(text, str) and "\x00" not in text and text.strip()
    # The text is exactly what the named codec reads (no replacement characters invented).
    body = data
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff"):
        if data.startswith(bom) and encoding.replace("-sig", "") in _BOM_CODECS[bom]:
            body = data[len(bom):]
            break
    assert body.decode(encoding.removesuffix("-sig")) == text


_BOM_CODECS = {b"\xef\xbb\xbf": ("utf-8",), b"\xff\xfe\x00\x00": ("utf-32-le",), b"\x00\x00\xfe\xff": ("utf-32-be",),
               b"\xff\xfe": ("utf-16-le",), b"\xfe\xff": ("utf-16-be",)}


def check_load_file(tmp: Path, data: bytes, suffix: str) -> None:
    """Any bytes in a file of any supported suffix: a Document or InputError."""
    from auditor.documents.load import load_document
    from auditor.errors import InputError

    path = tmp / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        doc = load_document(path, max_bytes=1 << 20)
    except InputError as exc:
        assert "\n" not in exc.one_line() and str(path) in exc.one_line()
        return
    assert doc.text.strip() and doc.size == len(data)
    assert doc.sha256 == hashlib.sha256(data).hexdigest()


def docx_bytes(paragraphs: list[str]) -> bytes:
    """A real .docx (python-docx) holding the paragraphs, XML-illegal characters dropped."""
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(_XML_ILLEGAL.sub("", p))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def mangle_zip(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    """The bytes with some flipped: a damaged archive."""
    out = bytearray(data)
    for pos, value in flips:
        out[pos % len(out)] = value
    return bytes(out)


# --------------------------------------------------------------------------- normaliser


def check_normalise(text: str) -> None:
    """Every normalised character comes from one original character, in order, and any span maps
    back inside the original."""
    from auditor.documents.normalise import _FOLD, normalise

    norm = normalise(text)
    assert norm.original == text
    previous = -1
    for i, ch in enumerate(norm.text):
        o = norm.original_index(i)
        assert previous < o < len(text), (i, o)
        previous = o
        assert ch == text[o].translate(_FOLD) or (ch == "\n" and text[o] == "\n"), (i, ch, text[o])
    n = len(norm.text)
    for start, end in ((0, n), (0, 0), (n, n), (n // 3, 2 * n // 3), (n // 2, min(n, n // 2 + 1))):
        a, b = norm.to_original(start, end)
        assert 0 <= a <= b <= len(text)
        if end > start:
            assert a == norm.original_index(start) and b == norm.original_index(end - 1) + 1
            assert norm.original_text(start, end) == text[a:b]


# --------------------------------------------------------------------------- quantities and numbers


def check_quantities(text: str) -> None:
    from auditor.extract.numbers import parse_number
    from auditor.extract.quantities import find_quantities, parse_quantity

    last = 0
    for include_bare in (False, True):
        last = 0
        for q in find_quantities(text, include_bare=include_bare):
            assert 0 <= q.start < q.end <= len(text) and text[q.start:q.end] == q.text
            assert last <= q.start, "quantities overlap or are out of order"
            last = q.end
            assert q.start <= q.number_start <= q.number_end <= q.end
            for v in (q.value, *(q.range or ())):
                assert v is None or math.isfinite(v)
            assert q.placeholder or q.value is not None or q.range is not None
    value = parse_number(text)
    assert value is None or math.isfinite(value)
    parse_quantity(text)


# --------------------------------------------------------------------------- segmenter


def check_segment(text: str) -> None:
    from auditor.documents.normalise import normalise
    from auditor.documents.segment import segment

    norm = normalise(text).text
    seg = segment(norm)
    prev_end = -1
    for p in seg.paragraphs:
        assert prev_end < p.start <= p.end <= len(norm) and norm[p.start:p.end] == p.text
        prev_end = p.end
        for s in p.sentences:
            assert p.start <= s.start < s.end <= p.end and norm[s.start:s.end] == s.text
            for c in s.clauses:
                assert s.start <= c.start < c.end <= s.end and norm[c.start:c.end] == c.text
        if p.article is not None:
            assert seg.articles[p.article].contains(p.start)
    for a in seg.articles:
        for s, e in a.parts:
            assert 0 <= s <= e <= len(norm)
        assert seg.article_at(a.start) is not None


# --------------------------------------------------------------------------- the whole audit and reports


@lru_cache(maxsize=1)
def default_rules():
    from auditor.rules.loader import load_rules

    return load_rules()


@lru_cache(maxsize=1)
def schema_validator():
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def audit_texts(pages: dict[str, str], rules=None, lang: str = "zh"):
    """An AuditResult for in-memory pages: the real pipeline and the real rules, no files."""
    from auditor.audit import AuditResult, apply_suppressions
    from auditor.documents.load import Document
    from auditor.pipeline import analyse
    from auditor.rules.context import AuditContext
    from auditor.rules.engine import run_rules

    rule_set = default_rules() if rules is None else rules
    docs = []
    for path, text in pages.items():
        data = text.encode("utf-8", "surrogatepass")
        docs.append(analyse(Document(path, text, "utf-8", hashlib.sha256(data).hexdigest(), "txt", len(data))))
    findings = apply_suppressions(docs, run_rules(rule_set.rules, AuditContext(docs, lang=lang)))
    return AuditResult(tuple(docs), tuple(findings), rule_set, tuple(rule_set.rules), 0.0, lang)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


@lru_cache(maxsize=1)
def report_tags() -> frozenset[str]:
    """Every element the HTML report can write: the tags in its code and template."""
    import auditor.report.html as module

    source = Path(module.__file__).read_text(encoding="utf-8")
    source += (Path(module.__file__).parent / "templates" / "report.html.tmpl").read_text(encoding="utf-8")
    return frozenset(re.findall(r"<([a-z][a-z0-9]*)[\s>/{]", source))


def check_audit_and_reports(pages: dict[str, str]) -> None:
    """The real rules over generated pages; every finding maps back; every report is well formed."""
    from auditor.findings import line_and_column
    from auditor.report.console import render_console_text
    from auditor.report.github import render_github
    from auditor.report.html import render_html
    from auditor.report.json_report import render_json
    from auditor.report.junit import render_junit
    from auditor.report.markdown import render_markdown
    from auditor.report.sarif import render_sarif

    result = audit_texts(pages)
    originals = {d.path: d.original for d in result.documents}
    for d in result.documents:
        for m in d.metrics:
            assert d.original[m.start:m.end] == m.text and m.text
    for f in result.findings:
        original = originals[f.document]
        assert 0 <= f.start <= f.end <= len(original) and original[f.start:f.end] == f.text
        assert (f.line, f.column) == line_and_column(original, f.start)
        for r in f.related:
            if r.document in originals:
                assert originals[r.document][r.start:r.end] == r.text

    report = json.loads(render_json(result))
    errors = sorted(schema_validator().iter_errors(report), key=str)
    assert not errors, errors[0].message

    html = render_html(result)
    parser = _Tags()
    parser.feed(html)
    parser.close()
    tags = [t for t, _ in parser.tags]
    assert tags.count("script") == 2, "only the report's own data block and code"
    assert set(tags) <= report_tags(), set(tags) - report_tags()
    assert not any(name.startswith("on") for _, attrs in parser.tags for name in attrs)
    for text in pages.values():  # markup from the page is never written as markup
        for needle in re.findall(r"<[^<>]*(?:alert|onerror)[^<>]*>?", text):
            assert needle not in html, needle

    ET.fromstring(render_junit(result).split("\n", 1)[1])
    sarif = json.loads(render_sarif(result))
    assert sarif["version"] == "2.1.0"
    for line in render_github(result).rstrip("\n").split("\n"):  # the runner reads lines at \n
        assert "\r" not in line and line.startswith(("::error ", "::warning ", "::notice ", "auditor: "))
    render_markdown(result)
    render_console_text(result, color=False)
