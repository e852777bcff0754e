"""duplicate, mode ``archive``: text printed before on a page of the history store.

The in-corpus modes (exact, near) live in duplicate.py; this module holds what compares the audited
pages with the archive (``auditor history add``), so the history store's lookups stay in one place.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ...findings import Finding
from ..context import AuditContext
from ..model import Rule
from .duplicate import (_MAX_RELATED, Params, _closing_end, _difference, _Unit, _Weigher, content_len, fold_key,
                        note)

if TYPE_CHECKING:  # pragma: no cover
    from ...pipeline import AnalysedDocument


def archive(rule: Rule, ctx: AuditContext, params: Params, docs: Sequence["AnalysedDocument"],
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
            (back, forward), best = max(runs, key=lambda r: (sum(r[0]), _archived_year(pages[r[1].doc_id], r[1].article)
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


def _archived_year(page, article: int | None) -> int | None:
    """The year archived text speaks of: its article's year, else the page's."""
    entity_year = page.articles.get(article, (None, None)) if article is not None else (None, None)
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
    year, entity, where, printed = _origin(ctx, page, archived[first_ordinal].article, a_start)
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


def _origin(ctx: AuditContext, page, article: int | None, start: int) -> tuple[int | None, str | None, str, str]:
    """(year, organisation, 'file.txt:25', 'printed' for the message) of archived text at
    `start` in `article` of `page`: the article's year, else the page's."""
    entity = page.articles.get(article, (None, None))[0] if article is not None else None
    year = _archived_year(page, article)
    where = f"{page.path.replace(chr(92), '/').rsplit('/', 1)[-1]}:{page.line_of(start)}"
    return year, entity, where, _printed(ctx, year, entity, where)


def _printed(ctx: AuditContext, year: int | None, entity: str | None, where: str) -> str:
    """'2020年洮南市总工会的文章（001_….txt:25）' — where and when the archived copy was printed."""
    if ctx.lang == "zh":
        return f"{f'{year}年' if year else ''}{f'{entity}的文章' if entity else '存档稿件'}（{where}）"
    when = f"in {year} " if year else ""
    return f"{when}in {f'{entity}’s article' if entity else 'an archived page'} ({where})"


# ---------------------------------------------------------------- sentences nearly the same as archived ones

@dataclass(frozen=True, slots=True)
class _Query:
    doc: int
    unit: _Unit
    core: str  # compared text: folded, boilerplate removed


@dataclass(frozen=True, slots=True)
class _Match:
    page: Any  # ArchivedDocument
    sentence: int
    article: int | None
    start: int  # original offsets on the archived page
    end: int
    similarity: float
    core: str


def archive_near(rule: Rule, ctx: AuditContext, params: Params, docs: Sequence["AnalysedDocument"],
                 units: list[list[_Unit]], weigh: _Weigher) -> Iterable[Finding]:
    """Sentences nearly the same as a sentence of an archived page printed before (a figure
    updated, a word swapped): "almost the same as one printed in 2020 in 洮南's article", the
    archived sentence in `related` and what changed in the message.

    The audited sentences' band keys are made with the store's MinHash parameters and looked up
    in one batched lookup for the whole audit (HistoryStore.sentence_candidates); each candidate is
    compared by its real n-gram Jaccard similarity on the archived text, boilerplate removed as in
    the in-audit near rule. A store whose band keys were made with other parameters than the
    rule's is skipped: its keys cannot be compared. A sentence printed identically before is the
    exact archive rules' (a run of copied clauses), never reported here. Boilerplate weighs itself
    down: band buckets over `max_bucket` archived sentences are stock text and never compared, and
    a sentence nearly printed on `common_in_documents` or more archived pages is house style."""
    store = ctx.history
    if store is None:
        return
    from ...history.store import Exclusion

    mh = store.minhash
    if (mh.ngram, mh.num_perm, mh.bands, mh.seed) != (params.ngram, params.num_perm, params.bands, params.seed):
        return
    queries: list[_Query] = []
    for d, doc_units in enumerate(units):
        text = docs[d].norm.text
        for u in doc_units:  # the store has band keys only for sentences this long (fold_key)
            if u.key is None or len(u.key) < max(mh.min_chars, mh.ngram) or not weigh.substantial(text[u.start:u.end]):
                continue
            core = fold_key(weigh.strip_boilerplate(text[u.start:u.end]))
            if len(core) >= params.ngram:
                queries.append(_Query(d, u, core))
    exclude = Exclusion.of(docs)
    queries = _not_printed_before(store, queries, docs, exclude)
    if not queries:
        return
    frame = store.sentence_candidates(store.band_queries([q.unit.key for q in queries]), exclude, params.max_bucket)
    if not len(frame):
        return
    pages = store.documents_info(frame["doc_id"].tolist())
    compared: dict[str, tuple[str, str]] = {}  # archived sentence -> (key, core): house style recurs
    by_query: dict[int, list[_Match]] = defaultdict(list)
    identical: set[int] = set()
    for row in frame.itertuples(index=False):
        q, page = queries[row.query], pages.get(int(row.doc_id))
        if page is None or not _not_later(page, docs[q.doc]):
            continue
        place = (int(row.doc_id), int(row.sentence))
        sentence = page.text[int(row.start):int(row.end)]
        if sentence not in compared:
            compared[sentence] = _compared_forms(sentence, weigh)
        key, core = compared[sentence]
        if key == q.unit.key:
            identical.add(row.query)
            continue
        similarity = _jaccard(q.core, core, params.ngram)
        if similarity >= params.threshold:
            by_query[row.query].append(_Match(page, place[1], _opt_int(row.article),
                                              int(row.start), int(row.end), similarity, core))
    for k in sorted(by_query):
        matches = by_query[k]
        if k in identical or len({m.page.doc_id for m in matches}) >= params.common_in_documents:
            continue
        finding = _report_near(rule, ctx, params, docs[queries[k].doc], queries[k], matches, weigh)
        if finding is not None:
            yield finding


def _not_printed_before(store, queries: list[_Query], docs: Sequence["AnalysedDocument"], exclude) -> list[_Query]:
    """The queries whose sentence was not printed word for word on an archived page before the
    audited one: those are the exact archive rules' (a run of copied clauses), and asking for
    their band keys is most of what the near-copy lookup costs (one sentence-hash lookup
    instead of `bands` band-key lookups each)."""
    from ...history.fingerprints import key_hash

    hashes = [key_hash(q.unit.key) for q in queries]
    printed = store.sentences_printed(hashes, exclude)
    mine = [docs[q.doc].segmentation.publication_year for q in queries]
    return [q for q, h, year in zip(queries, hashes, mine)
            if not any(p is None or year is None or p <= year for p in printed.get(h, ()))]


def _compared_forms(archived: str, weigh: _Weigher) -> tuple[str, str]:
    """(comparison key, compared core) of an archived sentence, normalised as the pipeline
    normalises a page (the archive keeps the original text)."""
    from ...documents.normalise import normalise

    text = normalise(archived).text
    return fold_key(text), fold_key(weigh.strip_boilerplate(text))


def _jaccard(a: str, b: str, n: int) -> float:
    """Jaccard similarity of the character n-grams of two texts (0 when either has none)."""
    ga = {a[i:i + n] for i in range(len(a) - n + 1)}
    gb = {b[i:i + n] for i in range(len(b) - n + 1)}
    return len(ga & gb) / len(ga | gb) if ga and gb else 0.0


def _opt_int(value) -> int | None:
    """A nullable integer from a pandas frame (NA, NaN or None: None)."""
    try:
        return None if value is None or value != value else int(value)
    except TypeError:  # pandas.NA compares to nothing
        return None


def _report_near(rule: Rule, ctx: AuditContext, params: Params, doc: "AnalysedDocument", query: _Query,
                 matches: list[_Match], weigh: _Weigher) -> Finding | None:
    from ...findings import Related

    text = doc.norm.text[query.unit.start:query.unit.end]
    has_figures = weigh.has_figures(text)
    if (params.figures == "with" and not has_figures) or (params.figures == "without" and has_figures):
        return None
    # The closest wins; then the latest page (last year's before older ones).
    ranked = sorted(matches, key=lambda m: (-m.similarity, -(m.page.published or 0), -m.page.doc_id, m.sentence))
    best = ranked[0]
    year, entity, where, printed = _origin(ctx, best.page, best.article, best.start)
    related = [Related(m.page.path, m.start, m.end, m.page.text[m.start:m.end],
                       note(ctx, f"存档中的相似句（相似度{m.similarity:.2f}）", f"the archived sentence (similarity "
                                                                          f"{m.similarity:.2f})") if m is best else
                       note(ctx, f"另见（相似度{m.similarity:.2f}）", f"also here (similarity {m.similarity:.2f})"))
               for m in ranked[:_MAX_RELATED]]
    severity = "info" if content_len(weigh.figure.sub("", text)) < params.info_below_chars else None
    return ctx.finding(rule, doc, query.unit.start, query.unit.end, related=related, severity=severity,
                       evidence={"similarity": round(best.similarity, 2), "differs": _difference(best.core, query.core),
                                 "archive_document": best.page.path, "archived_year": year, "archived_entity": entity,
                                 "published": best.page.published, "documents": len({m.page.doc_id for m in matches}),
                                 "has_figures": has_figures},
                       fields={"printed": printed, "first": where})
