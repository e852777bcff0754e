"""Segmentation of a normalised page into articles, paragraphs, sentences and clauses.

A newspaper page holds several articles, each about one organisation and one year. The layouts the
seed pages show, and how each is read:

- 本报讯 datelines open an article; headlines just above a dateline are its title.
- A headline naming an organisation, followed by body text with no dateline, opens a part of that
  organisation's article (an article split in two by the page layout).
- "长春市总工会长春市总工会：：" (a header ending in a colon, often OCR-doubled) closes the article
  above it, whose headline it is, together with the title line after it.
- Report titles ("…2021年度工作总结", "——X区总工会…") open a report; outline headings 一、（一）1.
  stay inside it.
- A page with none of these is one article.

All offsets here are into the normalised text; `NormText.to_original` maps them back.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from itertools import chain
from sys import intern

import regex

from .entities import EntityLexicon, load_entities, undouble
from .packed import PackedSequence, offset_array

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Clause:
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    text: str
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class Paragraph:
    index: int
    start: int
    end: int
    text: str
    role: str  # 'body' | 'dateline' | 'headline' | 'closing_header' | 'report_title' | 'heading'
    sentences: tuple[Sentence, ...]
    article: int | None = None  # index into Segmentation.articles


@dataclass(frozen=True, slots=True)
class Article:
    index: int
    parts: tuple[Span, ...]  # one span per printed part, in page order
    entity: str | None
    entity_span: Span | None  # where the entity was read
    year: int | None
    year_source: str | None  # 'explicit' | 'since' | 'relative' | 'inherited' | None
    title: str | None

    @property
    def start(self) -> int:
        return self.parts[0][0]

    @property
    def end(self) -> int:
        return self.parts[-1][1]

    def contains(self, offset: int) -> bool:
        return any(s <= offset < e for s, e in self.parts)


class PackedParagraphs(PackedSequence):
    """A page's paragraphs, sentences and clauses as offsets in three int arrays, made into
    Paragraph objects again only when read (their text cut from the normalised text then).

    What a document keeps once the rules that walk its sentences have run (the audit's parent
    holds every document of the corpus until the reports are written): an object per clause and a
    copy of the text per level were about a third of the parent's memory; the arrays are a
    thirtieth of that."""

    __slots__ = ("text", "_paragraphs", "_roles", "_sentences", "_clauses")
    _P, _S, _C = 5, 3, 2  # ints per paragraph (index, start, end, article or -1, first sentence),
    # per sentence (start, end, first clause) and per clause (start, end)

    def __init__(self, text: str, paragraphs: array, roles: tuple[str, ...], sentences: array, clauses: array):
        self.text = text
        self._paragraphs, self._roles, self._sentences, self._clauses = paragraphs, roles, sentences, clauses

    @classmethod
    def pack(cls, text: str, paragraphs: Sequence[Paragraph]) -> "PackedParagraphs | None":
        """`paragraphs` packed; None when they hold what offsets cannot give back (a text that is
        not the slice of `text` it spans, a subclass or a field this does not know)."""
        if isinstance(paragraphs, PackedParagraphs):
            return paragraphs
        if not _PACKABLE:
            return None
        para: list[tuple] = []
        sent: list[tuple] = []
        clause: list[tuple] = []
        roles = []
        for p in paragraphs:
            if type(p) is not Paragraph or len(p.text) != p.end - p.start or not text.startswith(p.text, p.start):
                return None
            para.append((p.index, p.start, p.end, -1 if p.article is None else p.article, len(sent)))
            roles.append(intern(p.role))
            for st in p.sentences:
                if type(st) is not Sentence or len(st.text) != st.end - st.start \
                        or not text.startswith(st.text, st.start):
                    return None
                sent.append((st.start, st.end, len(clause)))
                for c in st.clauses:  # the text checks: c.text == text[c.start:c.end], no slice made
                    if type(c) is not Clause or len(c.text) != c.end - c.start or not text.startswith(c.text, c.start):
                        return None
                    clause.append((c.start, c.end))

        def column(rows: list[tuple]) -> array:
            return offset_array(len(text), chain.from_iterable(rows))

        return cls(text, column(para), tuple(roles), column(sent), column(clause))

    def __len__(self) -> int:
        return len(self._roles)

    def __repr__(self) -> str:
        return f"PackedParagraphs({len(self)} paragraphs, {len(self._clauses) // self._C} clauses)"

    def __reduce__(self) -> tuple:
        return PackedParagraphs, (self.text, self._paragraphs, self._roles, self._sentences, self._clauses)

    def sentence_spans(self) -> list[Span]:
        s = self._sentences
        return [(s[i], s[i + 1]) for i in range(0, len(s), self._S)]

    def clause_spans(self) -> list[Span]:
        c = self._clauses
        return [(c[i], c[i + 1]) for i in range(0, len(c), self._C)]

    def _item(self, k: int) -> Paragraph:
        p, n = self._P * k, self._P
        index, start, end, article, first = self._paragraphs[p:p + n]
        last = self._paragraphs[p + n + 4] if k + 1 < len(self) else len(self._sentences) // self._S
        return Paragraph(index, start, end, self.text[start:end], self._roles[k],
                         tuple(self._sentence(j) for j in range(first, last)), None if article < 0 else article)

    def _sentence(self, j: int) -> Sentence:
        s, n, t = self._S * j, self._S, self.text
        start, end, first = self._sentences[s:s + n]
        last = self._sentences[s + n + 2] if s + n < len(self._sentences) else len(self._clauses) // self._C
        c = self._clauses
        return Sentence(start, end, t[start:end],
                        tuple(Clause(c[2 * i], c[2 * i + 1], t[c[2 * i]:c[2 * i + 1]]) for i in range(first, last)))


# The fields pack() writes and reads back: a field added to one of these classes turns packing off
# (the paragraphs stay objects) rather than losing it.
_PACKABLE = ((tuple(f.name for f in fields(Paragraph)) == ("index", "start", "end", "text", "role", "sentences", "article"))
             and tuple(f.name for f in fields(Sentence)) == ("start", "end", "text", "clauses")
             and tuple(f.name for f in fields(Clause)) == ("start", "end", "text"))


@dataclass(frozen=True)
class Segmentation:
    paragraphs: Sequence[Paragraph]  # a tuple, or PackedParagraphs once the document is packed()
    articles: tuple[Article, ...]
    publication_year: int | None
    publication_year_source: str | None  # 'page' | 'option' | 'inferred' | None

    def packed(self, text: str) -> "Segmentation":
        """The same segmentation with its paragraphs packed (see PackedParagraphs); itself when
        they are packed already or cannot be."""
        packed = PackedParagraphs.pack(text, self.paragraphs)
        if packed is None or packed is self.paragraphs:
            return self
        return replace(self, paragraphs=packed)

    def article_at(self, offset: int) -> Article | None:
        parts = self._parts_index()
        i = bisect_right(parts[0], offset) - 1
        if i >= 0 and offset < parts[1][i]:
            return self.articles[parts[2][i]]
        return None

    def _parts_index(self) -> tuple[list[int], list[int], list[int]]:
        """Article parts sorted by start (starts, ends, article index), built once."""
        cached = self.__dict__.get("_parts")
        if cached is None:
            parts = sorted((s, e, a.index) for a in self.articles for s, e in a.parts)
            cached = ([p[0] for p in parts], [p[1] for p in parts], [p[2] for p in parts])
            object.__setattr__(self, "_parts", cached)
        return cached

    def sentences(self) -> list[Sentence]:
        return [s for p in self.paragraphs for s in p.sentences]

    def sentence_spans(self) -> list[Span]:
        """(start, end) of every sentence in page order: read off the offsets of packed paragraphs
        without making their objects (a corpus-wide rule reads them for the whole audit)."""
        if isinstance(self.paragraphs, PackedParagraphs):
            return self.paragraphs.sentence_spans()
        return [(s.start, s.end) for s in self.sentences()]

    def clause_spans(self) -> list[Span]:
        """(start, end) of every clause in page order, as ``sentence_spans``."""
        if isinstance(self.paragraphs, PackedParagraphs):
            return self.paragraphs.clause_spans()
        return [(c.start, c.end) for s in self.sentences() for c in s.clauses]


# ---------------------------------------------------------------- sentences and clauses

# A sentence ends at 。！？!? and takes a closing quote or bracket that follows with it.
_SENTENCE = regex.compile(r"[^。！？!?\n]+(?:[。！？!?]+[”’」』)）]*|$)|[。！？!?]+")
_CLAUSE_BREAK = regex.compile(r"[,，;；:：]")


def split_sentences(text: str, start: int, end: int) -> tuple[Sentence, ...]:
    sentences = []
    for m in _SENTENCE.finditer(text, start, end):
        s, e = m.span()
        if e > s and text[s:e].strip():
            sentences.append(Sentence(s, e, text[s:e], split_clauses(text, s, e)))
    return tuple(sentences)


def split_clauses(text: str, start: int, end: int) -> tuple[Clause, ...]:
    clauses = []
    pos = start
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        if m.start() > pos:
            clauses.append(Clause(pos, m.start(), text[pos:m.start()]))
        pos = m.end()
    tail_end = end
    while tail_end > pos and text[tail_end - 1] in "。！？!?”’」』)）":
        tail_end -= 1
    if tail_end > pos:
        clauses.append(Clause(pos, tail_end, text[pos:tail_end]))
    return tuple(clauses)


# ---------------------------------------------------------------- paragraph roles

_DATELINE = regex.compile(r"^(?:本报讯|本报\p{Han}{0,4}讯)")
_REPORT_TITLE = regex.compile(r"^(?:——)?[^。,，]{0,40}?(?:工作总结|年度总结|述职报告|工作报告)$")
_OUTLINE = regex.compile(r"^(?:[一二三四五六七八九十]{1,3}、|[(（][一二三四五六七八九十]{1,3}[)）]|[0-9]{1,2}[、.](?![0-9]))")
_CLOSING_HEADER = regex.compile(r"^(?P<org>[^。,，]{2,40}?)[:：]{1,2}$")
_HEADLINE_MAX = 32
_NOISE = regex.compile(r"^[\p{P}\p{S}0-9\s]*$")  # page numbers, rules, stray marks
_YEAR = r"(?P<year>(?:19|20)[0-9]{2})"
# A year the figures refer to: "2021年，", "2020年以来", "2021年度", "2021年工作总结"; not a date
# ("1945年9月") nor a founding year ("2006年成立").
_EXPLICIT_YEAR = regex.compile(_YEAR + r"年(?:度)?(?:(?P<since>以来|起|至今)|(?=[,，:：全工是]|(?:工会)?工作))")
_RELATIVE_YEAR = regex.compile(r"(?P<rel>去年|今年|上一年|前年)(?:以来|度)?")
_PAGE_DATE = regex.compile(_YEAR + r"年(?P<m>1[0-2]|0?[1-9])月(?P<d>3[01]|[12][0-9]|0?[1-9])日\s*(?:星期|周)[一二三四五六日天]")
_RELATIVE_OFFSET = {"去年": -1, "上一年": -1, "前年": -2, "今年": 0}


def _role(text: str, lexicon: EntityLexicon) -> str:
    if _DATELINE.match(text):
        return "dateline"
    stripped = text.strip("#* ")
    if _NOISE.match(stripped):
        return "noise"
    if _OUTLINE.match(stripped):
        return "heading"
    if len(stripped) <= 60 and _REPORT_TITLE.match(stripped):
        return "report_title"
    closing = _CLOSING_HEADER.match(stripped)
    if closing and lexicon.find(undouble(closing.group("org"))):
        return "closing_header"
    if len(stripped) <= _HEADLINE_MAX and not regex.search(r"[。,，;；]", stripped.rstrip("!！")):
        return "headline"
    return "body"


# ---------------------------------------------------------------- articles

@dataclass
class _Draft:
    parts: list[list[int]]  # paragraph indices per part
    entity: str | None = None
    entity_span: Span | None = None
    title: str | None = None
    closed_by_header: bool = False
    titles_before: list[int] = field(default_factory=list)


def segment(text: str, *, year: int | None = None, entities: EntityLexicon | None = None) -> Segmentation:
    """Split normalised text into articles and paragraphs; `year` is the page's publication year
    when the user gives it (--year), used only when the page does not state its own date."""
    lexicon = entities or load_entities()
    paragraphs = _paragraphs(text, lexicon)
    drafts, loose_headlines = _draft_articles(text, paragraphs, lexicon)
    pub_year, pub_source = _publication_year(text, year, paragraphs, drafts)
    articles, draft_owner = _finish_articles(text, paragraphs, drafts, loose_headlines, lexicon, pub_year)
    owner = {i: draft_owner[k] for k, d in enumerate(drafts) for part in d.parts for i in part}
    paragraphs = tuple(replace(p, article=owner.get(p.index)) for p in paragraphs)
    return Segmentation(paragraphs, tuple(articles), pub_year, pub_source)


def _paragraphs(text: str, lexicon: EntityLexicon) -> tuple[Paragraph, ...]:
    out = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        out.append(Paragraph(len(out), start, end, line, _role(line.strip(), lexicon), split_sentences(text, start, end)))
    return tuple(out)


def _draft_articles(text: str, paragraphs: tuple[Paragraph, ...], lexicon: EntityLexicon) -> tuple[list[_Draft], list[int]]:
    drafts: list[_Draft] = []
    current: _Draft | None = None
    pending: list[int] = []  # headlines not yet given to an article
    loose: list[int] = []
    for i, p in enumerate(paragraphs):
        nxt = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
        if p.role in ("dateline", "report_title"):
            current = _Draft(parts=[[i]], titles_before=_take_titles(pending, paragraphs, i))
            loose.extend(pending)
            pending = []
            drafts.append(current)
        elif p.role == "closing_header":
            target = current if current is not None and not current.closed_by_header else None
            if target is not None:
                org = undouble(_CLOSING_HEADER.match(p.text.strip()).group("org"))
                target.entity = lexicon.canonicalise(org)
                target.entity_span = (p.start, p.start + len(org))
                target.closed_by_header = True
                if nxt is not None and nxt.role == "headline":
                    target.title = nxt.text.strip()
                target.parts[-1].append(i)
            current = None
        elif p.role == "headline":
            if (current is not None and current.closed_by_header and current.title == p.text.strip()
                    and paragraphs[i - 1].role == "closing_header"):
                current = None
                drafts[-1].parts[-1].append(i)
                continue
            opens_part = nxt is not None and nxt.role in ("body", "heading") and bool(lexicon.find(p.text))
            if opens_part:
                mention = lexicon.find(p.text)[0]
                current = _Draft(parts=[[i]], entity=mention.name, entity_span=(p.start + mention.start, p.start + mention.end),
                                 title=p.text.strip())
                drafts.append(current)
            elif current is not None and current.parts[-1] and nxt is not None and nxt.role in ("body", "heading") \
                    and not current.closed_by_header:
                current.parts[-1].append(i)  # a sub-heading inside the article
            else:
                pending.append(i)
                current = None if current is None or current.closed_by_header else current
        elif p.role == "noise":
            continue
        else:
            if current is None or current.closed_by_header:
                current = _Draft(parts=[[i]], titles_before=_take_titles(pending, paragraphs, i))
                drafts.append(current)
            else:
                current.parts[-1].append(i)
    loose.extend(pending)
    return drafts, loose


def _take_titles(pending: list[int], paragraphs: tuple[Paragraph, ...], dateline: int) -> list[int]:
    """Headlines printed directly above a dateline are that article's title."""
    j = dateline - 1
    if j < 0 or j not in pending or paragraphs[j].role != "headline":
        return []
    # "洮南市总工会 / 履行工会职能…" above a dateline: a header pair of some other article.
    if j - 1 in pending and _is_entity_only(paragraphs[j - 1].text):
        return []
    pending.remove(j)
    return [j]


