"""duplicate: text printed twice — within one page, or on two pages of the same audit.

Two modes, each a layer of the same idea (compare normalised units, never raw characters):

- ``exact``: every clause (or sentence, or paragraph: ``scope``) is reduced to a key with spaces
  and punctuation removed, so "2.8万元," and "2.8万元，" compare equal. The keys' hashes go into
  one index for the whole audit; a unit whose key was seen before seeds a duplicate, and the run of consecutive
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
  (In duplicate_archive.py.)

Where the earlier copy is decides the class of a copy: in the same article, in another article
of the page, or on an earlier page. ``within_document`` / ``articles`` / ``across_documents``
choose the classes a rule reports, and ``figures: with | without`` whether it reports copies
carrying figures or pure prose, so a rule file can give each its own id and severity.

What is not a duplicate: short units (fewer than ``min_chars`` content characters, figures not
counted, so two organisations that both "为困难职工发放慰问金2万元" are not copies), units made
mostly of stock political phrases (``boilerplate``: at most ``max_boilerplate_remainder``
characters are left once they are removed), text found on ``common_in_documents`` or more pages
(the house style of the series), and text holding a ``placeholder`` ("X人": two templates are
not shown to say the same thing). Only a unit that passes these seeds a run; a run of units none of
which passes alone ("五年来,组织招聘会58场次,提供岗位1.1万个。" copied whole) is a copy when the
units free of stock phrases pass together (``_Weigher.plain_run``).
"""

from __future__ import annotations

import functools
import random
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterable, Iterator, Literal, NamedTuple, Sequence

import regex
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...codepoints import CodeTable, code_points, from_code_points
from ...documents.packed import offset_array
from ...findings import Finding, line_and_column
from ..context import AuditContext
from ..model import Rule
from ..registry import register_kind
from ...prefilter import any_of, any_required
from ._common import Pattern, Timed, compile_all, timed, vetted

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ...pipeline import AnalysedDocument

# A figure: a number with a unit or measure word. Years (2021年) and ordinals are not figures.
# The lookahead names every character a figure can start with: without it the search tries the
# lookbehind and each branch at every position (3x slower over a sentence).
FIGURE = vetted(r"(?=[0-9零一二两三四五六七八九十])(?<![0-9.])(?:[0-9]+(?:\.[0-9]+)?|[零一二两三四五六七八九]?十[一二三四五六七八九]?"
                r"|[一二两三四五六七八九][百千][零一二三四五六七八九十]*)\s*(?:余|多)?(?:万|亿)?"
                r"(?:元|人次|人|名|家|个|次|场|件|项|台|张|份|箱|户|所|期|批|处|套|万|%|％)")

# An unfilled placeholder (X人, ××, □): two copies with one cannot be shown to say the same.
PLACEHOLDER = vetted(r"(?<![A-Za-z])[Xx×]{1,4}(?![A-Za-z])|□+|某某")

_NOT_KEY = regex.compile(r"[^\p{L}\p{N}%.]+|(?<![0-9])\.|\.(?![0-9])")
_NOT_HAN = regex.compile(r"[^\p{Han}]+")
_LETTER_RUN = regex.compile(r"[\p{L}\p{N}--\p{Han}]+", regex.V1)  # a run of letters or digits stops at a Han character
_CLOSING = "。！？!?”’」』)）"
_MAX_RELATED = 20  # other copies named on one finding (the evidence counts them all)
# How far left a copy is widened to take in a shared figure: a figure is a few characters. Unbounded,
# the walk crossed whole repeated stretches of a page with no line breaks (quadratic, and the finding
# swallowed text that was not part of the copy).
_MAX_WIDEN = 40


def fold_key(text: str) -> str:
    """The comparison form of a span: letters, digits and decimal points only."""
    return _NOT_KEY.sub("", text)


