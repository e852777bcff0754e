"""A Markdown summary for a pull-request comment: counts, then the findings as a table.

The table lists active findings by severity (errors first), at most MAX_ROWS of them, with a line
saying how many more there are; suppressed findings (inline comments, baseline) are counted, and
listed in a collapsed <details> block with their reasons. Cell text is escaped for GitHub-flavoured
Markdown (pipes, backticks, angle brackets, line breaks).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..findings import SEVERITY_RANK, Finding

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult

MAX_ROWS = 50
ICONS = {"error": "🔴 error", "warning": "🟠 warning", "info": "🔵 info"}


def _cell(text: str) -> str:
    text = " ".join(str(text).split())
    for a, b in (("\\", "\\\\"), ("|", "\\|"), ("`", "\\`"), ("<", "&lt;"), (">", "&gt;"), ("*", "\\*"),
                 ("_", "\\_")):
        text = text.replace(a, b)
    return text


def _where(f: Finding) -> str:
    if isinstance(f.evidence, dict) and "row" in f.evidence and "column" in f.evidence:
        return f"{f.document}:{f.line} (row {f.evidence['row']}, column {f.evidence['column']})"
    return f"{f.document}:{f.line}:{f.column}"


def render_markdown(result: "AuditResult", max_rows: int = MAX_ROWS) -> str:
    active = [f for f in result.findings if f.suppressed is None]
    suppressed = [f for f in result.findings if f.suppressed is not None]
    counts = Counter(f.severity for f in active)
    verdict = "❌" if counts["error"] else ("⚠️" if active else "✅")
    out = [f"## {verdict} auditor: {len(active)} finding{'s' if len(active) != 1 else ''} "
           f"in {len(result.documents)} document{'s' if len(result.documents) != 1 else ''}", ""]
    out += ["| severity | count |", "|---|---:|"]
    for sev in ("error", "warning", "info"):
        out.append(f"| {ICONS[sev]} | {counts[sev]} |")
    out.append(f"| suppressed | {len(suppressed)} |")
    out.append("")
    if active:
        by_rule = Counter(f.rule for f in active)
        out.append("**By rule:** " + ", ".join(f"`{r}` × {n}" for r, n in sorted(by_rule.items())))
        out.append("")
        ordered = sorted(active, key=lambda f: (-SEVERITY_RANK[f.severity], f.document, f.line, f.column, f.rule))
        out += ["| severity | rule | where | message |", "|---|---|---|---|"]
        for f in ordered[:max_rows]:
            out.append(f"| {ICONS[f.severity]} | `{f.rule}` | {_cell(_where(f))} | {_cell(f.message)} |")
        if len(ordered) > max_rows:
            out.append("")
            out.append(f"… and {len(ordered) - max_rows} more (see the full report).")
        out.append("")
    if suppressed:
        out += ["<details><summary>Suppressed findings</summary>", "", "| rule | where | reason |", "|---|---|---|"]
        for f in suppressed[:max_rows]:
            out.append(f"| `{f.rule}` | {_cell(_where(f))} | {_cell(f.suppressed or '')} |")
        if len(suppressed) > max_rows:
            out.append(f"| … | {len(suppressed) - max_rows} more | |")
        out += ["", "</details>", ""]
    out.append(f"<sub>auditor · {len(result.rules)} rules · {result.elapsed_s:.2f} s</sub>")
    return "\n".join(out) + "\n"