def _is_entity_only(text: str) -> bool:
    mentions = load_entities().find(text)
    return bool(mentions) and len(text.strip()) - len(mentions[0].text) <= 2


def _opening_text(paragraphs: tuple[Paragraph, ...], draft: _Draft) -> tuple[int, int]:
    first = paragraphs[draft.parts[0][0]]
    body = [paragraphs[i] for i in draft.parts[0] if paragraphs[i].role in ("dateline", "body", "report_title")]
    if not body:
        return first.start, first.end
    head = body[0]
    if head.role == "report_title" and len(body) > 1:
        return head.start, body[1].end
    return head.start, head.end


def _stated_year(text: str, start: int, end: int, pub_year: int | None) -> tuple[int | None, str | None]:
    """The year an article's figures refer to, as its opening states it."""
    window_end = min(end, start + 160)
    explicit = _EXPLICIT_YEAR.search(text, start, window_end)
    relative = _RELATIVE_YEAR.search(text, start, window_end)
    if explicit and (not relative or explicit.start() < relative.start()):
        return int(explicit.group("year")), "since" if explicit.group("since") else "explicit"
    if relative and pub_year is not None:
        return pub_year + _RELATIVE_OFFSET[relative.group("rel")], "relative"
    return None, None


def _publication_year(text: str, given: int | None, paragraphs, drafts) -> tuple[int | None, str | None]:
    m = _PAGE_DATE.search(text)
    if m:
        return int(m.group("year")), "page"
    if given is not None:
        return given, "option"
    # Annual summaries appear the year after the one they report on: infer from what the
    # articles state ("2020年以来" on a page of 2021).
    stated = Counter()
    for d in drafts:
        s, e = _opening_text(paragraphs, d)
        y, source = _stated_year(text, s, e, None)
        if y is not None:
            stated[y] += 1
    if stated:
        return stated.most_common(1)[0][0] + 1, "inferred"
    return None, None


