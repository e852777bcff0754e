"""duplicate: text printed twice — within one page, or on two pages of the same audit.

Two modes, each a layer of the same idea (compare normalised units, never raw characters):

- ``exact``: every clause (or sentence, or paragraph: ``scope``) is reduced to a key with spaces
  and punctuation removed, so "2.8万元," and "2.8万元，" compare equal. Keys go into one dict for
  the whole audit; a unit whose key was seen before seeds a duplicate, and the run of consecutive
  units that repeat together becomes ONE finding on the later copy, its left edge widened to a
  figure both copies share ("慰问金2.8万元,…" / "救助资金2.8万元,…" → "2.8万元,…") and its right
  edge to the sentence's full stop. "Later" is later on the page, or on a later page (pages in
  path order). ``related`` names every other copy, the first one noted as such.
- ``near``: sentences that differ in a few characters (a figure changed, a word swapped). Each
  sentence's character n-grams get a MinHash signature; signatures are cut into LSH bands and
  only sentences sharing a band bucket are compared, by their real n-gram Jaccard similarity.
  Identical sentences are left to ``exact``.
- ``archive``: clauses printed before on a page of the history store (``auditor history add``),
  by batched lookups of 64-bit clause hashes (auditor/history/fingerprints.py); a run of copied
  clauses is one finding whose ``related`` is the archived span. Archive pages printed after
  the audited one are not "before"; text on ``common_in_documents`` archived pages is house
  style, and text on fewer pages counts 1/(1 + ln n) of its length. No store: no findings.

Where the earlier copy is decides the class of a copy: in the same article, in another article
of the page, or on an earlier page. ``within_document`` / ``articles`` / ``across_documents``
choose the classes a rule reports, and ``figures: with | without`` whether it reports copies
carrying figures or pure prose, so a rule file can give each its own id and severity.

What is not a duplicate: short units (fewer than ``min_chars`` content characters, figures not
counted, so two organisations that both "为困难职工发放慰问金2万元" are not copies), units made
mostly of stock political phrases (``boilerplate``: at most ``max_boilerplate_remainder``
characters are left once they are removed), text found on ``common_in_documents`` or more pages
(the house style of the series), and text holding a ``placeholder`` ("X人": two templates are
not shown to say the same thing). Only a unit that passes these seeds a run.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Literal, Sequence

import regex
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...findings import Finding, line_and_column
from ..context import AuditContext
from ..model import Rule
from ..registry import register_kind
from ._common import Pattern, compile_all, timed

if TYPE_CHECKING:  # pragma: no cover
    from ...pipeline import AnalysedDocument

# A figure: a number with a unit or measure word. Years (2021年) and ordinals are not figures.
FIGURE = (r"(?<![0-9.])(?:[0-9]+(?:\.[0-9]+)?|[零一二两三四五六七八九]?十[一二三四五六七八九]?"
          r"|[一二两三四五六七八九][百千][零一二三四五六七八九十]*)\s*(?:余|多)?(?:万|亿)?"
          r"(?:元|人次|人|名|家|个|次|场|件|项|台|张|份|箱|户|所|期|批|处|套|万|%|％)")

# An unfilled placeholder (X人, ××, □): two copies with one cannot be shown to say the same.
PLACEHOLDER = r"(?<![A-Za-z])[Xx×]{1,4}(?![A-Za-z])|□+|某某"

_NOT_KEY = regex.compile(r"[^\p{L}\p{N}%.]+|(?<![0-9])\.|\.(?![0-9])")
_CONTENT = regex.compile(r"\p{Han}|[\p{L}\p{N}]+")
_CLOSING = "。！？!?”’」』)）"
_MAX_RELATED = 20  # other copies named on one finding (the evidence counts them all)
# How far left a copy is widened to take in a shared figure: a figure is a few characters. Unbounded,
# the walk crossed whole repeated stretches of a page with no line breaks (quadratic, and the finding
# swallowed text that was not part of the copy).
_MAX_WIDEN = 40


def fold_key(text: str) -> str:
    """The comparison form of a span: letters, digits and decimal points only."""
    return _NOT_KEY.sub("", text)


def content_len(text: str) -> int:
    """Han characters, plus one for each run of Latin letters or digits."""
    return len(_CONTENT.findall(text))


def han_count(text: str) -> int:
    return len(regex.findall(r"\p{Han}", text))


def note(ctx: AuditContext, zh: str, en: str) -> str:
    return zh if ctx.lang == "zh" else en


def in_path_order(ctx: AuditContext) -> list["AnalysedDocument"]:
    """Documents in path order: 'later' means later in this order."""
    return sorted(ctx.documents, key=lambda d: d.path)


def place(doc: "AnalysedDocument", norm_start: int) -> str:
    """'file.txt:12' — where a copy is, for messages."""
    start, _ = doc.norm.to_original(norm_start, norm_start + 1)
    name = doc.path.replace("\\", "/").rsplit("/", 1)[-1]
    return f"{name}:{line_and_column(doc.original, start)[0]}"


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["exact", "near", "archive"] = Field(
        "exact", description="exact copies, near-identical sentences, or copies of archived pages (history)")
    scope: Literal["clause", "sentence", "paragraph"] = Field(
        "clause", description="the unit compared; exact runs of clauses also cover whole sentences")
    roles: list[str] = Field(default_factory=lambda: ["body", "dateline", "heading"],
                             description="paragraph roles looked at (headlines repeat by design)")
    figures: Literal["any", "with", "without"] = Field(
        "any", description="report only copies that carry figures (with) or only pure prose (without)")
    figure: Pattern = Field(FIGURE, description="what counts as a figure (a number with a unit)")
    placeholder: Pattern = Field(PLACEHOLDER, description="text holding a placeholder is never a copy")
    within_document: bool = Field(True, description="report copies inside one document")
    articles: Literal["any", "same", "other"] = Field(
        "any", description="within a document: copies in the same article only, or in other articles only")
    across_documents: bool = Field(True, description="report copies of text found in an earlier document")
    min_chars: int = Field(8, ge=1, description="content characters a copy needs, figures not counted")
    info_below_chars: int = Field(0, ge=0, description="copies shorter than this are reported as info")
    boilerplate: list[Pattern] = Field(default_factory=list, description="stock phrases that are not copies")
    max_boilerplate_remainder: int = Field(
        5, ge=0, description="text with at most this many characters besides boilerplate is boilerplate")
    common_in_documents: int = Field(3, ge=2, description="text on this many documents is house style")
    ngram: int = Field(5, ge=2, le=12, description="near: character n-gram length")
    num_perm: int = Field(64, ge=4, le=512, description="near: MinHash permutations")
    bands: int = Field(16, ge=1, description="near: LSH bands (num_perm must divide evenly)")
    threshold: float = Field(0.7, gt=0, le=1, description="near: n-gram Jaccard similarity to report")
    max_bucket: int = Field(50, ge=2, description="near: LSH buckets larger than this are stock text, skipped")
    seed: int = Field(1, description="near: seed of the MinHash permutations (fixed: findings are reproducible)")

    @model_validator(mode="after")
    def _bands_divide(self) -> "Params":
        if self.num_perm % self.bands:
            raise ValueError(f"num_perm ({self.num_perm}) must be a multiple of bands ({self.bands})")
        if self.mode == "archive" and self.scope != "clause":
            raise ValueError("mode archive compares clauses (the archive stores clause hashes): scope must be clause")
        return self


@register_kind("duplicate", Params)
def check(rule: Rule, ctx: AuditContext) -> Iterable[Finding]:
    params: Params = rule.params  # type: ignore[assignment]
    docs = in_path_order(ctx)
    units = [_units(doc, params, ctx.regex_timeout) for doc in docs]
    weigh = _Weigher(params, ctx.regex_timeout)
    if params.mode == "near":
        return _near(rule, ctx, params, docs, units, weigh)
    if params.mode == "archive":
        return _archive(rule, ctx, params, docs, units, weigh)
    return _exact(rule, ctx, params, docs, units, weigh)


# ---------------------------------------------------------------- units and their weight

@dataclass(frozen=True, slots=True)
class _Unit:
    paragraph: int
    article: int | None
    start: int  # normalised offsets
    end: int
    key: str | None  # None: nothing to compare (punctuation only)


def _units(doc: "AnalysedDocument", params: Params, timeout: float | None = None) -> list[_Unit]:
    text = doc.norm.text
    placeholder = timed(params.placeholder, timeout)
    out = []
    for p in doc.segmentation.paragraphs:
        if params.roles and p.role not in params.roles:
            continue
        if params.scope == "paragraph":
            spans = [(p.start, p.end)]
        elif params.scope == "sentence":
            spans = [(s.start, s.end) for s in p.sentences]
        else:
            spans = [(c.start, c.end) for s in p.sentences for c in s.clauses]
        out.extend(_Unit(p.index, p.article, s, e,
                         None if placeholder.search(text, s, e) else fold_key(text[s:e]) or None)
                   for s, e in spans)
    return out


class _Weigher:
    """How much a span weighs: its content beside figures and beside boilerplate."""

    def __init__(self, params: Params, timeout: float | None = None):
        self.params = params
        self.figure = timed(params.figure, timeout)  # user patterns run under the regex time limit
        self.boilerplate = compile_all(params.boilerplate, timeout)

    def has_figures(self, text: str) -> bool:
        return self.figure.search(text) is not None

    def strip_boilerplate(self, text: str) -> str:
        for p in self.boilerplate:
            text = p.sub("", text)
        return text

    def substantial(self, text: str) -> bool:
        """Long enough without its figures, and more than stock phrases."""
        p = self.params
        return (content_len(self.figure.sub("", text)) >= p.min_chars
                and content_len(self.strip_boilerplate(text)) > p.max_boilerplate_remainder)


# ---------------------------------------------------------------- exact copies

def _exact(rule: Rule, ctx: AuditContext, params: Params, docs: Sequence["AnalysedDocument"],
           units: list[list[_Unit]], weigh: _Weigher) -> Iterable[Finding]:
    index: dict[str, list[tuple[int, int]]] = defaultdict(list)  # key -> (doc, unit) in audit order
    for d, doc_units in enumerate(units):
        for i, u in enumerate(doc_units):
            if u.key is not None:
                index[u.key].append((d, i))
    seed_ok: dict[str, bool] = {}
    occurrences: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for d, doc_units in enumerate(units):
        covered: set[int] = set()
        text = docs[d].norm.text
        for q, u in enumerate(doc_units):
            if u.key is None or q in covered or index[u.key][0] == (d, q):
                continue
            if u.key not in seed_ok:
                seed_ok[u.key] = weigh.substantial(text[u.start:u.end])
            if not seed_ok[u.key]:
                continue
            partners = _partners(params, units, index[u.key], d, q)
            if not partners:
                continue
            (e, i), (back, forward) = max(((pair, _run(units, pair, (d, q))) for pair in partners[-20:]),
                                          key=lambda item: sum(item[1]))
            covered.update(range(q - back, q + forward))
            finding = _report_run(rule, ctx, params, docs, units, weigh, index, occurrences,
                                  (e, i - back), (d, q - back), back + forward)
            if finding is not None:
                yield finding


def _partners(params: Params, units: list[list[_Unit]], places: list[tuple[int, int]],
              d: int, q: int) -> list[tuple[int, int]]:
    """The earlier copies this rule pairs unit q of document d with. A copy is classed by the
    nearest earlier one: in the same article, else elsewhere in the document, else in an earlier
    document; the rule reports the copy only if it covers that class."""
    earlier = places[max(0, bisect_left(places, (d, q)) - 50):bisect_left(places, (d, q))]  # the nearest 50
    article = units[d][q].article
    same_article = [(e, i) for e, i in earlier if e == d and units[e][i].article == article]
    same_doc = [(e, i) for e, i in earlier if e == d]
    if same_article:
        wanted = params.within_document and params.articles != "other"
        return same_article if wanted else []
    if same_doc:
        wanted = params.within_document and params.articles != "same"
        return same_doc if wanted else []
    return earlier if params.across_documents else []


def _run(units: list[list[_Unit]], first: tuple[int, int], second: tuple[int, int]) -> tuple[int, int]:
    """How far the copies around `first` and `second` agree: (units before, units from) the seed."""
    (e, i), (d, q) = first, second
    a, b = units[e], units[d]

    def same(x: int, y: int) -> bool:
        return (0 <= x < len(a) and 0 <= y < len(b) and a[x].key is not None and a[x].key == b[y].key)

    def contiguous(seq: list[_Unit], x: int) -> bool:  # unit x follows unit x-1 on the page
        return seq[x].paragraph - seq[x - 1].paragraph <= 1

    forward = 0
    while same(i + forward, q + forward) and (e != d or i + forward < q) \
            and (forward == 0 or (contiguous(a, i + forward) and contiguous(b, q + forward))):
        forward += 1
    back = 0
    while same(i - back - 1, q - back - 1) and (e != d or i + forward <= q - back - 1) \
            and contiguous(a, i - back) and contiguous(b, q - back):
        back += 1
    return back, forward


def _occurrences(units: list[list[_Unit]], index: dict[str, list[tuple[int, int]]],
                 keys: tuple[str, ...]) -> list[tuple[int, int]]:
    """Every place the run of unit keys `keys` appears, in audit order."""
    n = len(keys)
    return [(d, i) for d, i in index[keys[0]]
            if tuple(u.key for u in units[d][i:i + n]) == keys]


def _report_run(rule: Rule, ctx: AuditContext, params: Params, docs, units, weigh: _Weigher, index, occurrences,
                first: tuple[int, int], second: tuple[int, int], n: int) -> Finding | None:
    (e, i), (d, q) = first, second
    doc, other = docs[d], docs[e]
    span = _widen(doc.norm.text, units[d][q].start, units[d][q + n - 1].end,
                  other.norm.text, units[e][i].start, units[e][i + n - 1].end, d == e, weigh)
    (start, end), (o_start, o_end) = span
    text = doc.norm.text[start:end]
    has_figures = weigh.has_figures(text)
    if (params.figures == "with" and not has_figures) or (params.figures == "without" and has_figures):
        return None
    if not weigh.substantial(text):
        return None
    keys = tuple(u.key for u in units[d][q:q + n])
    if keys not in occurrences:
        occurrences[keys] = _occurrences(units, index, keys)
    places = occurrences[keys]
    if len({p[0] for p in places}) >= params.common_in_documents:
        return None
    related = []
    for k, (pd, pi) in enumerate(places):
        if (pd, pi) == (d, q) or (len(related) >= _MAX_RELATED and (pd, pi) != (e, i)):
            continue
        if (pd, pi) == (e, i):
            s, t = o_start, o_end
        else:
            s, t = units[pd][pi].start, _closing_end(docs[pd].norm.text, units[pd][pi + n - 1].end)
        first_note = note(ctx, "首次出现", "first occurrence") if k == 0 else note(ctx, "另见", "also here")
        related.append(ctx.related(docs[pd], s, t, first_note))
    first_doc, first_unit = places[0] if places else (e, i)
    chars = len(fold_key(text))
    severity = "info" if content_len(weigh.figure.sub("", text)) < params.info_below_chars else None
    return ctx.finding(rule, doc, start, end, related=related, severity=severity,
                       evidence={"occurrences": max(len(places), 2), "chars": chars, "has_figures": has_figures,
                                 "documents": len({p[0] for p in places}) or 1},
                       fields={"first": place(docs[first_doc], units[first_doc][first_unit].start)})


def _closing_end(text: str, end: int) -> int:
    """A clause ends before its sentence's full stop; the copy shown takes the stop with it."""
    while end < len(text) and text[end] in _CLOSING:
        end += 1
    return end


