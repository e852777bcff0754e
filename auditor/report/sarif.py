"""SARIF 2.1.0 (OASIS) for code scanning: one run, the rules that ran in `tool.driver.rules`.

Each finding is a result with its rule id and index, a level (error, warning, note for info), the
message, and one physical location: the document's path as a relative URI and a region with
startLine/startColumn/endLine/endColumn (1-based, columns in Unicode code points, the end column
exclusive: `columnKind` is "unicodeCodePoints"), charOffset/charLength into the original text and a
snippet. Table findings (check-table) carry the cell's line, and for CSV its character span; their
`column` is the table column's index, so it is given as a property, not as a character column.
Related places (the other copy, last year's figure) are relatedLocations. Suppressed findings stay
as results with a `suppressions` entry (inSource for inline comments, external for a baseline), so
GitHub shows them as dismissed rather than hiding that they exist. `partialFingerprints` carries
auditor's fingerprint, so code scanning tracks a finding across commits.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import quote

from .. import __version__
from ..findings import Finding, line_and_column

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    """A relative URI for paths under the working folder (code scanning resolves them against the
    checkout), a file: URI for any other absolute path."""
    from pathlib import Path

    p = PurePath(path)
    if p.is_absolute():
        try:
            path = Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            return Path(path).as_uri()
    return quote(path.replace("\\", "/"), safe="/._-~")


def _rule_entry(rule, lang: str) -> dict[str, Any]:
    summary_zh = rule.summary.get("zh") or rule.name
    summary_en = rule.summary.get("en") or summary_zh
    short = rule.summary_in(lang)
    entry: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": f"{summary_zh} / {summary_en}" if summary_zh != summary_en else summary_zh},
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
        "properties": {"category": rule.category, "kind": rule.kind,
                       "tags": list(dict.fromkeys([rule.category, rule.kind])),
                       "source": f"{rule.source}:{rule.line}"},
    }
    help_text = short + (f"\n\nExample: {rule.example}" if rule.example else "")
    entry["help"] = {"text": help_text}
    return entry


def _region(f_start: int, f_end: int, original: str | None, *, line: int, column: int | None,
            text: str | None) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(line, 1)}
    if original is not None and 0 <= f_start <= f_end <= len(original) and original:
        start_line, start_col = line_and_column(original, f_start)
        end_line, end_col = line_and_column(original, f_end)
        region.update(startLine=start_line, startColumn=start_col, endLine=end_line, endColumn=end_col,
                      charOffset=f_start, charLength=f_end - f_start)
        region["snippet"] = {"text": original[f_start:f_end]}
    elif column is not None:
        region["startColumn"] = max(column, 1)
        if text:
            region["snippet"] = {"text": text}
    return region


def _is_table(f: Finding) -> bool:
    return isinstance(f.evidence, dict) and "row" in f.evidence and "column_index" in f.evidence


def sarif_dict(result: "AuditResult") -> dict[str, Any]:
    """The SARIF log as one dict (its results a list)."""
    log = sarif_parts(result)
    run = log["runs"][0]
    run["results"] = list(run["results"].items)
    return log


def sarif_parts(result: "AuditResult") -> dict[str, Any]:
    """The SARIF log with its results ``Lazy``: made one at a time as they are written, so a log
    of 10^6 results never exists as dicts or as one string (at 200 MB of text, 640,000 results
    and 700 MB of SARIF took 7 GB when built whole)."""
    from .json_report import Lazy

    documents = {d.path: d for d in result.documents}
    rules = list(result.rules)
    known = {r.id for r in rules}
    by_id = result.rule_set.by_id() if hasattr(result.rule_set, "by_id") else {}
    for f in result.findings:  # a finding of a rule not in the run list (defensive)
        if f.rule not in known and f.rule in by_id:
            rules.append(by_id[f.rule])
            known.add(f.rule)
    index = {r.id: i for i, r in enumerate(rules)}
    artifacts: list[dict[str, Any]] = []
    artifact_index: dict[str, int] = {}
    for d in result.documents:
        doc = d.document
        artifact_index[doc.path] = len(artifacts)
        artifact = {"location": {"uri": _uri(doc.path)}, "length": doc.size,
                    "hashes": {"sha-256": doc.sha256}}
        if doc.text:
            artifact["encoding"] = doc.encoding
        artifacts.append(artifact)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "auditor", "version": __version__, "semanticVersion": __version__,
                            "rules": [_rule_entry(r, result.lang) for r in rules]}},
        "invocations": [{"executionSuccessful": True}],
        "artifacts": artifacts,
        "results": Lazy(_result(f, _Originals(documents), artifact_index, index) for f in result.findings),
        "columnKind": "unicodeCodePoints",
        "properties": {"elapsed_s": round(result.elapsed_s, 3)},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


class _Originals:
    """A document's original text by path, read when a finding asks (a spilled audit's pages are
    read back one at a time, not all held)."""

    def __init__(self, documents: dict[str, Any]):
        self.documents = documents
        self.last: tuple[str | None, str | None] = (None, None)

    def get(self, path: str) -> str | None:
        if self.last[0] != path:
            doc = self.documents.get(path)
            self.last = (path, getattr(doc, "original", None) if doc is not None else None)
        return self.last[1]


def _result(f: Finding, originals: _Originals, artifact_index: dict[str, int], index: dict[str, int]
            ) -> dict[str, Any]:
    table = _is_table(f)
    original = originals.get(f.document)
    location: dict[str, Any] = {"uri": _uri(f.document)}
    if f.document in artifact_index:
        location["index"] = artifact_index[f.document]
    if table and not (original and f.end > f.start and original[f.start:f.end] == f.text):
        region = {"startLine": max(f.line, 1)}  # a cell of a binary table, or an empty cell
        if f.text:
            region["snippet"] = {"text": f.text}
    else:
        region = _region(f.start, f.end, original, line=f.line, column=f.column, text=f.text)
    res: dict[str, Any] = {
        "ruleId": f.rule,
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {"artifactLocation": location, "region": region}}],
    }
    if f.rule in index:
        res["ruleIndex"] = index[f.rule]
    if f.fingerprint:
        res["partialFingerprints"] = {"auditorFingerprint/v1": f.fingerprint}
    related = []
    for i, r in enumerate(f.related):
        rel_original = originals.get(r.document)
        if rel_original:
            rel_region = _region(r.start, r.end, rel_original, line=1, column=None, text=r.text)
        else:  # a document this run did not read (an archived page): offsets only
            rel_region = {"charOffset": r.start, "charLength": max(r.end - r.start, 0)}
        rel: dict[str, Any] = {"id": i + 1, "physicalLocation": {
            "artifactLocation": {"uri": _uri(r.document)}, "region": rel_region}}
        if r.note:
            rel["message"] = {"text": r.note}
        related.append(rel)
    if related:
        res["relatedLocations"] = related
    props: dict[str, Any] = {"category": f.category, "severity": f.severity}
    if f.evidence:
        props["evidence"] = json.loads(json.dumps(dict(f.evidence), ensure_ascii=False, default=_plain))
    if table:
        props["table"] = {"row": f.evidence.get("row"), "column": f.evidence.get("column"),
                          "columnIndex": f.evidence.get("column_index")}
    res["properties"] = props
    if f.suppressed is not None:
        kind = "external" if f.suppressed.startswith("baseline") else "inSource"
        res["suppressions"] = [{"kind": kind, "justification": f.suppressed}]
    return res


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def iter_sarif(result: "AuditResult") -> Iterator[str]:
    """The SARIF log in pieces, exactly ``render_sarif`` once joined (``write_output`` writes them
    as they come)."""
    from .json_report import iter_encode

    yield from iter_encode(sarif_parts(result), _dumps, indent=2)
    yield "\n"


def render_sarif(result: "AuditResult") -> str:
    return "".join(iter_sarif(result))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