def fold_keys(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """``fold_key(text[s:e])`` for each span of `text`, cut from one fold of the whole text: a
    page's clauses are many, and a substitution each cost a third of the exact rules. What the
    fold keeps depends on a character and its two neighbours only (a decimal point is kept between
    digits), so a span's fold is the text's fold over it, but for a point at either end of the
    span, which has no neighbour there and is always dropped."""
    import numpy as np

    if not text:
        return [""] * len(spans)
    codes = code_points(text)
    kept = _KEY_CHARACTER(codes)
    digit = (codes >= 48) & (codes <= 57)
    inner_points = np.flatnonzero(codes[1:-1] == 46) + 1
    kept[inner_points] = digit[inner_points - 1] & digit[inner_points + 1]
    before = np.concatenate(([0], np.cumsum(kept)))  # kept characters before each offset
    folded = from_code_points(codes[kept])
    bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    starts, ends = bounds[:, 0], bounds[:, 1]
    a, b = before[starts], before[ends]
    first, last = np.minimum(starts, len(codes) - 1), np.maximum(ends - 1, 0)
    a += (a < b) & (codes[first] == 46) & kept[first]  # a kept point opening the span
    b -= (a < b) & (codes[last] == 46) & kept[last]  # ... or closing it
    return [folded[x:y] for x, y in zip(a.tolist(), b.tolist())]


# What fold_key keeps of a character alone (a decimal point is kept by its neighbours), by code point.
_KEY_CHARACTER = CodeTable(r"[\p{L}\p{N}%]")
_KEYED = regex.compile(r"[\p{L}\p{N}%]")  # what fold_key keeps (a decimal point only between digits)


def _unfolded_key(text: str) -> str | None:
    """`text` where ``fold_key`` would leave something of it, else None: one search, no copy."""
    return text if _KEYED.search(text) else None


def content_len(text: str) -> int:
    """Han characters, plus one for each run of Latin letters or digits."""
    # Han characters counted by removing the rest (a few runs), not matched one by one: 2x faster
    return han_count(text) + _LETTER_RUN.subn("", text)[1]


def han_count(text: str) -> int:
    return len(_NOT_HAN.sub("", text))


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
    mode: Literal["exact", "near", "archive", "archive-near"] = Field(
        "exact", description="exact copies, near-identical sentences, copies of archived pages (history), "
                             "or sentences nearly the same as archived ones")
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
        if self.mode == "archive-near" and self.scope != "sentence":
            raise ValueError("mode archive-near compares sentences (the archive's band keys): scope must be sentence")
        return self


@register_kind("duplicate", Params)
def check(rule: Rule, ctx: AuditContext) -> Iterable[Finding]:
    params: Params = rule.params  # type: ignore[assignment]
    if params.mode in ("archive", "archive-near") and ctx.history is None:
        return ()  # nothing to compare with: not even the units (a second or more at 20 MB of text)
    docs = in_path_order(ctx)
    if params.mode == "exact":
        return _exact(rule, ctx, params, docs, repeated_units(ctx, docs, params), exact_weigher(ctx, params))
    if params.mode == "near":
        return _near(rule, ctx, params, docs)
    units = [units_of(ctx, doc, params) for doc in docs]
    weigh = weigher(ctx, params)
    if params.mode == "archive-near":
        from .duplicate_archive import archive_near

        return archive_near(rule, ctx, params, docs, units, weigh)
    if params.mode == "archive":
        from .duplicate_archive import archive  # the history store's part: its own module

        return archive(rule, ctx, params, docs, units, weigh)
    raise AssertionError(params.mode)  # pragma: no cover - the modes are a Literal


# ---------------------------------------------------------------- units and their weight

class _Unit(NamedTuple):  # a tuple: cheap to build, and to send from a worker by the hundred thousand
    paragraph: int
    article: int | None
    start: int  # normalised offsets
    end: int
    key: str | int | None  # the folded text, or its hash (_RepeatedUnits); None: nothing to compare


def _units_key(params: Params) -> tuple:
    return ("duplicate.units", params.scope, tuple(params.roles), params.placeholder)


def _weights_key(params: Params) -> tuple:
    return ("duplicate.weights", params.figure, tuple(params.boilerplate))


def units_of(ctx: AuditContext, doc: "AnalysedDocument", params: Params) -> list[_Unit]:
    """A document's units, computed once per audit for all the rules that cut it the same way
    (the exact, archive and near rules of a rule set share their scope, roles and placeholder),
    or already where the document was analysed (``prepare``)."""
    key = _units_key(params)
    prepared = getattr(doc, "prepared", {})
    return ctx.memo((id(doc), *key),
                    lambda: prepared[key].unpack(doc.norm.text) if key in prepared
                    else _units(doc, params, ctx.regex_timeout))


class _RepeatedUnits(Sequence[_Unit]):
    """A document's units as the exact mode reads them: how many there are, and only for the units
    whose key is found twice or more in the audit, their number, place (paragraph, article (-1:
    none), start, end) and the key's 64-bit hash, which stands for the key. The mode pairs units by
    equal keys, and a run of copies is followed only over units that pair, so a unit whose key is
    found once is never read for more than its (missing) key: it reads as a unit with nothing to
    compare and no place (``_UNPAIRED``). Every unit's key took ~250 bytes a clause (1.8 GB at 200
    MB of text), every unit's place 16 (70 MB); these take 28 a repeated unit, 4% of the clauses of
    the 200 MB bench corpus. Two keys sharing a hash read as equal here: a copy is checked by its
    text before it is reported (``_report_run``)."""

    __slots__ = ("count", "numbers", "ints", "keys", "_follows")

    def __init__(self, count: int, numbers: array, ints: array, keys: array):
        self.count = count
        self.numbers = numbers  # the repeated units' numbers on the page, ascending
        self.ints, self.keys = ints, keys  # four ints and the key's hash (array "q") of each, in the same order
        self._follows: bytes | None = None

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):
        if type(i) is int and 0 <= i < self.count:  # the common case, first
            return self._unit(i)
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                return [self._unit(j) for j in range(start, stop, step)]
            out = [_UNPAIRED] * max(0, stop - start)  # one search for the slice, not one a unit
            numbers = self.numbers
            for k in range(bisect_left(numbers, start), bisect_left(numbers, stop)):
                out[numbers[k] - start] = self._at(k)
            return out
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._unit(i)

    def _unit(self, i: int) -> _Unit:
        k = bisect_left(self.numbers, i)
        if k == len(self.numbers) or self.numbers[k] != i:
            return _UNPAIRED
        return self._at(k)

    def _at(self, k: int) -> _Unit:  # the k-th repeated unit
        n, b = self.ints, 4 * k
        return _Unit(n[b], None if n[b + 1] < 0 else n[b + 1], n[b + 2], n[b + 3], self.keys[k])

    def __iter__(self) -> Iterator[_Unit]:
        return map(self._unit, range(len(self)))

    def key_and_article(self, i: int) -> tuple[int | None, int]:
        """The key's hash (None: unpaired) and article (-1: none) of unit i: one search."""
        k = bisect_left(self.numbers, i)
        if k == len(self.numbers) or self.numbers[k] != i:
            return None, -1
        return self.keys[k], self.ints[4 * k + 1]

    def keyed(self) -> Iterator[tuple[int, int]]:
        """(unit number, key hash) of the repeated units, in page order."""
        return zip(self.numbers, self.keys)

    def follows(self) -> bytes:
        """For each repeated unit (by its place in ``numbers``), 1 if it follows the one listed
        before it on the page: the next unit, in the same paragraph or the next. A run of copies
        goes on over such units only (``_run``); made once, when a run is first followed here."""
        if self._follows is None:
            import numpy as np

            numbers = np.asarray(self.numbers, dtype=np.int64)
            paragraphs = np.asarray(self.ints, dtype=np.int64)[0::4]
            linked = np.zeros(len(numbers), dtype=np.uint8)
            linked[1:] = (numbers[1:] == numbers[:-1] + 1) & (paragraphs[1:] - paragraphs[:-1] <= 1)
            self._follows = linked.tobytes()
        return self._follows


_UNPAIRED = _Unit(-1, None, -1, -1, None)  # a unit of _RepeatedUnits whose key is found once


def repeated_units(ctx: AuditContext, docs: Sequence["AnalysedDocument"], params: Params) -> list[_RepeatedUnits]:
    """Every document's units for the exact mode (``_RepeatedUnits``), in the order of `docs`,
    computed once per audit for the rules that cut units the same way. Two passes over the pages,
    with scratch files: the keys' hashes and the units' places written first, then every hash read
    back as one array (8 bytes a unit: the only part that grows with the audit) and sorted in place
    to find those found twice or more, then the places and hashes of those units read back page by
    page. The keys themselves are not kept: their hashes stand for them."""
    import numpy as np

    def make() -> list[_RepeatedUnits]:
        counts: list[int] = []  # per document: its units
        keyed: list[tuple[int, int]] = []  # per document: (its first keyed unit among all, how many)
        with ctx.scratch_file() as places, ctx.scratch_file() as hashes:
            for doc in docs:
                rows, keys, count = _keyed_rows(ctx, doc, params)
                places.write(rows.tobytes())
                hashes.write(np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys)).tobytes())
                keyed.append((keyed[-1][0] + keyed[-1][1] if keyed else 0, len(rows)))
                counts.append(count)
            repeated = _repeated_hashes(ctx, hashes, sum(n for _, n in keyed))  # sorted: looked up by bisection
            out = []
            for doc, count, (first, n) in zip(docs, counts, keyed):
                h = np.frombuffer(_read_at(hashes, 8 * first, 8 * n), dtype=np.int64)
                at = np.minimum(np.searchsorted(repeated, h), max(0, len(repeated) - 1))
                found = repeated[at] == h if len(repeated) else np.zeros(n, dtype=bool)
                if not found.any():
                    out.append(_RepeatedUnits(count, array("i"), array("i"), array("q")))
                    continue
                rows = np.frombuffer(_read_at(places, 40 * first, 40 * n), dtype=np.int64).reshape(-1, 5)[found]
                size = len(doc.norm.text)
                out.append(_RepeatedUnits(count, offset_array(size, rows[:, 0].tolist()),
                                          offset_array(size, rows[:, 1:].ravel().tolist()), array("q", h[found].tobytes())))
        return out

    return ctx.memo(("duplicate.repeated", tuple(id(d) for d in docs), *_units_key(params)), make)


_HASHES_AT_ONCE = 1 << 22  # clause hashes sorted in memory at once (32 MB): ~200 MB of text
_ITEMS_AT_ONCE = 1 << 20  # near mode: sentences' band keys sorted at once (~40 MB): ~250 MB of text
_ROWS_READ = 1 << 18  # rows split into key ranges at a time: the split's arrays stay a few MB