def _widen(later: str, l_start: int, l_end: int, earlier: str, e_start: int, e_end: int,
           same_doc: bool, weigh: _Weigher) -> tuple[tuple[int, int], tuple[int, int]]:
    """Widen two equal runs of whole clauses to a figure both copies share just before them
    ("慰问金2.8万元," / "救助资金2.8万元," → "2.8万元,"), and to the sentence's closing stop."""
    left = 0
    while (left < _MAX_WIDEN and l_start - left > 0 and e_start - left > 0
           and later[l_start - left - 1] == earlier[e_start - left - 1]
           and later[l_start - left - 1] != "\n" and (not same_doc or l_start - left - 1 >= e_end)):
        left += 1
    m = weigh.figure.search(later, l_start - left, l_start)
    if m and (m.start() > l_start - left or not (_in_number(later, m.start() - 1)
                                                   or _in_number(earlier, e_start - left - 1))):
        left = l_start - m.start()  # the figure is whole in both copies
    else:
        left = 0
    l_stop, e_stop = _closing_end(later, l_end), _closing_end(earlier, e_end)
    if later[l_end:l_stop] != earlier[e_end:e_stop]:
        l_stop, e_stop = l_end, e_end
    return (l_start - left, l_stop), (e_start - left, e_stop)


def _in_number(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isdigit() or text[i] in ".零一二两三四五六七八九十百千万亿")


