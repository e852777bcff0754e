"""One document through the pipeline: load → normalise → segment → extract.

Every stage takes plain data and returns plain data, so the same function runs in one process,
in a process pool, or inside a Spark task.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .documents.load import Document, load_document
from .documents.normalise import NormText, normalise
from .documents.segment import Segmentation, segment
from .extract.extractor import extract_metrics
from .metrics import Metric


@dataclass(frozen=True)
class AnalysedDocument:
    document: Document
    norm: NormText
    segmentation: Segmentation
    metrics: tuple[Metric, ...]

    @property
    def path(self) -> str:
        return self.document.path

    @property
    def original(self) -> str:
        return self.document.text

    def original_span(self, norm_start: int, norm_end: int) -> tuple[int, int]:
        return self.norm.to_original(norm_start, norm_end)


def analyse(document: Document, *, year: int | None = None) -> AnalysedDocument:
    norm = normalise(document.text)
    segmentation = segment(norm.text, year=year)
    metrics = extract_metrics(document.path, norm, segmentation)
    return AnalysedDocument(document, norm, segmentation, tuple(metrics))


def analyse_path(path: str | os.PathLike, *, year: int | None = None, max_bytes: int | None = None) -> AnalysedDocument:
    kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
    return analyse(load_document(path, **kwargs), year=year)
