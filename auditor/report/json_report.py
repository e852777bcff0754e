"""The JSON report: exactly the contract in contracts/audit-report.schema.json (schema_version 1)."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from ..audit import AuditResult


def report_dict(result: "AuditResult") -> dict[str, Any]:
    active = [f for f in result.findings if f.suppressed is None]
    return {
        "schema_version": 1,
        "tool": {"name": "auditor", "version": __version__, "rules": list(result.rule_set.files)},
        "documents": [_document(d) for d in result.documents],
        "metrics": [m.contract_record() for d in result.documents for m in d.metrics],
        "findings": [finding_dict(f) for f in result.findings],
        "summary": {
            "documents": len(result.documents),
            "findings": len(active),
            "by_severity": dict(Counter(f.severity for f in active)),
            "by_category": dict(Counter(f.category for f in active)),
            "suppressed": sum(1 for f in result.findings if f.suppressed is not None),
            "elapsed_s": round(result.elapsed_s, 3),
        },
    }


def _document(doc) -> dict[str, Any]:
    articles = []
    for a in doc.segmentation.articles:
        for start, end in a.parts:
            o_start, o_end = doc.norm.to_original(start, end)
            articles.append({"start": o_start, "end": o_end, "entity": a.entity, "year": a.year, "title": a.title})
    d = doc.document
    return {"path": d.path, "sha256": d.sha256, "encoding": d.encoding, "chars": len(d.text), "articles": articles}


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule, "category": f.category, "severity": f.severity, "message": f.message,
        "document": f.document, "start": f.start, "end": f.end, "line": f.line, "column": f.column,
        "text": f.text, "fingerprint": f.fingerprint,
    }
    if f.related:
        out["related"] = [{k: v for k, v in (("document", r.document), ("start", r.start), ("end", r.end),
                                              ("text", r.text), ("note", r.note)) if v is not None}
                          for r in f.related]
    if f.evidence:
        out["evidence"] = dict(f.evidence)
    if f.suppressed is not None:
        out["suppressed"] = f.suppressed
    return out


def render_json(result: "AuditResult") -> str:
    # ensure_ascii=False: Chinese stays readable, no \\u escapes.
    return json.dumps(report_dict(result), ensure_ascii=False, indent=2, default=_plain) + "\n"


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars from a metrics frame
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)