# ---------------------------------------------------------------- copies of archived pages

def _archive(rule: Rule, ctx: AuditContext, params: Params, docs: Sequence["AnalysedDocument"],
             units: list[list[_Unit]], weigh: _Weigher) -> Iterable[Finding]:
    """Runs of clauses printed before on a page of the history store: one finding per run on the
    audited page, `related` naming the archived page and span ("printed in 2020 in 洮南's article").

    Lookups are batched: one index lookup for the hashes of every clause that could seed a run,
    one for the clauses of the archived pages that matched (to follow a run beyond its seed), one
    for those pages' text. Clauses of a run that could not seed it (short ones) count as printed
    on one page.

    Boilerplate weighs itself down: a clause printed on `common_in_documents` or more archived
    pages never seeds a run, and each clause of a run counts 1/(1 + ln n) of its length when it
    is on n archived pages, so text many pages share must be long to be reported."""
    if ctx.history is None:
        return
    from ...history.fingerprints import key_hash
    from ...history.store import Exclusion

    hashes = {u.key: key_hash(u.key) for doc_units in units for u in doc_units if u.key is not None}
    # Only units that could seed a run are looked up; the rest of a run is read from the archived
    # pages it is found on (clauses_of), so the lookup stays a few hundred hashes per page.
    candidates = [[q for q, u in enumerate(doc_units) if u.key is not None
                   and weigh.substantial(docs[d].norm.text[u.start:u.end])] for d, doc_units in enumerate(units)]
    wanted_hashes = {hashes[units[d][q].key] for d, qs in enumerate(candidates) for q in qs}
    counts, places = ctx.history.clause_places(wanted_hashes, Exclusion.of(docs), per_hash=_MAX_RELATED)
    # Only pages printed before (or in the same year as) the audited page are "printed before".
    earlier = [{h: kept for h, ps in places.items() if (kept := [p for p in ps if _not_later(p, doc)])}
               for doc in docs]
    seeds = [[q for q in candidates[d] if hashes[units[d][q].key] in earlier[d]
              and counts[hashes[units[d][q].key]] < params.common_in_documents] for d in range(len(units))]
    wanted = {p.doc_id for d, qs in enumerate(seeds) for q in qs for p in earlier[d][hashes[units[d][q].key]]}
    if not wanted:
        return
    archived = {doc_id: {a.ordinal: a for a in rows} for doc_id, rows in ctx.history.clauses_of(wanted).items()}
    pages = ctx.history.documents_info(wanted)
    for d, doc_units in enumerate(units):
        covered: set[int] = set()
        key_of = [hashes.get(u.key) for u in doc_units]
        for q in seeds[d]:
            if q in covered:
                continue
            runs = [(_archive_run(doc_units, key_of, archived[p.doc_id], p.ordinal, q, covered), p)
                    for p in earlier[d][key_of[q]]]
            # The longest run wins; then the latest year (last year's page before older ones).
            (back, forward), best = max(runs, key=lambda r: (sum(r[0]), _archived_year(pages[r[1].doc_id], r[1])
                                                              or 0, r[1].doc_id))
            covered.update(range(q - back, q + forward))
            span = slice(q - back, q + forward)
            finding = _report_archived(rule, ctx, params, docs[d], doc_units[span], key_of[span], counts,
                                       pages[best.doc_id], archived[best.doc_id], best.ordinal - back,
                                       [p for _, p in runs if p is not best], pages, weigh)
            if finding is not None:
                yield finding


