"""Running a rule set over analysed documents: selection, timeouts, ordering."""

from __future__ import annotations

import fnmatch
from typing import Iterable, Sequence

from ..errors import AuditorError
from ..findings import Finding
from .context import AuditContext
from .model import Rule
from .registry import get_kind


class RuleTimeoutError(AuditorError):
    """A rule's regular expression ran past its time limit (catastrophic backtracking)."""


def select_rules(rules: Iterable[Rule], select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Rule]:
    """Rules chosen by id prefix ("D", "D001"), name ("duplicate-clause", globs allowed) or category.
    An empty `select` means every enabled rule; `ignore` wins over `select`."""

    select = [c for code in select for c in code.split(",")]  # --select P,D as well as --select P --select D
    ignore = [c for code in ignore for c in code.split(",")]

    def matches(rule: Rule, codes: Sequence[str]) -> bool:
        for code in codes:
            code = code.strip()
            if not code:
                continue
            if code.upper() == "ALL" or rule.id.startswith(code.upper()) or rule.category == code \
                    or fnmatch.fnmatchcase(rule.name, code):
                return True
        return False

    chosen = []
    for rule in rules:
        if rule.description.get("disabled") and not matches(rule, [c for c in select if c.upper() != "ALL"]):
            continue
        if select and not matches(rule, select):
            continue
        if ignore and matches(rule, ignore):
            continue
        chosen.append(rule)
    return chosen


def run_rules(rules: Sequence[Rule], ctx: AuditContext) -> list[Finding]:
    findings: dict[tuple, Finding] = {}
    for rule in rules:
        kind = get_kind(rule.kind)
        if kind is None:  # the loader has already refused unknown kinds; a defensive message only
            raise AuditorError(f"rule {rule.id}: unknown kind '{rule.kind}'", path=rule.source, line=rule.line)
        try:
            for f in kind.check(rule, ctx):
                findings.setdefault((f.rule, f.document, f.start, f.end), f)
        except TimeoutError:
            raise RuleTimeoutError(
                f"rule {rule.id} ({rule.name}): a regular expression ran longer than {ctx.regex_timeout:g} s "
                "and was stopped (catastrophic backtracking?); fix the pattern or raise --regex-timeout",
                path=rule.source, line=rule.line) from None
    return sorted(findings.values(), key=Finding.sort_key)
