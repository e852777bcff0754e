"""An audit: documents through the pipeline, then the selected rules over all of them together."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Sequence

from .config import Config
from .documents.load import iter_document_paths
from .errors import UsageError
from .findings import SEVERITY_RANK, Finding
from .pipeline import AnalysedDocument, analyse_path
from .rules.context import AuditContext
from .rules.engine import run_rules, select_rules
from .rules.loader import RuleSet, load_rules
from .rules.model import Rule


@dataclass(frozen=True)
class AuditResult:
    documents: tuple[AnalysedDocument, ...]
    findings: tuple[Finding, ...]
    rule_set: RuleSet
    rules: tuple[Rule, ...]  # the ones that ran
    elapsed_s: float
    lang: str

    def at_or_above(self, level: str) -> list[Finding]:
        threshold = SEVERITY_RANK[level]
        return [f for f in self.findings if f.suppressed is None and SEVERITY_RANK[f.severity] >= threshold]


def analyse_paths(paths: Iterable[str], config: Config) -> list[AnalysedDocument]:
    files = list(iter_document_paths(paths, exclude=config.exclude))
    if not files:
        raise UsageError("no documents found (supported: .txt .md .docx .pdf .html)")
    return [analyse_path(f, year=config.year, max_bytes=config.max_bytes) for f in files]


def load_selected_rules(config: Config) -> tuple[RuleSet, list[Rule]]:
    rule_set = load_rules(config.rules, include_defaults=not config.no_default_rules)
    return rule_set, select_rules(rule_set.rules, config.select, config.ignore)


def run_audit(paths: Sequence[str], config: Config, *, history=None) -> AuditResult:
    started = time.perf_counter()
    rule_set, rules = load_selected_rules(config)  # rule errors surface before any document is read
    documents = analyse_paths(paths, config)
    ctx = AuditContext(documents, lang=config.lang, regex_timeout=config.regex_timeout, history=history)
    findings = run_rules(rules, ctx)
    return AuditResult(tuple(documents), tuple(findings), rule_set, tuple(rules),
                       time.perf_counter() - started, config.lang)