def _not_later(place, doc: "AnalysedDocument") -> bool:
    """Whether an archived page may have been printed before the audited one (unknown: yes)."""
    mine = doc.segmentation.publication_year
    return place.published is None or mine is None or place.published <= mine


def _archive_run(doc_units: list[_Unit], key_of: list, archived: dict, ordinal: int, q: int,
                 covered: set[int]) -> tuple[int, int]:
    """How far the audited units around q repeat the archived clauses around `ordinal`: (units
    before, units from q). Audited units must follow each other on the page (adjacent paragraphs);
    archived ones must be consecutive clauses."""

    def same(i: int, o: int) -> bool:
        a = archived.get(o)
        return 0 <= i < len(doc_units) and i not in covered and a is not None and key_of[i] == a.hash

    def contiguous(i: int) -> bool:
        return doc_units[i].paragraph - doc_units[i - 1].paragraph <= 1

    forward = 1
    while same(q + forward, ordinal + forward) and contiguous(q + forward):
        forward += 1
    back = 0
    while same(q - back - 1, ordinal - back - 1) and contiguous(q - back):
        back += 1
    return back, forward


def _archived_year(page, unit) -> int | None:
    """The year an archived clause speaks of: its article's year, else the page's."""
    entity_year = page.articles.get(unit.article, (None, None)) if unit.article is not None else (None, None)
    return entity_year[1] or page.published


