"""The one Finding type every rule produces and every reporter reads.

Offsets are code-point offsets into the ORIGINAL decoded text of `document`, so that
`original[start:end] == text` always holds; line and column are 1-based and derived from them.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from collections import Counter
from typing import Any, Iterable, Literal, Mapping

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SEVERITY_RANK: dict[str, int] = {"error": 3, "warning": 2, "info": 1, "never": 99}
_NEWLINE = re.compile("\n")
CATEGORIES = ("placeholder", "duplicate", "unit", "yoy", "arithmetic", "ocr", "typo", "other")


@dataclass(frozen=True, slots=True)
class Related:
    """Another place a finding points at: the other copy of a duplicate, last year's figure."""

    document: str
    start: int
    end: int
    text: str
    note: str | None = None

    def __reduce__(self) -> tuple:
        return Related, (self.document, self.start, self.end, self.text, self.note)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    category: str
    severity: Severity
    message: str  # in the report language chosen for this run
    document: str
    start: int
    end: int
    line: int
    column: int
    text: str
    related: tuple[Related, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    suppressed: str | None = None  # the reason, when an inline comment or baseline silences it

    def sort_key(self) -> tuple:
        return (self.document, self.start, self.end, self.rule)

    def __reduce__(self) -> tuple:
        """Pickled as its fields in order: a frozen slots dataclass pickles through dataclasses'
        field-by-field state functions, 5x slower (findings cross from the pool's workers, and a
        spilled audit writes them to disk and reads them back)."""
        return Finding, (self.rule, self.category, self.severity, self.message, self.document, self.start,
                         self.end, self.line, self.column, self.text, self.related, self.evidence,
                         self.fingerprint, self.suppressed)


@dataclass
class Tally:
    """What a summary counts of a run's findings: the active ones by severity and by category,
    and how many are suppressed. Kept by findings written to disk as they are written, so a report
    of a spilled audit does not read them all once more only to count them."""

    by_severity: Counter = field(default_factory=Counter)
    by_category: Counter = field(default_factory=Counter)
    suppressed: int = 0

    def add(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            if f.suppressed is None:
                self.by_severity[f.severity] += 1
                self.by_category[f.category] += 1
            else:
                self.suppressed += 1

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> "Tally":
        """The findings' tally: the one they keep (``SpilledFindings.tally``), else counted."""
        kept = getattr(findings, "tally", None)
        if kept is not None:
            return kept
        tally = cls()
        tally.add(findings)
        return tally


def line_and_column(original: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in code points) of `offset` in `original`."""
    if len(original) < 4096:
        line = original.count("\n", 0, offset) + 1
        last_newline = original.rfind("\n", 0, offset)
        return line, offset - last_newline
    # Long texts: bisect an index of line starts, built once per text. Counting from the start for
    # every figure and finding made a page written as one 10 MB line quadratic (minutes, not seconds).
    starts = _line_starts(original)
    line = max(bisect_right(starts, offset), 1)
    return line, offset - starts[line - 1] + 1


@lru_cache(maxsize=8)
def _line_starts(original: str) -> list[int]:
    """Offsets where the lines of `original` start (0, then one past each newline)."""
    return [0, *(m.end() for m in _NEWLINE.finditer(original))]


def fingerprint(rule: str, document: str, original: str, start: int, end: int) -> str:
    """A finding's id that survives edits elsewhere in the document.

    It hashes the rule, the document's file name, the flagged text and a few characters of
    context on each side, never the offsets, so unrelated text moving does not change it.
    """
    name = document.replace("\\", "/").rsplit("/", 1)[-1]
    # Context stops at the line's edge, so a line added above or below leaves it alone.
    before = original[max(0, start - 8):start].rsplit("\n", 1)[-1]
    after = original[end:end + 8].split("\n", 1)[0]
    key = "\x1f".join((rule, name, before, original[start:end], after))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
