"""Inline suppressions in .md/.txt drafts: an HTML comment naming the rules to silence, and why.

    拨缴工会经费总额为 X元。<!-- auditor: ignore P001 模板示例，故意保留 -->
    <!-- auditor: ignore D001,D002 两篇通稿本就相同 -->
    目前，全市有工会组织298家……

A comment applies to the line it is on and to the next non-blank line after it (so it can stand on
its own line above the text it excuses). RULE is a rule id (P001), an id prefix (D) or ``all``;
several are separated by commas. The rest of the comment is the reason.

A suppressed finding is not dropped: it keeps its place in the report with
``suppressed = "inline: <reason>"``, is counted in the JSON summary, skipped by the console and
filtered in the HTML report, and never fails the gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Sequence

from .findings import Finding

COMMENT = re.compile(r"<!--\s*auditor:\s*ignore\s+([A-Za-z0-9_*]+(?:\s*,\s*[A-Za-z0-9_*]+)*)(.*?)-->", re.S)
FORMATS = ("txt", "md")


@dataclass(frozen=True)
class Suppression:
    rules: tuple[str, ...]
    reason: str
    lines: frozenset[int]  # 1-based lines of the document it applies to
    line: int  # where the comment starts

    def covers(self, f: Finding) -> bool:
        if f.line not in self.lines:
            return False
        rule = f.rule.upper()
        return any(r in ("ALL", "*") or rule == r or rule.startswith(r) for r in self.rules)


def parse_suppressions(text: str) -> list[Suppression]:
    """Every `<!-- auditor: ignore … -->` comment of a document, with the lines it covers."""
    out = []
    lines = text.split("\n")
    for m in COMMENT.finditer(text):
        rules = tuple(r.strip().upper() for r in m.group(1).split(",") if r.strip())
        reason = " ".join(m.group(2).split())
        first = text.count("\n", 0, m.start()) + 1
        last = text.count("\n", 0, m.end()) + 1
        covered = set(range(first, last + 1))
        for n in range(last + 1, len(lines) + 1):  # and the next non-blank line after it
            if lines[n - 1].strip():
                covered.add(n)
                break
        out.append(Suppression(rules, reason, frozenset(covered), first))
    return out


def apply_inline(documents: Iterable, findings: Sequence[Finding]) -> list[Finding]:
    """Mark the findings an inline comment covers as suppressed ("inline: reason")."""
    return list(mark_inline(inline_suppressions(documents), findings))


def inline_suppressions(documents: Iterable) -> dict[str, list[Suppression]]:
    """The inline comments of the documents that have any (md/txt), by path."""
    by_doc: dict[str, list[Suppression]] = {}
    for doc in documents:
        document = getattr(doc, "document", None)
        if document is None or getattr(document, "format", None) not in FORMATS:
            continue
        found = parse_suppressions(document.text)
        if found:
            by_doc[document.path] = found
    return by_doc


def mark_inline(by_doc: dict[str, list[Suppression]], findings: Iterable[Finding]) -> Iterator[Finding]:
    """The findings, one by one, those a comment of `by_doc` covers marked suppressed."""
    for f in findings:
        if f.suppressed is None:
            for s in by_doc.get(f.document, ()):
                if s.covers(f):
                    f = replace(f, suppressed=f"inline: {s.reason}" if s.reason else "inline")
                    break
        yield f
