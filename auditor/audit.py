"""An audit: documents through the pipeline, then the selected rules over all of them together."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from .config import Config
from .documents.load import iter_document_paths
from .errors import UsageError
from .findings import SEVERITY_RANK, Finding
from .pipeline import AnalysedDocument
from .rules.engine import select_rules
from .rules.loader import RuleSet, load_rules
from .rules.model import Rule


@dataclass(frozen=True)
class AuditResult:
    documents: tuple[AnalysedDocument, ...]  # or handles on disk (auditor/engines/spill.py)
    findings: Sequence[Finding]  # a tuple, or SpilledFindings for a spilled audit
    rule_set: RuleSet
    rules: tuple[Rule, ...]  # the ones that ran
    elapsed_s: float
    lang: str
    jobs: int = 1  # processes the reports may use for the long arrays of a large audit

    def at_or_above(self, level: str) -> list[Finding]:
        return list(self._each_at_or_above(level))

    def fails_at(self, level: str) -> bool:
        """Whether any finding not suppressed is at `level` or above: the exit code's question,
        answered at the first one (a list of them all held 400 MB at 200 MB of text)."""
        return next(self._each_at_or_above(level), None) is not None

    def _each_at_or_above(self, level: str) -> Iterator[Finding]:
        threshold = SEVERITY_RANK[level]
        return (f for f in self.findings if f.suppressed is None and SEVERITY_RANK[f.severity] >= threshold)


def document_files(paths: Iterable[str], config: Config) -> list[str]:
    """The files an audit reads, in path order; none is a usage error."""
    paths = list(paths)
    files = list(iter_document_paths(paths, exclude=config.exclude))
    if not files:
        raise UsageError("no documents found (supported: .txt .md .docx .pdf .html)",
                         path=paths[0] if len(paths) == 1 else None)
    return files


def analyse_paths(paths: Iterable[str], config: Config, *, jobs: int | None = None) -> list[AnalysedDocument]:
    """Every document through the pipeline, in path order: in `jobs` (default config.jobs, else one
    per core) worker processes, with results identical to one process (auditor/engines/local.py)."""
    from .engines.local import analyse_files

    return analyse_files(document_files(paths, config), year=config.year, max_bytes=config.max_bytes,
                         jobs=jobs if jobs is not None else config.jobs)


def load_selected_rules(config: Config) -> tuple[RuleSet, list[Rule]]:
    rule_set = load_rules(config.rules, include_defaults=not config.no_default_rules)
    return rule_set, select_rules(rule_set.rules, config.select, config.ignore)


def _open_history(config: Config, history):
    """(store, opened here). `history` is an open store, False for none (--no-history), or None:
    the configured store (default .auditor/history.duckdb), opened read-only when the file exists.
    No file means no history, never an error."""
    if history is False:
        return None, False
    if history is not None:
        return history, False
    from .history import open_for_audit

    store = open_for_audit(config)
    return store, store is not None


def run_audit(paths: Sequence[str], config: Config, *, history=None, baseline: str | None = None) -> AuditResult:
    """The audit of `paths`: analysis and the rules that read one document at a time in `config.jobs`
    worker processes, then the corpus-wide rules (auditor.engines.local.audit_documents); the
    findings are those of one process running every rule over every document."""
    from .engines.local import audit_documents, resolve_jobs

    started = time.perf_counter()
    rule_set, rules = load_selected_rules(config)  # rule errors surface before any document is read
    baselined = _load_baseline(baseline)
    files = document_files(paths, config)
    opened: list = []

    def open_history():  # once every document is read: a file's error comes first, the lock is held briefly
        store, mine = _open_history(config, history)
        if mine:
            opened.append(store)
        return store

    try:
        documents, found = audit_documents(files, config, rules, history=open_history)
        findings = apply_suppressions(documents, found, baselined)
    finally:
        for store in opened:
            store.close()  # release the file's shared lock: a writer may be waiting
    if not hasattr(findings, "rewritten"):  # on disk (SpilledFindings): stays there
        findings = tuple(findings)
    return AuditResult(tuple(documents), findings, rule_set, tuple(rules), time.perf_counter() - started, config.lang,
                       resolve_jobs(config.jobs))


def _load_baseline(path: str | None) -> dict | None:
    if path is None:
        return None
    from .baseline import load_baseline

    return load_baseline(path)


def apply_suppressions(documents: Sequence, findings: Sequence[Finding], baseline: dict | None = None
                       ) -> Sequence[Finding]:
    """Inline `<!-- auditor: ignore … -->` comments (md/txt), then the baseline's fingerprints: the
    findings stay, marked `suppressed` with the reason (see auditor/suppress.py, auditor/baseline.py).
    Findings kept on disk (``SpilledFindings``) are rewritten there, one by one."""
    from .suppress import inline_suppressions, mark_inline

    by_doc = inline_suppressions(documents)
    if not by_doc and not baseline:
        return findings if hasattr(findings, "rewritten") else list(findings)
    marked = mark_inline(by_doc, findings)
    if baseline:
        from .baseline import mark_baseline

        marked = mark_baseline(marked, baseline)
    return findings.rewritten(marked) if hasattr(findings, "rewritten") else list(marked)
