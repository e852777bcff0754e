"""Hand-made documents for the rule tests: the text of a page and its figures, given by hand.

A rule kind reads an AnalysedDocument's text, segmentation and metrics. `HandDoc` builds those
from a text and a list of `fig(...)` specs, so a rule's logic can be tested without the extractor:

    doc = HandDoc("发放慰问金0.7万元，慰问劳模7人。", [fig("0.7万元", metric="condolence_money"), fig("7人")])
    findings = run(RULES, "U001", doc)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from auditor.documents.load import Document
from auditor.documents.normalise import normalise
from auditor.documents.segment import segment
from auditor.metrics import Metric
from auditor.rules.context import AuditContext
from auditor.rules.engine import run_rules
from auditor.rules.loader import load_rule_file

ROOT = Path(__file__).resolve().parents[2]

# surface unit → (base unit, scale, dimension, kind); a figure may give its own dimension (fig(dimension=…)).
UNITS = {
    "元": ("元", 1, "money", "money"), "万元": ("元", 1e4, "money", "money"), "亿元": ("元", 1e8, "money", "money"),
    "人": ("人", 1, "people", "count"), "名": ("人", 1, "people", "count"),
    "人次": ("人次", 1, "person_times", "count"), "万人次": ("人次", 1e4, "person_times", "count"),
    "家": ("家", 1, "organisations", "count"), "个": ("个", 1, "items", "count"), "份": ("份", 1, "items", "count"),
    "%": ("%", 1, "percent", "percent"),
}
_LONGEST_FIRST = sorted(UNITS, key=len, reverse=True)


@dataclass(frozen=True)
class Fig:
    """A figure as written in the page ("0.7万元", "-3万元", "X万元", "84余人") and what it stands for."""

    written: str
    metric: str | None = None  # canonical id from the taxonomy
    label: str | None = None
    approx: str | None = None  # as the extractor gives it ("余"); not read from `written`
    nth: int | None = None  # None: the next occurrence after the previous figure; n: the n-th (0-based) in the page
    dimension: str | None = None  # None: the unit's dimension in UNITS


def fig(written: str, *, metric: str | None = None, label: str | None = None, approx: str | None = None,
        nth: int | None = None, dimension: str | None = None) -> Fig:
    return Fig(written, metric, label, approx, nth, dimension)


class HandDoc:
    """What a rule kind reads of an AnalysedDocument, built from text and hand-made figures."""

    def __init__(self, text: str, figures: list[Fig], path: str = "t.txt"):
        self.document = Document(path, text, "utf-8", hashlib.sha256(text.encode()).hexdigest(), "txt", len(text))
        self.norm = normalise(text)
        self.segmentation = segment(self.norm.text)
        self._cursor = 0
        self.metrics = tuple(self._metric(f) for f in figures)

    path = property(lambda self: self.document.path)
    original = property(lambda self: self.document.text)

    def _find(self, f: Fig) -> int:
        if f.nth is None:
            return self.norm.text.index(f.written, self._cursor)
        start = -1
        for _ in range(f.nth + 1):
            start = self.norm.text.index(f.written, start + 1)
        return start

    def _metric(self, f: Fig) -> Metric:
        """The figure as the extractor would give it, found in the normalised page."""
        if not isinstance(f, Fig):
            raise TypeError(f"a figure is given as fig(...), not {f!r}")
        start = self._find(f)
        end = self._cursor = start + len(f.written)
        number = f.written.lstrip("-近约超过逾").rstrip("余多")
        surface = next(u for u in _LONGEST_FIRST if number.endswith(u))
        digits = number[: -len(surface)].rstrip("余多")
        base, scale, dimension, kind = UNITS[surface]
        sign = -1 if f.written.startswith("-") else 1
        value = None if "X" in digits else float(digits) * scale * sign
        article = self.segmentation.article_at(start)
        o_start, o_end = self.norm.to_original(start, end)
        return Metric(self.document.path, o_start, o_end, self.original[o_start:o_end], value, base, surface, f.approx,
                      kind, f.dimension or dimension, article.entity if article else None,
                      article.year if article else None, f.label, f.metric, placeholder=value is None,
                      article=article.index if article else None, norm_start=start, norm_end=end)


def rules_of(file_name: str) -> dict:
    """The rules of rules/<file_name>, by id."""
    return {r.id: r for r in load_rule_file(ROOT / "rules" / file_name)}


def run(rules: dict, rule_id: str, *docs) -> list:
    """The findings of one rule over the given documents (hand-made or analysed)."""
    return run_rules([rules[rule_id]], AuditContext(list(docs)))


def assert_rule_file(rules: dict, category: str) -> None:
    """Every rule of the file is of `category` (as its kind too) and has bilingual texts and an example."""
    for rule in rules.values():
        assert rule.category == category and rule.kind == category, rule.id
        assert rule.message.get("en") and rule.summary.get("en") and rule.example, rule.id