def _finish_articles(text, paragraphs, drafts, loose_headlines, lexicon, pub_year) -> tuple[list[Article], list[int]]:
    articles: list[Article] = []
    draft_owner: list[int] = []
    by_entity: dict[str, int] = {}
    for d in drafts:
        s, e = _opening_text(paragraphs, d)
        if d.entity is None:
            mentions = lexicon.find(text, s, min(e, s + 120))
            if mentions:
                d.entity, d.entity_span = mentions[0].name, (mentions[0].start, mentions[0].end)
        if d.title is None and d.titles_before:
            d.title = paragraphs[d.titles_before[0]].text.strip()
        year, source = _stated_year(text, s, e, pub_year)
        first_role = paragraphs[d.parts[0][0]].role
        continuation = first_role == "headline" and d.entity in by_entity
        if continuation:
            earlier = articles[by_entity[d.entity]]
            if year is None:
                year, source = earlier.year, "inherited"
            if year == earlier.year:
                # The second part of an article split by the layout: one article, two parts.
                merged = replace(earlier, parts=earlier.parts + (_span(paragraphs, d.parts[0]),))
                articles[earlier.index] = merged
                draft_owner.append(earlier.index)
                continue
        parts = tuple(_span(paragraphs, part) for part in d.parts)
        article = Article(len(articles), parts, d.entity, d.entity_span, year, source, d.title)
        articles.append(article)
        draft_owner.append(article.index)
        if d.entity and d.entity not in by_entity:
            by_entity[d.entity] = article.index
    # Headlines printed away from their article ("洮北区总工会 / 牢记初心…" at the page foot).
    owner = {i: draft_owner[k] for k, d in enumerate(drafts) for part in d.parts for i in part}
    for i in loose_headlines:
        p = paragraphs[i]
        mentions = lexicon.find(p.text)
        if not mentions:
            # A headline with no name, just below an article: printed after it, it is its title.
            before = owner.get(i - 1)
            if before is not None and articles[before].title is None and paragraphs[i - 1].role != "headline":
                articles[before] = replace(articles[before], title=p.text.strip())
            continue
        if mentions and mentions[0].name in by_entity:
            a = articles[by_entity[mentions[0].name]]
            if a.title is None:
                nxt = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
                title = nxt.text.strip() if nxt is not None and nxt.role == "headline" and not lexicon.find(nxt.text) else p.text.strip()
                articles[a.index] = replace(a, title=title)
    return articles, draft_owner


def _span(paragraphs: tuple[Paragraph, ...], indices: list[int]) -> Span:
    return paragraphs[indices[0]].start, paragraphs[indices[-1]].end
