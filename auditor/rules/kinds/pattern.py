"""pattern: regular-expression checks on the wording, each match a finding.

For typos with a known fix (和诣 → 和谐) a `replace` template gives the suggestion, reported in the
message as {suggestion}; `group` picks the part of the match to underline. Every pattern runs
under the audit's regex time limit, so a catastrophic user pattern stops with the rule named.
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


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: Pattern
    replace: str | None = Field(None, description="suggested text, may use \\1 or \\g<name>")
    group: int | str = Field(0, description="the group to underline")
    note: str | None = Field(None, description="why this is wrong, shown as {note}")


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checks: list[Check] = Field(min_length=1)
    allow: list[Pattern] = Field(default_factory=list, description="regexes whose matches are left alone")


@register_kind("pattern", Params)
def check(rule: Rule, ctx: AuditContext) -> Iterable[Finding]:
    params: Params = rule.params  # type: ignore[assignment]
    compiled = [(c, regex.compile(c.pattern, regex.V1)) for c in params.checks]
    allow = compile_all(params.allow)
    for doc in ctx.documents:
        text = doc.norm.text
        allowed = spans(allow, text, ctx.regex_timeout)
        for c, pattern in compiled:
            for m in pattern.finditer(text, timeout=ctx.regex_timeout):
                start, end = m.span(c.group)
                if end <= start or inside_any(start, end, allowed):
                    continue
                suggestion = m.expand(c.replace) if c.replace is not None else ""
                yield ctx.finding(rule, doc, start, end, evidence={"suggestion": suggestion} if suggestion else {},
                                  fields={"suggestion": suggestion, "note": c.note or ""})
