"""One document through the pipeline: load → normalise → segment → extract.

Every stage takes plain data and returns plain data, so the same function runs in one process,
in a process pool, or inside a Spark task.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Sequence

from .documents.load import Document, load_document
from .documents.normalise import NormText, normalise
from .documents.segment import Segmentation, segment
from .extract.extractor import extract_metrics
from .extract.packed_metrics import PackedMetrics
from .metrics import Metric


@dataclass(frozen=True)
class AnalysedDocument:
    document: Document
    norm: NormText
    segmentation: Segmentation
    metrics: Sequence[Metric]  # a tuple, or PackedMetrics once packed()
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

    def packed(self) -> "AnalysedDocument":
        """The document as it is kept once the rules that walk its sentences have run: its
        paragraphs, sentences and clauses as offsets (``PackedParagraphs``) and its metrics as
        columns (``PackedMetrics``), made into objects again only when read. Equal to this one."""
        segmentation = self.segmentation.packed(self.norm.text)
        metrics = PackedMetrics.pack(self.metrics, max(len(self.original), len(self.norm.text))) or self.metrics
        if segmentation is self.segmentation and metrics is self.metrics:
            return self
        return AnalysedDocument(self.document, self.norm, segmentation, metrics, self.prepared)

    def __reduce__(self) -> tuple[Any, tuple]:
        """Pickled packed: the offsets of every paragraph, sentence and clause rather than their
        objects and three more copies of the page's text, the metrics as columns (most of the
        cost of sending a document from a worker to the parent); the normalised text is pickled
        once, shared by both."""
        doc = self.packed()
        return AnalysedDocument, (doc.document, doc.norm, doc.segmentation, doc.metrics, doc.prepared)


def analyse(document: Document, *, year: int | None = None) -> AnalysedDocument:
    norm = normalise(document.text)
    segmentation = segment(norm.text, year=year)
    metrics = extract_metrics(document.path, norm, segmentation)
    return AnalysedDocument(document, norm, segmentation, tuple(metrics))


def analyse_path(path: str | os.PathLike, *, year: int | None = None, max_bytes: int | None = None) -> AnalysedDocument:
    kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
    return analyse(load_document(path, **kwargs), year=year)
