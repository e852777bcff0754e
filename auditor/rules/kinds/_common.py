"""Pieces several rule kinds share: validated regex parameters and allow-lists."""

from __future__ import annotations

from typing import Annotated, Iterable

import regex
from pydantic import AfterValidator


def _compiles(pattern: str) -> str:
    try:
        regex.compile(pattern, regex.V1)
    except regex.error as exc:
        raise ValueError(f"regular expression {pattern!r} does not compile: {exc}") from None
    return pattern


# A regex parameter: checked when the rule file loads, so a bad pattern is a rule-file error.
Pattern = Annotated[str, AfterValidator(_compiles)]


# Built-in parameter defaults (a rule kind's own figure or placeholder pattern) known to run in
# linear time, tests/rules/test_common.py checks them on hostile text: these run without the
# time limit, whose timer costs ~2 µs a call, more than the search itself on a clause (the duplicate
# rules search every clause of the audit). A user's pattern, or any other, keeps the limit.
_VETTED: set[str] = set()


def vetted(pattern: str) -> str:
    """Mark a built-in default pattern as safe to run without the regex time limit."""
    _VETTED.add(pattern)
    return pattern


class Timed:
    """A rule's compiled pattern whose every call runs under the audit's regex time limit, so a
    catastrophic pattern in any parameter (a cue, a figure, a boilerplate phrase) stops with
    TimeoutError, which the engine reports naming the rule, instead of hanging the audit.
    `timeout=None` means no limit, as for the built-in defaults marked ``vetted``."""

    __slots__ = ("pattern", "timeout")

    def __init__(self, pattern: "str | regex.Pattern", timeout: float | None) -> None:
        self.pattern = pattern if isinstance(pattern, regex.Pattern) else regex.compile(pattern, regex.V1)
        self.timeout = None if isinstance(pattern, str) and pattern in _VETTED else timeout

    def _t(self, timeout: float | None) -> float | None:
        return self.timeout if timeout is None else timeout

    def search(self, string, *args, timeout=None, **kwargs):
        return self.pattern.search(string, *args, timeout=self._t(timeout), **kwargs)

    def match(self, string, *args, timeout=None, **kwargs):
        return self.pattern.match(string, *args, timeout=self._t(timeout), **kwargs)

    def fullmatch(self, string, *args, timeout=None, **kwargs):
        return self.pattern.fullmatch(string, *args, timeout=self._t(timeout), **kwargs)

    def finditer(self, string, *args, timeout=None, **kwargs):
        return self.pattern.finditer(string, *args, timeout=self._t(timeout), **kwargs)

    def findall(self, string, *args, timeout=None, **kwargs):
        return self.pattern.findall(string, *args, timeout=self._t(timeout), **kwargs)

    def sub(self, repl, string, *args, timeout=None, **kwargs):
        return self.pattern.sub(repl, string, *args, timeout=self._t(timeout), **kwargs)

    def split(self, string, *args, timeout=None, **kwargs):
        return self.pattern.split(string, *args, timeout=self._t(timeout), **kwargs)


def timed(pattern: str, timeout: float | None) -> Timed:
    return Timed(pattern, timeout)


def compile_all(patterns: Iterable[str], timeout: float | None = None) -> list[Timed]:
    return [Timed(p, timeout) for p in patterns]


def spans(patterns: Iterable[regex.Pattern], text: str, timeout: float) -> list[tuple[int, int]]:
    """Every match span of every pattern; a pattern that runs past `timeout` raises TimeoutError."""
    out = []
    for p in patterns:
        out.extend(m.span() for m in p.finditer(text, timeout=timeout))
    return out


def inside_any(start: int, end: int, allowed: list[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b for a, b in allowed)