def _repeated_hashes(ctx: AuditContext, hashes: BinaryIO, count: int, at_once: int | None = None) -> "np.ndarray":
    """The values found twice or more among the `count` int64 hashes of `hashes`, sorted, found
    ``_HASHES_AT_ONCE`` values at a time at most (``_by_key_range``)."""
    import numpy as np

    at_once = at_once or _HASHES_AT_ONCE

    def chunks() -> Iterator["np.ndarray"]:
        hashes.seek(0)
        for start in range(0, count, _ROWS_READ):
            chunk = np.empty(min(_ROWS_READ, count - start), dtype=np.int64)
            hashes.readinto(chunk)
            yield chunk

    found = []
    for values in _by_key_range(ctx, chunks(), count, at_once, lambda chunk: chunk):
        values.sort()
        found.append(np.unique(values[1:][values[1:] == values[:-1]]))
    return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def _by_key_range(ctx: AuditContext, chunks: Iterable["np.ndarray"], count: int, at_once: int,
                  key: Callable[["np.ndarray"], "np.ndarray"]) -> Iterator["np.ndarray"]:
    """The rows of `chunks` (numpy arrays of one dtype, `count` rows in all) in parts that each
    hold every row whose 64-bit hash `key(rows)` falls in a range, in their order: one part up to
    `at_once` rows; more are split by the hash's top bits into about count / at_once scratch
    files as they come, each read back whole. A hash shared by rows is in one part, and memory
    stays at `at_once` rows however large the archive."""
    import numpy as np

    if count <= at_once:
        whole, filled = None, 0
        for chunk in chunks:
            if whole is None:
                whole = np.empty(count, dtype=chunk.dtype)  # filled in place: not a list of chunks, then a copy
            whole[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        if whole is not None:
            yield whole[:filled]
        return
    bits = (-(-count // at_once) - 1).bit_length()  # 2**bits files
    with ExitStack() as stack:
        files = [stack.enter_context(ctx.scratch_file()) for _ in range(1 << bits)]
        sizes = [0] * len(files)
        dtype = None
        for chunk in chunks:
            dtype = chunk.dtype
            which = (key(chunk).view(np.uint64) >> np.uint64(64 - bits)).astype(np.intp)
            order = np.argsort(which, kind="stable")
            cuts = np.searchsorted(which[order], np.arange(len(files) + 1))
            for f, (lo, hi) in enumerate(zip(cuts[:-1].tolist(), cuts[1:].tolist())):
                files[f].write(chunk[order[lo:hi]].tobytes())
                sizes[f] += hi - lo
        for f, size in zip(files, sizes):
            if size:
                f.seek(0)
                part = np.empty(size, dtype=dtype)
                f.readinto(memoryview(part).cast("B"))
                yield part


def _read_at(scratch: BinaryIO, offset: int, size: int) -> bytes:
    scratch.seek(offset)
    return scratch.read(size)


def _keyed_rows(ctx: AuditContext, doc: "AnalysedDocument", params: Params) -> tuple["np.ndarray", list[str], int]:
    """A document's units with a key, as ``repeated_units`` writes them: rows (unit number,
    paragraph, article (-1: none), start, end) as an int64 array, their keys, and how many units
    the page has; read from what ``prepare`` left where it can, else from the units computed."""
    import numpy as np

    packed = getattr(doc, "prepared", {}).get(_units_key(params))
    if packed is not None:
        rows, keys = packed.keyed(doc.norm.text)
        return rows, keys, len(packed.ints) // 5
    units = _units(doc, params, ctx.regex_timeout)
    keyed = [(q, u) for q, u in enumerate(units) if u.key is not None]
    rows = np.array([(q, u.paragraph, -1 if u.article is None else u.article, u.start, u.end) for q, u in keyed],
                    dtype=np.int64).reshape(-1, 5)
    return rows, [u.key for _, u in keyed], len(units)


def _units_once(ctx: AuditContext, doc: "AnalysedDocument", params: Params) -> list[_Unit]:
    """A document's units, as ``units_of`` gives them but not kept: read from what ``prepare``
    left, else computed."""
    key = _units_key(params)
    prepared = getattr(doc, "prepared", {})
    if key in prepared:
        return prepared[key].unpack(doc.norm.text)
    return _units(doc, params, ctx.regex_timeout)


def exact_weigher(ctx: AuditContext, params: Params) -> "_Weigher":
    """The exact mode's weigher: it weighs only the units that repeat, as it meets them, so it
    does not take over the weight of every sentence ``prepare`` weighed for the near mode (a dict
    entry and a copy of the text each); shared by the exact rules with the same patterns."""
    return _Weigher(params, ctx.regex_timeout,
                    ctx.memo(("duplicate.exact-weights", *_weights_key(params)),
                             lambda: _Weights(params, ctx.regex_timeout)))


def weigher(ctx: AuditContext, params: Params) -> "_Weigher":
    """The rule's weigher, sharing what it learns about a text with every rule of the audit that
    uses the same figure and boilerplate patterns, and starting from what ``prepare`` weighed."""
    key = _weights_key(params)

    def make() -> _Weights:
        weights = _Weights(params, ctx.regex_timeout)
        for doc in ctx.documents:
            if key in getattr(doc, "prepared", {}):
                weights.learn(doc.norm.text, doc.prepared[key])
        return weights

    return _Weigher(params, ctx.regex_timeout, ctx.memo(key, make))


def prepare(doc: "AnalysedDocument", rules: Sequence[Rule], timeout: float | None) -> dict:
    """The part of the duplicate rules among `rules` that reads one document alone, done where the
    document is analysed (a worker of the pool) so the parent, which must see every document at
    once, only compares: each rule's units, and the weight of every sentence the near mode weighs
    (the exact modes weigh only the few clauses that repeat: left to the parent). Entries for
    ``AnalysedDocument.prepared``, packed (the parent holds them for every document of the audit
    until the rules have run), read back by ``units_of`` and ``weigher``."""
    units: dict = {}
    placeholders: dict[tuple, list[bool]] = {}
    # per weights key: the weights (shared by the rules that use the same patterns) and, by span,
    # (content beside figures, content beside boilerplate or -1, the text without boilerplate or None)
    weighed: dict[tuple, tuple[_Weights, dict[tuple[int, int], tuple]]] = {}
    text = doc.norm.text
    for rule in rules:
        p = rule.params
        if rule.kind != "duplicate" or not isinstance(p, Params):
            continue
        key = _units_key(p)
        if key not in units:
            units[key] = _units(doc, p, timeout, placeholders.setdefault(key, []), fold=False)
        if p.mode == "near":
            weights, spans = weighed.setdefault(_weights_key(p), (_Weights(p, timeout), {}))
            weigh = _Weigher(p, timeout, weights)
            for u in units[key]:
                if u.key is not None:
                    t = text[u.start:u.end]
                    weigh.substantial(t)
                    rest, n = weights._stripped.get(t, (t, -1))  # not weighed: too short beside its figures
                    spans[(u.start, u.end)] = (weights._free[t], n, None if rest == t else rest)
    return {**{k: _PackedUnits.pack(text, v, placeholders[k]) for k, v in units.items()},
            **{k: _PackedWeights.pack(text, spans) for k, (_, spans) in weighed.items()}}


@dataclass(frozen=True, slots=True)
class _PackedUnits:
    """A document's units as ``prepare`` hands them over: paragraph, article (-1: none), start, end
    and whether the unit holds a placeholder, five ints per unit in one array. The keys are folded
    again from the text when the units are read (a microsecond a unit, in the process that runs the
    rules): the parent holds every document's units until the rules have run, and a key is a copy
    of the unit's text; with its _Unit tuple and ints that was ~220 bytes a clause, this is 20."""

    ints: array

    @classmethod
    def pack(cls, text: str, units: Sequence[_Unit], placeholders: Sequence[bool]) -> "_PackedUnits":
        return cls(offset_array(len(text), chain.from_iterable(
            (u.paragraph, -1 if u.article is None else u.article, u.start, u.end, placeholder)
            for u, placeholder in zip(units, placeholders))))

    def unpack(self, text: str) -> list[_Unit]:
        """Every unit, its key cut from one fold of the page (``fold_keys``; a fold per unit was a
        fifth of the near rule)."""
        n = self.ints
        keys = fold_keys(text, [(n[i + 2], n[i + 3]) for i in range(0, len(n), 5)])
        return [_Unit(n[i], None if n[i + 1] < 0 else n[i + 1], n[i + 2], n[i + 3],
                      None if n[i + 4] else keys[i // 5] or None) for i in range(0, len(n), 5)]

    def keyed(self, text: str) -> tuple["np.ndarray", list[str]]:
        """The units with a key as rows (unit number, paragraph, article, start, end), int64, and
        their keys: what ``unpack`` gives for them, without a _Unit made for every unit."""
        import numpy as np

        rows = np.array(self.ints, dtype=np.int64).reshape(-1, 5)
        rows = np.column_stack([np.arange(len(rows), dtype=np.int64), rows[:, :4]])[rows[:, 4] == 0]
        keys = fold_keys(text, rows[:, 3:5].tolist())
        has_key = np.fromiter(map(bool, keys), dtype=bool, count=len(keys))
        return rows[has_key], [k for k in keys if k]

    def unit(self, text: str, q: int) -> _Unit:
        """The page's unit number `q` alone."""
        n, i = self.ints, 5 * q
        return _Unit(n[i], None if n[i + 1] < 0 else n[i + 1], n[i + 2], n[i + 3],
                     None if n[i + 4] else fold_key(text[n[i + 2]:n[i + 3]]) or None)


@dataclass(frozen=True, slots=True)
class _PackedWeights:
    """What ``prepare`` weighed on one page, by span of its normalised text rather than by a copy of
    the text: start, end, content beside figures, content beside boilerplate (-1: not weighed) per
    span in one int array, and the text left once boilerplate is removed where that differs."""

    ints: array
    rests: dict[int, str]  # span number -> the text without its boilerplate

    @classmethod
    def pack(cls, text: str, spans: dict[tuple[int, int], tuple[int, int, str | None]]) -> "_PackedWeights":
        ints, rests = offset_array(len(text)), {}
        for i, ((start, end), (free, n, rest)) in enumerate(spans.items()):
            ints.extend((start, end, free, n))
            if rest is not None:
                rests[i] = rest
        return cls(ints, rests)

    def entries(self, text: str) -> Iterator[tuple[str, int, tuple[str, int] | None]]:
        """(text, content beside figures, (text without boilerplate, its content) or None)."""
        n = self.ints
        for i in range(len(n) // 4):
            t = text[n[4 * i]:n[4 * i + 1]]
            yield t, n[4 * i + 2], None if n[4 * i + 3] < 0 else (self.rests.get(i, t), n[4 * i + 3])


def _units(doc: "AnalysedDocument", params: Params, timeout: float | None = None,
           placeholders: list[bool] | None = None, fold: bool = True) -> list[_Unit]:
    """The units `params` compares, in page order; `placeholders`, when given, receives for each
    one whether it holds a placeholder (its key is then None). With `fold` False a key is the
    unit's text as it is, or None where folding would leave nothing (``prepare``: it packs units
    without their keys, which are folded again where they are compared)."""
    text = doc.norm.text
    key = fold_key if fold else _unfolded_key
    placeholder = timed(params.placeholder, timeout)
    search, timeout = placeholder.pattern.search, placeholder.timeout  # called per unit: no wrapper on the way
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
        for s, e in spans:
            held = search(text, s, e, timeout=timeout) is not None
            out.append(_Unit(p.index, p.article, s, e, None if held else key(text[s:e]) or None))
            if placeholders is not None:
                placeholders.append(held)
    return out


@functools.lru_cache(maxsize=16)
def _weight_patterns(figure: str, boilerplate: tuple[str, ...], timeout: float | None
                     ) -> tuple[Timed, tuple[Timed, ...], Timed | None, regex.Pattern | None]:
    """The compiled patterns of ``_Weights``, once per process: a pool worker makes weights for
    every chunk, and reading the phrases' literals took a tenth of the duplicate preparation."""
    figure_pattern = timed(figure, timeout)  # user patterns run under the regex time limit
    phrases = tuple(compile_all(boilerplate, timeout))
    # One search for any stock phrase first: most texts hold none, and then every sub is a no-op.
    joined = any_of(boilerplate)
    any_phrase = timed(joined, timeout) if joined else None
    # Before it, the words one of which each phrase must hold, as one search of escaped
    # literals (linear: no time limit needed): 5x faster than the phrases' alternation.
    words = any_required(boilerplate)
    any_word = regex.compile("|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))) if words else None
    return figure_pattern, phrases, any_phrase, any_word


class _Weights:
    """What a text weighs under one figure pattern and one boilerplate list, remembered by text:
    the same clauses are weighed by several rules, and again when a run is reported. Up to
    ``_WEIGHED_AT_MOST`` texts each: past that a memory is emptied and starts again, so an
    archive's worth of distinct clauses is not held (~300 bytes each; the ones that recur are
    soon weighed again, at one regex pass)."""

    def __init__(self, params: Params, timeout: float | None = None):
        self.figure, self.boilerplate, self.any_boilerplate, self.boilerplate_words = \
            _weight_patterns(params.figure, tuple(params.boilerplate), timeout)
        self._figures: dict[str, bool] = {}
        self._free: dict[str, int] = {}
        self._stripped: dict[str, tuple[str, int]] = {}

    def has_figures(self, text: str) -> bool:
        found = self._figures.get(text)
        if found is None:
            found = _remember(self._figures, text, self.figure.search(text) is not None)
        return found

    def figure_free(self, text: str) -> int:
        """Content characters besides figures."""
        n = self._free.get(text)
        if n is None:
            n = _remember(self._free, text, content_len(self.figure.sub("", text)))
        return n

    def forget(self) -> None:
        """Drop what was weighed (the near mode weighs a page at a time)."""
        self._figures.clear()
        self._free.clear()
        self._stripped.clear()

    def learn(self, text: str, learnt: "_PackedWeights") -> None:
        """Take over the weights ``prepare`` computed elsewhere for spans of `text`."""
        for t, free, stripped in learnt.entries(text):
            _remember(self._free, t, free)
            if stripped is not None:
                _remember(self._stripped, t, stripped)

    def stripped(self, text: str) -> tuple[str, int]:
        """The text without boilerplate, and its content characters."""
        out = self._stripped.get(text)
        if out is None:
            rest = text
            if self.boilerplate and (self.boilerplate_words is None or self.boilerplate_words.search(text)) \
                    and (self.any_boilerplate is None or self.any_boilerplate.search(text)):
                for p in self.boilerplate:
                    rest = p.sub("", rest)
            out = _remember(self._stripped, text, (rest, content_len(rest)))
        return out


_WEIGHED_AT_MOST = 1 << 16


def _remember(memory: dict, text: str, value):
    if len(memory) >= _WEIGHED_AT_MOST:
        memory.clear()
    memory[text] = value
    return value


class _Weigher:
    """How much a span weighs for one rule: its content beside figures and beside boilerplate."""

    def __init__(self, params: Params, timeout: float | None = None, weights: _Weights | None = None):
        self.params = params
        self.weights = weights or _Weights(params, timeout)
        self.figure = self.weights.figure

    def has_figures(self, text: str) -> bool:
        return self.weights.has_figures(text)

    def strip_boilerplate(self, text: str) -> str:
        return self.weights.stripped(text)[0]

    def substantial(self, text: str) -> bool:
        """Long enough without its figures, and more than stock phrases."""
        p = self.params
        return (self.weights.figure_free(text) >= p.min_chars
                and self.weights.stripped(text)[1] > p.max_boilerplate_remainder)

    def plain_run(self, text: str, units: Sequence[_Unit]) -> bool:
        """Whether a run of units, none substantial alone, is substantial together, counting only
        the units free of stock phrases: a unit that holds one is stock, with the words around
        the phrase ("以…为指导", "持续开展…活动"), which would add up over a run of slogans."""
        free = rest = 0
        for u in units:
            t = text[u.start:u.end]
            stripped, n = self.weights.stripped(t)
            if stripped == t:
                free += self.weights.figure_free(t)
                rest += n
        return free >= self.params.min_chars and rest > self.params.max_boilerplate_remainder


# ---------------------------------------------------------------- exact copies

def _exact(rule: Rule, ctx: AuditContext, params: Params, docs: Sequence["AnalysedDocument"],
           units: Sequence[_RepeatedUnits], weigh: _Weigher) -> Iterable[Finding]:
    import numpy as np

    def keyed(d: int) -> Iterable[tuple[int, int]]:
        """(unit number, key hash) of the units of document d that may pair, in page order."""
        return units[d].keyed()

    def numbered(d: int) -> tuple["np.ndarray", "np.ndarray"]:  # (unit numbers, key hashes) of document d
        return np.asarray(units[d].numbers, dtype=np.int64), np.frombuffer(units[d].keys, dtype=np.int64)

    index = _PlaceIndex.of(numbered(d) for d in range(len(units)))
    seed_flags = np.full(len(index), -1, dtype=np.int8)  # at a key's first slot: -1 not weighed yet

    def seeds(d: int, q: int) -> bool:  # substantial by itself
        u = units[d][q]
        slot = index.slot(u.key)
        if seed_flags[slot] < 0:
            seed_flags[slot] = weigh.substantial(docs[d].norm.text[u.start:u.end])
        return bool(seed_flags[slot])

    # For runs of units none of which seeds (below): from each unit, the shortest run of units that
    # repeat, seed nothing and are substantial together (its keys hashed as one); indexed like the keys.
    starts: list[tuple[array, array]] = []
    for d, doc_units in enumerate(units):
        found = _windows(doc_units, docs[d].norm.text, weigh, lambda i, d=d: not seeds(d, i),
                         [q for q, key in keyed(d) if key in index])
        starts.append((array("q", found), array("q", map(hash, found.values()))))
    windows = _PlaceIndex.of((np.frombuffer(numbers, dtype=np.int64), np.frombuffer(hashes, dtype=np.int64))
                             for numbers, hashes in starts)
    occurrences: dict[tuple, list[tuple[int, int]]] = {}
    for d, doc_units in enumerate(units):
        covered: set[int] = set()
        for q, h in keyed(d):  # only units with a key can seed
            if h not in index or q in covered or index.first(h) == (d, q) or not seeds(d, q):
                continue
            partners = _partners(params, units, index.before(h, d, q, _PARTNERS), d, q)
            if not partners:
                continue
            (e, i), (back, forward) = _longest(units, partners, d, q)
            covered.update(range(q - back, q + forward))
            finding = _report_run(rule, ctx, params, docs, units, weigh, index, occurrences,
                                  (e, i - back), (d, q - back), back + forward)
            if finding is not None:
                yield finding
        # Then runs of units none of which is substantial by itself, substantial together (see the
        # module docstring), on units the seeds above left uncovered: seeded where such a run
        # found before starts.
        for q, w in zip(*starts[d]):
            if q in covered or w not in windows or windows.first(w) == (d, q):
                continue
            partners = _partners(params, units, windows.before(w, d, q, _PARTNERS), d, q)
            if not partners:
                continue
            (e, i), (back, forward) = _longest(units, partners, d, q)
            run = range(q - back, q + forward)
            if len(run) < 2 or any(x in covered or seeds(d, x) for x in run) \
                    or not weigh.plain_run(docs[d].norm.text, doc_units[run.start:run.stop]):
                continue
            covered.update(run)
            finding = _report_run(rule, ctx, params, docs, units, weigh, index, occurrences,
                                  (e, i - back), (d, q - back), back + forward)
            if finding is not None:
                yield finding


_PARTNERS = 50  # earlier copies of a unit looked at: the nearest


class _PlaceIndex:
    """Where each hash found twice or more is, in audit order: the hashes and their places
    (``document << 32 | unit``) as two int64 arrays sorted by hash, then place. 16 bytes an
    occurrence, where a dict of lists of (document, unit) tuples took ~150 (a third of the exact
    mode's memory at 1 GB of text). Most hashes of a corpus are found once: they are left out."""

    __slots__ = ("hashes", "places", "_last")

    def __init__(self, hashes: "np.ndarray", places: "np.ndarray"):
        self.hashes, self.places = hashes, places
        self._last: tuple[int | None, tuple[int, int]] = (None, (0, 0))

    @classmethod
    def of(cls, documents: Iterable[tuple["np.ndarray", "np.ndarray"]]) -> "_PlaceIndex":
        """From each document's (unit numbers, hashes), int64 arrays, in audit order (a document's
        units ascending). Made with a few arrays of 8 bytes a unit alive at once."""
        import numpy as np

        places, hashes = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for d, (numbers, found) in enumerate(documents):
            places.append(numbers | d << 32)
            hashes.append(found)
        places, hashes = np.concatenate(places), np.concatenate(hashes)  # places ascending
        order = np.argsort(hashes, kind="stable")  # so by hash, then place
        hashes = hashes[order]
        places = places[order]
        del order
        twice = np.zeros(len(hashes), dtype=bool)
        twice[1:] = hashes[1:] == hashes[:-1]
        twice[:-1] |= twice[1:]
        return cls(hashes[twice], places[twice])

    def __len__(self) -> int:
        return len(self.places)

    def _range(self, h: int) -> tuple[int, int]:
        # The last hash's range kept: a unit is asked about several times in a row (held? first
        # place? weighed? places before?), and each search from Python costs ~1 µs.
        last, found = self._last
        if last == h:
            return found
        found = int(self.hashes.searchsorted(h)), int(self.hashes.searchsorted(h, "right"))
        self._last = (h, found)
        return found

    def __contains__(self, h: int) -> bool:
        lo, hi = self._range(h)
        return lo < hi

    def slot(self, h: int) -> int:
        """Where the places of `h` start: a number of its own for each hash held."""
        return self._range(h)[0]

    def first(self, h: int) -> tuple[int, int]:
        return _place(int(self.places[self.slot(h)]))

    def all(self, h: int) -> list[tuple[int, int]]:
        lo, hi = self._range(h)
        return [_place(p) for p in self.places[lo:hi].tolist()]

    def before(self, h: int, d: int, q: int, n: int) -> list[tuple[int, int]]:
        """The `n` places of `h` nearest before unit q of document d, in audit order."""
        lo, hi = self._range(h)
        at = lo + int(self.places[lo:hi].searchsorted(d << 32 | q))
        return [_place(p) for p in self.places[max(lo, at - n):at].tolist()]


def _place(p: int) -> tuple[int, int]:
    return p >> 32, p & 0xFFFFFFFF


def _windows(units: Sequence[_Unit], text: str, weigh: _Weigher, eligible: Callable[[int], bool],
             candidates: Iterable[int] | None = None) -> dict[int, tuple[str, ...]]:
    """For each unit i that has one: the keys of the shortest run of eligible units from i, each
    following the one before on the page (as ``_run`` follows a run), that is substantial together
    (``_Weigher.plain_run``: two units at least); in page order. A run the exact mode reports
    without a seed holds the one from its first unit: documents holding a run share it
    (auditor.engines.local.link_keys links documents by these). Only the `candidates` (unit
    numbers, ascending; default every unit) that are `eligible` are looked at. Two pointers: linear."""
    p = weigh.params
    numbers = [i for i in (range(len(units)) if candidates is None else candidates) if eligible(i)]
    out: dict[int, tuple[str, ...]] = {}
    s = 0
    while s < len(numbers):
        e = s + 1  # numbers[s:e]: a stretch of eligible units, each following the one before
        while e < len(numbers) and numbers[e] == numbers[e - 1] + 1 \
                and units[numbers[e]].paragraph - units[numbers[e - 1]].paragraph <= 1:
            e += 1
        stretch = units[numbers[s]:numbers[e - 1] + 1]  # numbers[s:e] follow one another
        free, rest = [0], [0]  # running sums over the stretch, of units free of stock phrases
        for u in stretch:
            t = text[u.start:u.end]
            stripped, n = weigh.weights.stripped(t)
            plain = stripped == t
            free.append(free[-1] + (weigh.weights.figure_free(t) if plain else 0))
            rest.append(rest[-1] + (n if plain else 0))
        j = 2
        for i in range(len(stretch)):
            j = max(j, i + 2)
            while j <= len(stretch) and (free[j] - free[i] < p.min_chars
                                         or rest[j] - rest[i] <= p.max_boilerplate_remainder):
                j += 1
            if j > len(stretch):
                break  # no run from here on reaches it: nor from later units
            out[numbers[s] + i] = tuple(u.key for u in stretch[i:j])
        s = e
    return out


def _partners(params: Params, units: Sequence[_RepeatedUnits], earlier: list[tuple[int, int]],
              d: int, q: int) -> list[tuple[int, int]]:
    """The earlier copies this rule pairs unit q of document d with, the nearest ``_NEAREST`` at
    most, in audit order, of the places `earlier` (in audit order; those of another key that shares
    its hash are dropped). A copy is classed by the earlier ones: in the same article if any is,
    else elsewhere in the document, else in an earlier document; the rule reports the copy only if
    it covers that class."""
    key, article = units[d].key_and_article(q)
    same_article: list[tuple[int, int]] = []
    same_doc: list[tuple[int, int]] = []
    other: list[tuple[int, int]] = []
    for e, i in reversed(earlier):  # nearest first: a page pasted fifty times stops at the first or twentieth
        their_key, their_article = units[e].key_and_article(i)
        if their_key != key:
            continue
        if e == d and their_article == article:
            if not params.within_document or params.articles == "other":
                return []
            same_article.append((e, i))
            if len(same_article) == _NEAREST:
                break
        else:
            (same_doc if e == d else other).append((e, i))
    if same_article:
        return same_article[::-1]
    if same_doc:
        wanted = params.within_document and params.articles != "same"
        return same_doc[_NEAREST - 1::-1] if wanted else []
    return other[_NEAREST - 1::-1] if params.across_documents else []


_NEAREST = 20  # earlier copies whose runs are compared (_longest)


def _longest(units: Sequence[_RepeatedUnits], partners: list[tuple[int, int]], d: int, q: int
             ) -> tuple[tuple[int, int], tuple[int, int]]:
    """The partner whose copy around unit q of document d runs longest (the first, of equal runs),
    and the run."""
    return max(((pair, _run(units, pair, (d, q))) for pair in partners), key=lambda item: sum(item[1]))


def _run(units: Sequence[_RepeatedUnits], first: tuple[int, int], second: tuple[int, int]) -> tuple[int, int]:
    """How far the copies around `first` and `second` (two units with the same key) agree: (units
    before, units from) the seed. A run goes on while both sides' next units pair, have the same
    key and follow on the page (``_RepeatedUnits.follows``), and, in one document, the two copies
    do not overlap. Read from the arrays: a page pasted over and over (a 10 MB export of one line)
    follows hundreds of thousands of runs of units."""
    (e, i), (d, q) = first, second
    a, b = units[e], units[d]
    ka, kb = bisect_left(a.numbers, i), bisect_left(b.numbers, q)  # their places in the lists
    keys_a, keys_b, follows_a, follows_b = a.keys, b.keys, a.follows(), b.follows()
    most = min(len(keys_a) - ka, len(keys_b) - kb, q - i if e == d else len(keys_b))
    forward = 1
    while forward < most and follows_a[ka + forward] and follows_b[kb + forward] \
            and keys_a[ka + forward] == keys_b[kb + forward]:
        forward += 1
    most = min(ka, kb, q - i - forward if e == d else kb)
    back = 0
    while back < most and follows_a[ka - back] and follows_b[kb - back] \
            and keys_a[ka - back - 1] == keys_b[kb - back - 1]:
        back += 1
    return back, forward


def _occurrences(units: Sequence[Sequence[_Unit]], index: _PlaceIndex, keys: tuple) -> list[tuple[int, int]]:
    """Every place the run of unit keys `keys` appears, in audit order."""
    n = len(keys)
    return [(d, i) for d, i in index.all(keys[0])
            if tuple(u.key for u in units[d][i:i + n]) == keys]


def _report_run(rule: Rule, ctx: AuditContext, params: Params, docs, units, weigh: _Weigher, index, occurrences,
                first: tuple[int, int], second: tuple[int, int], n: int) -> Finding | None:
    (e, i), (d, q) = first, second
    doc, other = docs[d], docs[e]
    span = _widen(doc.norm.text, units[d][q].start, units[d][q + n - 1].end,
                  other.norm.text, units[e][i].start, units[e][i + n - 1].end, d == e, weigh)
    (start, end), (o_start, o_end) = span
    if any(fold_key(doc.norm.text[a.start:a.end]) != fold_key(other.norm.text[b.start:b.end])
           for a, b in zip(units[d][q:q + n], units[e][i:i + n])):
        return None  # keys that only share a hash (_RepeatedUnits): one in ~10^12 pairs, never a copy
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
    severity = "info" if weigh.weights.figure_free(text) < params.info_below_chars else None
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


# ---------------------------------------------------------------- near-identical sentences

@dataclass(frozen=True, slots=True)
class _Item:
    doc: int
    unit: _Unit
    core: str  # the compared text: folded, boilerplate removed


def near_items(docs: Sequence["AnalysedDocument"], units: list[list[_Unit]], weigh: _Weigher,
               params: Params) -> list[_Item]:
    """The sentences the near mode compares, in audit order: substantial ones, by their text
    without boilerplate, folded, when that is at least an n-gram long."""
    items: list[_Item] = []
    for d, doc_units in enumerate(units):
        text = docs[d].norm.text
        items.extend(it for it in (_near_item(d, u, text, weigh, params) for u in doc_units) if it is not None)
    return items


def _near_item(d: int, u: _Unit, text: str, weigh: _Weigher, params: Params) -> _Item | None:
    """The unit as the near mode compares it, or None when it does not."""
    t = text[u.start:u.end]
    if u.key is None or not weigh.substantial(t):
        return None
    rest = weigh.strip_boilerplate(t)
    core = u.key if rest == t else fold_key(rest)  # u.key is the text's fold_key
    return _Item(d, u, core) if len(core) >= params.ngram else None


class _NearIndex:
    """What the near mode keeps of every sentence it compares (``near_items`` of every page, in
    audit order, numbered from 0): its MinHash band keys, in a scratch file, and where each page's
    items start. LSH reads the keys a band at a time (8 bytes a sentence in memory, not 128: the
    keys of every sentence took 105 MB at 200 MB of text); the items themselves (a unit, the
    compared text) are made again only for the sentences LSH pairs (``near_items_at``), from
    each one's unit number on its page, kept in the scratch file beside the keys."""

    def __init__(self, scratch: BinaryIO, bands: int):
        self.first = [0]  # page d's items are numbered first[d] to first[d + 1] - 1
        self.bands = bands
        self._scratch = scratch
        self._blocks: list[tuple[int, int]] = []  # (offset, items): a batch's keys, band after band, then units
        self._block_first = [0]  # the first item of each block, and one past the last

    def add(self, keys: "np.ndarray", units: Sequence[int]) -> None:
        """The band keys (items × bands) of the next batch of items, and each one's unit number
        on its page."""
        offset = self._scratch.seek(0, 2)
        self._scratch.write(keys.T.tobytes())  # band-major: one band of the batch is one read
        self._scratch.write(array("I", units).tobytes())
        self._blocks.append((offset, len(keys)))
        self._block_first.append(self._block_first[-1] + len(keys))

    def unit_of(self, k: int) -> int:
        """Item k's unit number on its page."""
        b = bisect_right(self._block_first, k) - 1
        offset, n = self._blocks[b]
        return array("I", _read_at(self._scratch, offset + 8 * n * self.bands + 4 * (k - self._block_first[b]), 4))[0]

    def column(self, band: int) -> "np.ndarray":
        """Every item's key of `band`, in item order."""
        import numpy as np

        out = np.empty(self._block_first[-1], dtype=np.uint64)  # read in place: no second copy of the band
        for (offset, n), first in zip(self._blocks, self._block_first):
            self._scratch.seek(offset + 8 * n * band)
            self._scratch.readinto(memoryview(out[first:first + n]).cast("B"))
        return out

    def columns(self) -> Iterator["np.ndarray"]:
        return map(self.column, range(self.bands))

    def candidates(self, ctx: AuditContext, max_bucket: int, at_once: int | None = None) -> "np.ndarray":
        """``lsh_candidates`` of the bands, each read in key ranges of at most `at_once` items
        (``_by_key_range``): a band of every sentence, sorted, took ~30 bytes a sentence at once
        (120 MB at 1 GB of text)."""
        import numpy as np

        row = np.dtype([("key", np.uint64), ("item", np.uint32)])
        count = self._block_first[-1]

        def band_rows(band: int) -> Iterator["np.ndarray"]:
            for (offset, n), first in zip(self._blocks, self._block_first):
                rows = np.empty(n, dtype=row)
                rows["key"] = np.frombuffer(_read_at(self._scratch, offset + 8 * n * band, 8 * n), dtype=np.uint64)
                rows["item"] = np.arange(first, first + n, dtype=np.uint32)
                yield rows

        pairs = np.zeros(0, dtype=np.int64)
        if count < 2:
            return pairs
        for band in range(self.bands):
            found = [pairs]
            for part in _by_key_range(ctx, band_rows(band), count, at_once or _ITEMS_AT_ONCE, lambda rows: rows["key"]):
                found.append(_bucket_pairs(part["key"], part["item"], max_bucket))
            pairs = np.unique(np.concatenate(found))
        return pairs

    def page_of(self, k: int) -> int:
        return bisect_right(self.first, k) - 1


def near_index(ctx: AuditContext, docs: Sequence["AnalysedDocument"], params: Params, scratch: BinaryIO) -> _NearIndex:
    """The band keys of every page's ``near_items``, a page at a time (hashed in batches of
    ``_MINHASH_BATCH_CHARS``, as ``minhash`` would cut one list of every text), kept in `scratch`."""
    index = _NearIndex(scratch, params.bands)
    weights = _Weights(params, ctx.regex_timeout)
    batch: list[str] = []
    units: list[int] = []
    chars = 0

    def add() -> None:
        index.add(band_hashes(minhash(batch, params.ngram, params.num_perm, params.seed, "uint32"), params.bands), units)

    for doc in docs:
        weigh, text, count = _page_weigher(weights, doc, params), doc.norm.text, 0
        for q, u in enumerate(_units_once(ctx, doc, params)):
            it = _near_item(0, u, text, weigh, params)
            if it is not None:
                batch.append(it.core)
                units.append(q)
                chars += len(it.core)
                count += 1
        index.first.append(index.first[-1] + count)
        if chars >= _MINHASH_BATCH_CHARS:
            add()
            batch, units, chars = [], [], 0
    if batch:
        add()
    return index


def near_items_at(ctx: AuditContext, docs: Sequence["AnalysedDocument"], params: Params, index: _NearIndex,
                  wanted: Iterable[int]) -> dict[int, _Item]:
    """The items numbered `wanted` (``_NearIndex``), made again from their units alone (LSH pairs
    a few sentences of most pages: making every item of those pages again cost a quarter of the
    rule)."""
    by_page: dict[int, list[int]] = defaultdict(list)
    for k in sorted(set(wanted)):
        by_page[index.page_of(k)].append(k)
    weights = _Weights(params, ctx.regex_timeout)
    out: dict[int, _Item] = {}
    key = _units_key(params)
    for d, ks in by_page.items():
        doc, text = docs[d], docs[d].norm.text
        packed = getattr(doc, "prepared", {}).get(key)
        units = _units(doc, params, ctx.regex_timeout) if packed is None else None
        weights.forget()  # a page at a time, as near_index weighed them
        weigh = _Weigher(params, weights=weights)
        for k in ks:
            q = index.unit_of(k)
            it = _near_item(d, packed.unit(text, q) if units is None else units[q], text, weigh, params)
            assert it is not None, "the near index's unit numbers are off"
            out[k] = it
    return out


def _page_weigher(weights: _Weights, doc: "AnalysedDocument", params: Params) -> _Weigher:
    """A weigher for one page, starting from what ``prepare`` weighed on it; `weights` is reused
    from page to page (its patterns compiled once), forgetting the page before."""
    weights.forget()
    key = _weights_key(params)
    if key in getattr(doc, "prepared", {}):
        weights.learn(doc.norm.text, doc.prepared[key])
    return _Weigher(params, weights=weights)


def _near(rule: Rule, ctx: AuditContext, params: Params, docs: Sequence["AnalysedDocument"]) -> Iterable[Finding]:
    import numpy as np

    with ctx.scratch_file() as scratch:
        index = near_index(ctx, docs, params, scratch)
        if index.first[-1] < 2:
            return
        pairs = index.candidates(ctx, params.max_bucket)
        items = near_items_at(ctx, docs, params, index, np.union1d(pairs >> 32, pairs & 0xFFFFFFFF).tolist())
    weigh = _Weigher(params, ctx.regex_timeout)  # for the reported sentences' figures

    def ngrams(k: int) -> frozenset[str]:
        c = items[k].core
        return frozenset(c[x:x + params.ngram] for x in range(len(c) - params.ngram + 1))

    # Pairs come in order of their first item: its n-grams are made once for all its pairs, the
    # second's each time (kept for every paired sentence, they were most of the rule's memory).
    matches: dict[int, dict[int, float]] = defaultdict(dict)
    first, ga = -1, frozenset()
    for a, b in chain.from_iterable(pair_list(pairs[s:s + (1 << 16)]) for s in range(0, len(pairs), 1 << 16)):
        ia, ib = items[a], items[b]
        if ia.core == ib.core or ia.unit.key == ib.unit.key or (ia.doc == ib.doc and not params.within_document) \
                or (ia.doc != ib.doc and not params.across_documents):
            continue
        if a != first:
            first, ga = a, ngrams(a)
        gb = ngrams(b)
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


_MINHASH_BATCH_CHARS = 1 << 18  # texts hashed together: working arrays of ~50 bytes a character


def minhash(texts: Sequence[str], n: int, num_perm: int, seed: int, dtype: str = "uint64"):
    """MinHash signatures (len(texts) × num_perm) over the character n-grams of each text.

    Every text must have at least n characters. The n-gram hashes of a batch of texts are computed
    at once as a polynomial hash over code points, then each permutation h(x) = (a·x + b) mod p is
    reduced per text with one numpy `minimum.reduceat`: linear in the total text length. Batches
    of a quarter of a million characters bound the working arrays (~50 bytes a character: all
    the near rule's sentences at once took 200 MB at 20 MB of text). Values are below 2^31:
    `dtype` "uint32" holds them exactly in half the memory (the near rule asks for it; the
    archive's band keys are made from the uint64 form).
    """
    import numpy as np

    rng = random.Random(seed)
    permutations = [(np.uint64(rng.randrange(1, _PRIME)), np.uint64(rng.randrange(0, _PRIME))) for _ in range(num_perm)]
    out = np.empty((len(texts), num_perm), dtype=dtype)
    first = size = 0
    for i, text in enumerate(texts):
        size += len(text)
        if size >= _MINHASH_BATCH_CHARS or i == len(texts) - 1:
            out[first:i + 1] = _minhash_batch(texts[first:i + 1], n, permutations)
            first, size = i + 1, 0
    return out


def _minhash_batch(texts: Sequence[str], n: int, permutations: Sequence[tuple]):
    import numpy as np

    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - n + 1
    hashes = np.zeros(count, dtype=np.uint64)
    quotients = np.empty_like(hashes)
    for t in range(n):
        np.multiply(hashes, np.uint64(_BASE), out=hashes)
        np.add(hashes, codes[t:t + count], out=hashes)
        _reduce_mod_prime(hashes, quotients)
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    per_text = lengths - n + 1  # n-grams of each text
    starts = np.concatenate(([0], np.cumsum(per_text)[:-1]))  # each text's first n-gram among all
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))  # each text's first character
    # the n-grams that lie inside one text: position = text offset + rank within the text
    grams = hashes[np.arange(int(per_text.sum())) + np.repeat(offsets - starts, per_text)]
    out = np.empty((len(texts), len(permutations)), dtype=np.uint64)
    permuted, quotients = np.empty_like(grams), np.empty_like(grams)
    for k, (a, b) in enumerate(permutations):
        np.multiply(grams, a, out=permuted)
        np.add(permuted, b, out=permuted)
        _reduce_mod_prime(permuted, quotients)
        out[:, k] = np.minimum.reduceat(permuted, starts)
    return out


def _reduce_mod_prime(values: "np.ndarray", scratch: "np.ndarray") -> None:
    """values %= _PRIME, in place (uint64; `scratch` of the same shape). As v - (v // p)·p: numpy
    divides an array by a constant with multiplications (libdivide) but takes a remainder with a
    real division, 5x slower, and that was half the near rule."""
    import numpy as np

    np.floor_divide(values, np.uint64(_PRIME), out=scratch)
    np.multiply(scratch, np.uint64(_PRIME), out=scratch)
    np.subtract(values, scratch, out=values)


def band_hashes(signatures, bands: int):
    """LSH band keys (len(signatures) × bands, uint64): each band's rows of a signature mixed
    into one 64-bit key together with the band number (FNV-style, wrapping numpy arithmetic).
    Half the memory of uint32 signatures at 4 rows a band; two sentences with different rows
    share a key by chance about once in 2^64 (one more candidate, checked on its real n-grams).
    The archive stores these keys too (auditor/history/fingerprints.py): they must not change."""
    import numpy as np

    rows = signatures.shape[1] // bands
    keys = np.empty((signatures.shape[0], bands), dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):
        for band in range(bands):
            h = np.full(signatures.shape[0], np.uint64(0xCBF29CE484222325) ^ np.uint64(band + 1), dtype=np.uint64)
            for r in range(band * rows, (band + 1) * rows):
                h = (h ^ signatures[:, r].astype(np.uint64)) * prime
            keys[:, band] = h
    return keys


def lsh_candidates(columns: Iterable["np.ndarray"], max_bucket: int) -> "np.ndarray":
    """Pairs (i < j) of items that share the key of at least one band, as one sorted array of
    ``i << 32 | j`` (``pair_list`` makes tuples of it); `columns` gives each band's keys of every
    item (``band_hashes`` columns: ``keys.T`` of its result). 8 bytes a pair: a set of tuples took
    ~150, and pairs grow faster than the archive. (The near mode reads its bands in key ranges:
    ``_NearIndex.candidates``.)"""
    import numpy as np

    pairs = np.zeros(0, dtype=np.int64)
    for column in columns:
        if len(column) < 2:
            break
        pairs = np.unique(np.concatenate([pairs, _bucket_pairs(column, None, max_bucket)]))
    return pairs


def _bucket_pairs(keys: "np.ndarray", items: "np.ndarray | None", max_bucket: int) -> "np.ndarray":
    """The pairs ``i << 32 | j`` (i < j) of items sharing a key, in buckets of 2 to `max_bucket`
    items; `items` numbers the keys (ascending; None: their positions). Buckets are found with
    numpy: the keys sorted, equal runs cut out, and the pairs of all buckets of one size made at
    once. Few arrays of the keys' length are alive at once (8 bytes an item each)."""
    import numpy as np

    order = np.argsort(keys, kind="stable").astype(np.int64, copy=False)  # a bucket's members stay in item order
    ordered = keys[order]
    edges = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    del ordered
    edges = np.concatenate(([0], edges, [len(keys)]))
    sizes = np.diff(edges)
    kept = (sizes > 1) & (sizes <= max_bucket)
    starts, sizes = edges[:-1][kept], sizes[kept]
    del edges, kept
    members = order if items is None else items.astype(np.int64)[order]
    del order
    found = [np.zeros(0, dtype=np.int64)]
    for size in np.unique(sizes).tolist():
        first = starts[sizes == size][:, None]
        left, right = np.triu_indices(size, 1)
        found.append(((members[first + left] << 32) | members[first + right]).ravel())
    return np.concatenate(found)


def pair_list(pairs: "np.ndarray") -> list[tuple[int, int]]:
    """``lsh_candidates``' pairs as (i, j) tuples, in order."""
    return list(zip((pairs >> 32).tolist(), (pairs & 0xFFFFFFFF).tolist()))
