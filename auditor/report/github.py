"""GitHub Actions workflow commands: one annotation per active finding, shown on the file and line.

    ::error file=a.txt,line=3,col=5,endLine=3,endColumn=7,title=P001 unfilled-placeholder::message

error/warning/info map to ::error/::warning/::notice. Values are escaped as the runner expects
(% → %25, CR → %0D, LF → %0A; in properties also : → %3A and , → %2C). Suppressed findings are
not annotated; a last line (a plain log line) counts them with the rest.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..findings import Finding, line_and_column

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding, original: str | None = None, rule_name: str | None = None) -> str:
    props = [("file", f.document.replace("\\", "/")), ("line", str(f.line))]
    table = isinstance(f.evidence, dict) and "column_index" in f.evidence
    if not table:
        props.append(("col", str(f.column)))
        if original is not None and 0 <= f.start <= f.end <= len(original):
            end_line, end_col = line_and_column(original, f.end)
            props += [("endLine", str(end_line)), ("endColumn", str(end_col))]
    title = f"{f.rule} {rule_name}" if rule_name else f.rule
    props.append(("title", title))
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{COMMANDS.get(f.severity, 'warning')} {head}::{escape_data(f.message)}"


def render_github(result: "AuditResult") -> str:
    originals = {d.path: getattr(d, "original", None) for d in result.documents}
    names = {r.id: r.name for r in result.rules}
    lines = [annotation(f, originals.get(f.document), names.get(f.rule)) for f in result.findings
             if f.suppressed is None]
    active = Counter(f.severity for f in result.findings if f.suppressed is None)
    suppressed = sum(1 for f in result.findings if f.suppressed is not None)
    lines.append(f"auditor: {len(result.documents)} document(s), {sum(active.values())} finding(s) "
                 f"(error {active['error']}, warning {active['warning']}, info {active['info']}), "
                 f"{suppressed} suppressed")
    return "\n".join(lines) + "\n"