def _report_archived(rule: Rule, ctx: AuditContext, params: Params, doc: "AnalysedDocument", run: list[_Unit],
                     run_hashes: list, counts: dict[int, int], page, archived: dict, first_ordinal: int,
                     others: list, pages: dict, weigh: _Weigher) -> Finding | None:
    from math import log

    from ...findings import Related

    text = doc.norm.text
    last = archived[first_ordinal + len(run) - 1]
    a_start, a_end = archived[first_ordinal].start, last.end
    start, end = run[0].start, run[-1].end
    stop, a_stop = _closing_end(text, end), _closing_end(page.text, a_end)
    if text[end:stop] == page.text[a_end:a_stop]:  # the full stop too, when both copies have it
        end, a_end = stop, a_stop
    copy = text[start:end]
    has_figures = weigh.has_figures(copy)
    if (params.figures == "with" and not has_figures) or (params.figures == "without" and has_figures):
        return None
    weight = sum(content_len(weigh.figure.sub("", text[u.start:u.end])) / (1 + log(max(counts.get(h, 1), 1)))
                 for u, h in zip(run, run_hashes))
    if weight < params.min_chars or not weigh.substantial(copy):
        return None
    head = archived[first_ordinal]
    year = _archived_year(page, head)
    entity = page.articles.get(head.article, (None, None))[0] if head.article is not None else None
    where = f"{page.path.replace(chr(92), '/').rsplit('/', 1)[-1]}:{page.line_of(a_start)}"
    printed = _printed(ctx, year, entity, where)
    related = [Related(page.path, a_start, a_end, page.text[a_start:a_end], note(ctx, "存档中的原文", "the archived text"))]
    for p in others[:_MAX_RELATED - 1]:
        other = pages[p.doc_id]
        related.append(Related(other.path, p.start, p.end, other.text[p.start:p.end], note(ctx, "另见", "also here")))
    severity = "info" if content_len(weigh.figure.sub("", copy)) < params.info_below_chars else None
    return ctx.finding(rule, doc, start, end, related=related, severity=severity,
                       evidence={"archive_document": page.path, "archived_year": year, "archived_entity": entity,
                                 "published": page.published, "documents": max(counts.get(h, 1) for h in run_hashes),
                                 "occurrences": len(others) + 2, "chars": len(fold_key(copy)),
                                 "weight": round(weight, 1), "has_figures": has_figures},
                       fields={"printed": printed, "first": where})


