"""What a rule kind sees: the analysed documents of one audit, and helpers to report findings."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Hashable, Iterable, Iterator, Mapping, Sequence, TypeVar

from ..findings import Finding, Related, Severity, fingerprint, line_and_column
from ..metrics import Metric
from .model import Rule

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..pipeline import AnalysedDocument

T = TypeVar("T")


@dataclass
class AuditContext:
    documents: Sequence["AnalysedDocument"]
    lang: str = "zh"
    regex_timeout: float = 2.0  # seconds a user's regex may run on one document
    history: Any = None  # the archive of earlier pages, when one is open
    _frame: Any = field(default=None, repr=False)
    _metrics: list[Metric] | None = field(default=None, repr=False)
    _memo: dict = field(default_factory=dict, repr=False)

    def document(self, path: str) -> "AnalysedDocument":
        for doc in self.documents:
            if doc.path == path:
                return doc
        raise KeyError(path)

    def metrics(self) -> list[Metric]:
        """Every metric of the audit, in document order (listed once, on first use: documents may
        keep their metrics packed, made into Metric objects as they are read)."""
        if self._metrics is None:
            self._metrics = [m for doc in self.documents for m in doc.metrics]
        return list(self._metrics)  # a list of the caller's own

    def metrics_where(self, names: Sequence[str], keep: Callable[..., bool]) -> list[Metric]:
        """The metrics of the audit, in document order, for which ``keep(*fields)`` holds, `fields`
        their values of `names`: tested on the documents' packed columns, so a rule that reads a
        few of the audit's figures does not hold a Metric object for every one (not cached)."""
        from ..extract.packed_metrics import metrics_where

        return [m for doc in self.documents for m in metrics_where(doc.metrics, names, keep)]

    def fields_where(self, names: Sequence[str], keep: Callable[..., bool]) -> Iterator[tuple[int, int, tuple]]:
        """(document number, metric number, fields) of each metric of the audit for which
        ``keep(*fields)`` holds, `fields` its values of `names`, in document order: for a rule that
        keeps a few numbers of many figures, and makes Metric objects only of those it reports
        (``self.documents[d].metrics[k]``)."""
        from ..extract.packed_metrics import fields_where

        for d, doc in enumerate(self.documents):
            for k, fields in fields_where(doc.metrics, names, keep):
                yield d, k, fields

    def scratch_file(self) -> AbstractContextManager[BinaryIO]:
        """A file for a rule's working data that grows with the audit: an unnamed temporary file
        in the spill folder of a spilled audit, in memory otherwise; ``with ctx.scratch_file() as f``."""
        from ..engines.spill import scratch_file

        return scratch_file(self.documents)

    def metrics_frame(self) -> "pd.DataFrame":
        """All metrics of the audit as one validated table (built once, on first use)."""
        if self._frame is None:
            from ..metrics import to_frame

            self._frame = to_frame(self.metrics())
        return self._frame

    def forget(self) -> None:
        """Let go of what ``memo``, ``metrics`` and ``metrics_frame`` keep (recomputed if asked again)."""
        self._memo.clear()
        self._frame = self._metrics = None

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """`make()` computed once per audit for `key`: work several rules share (a document's
        clauses as the duplicate rules see them, the weight of a text). The key must hold every
        input the value depends on (a document by ``id``, the rule parameters used)."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = make()
            return value

    # ------------------------------------------------------------ building findings

    def finding(self, rule: Rule, doc: "AnalysedDocument", norm_start: int, norm_end: int, *,
                related: Iterable[Related] = (), evidence: Mapping[str, Any] | None = None,
                severity: Severity | None = None, fields: Mapping[str, Any] | None = None) -> Finding:
        """A finding on normalised span [norm_start, norm_end) of `doc`, reported on the original."""
        start, end = doc.norm.to_original(norm_start, norm_end)
        return self.finding_at(rule, doc, start, end, related=related, evidence=evidence, severity=severity,
                               fields=fields)

    def finding_at(self, rule: Rule, doc: "AnalysedDocument", start: int, end: int, *,
                   related: Iterable[Related] = (), evidence: Mapping[str, Any] | None = None,
                   severity: Severity | None = None, fields: Mapping[str, Any] | None = None) -> Finding:
        """A finding on original span [start, end) of `doc`."""
        original = doc.original
        text = original[start:end]
        line, column = line_and_column(original, start)
        evidence = dict(evidence or {})
        values = {"text": text, **evidence, **(fields or {})}
        return Finding(
            rule=rule.id, category=rule.category, severity=severity or rule.severity,
            # Interned: most messages repeat (one placeholder, one typo, thousands of times) and the
            # audit holds every finding until it reports.
            message=sys.intern(rule.text(values, self.lang)), document=doc.path, start=start, end=end, line=line,
            column=column, text=text, related=tuple(related), evidence=evidence,
            fingerprint=fingerprint(rule.id, doc.path, original, start, end),
        )

    def related(self, doc: "AnalysedDocument", norm_start: int, norm_end: int, note: str | None = None) -> Related:
        start, end = doc.norm.to_original(norm_start, norm_end)
        return Related(doc.path, start, end, doc.original[start:end], note)

    def related_metric(self, metric: Metric, note: str | None = None) -> Related:
        return Related(metric.document, metric.start, metric.end, metric.text, note)
