"""pattern: regular-expression checks on the wording, each match a finding.

For typos with a known fix (和诣 → 和谐) a `replace` template gives the suggestion, reported in the
message as {suggestion}; `group` picks the part of the match to underline. Every pattern runs
under the audit's regex time limit, so a catastrophic user pattern stops with the rule named.
"""

from __future__ import annotations

from typing import Iterable

import regex
from pydantic import BaseModel, ConfigDict, Field, model_validator

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

    @model_validator(mode="after")
    def _groups_exist(self) -> "Check":
        """A group or a replacement that names a group the pattern lacks is a rule-file error, not
        a crash on the first match."""
        compiled = regex.compile(self.pattern, regex.V1)
        if isinstance(self.group, int) and not 0 <= self.group <= compiled.groups \
                or isinstance(self.group, str) and self.group not in compiled.groupindex:
            raise ValueError(f"group {self.group!r} is not a group of the pattern {self.pattern!r}")
        if self.replace is not None:
            # The pattern or nothing: it matches the empty string, so the template is expanded once
            # and a bad escape or a group the pattern lacks shows now (groups keep their numbers;
            # the newline ends a (?x) comment that would swallow the wrapper).
            try:
                regex.compile(f"(?:{self.pattern}\n)|", regex.V1).sub(self.replace, "")
            except (regex.error, IndexError) as exc:
                raise ValueError(f"replace {self.replace!r} is not a valid template for the pattern "
                                 f"{self.pattern!r}: {exc}") from None
        return self


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
                try:
                    suggestion = m.expand(c.replace) if c.replace is not None else ""
                except (IndexError, regex.error):  # refused when the rule file loads; defence in depth
                    suggestion = ""
                yield ctx.finding(rule, doc, start, end, evidence={"suggestion": suggestion} if suggestion else {},
                                  fields={"suggestion": suggestion, "note": c.note or ""})