def _printed(ctx: AuditContext, year: int | None, entity: str | None, where: str) -> str:
    """'2020年洮南市总工会的文章（001_….txt:25）' — where and when the archived copy was printed."""
    if ctx.lang == "zh":
        return f"{f'{year}年' if year else ''}{f'{entity}的文章' if entity else '存档稿件'}（{where}）"
    when = f"in {year} " if year else ""
    return f"{when}in {f'{entity}’s article' if entity else 'an archived page'} ({where})"


# ---------------------------------------------------------------- near-identical sentences

@dataclass(frozen=True, slots=True)
class _Item:
    doc: int
    unit: _Unit
    core: str  # the compared text: folded, boilerplate removed


def _near(rule: Rule, ctx: AuditContext, params: Params, docs: Sequence["AnalysedDocument"],
          units: list[list[_Unit]], weigh: _Weigher) -> Iterable[Finding]:
    items: list[_Item] = []
    for d, doc_units in enumerate(units):
        text = docs[d].norm.text
        for u in doc_units:
            if u.key is None or not weigh.substantial(text[u.start:u.end]):
                continue
            core = fold_key(weigh.strip_boilerplate(text[u.start:u.end]))
            if len(core) >= params.ngram:
                items.append(_Item(d, u, core))
    if len(items) < 2:
        return
    signatures = minhash([it.core for it in items], params.ngram, params.num_perm, params.seed)
    grams: dict[int, frozenset[str]] = {}

    def ngrams(k: int) -> frozenset[str]:
        if k not in grams:
            c = items[k].core
            grams[k] = frozenset(c[x:x + params.ngram] for x in range(len(c) - params.ngram + 1))
        return grams[k]

    matches: dict[int, dict[int, float]] = defaultdict(dict)
    for a, b in sorted(lsh_candidates(signatures, params.bands, params.max_bucket)):
        ia, ib = items[a], items[b]
        if ia.core == ib.core or ia.unit.key == ib.unit.key or (ia.doc == ib.doc and not params.within_document) \
                or (ia.doc != ib.doc and not params.across_documents):
            continue
        ga, gb = ngrams(a), ngrams(b)
        similarity = len(ga & gb) / len(ga | gb)
        if similarity >= params.threshold:
            matches[a][b] = matches[b][a] = similarity
    for k in sorted(matches):
        partners = matches[k]
        if not any(p < k for p in partners):  # items are in audit order: report the later copy
            continue
        if len({items[p].doc for p in partners} | {items[k].doc}) >= params.common_in_documents:
            continue
        it = items[k]
        doc = docs[it.doc]
        related = [ctx.related(docs[items[p].doc], items[p].unit.start, items[p].unit.end,
                               note(ctx, f"相似度{s:.2f}", f"similarity {s:.2f}"))
                   for p, s in sorted(partners.items())]
        best = max((p for p in partners if p < k), key=lambda p: (partners[p], -p))
        text = doc.norm.text[it.unit.start:it.unit.end]
        yield ctx.finding(rule, doc, it.unit.start, it.unit.end, related=related,
                          evidence={"similarity": round(partners[best], 2), "occurrences": len(partners) + 1,
                                    "has_figures": weigh.has_figures(text),
                                    "differs": _difference(items[best].core, it.core)},
                          fields={"first": place(docs[items[best].doc], items[best].unit.start)})


