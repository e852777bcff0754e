"""placeholder: unfilled template text ("X万元", "××人", "某某", "□", "待补充") left in a draft.

Matches the rule's patterns and literal terms in the normalised text; a match that lies inside a
match of an `allow` pattern (a real term such as “3+X”, X光) is not reported.
"""

from __future__ import annotations

from typing import Iterable

import regex
from pydantic import BaseModel, ConfigDict, Field

from ...findings import Finding
from ..context import AuditContext
from ..model import Rule
from ..registry import register_kind
from ._common import Pattern, compile_all, inside_any, spans


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patterns: list[Pattern] = Field(default_factory=list, description="regexes that match a placeholder")
    terms: list[str] = Field(default_factory=list, description="literal placeholder words")
    allow: list[Pattern] = Field(default_factory=list, description="regexes of real terms to leave alone")


@register_kind("placeholder", Params)
def check(rule: Rule, ctx: AuditContext) -> Iterable[Finding]:
    params: Params = rule.params  # type: ignore[assignment]
    patterns = compile_all(params.patterns)
    if params.terms:
        patterns.append(regex.compile("|".join(regex.escape(t) for t in sorted(params.terms, key=len, reverse=True))))
    allow = compile_all(params.allow)
    for doc in ctx.documents:
        text = doc.norm.text
        allowed = spans(allow, text, ctx.regex_timeout)
        for start, end in sorted(set(spans(patterns, text, ctx.regex_timeout))):
            if end > start and not inside_any(start, end, allowed):
                yield ctx.finding(rule, doc, start, end)
