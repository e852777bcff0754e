"""Baselines: adopt a gate on a backlog. Record today's findings; later runs report only new ones.

``--write-baseline FILE`` writes every current finding (not those silenced inline) as

    {"version": 1, "tool": "auditor",
     "findings": [{"fingerprint": "…", "rule": "P001", "document": "a.txt", "text": "X元",
                   "reason": "…"}]}

sorted by document, rule and fingerprint so the file diffs well. A reason already given for a
fingerprint in the file being overwritten is kept; edit ``reason`` by hand to say why an entry may
stay. ``--baseline FILE`` marks findings whose fingerprint is listed as suppressed
(``suppressed = "baseline: <reason>"``): they stay in the JSON report and its summary but do not
fail the gate. Fingerprints hash the rule, the file name and the flagged text with a little context,
never offsets, so edits elsewhere in a document do not turn old findings into new ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Iterator

from .errors import UsageError
from .findings import Finding

VERSION = 1


def load_baseline(path: str | os.PathLike) -> dict[str, dict]:
    """fingerprint → entry. A missing or malformed file is a usage error (exit 2)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError("baseline file not found", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read baseline: {exc}", path=str(p)) from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"baseline is not valid JSON: {exc.msg}", path=str(p), line=exc.lineno,
                         column=exc.colno) from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise UsageError('baseline must be an object with a "findings" list', path=str(p))
    out: dict[str, dict] = {}
    for i, entry in enumerate(data["findings"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise UsageError(f"baseline entry {i + 1} has no fingerprint", path=str(p))
        out[entry["fingerprint"]] = entry
    return out


def baseline_dict(findings: Iterable[Finding], previous: dict[str, dict] | None = None) -> dict:
    previous = previous or {}
    entries = {}
    for f in findings:
        if f.suppressed is not None and not f.suppressed.startswith("baseline"):
            continue  # silenced inline: the comment is its record
        if not f.fingerprint or f.fingerprint in entries:
            continue
        entries[f.fingerprint] = {"fingerprint": f.fingerprint, "rule": f.rule, "document": f.document,
                                  "text": f.text, "reason": previous.get(f.fingerprint, {}).get("reason", "")}
    ordered = sorted(entries.values(), key=lambda e: (e["document"], e["rule"], e["fingerprint"]))
    return {"version": VERSION, "tool": "auditor", "findings": ordered}


def write_baseline(path: str | os.PathLike, findings: Iterable[Finding]) -> int:
    """Write the baseline (atomically); returns the number of entries."""
    from .report.write import write_output

    previous = {}
    if Path(path).is_file():
        try:
            previous = load_baseline(path)
        except UsageError:
            previous = {}
    data = baseline_dict(findings, previous)
    write_output(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return len(data["findings"])


def apply_baseline(findings: Iterable[Finding], baseline: dict[str, dict]) -> list[Finding]:
    """Findings whose fingerprint the baseline lists become suppressed ("baseline: reason")."""
    return list(mark_baseline(findings, baseline))


def mark_baseline(findings: Iterable[Finding], baseline: dict[str, dict]) -> Iterator[Finding]:
    """``apply_baseline`` one finding at a time."""
    for f in findings:
        entry = baseline.get(f.fingerprint) if f.suppressed is None else None
        if entry is not None:
            reason = str(entry.get("reason") or "").strip()
            f = replace(f, suppressed=f"baseline: {reason}" if reason else "baseline")
        yield f