def _difference(a: str, b: str, limit: int = 24) -> str:
    """What changed between two near-identical texts: 'a-part → b-part' (common ends trimmed)."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return f"{a[head:len(a) - tail][:limit] or '∅'} → {b[head:len(b) - tail][:limit] or '∅'}"


_PRIME = (1 << 31) - 1  # hashes live below a Mersenne prime, so (a*x + b) fits in 64 bits
_BASE = 1_000_003


def minhash(texts: Sequence[str], n: int, num_perm: int, seed: int):
    """MinHash signatures (len(texts) × num_perm) over the character n-grams of each text.

    Every text must have at least n characters. All n-gram hashes of all texts are computed at
    once as a polynomial hash over code points, then each permutation h(x) = (a·x + b) mod p is
    reduced per text with one numpy `minimum.reduceat`: linear in the total text length.
    """
    import numpy as np

    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - n + 1
    hashes = np.zeros(count, dtype=np.uint64)
    for t in range(n):
        hashes = (hashes * np.uint64(_BASE) + codes[t:t + count]) % np.uint64(_PRIME)
    starts, positions, offset, total = [], [], 0, 0
    for text in texts:
        starts.append(total)
        positions.append(np.arange(offset, offset + len(text) - n + 1))
        offset += len(text)
        total += len(text) - n + 1
    grams = hashes[np.concatenate(positions)]
    rng = random.Random(seed)
    out = np.empty((len(texts), num_perm), dtype=np.uint64)
    for k in range(num_perm):
        a, b = np.uint64(rng.randrange(1, _PRIME)), np.uint64(rng.randrange(0, _PRIME))
        out[:, k] = np.minimum.reduceat((grams * a + b) % np.uint64(_PRIME), np.array(starts))
    return out


def lsh_candidates(signatures, bands: int, max_bucket: int) -> set[tuple[int, int]]:
    """Pairs (i < j) whose signatures agree on every row of at least one band."""
    rows = signatures.shape[1] // bands
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i in range(signatures.shape[0]):
        for band in range(bands):
            buckets[(band, signatures[i, band * rows:(band + 1) * rows].tobytes())].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in buckets.values():
        if 1 < len(members) <= max_bucket:
            pairs.update((x, y) for k, x in enumerate(members) for y in members[k + 1:])
    return pairs
