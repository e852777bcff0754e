"""Several regexes as one alternation, for a quick "does any of them match?" before trying each."""

from __future__ import annotations

from typing import Sequence

import regex

# A pattern that may not keep its meaning inside an alternation of several (group references,
# inline flags, named groups, recursion): such a list is tried pattern by pattern.
_NOT_JOINABLE = regex.compile(r"\\[1-9gkKG]|\(\?[^:=!<>]|\(\?<[^=!]")


def any_of(patterns: Sequence[str]) -> str | None:
    """One pattern that matches where any of `patterns` does, or None when there are none or one
    of them cannot be joined."""
    if not patterns or any(_NOT_JOINABLE.search(p) for p in patterns):
        return None
    return "|".join(f"(?:{p})" for p in patterns)
