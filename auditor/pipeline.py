"""One document through the pipeline: load → normalise → segment → extract.

Every stage takes plain data and returns plain data, so the same function runs in one process,
in a process pool, or inside a Spark task.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any

from .documents.load import Document, load_document
from .documents.normalise import NormText, normalise
from .documents.segment import Clause, Paragraph, Segmentation, Sentence, segment
from .extract.extractor import extract_metrics
from .metrics import Metric


@dataclass(frozen=True)
class AnalysedDocument:
    document: Document
    norm: NormText
    segmentation: Segmentation
    metrics: tuple[Metric, ...]
    # Work done ahead for rules that will see this document among others (see
    # auditor.engines.local.check_files): it travels with the document from the worker.
    prepared: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def path(self) -> str:
        return self.document.path

    @property
    def original(self) -> str:
        return self.document.text

    def original_span(self, norm_start: int, norm_end: int) -> tuple[int, int]:
        return self.norm.to_original(norm_start, norm_end)

    def __reduce__(self) -> tuple[Any, tuple]:
        """Pickled without the text of every paragraph, sentence and clause (three more copies of
        the page, and most of the cost of sending a document from a worker to the parent): their
        offsets only, the text cut from the normalised text again when loaded."""
        compact = _compact_paragraphs(self.norm.text, self.segmentation)
        if compact is None:  # a segmentation this does not know how to rebuild: as it is
            return AnalysedDocument, (self.document, self.norm, self.segmentation, self.metrics, self.prepared)
        seg = self.segmentation
        return _rebuilt, (self.document, self.norm, compact, seg.articles, seg.publication_year,
                          seg.publication_year_source, self.metrics, self.prepared)


# The fields the compact form writes and reads back; another shape is pickled as it is.
_SHAPES = {Paragraph: ("index", "start", "end", "text", "role", "sentences", "article"),
           Sentence: ("start", "end", "text", "clauses"), Clause: ("start", "end", "text"),
           Segmentation: ("paragraphs", "articles", "publication_year", "publication_year_source")}


def _compact_paragraphs(text: str, seg: Segmentation) -> tuple | None:
    if type(seg) is not Segmentation or any(tuple(f.name for f in fields(c)) != names for c, names in _SHAPES.items()):
        return None
    out = []
    for p in seg.paragraphs:
        if p.text != text[p.start:p.end]:
            return None
        sentences = []
        for st in p.sentences:
            if st.text != text[st.start:st.end] or any(c.text != text[c.start:c.end] for c in st.clauses):
                return None
            sentences.append((st.start, st.end, tuple((c.start, c.end) for c in st.clauses)))
        out.append((p.index, p.start, p.end, p.role, p.article, tuple(sentences)))
    return tuple(out)


def _rebuilt(document: Document, norm: NormText, paragraphs: tuple, articles: tuple, year: int | None,
             year_source: str | None, metrics: tuple[Metric, ...], prepared: dict) -> AnalysedDocument:
    t = norm.text
    rebuilt = tuple(
        Paragraph(index, start, end, t[start:end], role,
                  tuple(Sentence(s, e, t[s:e], tuple(Clause(a, b, t[a:b]) for a, b in clauses))
                        for s, e, clauses in sentences), article)
        for index, start, end, role, article, sentences in paragraphs)
    return AnalysedDocument(document, norm, Segmentation(rebuilt, articles, year, year_source), metrics, prepared)


def analyse(document: Document, *, year: int | None = None) -> AnalysedDocument:
    norm = normalise(document.text)
    segmentation = segment(norm.text, year=year)
    metrics = extract_metrics(document.path, norm, segmentation)
    return AnalysedDocument(document, norm, segmentation, tuple(metrics))


def analyse_path(path: str | os.PathLike, *, year: int | None = None, max_bytes: int | None = None) -> AnalysedDocument:
    kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
    return analyse(load_document(path, **kwargs), year=year)
