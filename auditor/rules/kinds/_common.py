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


def compile_all(patterns: Iterable[str]) -> list[regex.Pattern]:
    return [regex.compile(p, regex.V1) for p in patterns]


def spans(patterns: Iterable[regex.Pattern], text: str, timeout: float) -> list[tuple[int, int]]:
    """Every match span of every pattern; a pattern that runs past `timeout` raises TimeoutError."""
    out = []
    for p in patterns:
        out.extend(m.span() for m in p.finditer(text, timeout=timeout))
    return out


def inside_any(start: int, end: int, allowed: list[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b for a, b in allowed)
