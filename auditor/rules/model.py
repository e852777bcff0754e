"""A rule as loaded from its YAML file: identity, severity, messages, and its kind's parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from pydantic import BaseModel

from ..findings import Severity

LANGS = ("zh", "en")


class _Missing(dict):
    """format_map helper: a field the rule's message names but the finding lacks stays visible."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Rule:
    id: str  # stable code, e.g. "D001"; what --select, baselines and suppressions name
    name: str  # short slug, e.g. "duplicate-clause"
    kind: str  # which detector runs it (a module in auditor/rules/kinds)
    category: str
    severity: Severity
    message: Mapping[str, str]  # per language, a str.format template over the finding's fields
    summary: Mapping[str, str]  # what the rule checks, one line per language
    params: BaseModel
    source: str  # the rule file
    line: int  # where the rule starts in it
    example: str | None = None
    description: Mapping[str, str] = field(default_factory=dict)

    def text(self, field_values: Mapping[str, Any], lang: str = "zh") -> str:
        template = self.message.get(lang) or self.message.get("zh") or next(iter(self.message.values()))
        try:
            return template.format_map(_Missing({k: _show(v) for k, v in field_values.items()}))
        except (ValueError, IndexError, AttributeError, KeyError, TypeError):
            return template  # the loader refuses such templates; a rule built in code shows it as written

    def summary_in(self, lang: str = "zh") -> str:
        return self.summary.get(lang) or self.summary.get("zh") or self.name


def _show(value: Any) -> Any:
    """Numbers in messages: no trailing .0, thousands kept readable."""
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        return float(f"{value:.4g}")
    return value
