"""From a segmented page to its metrics: every figure, with its label, metric id, entity and year."""

from __future__ import annotations

from bisect import bisect_right
from sys import intern

from ..documents.normalise import NormText
from ..documents.segment import Clause, Segmentation
from ..findings import line_and_column
from ..metrics import Metric
from .labels import find_label
from .quantities import Quantity, find_quantities
from .taxonomy import Taxonomy, load_taxonomy


def extract_metrics(path: str, norm: NormText, segmentation: Segmentation,
                    taxonomy: Taxonomy | None = None) -> list[Metric]:
    taxonomy = taxonomy or load_taxonomy()
    clauses = [c for s in segmentation.sentences() for c in s.clauses]
    clause_starts = [c.start for c in clauses]
    metrics: list[Metric] = []
    previous_end_in_clause: dict[int, int] = {}
    for q in find_quantities(norm.text):
        clause_index = bisect_right(clause_starts, q.start) - 1
        clause = clauses[clause_index] if clause_index >= 0 and q.start < clauses[clause_index].end else None
        label = _label(norm.text, clause, q, previous_end_in_clause.get(clause_index)) if clause else None
        if clause is not None:
            previous_end_in_clause[clause_index] = q.end
        article = segmentation.article_at(q.start)
        start, end = norm.to_original(q.start, q.end)
        metrics.append(Metric(
            document=path,
            start=start,
            end=end,
            # Strings interned: a corpus has ~100 units and qualifiers and thousands of repeated
            # figures ("2万元") over 10^5 metric rows, which the audit holds until it reports (and
            # pickling a batch of documents writes a shared object once).
            text=intern(norm.original[start:end]),
            value=q.value,
            unit=q.unit and intern(q.unit),
            surface_unit=q.surface_unit and intern(q.surface_unit),
            approx=q.approx and intern(q.approx),
            kind=intern(q.kind),
            dimension=q.dimension and intern(q.dimension),
            entity=article.entity if article else None,
            year=article.year if article else None,
            label=label,
            metric=taxonomy.classify(label, q.dimension, (q.unit, q.surface_unit)),
            placeholder=q.placeholder,
            range_low=q.range[0] if q.range else None,
            range_high=q.range[1] if q.range else None,
            article=article.index if article else None,
            line=line_and_column(norm.original, start)[0],
            norm_start=q.start,
            norm_end=q.end,
        ))
    return metrics


def _label(text: str, clause: Clause, q: Quantity, previous_end: int | None) -> str | None:
    return find_label(text, clause.start, clause.end, q.number_start if q.number_start else q.start, q.end,
                      previous_end)
