"""Cheap tests before a regex search, for patterns tried on many short texts: several patterns as
one alternation, and the literal strings one of which every match must contain."""

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


class _Unknown(Exception):
    """A construct the literal reader does not follow: the pattern gets no prefilter."""


_META = set("\\.^$|?*+()[]{}")
_QUANTIFIER = regex.compile(r"[?*+]|\{(\d*)(?:,\d*)?\}")


def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings one of which is inside every match of `pattern` (None: not known). Read off a
    plain subset of the syntax (literal characters, groups, alternation, classes, quantifiers,
    escapes); anything else, inline flags or lookarounds among them, answers None."""
    try:
        found, end = _alternation(pattern, 0)
    except _Unknown:
        return None
    if end != len(pattern):
        return None
    return found


def any_required(patterns: Sequence[str]) -> frozenset[str] | None:
    """The literals of all `patterns` together: a text holding none of them matches none of
    them (None: some pattern has no known literal)."""
    out: set[str] = set()
    for p in patterns:
        found = required_literals(p)
        if not found:
            return None
        out |= found
    return frozenset(out)


def _alternation(p: str, i: int) -> tuple[frozenset[str] | None, int]:
    branches = []
    while True:
        found, i = _sequence(p, i)
        branches.append(found)
        if i < len(p) and p[i] == "|":
            i += 1
            continue
        break
    if any(b is None for b in branches):
        return None, i
    return frozenset().union(*branches), i


def _sequence(p: str, i: int) -> tuple[frozenset[str] | None, int]:
    """The best requirement among the items of a sequence (the one whose shortest string is
    longest), runs of literal characters joined into one string."""
    candidates: list[frozenset[str]] = []
    run = ""
    while i < len(p) and p[i] not in "|)":
        group, literal, i = _atom(p, i)
        q = _QUANTIFIER.match(p, i)
        if q:
            i = q.end()
            if i < len(p) and p[i] in "?+":  # lazy or possessive: the same characters
                i += 1
            least = 1 if q.group() == "+" else 0 if q.group() in "?*" else int(q.group(1) or 0)
            if run:
                candidates.append(frozenset([run]))
            run = ""
            if least >= 1 and (literal or group):
                candidates.append(frozenset([literal]) if literal else group)
            continue
        if literal:
            run += literal
            continue
        if run:
            candidates.append(frozenset([run]))
        run = ""
        if group:
            candidates.append(group)
    if run:
        candidates.append(frozenset([run]))
    if not candidates:
        return None, i
    return max(candidates, key=lambda c: min(map(len, c))), i


def _atom(p: str, i: int) -> tuple[frozenset[str] | None, str, int]:
    """(requirement of a group, literal character, next index) of the item at p[i]."""
    ch = p[i]
    if ch == "\\":
        if i + 1 >= len(p):
            raise _Unknown
        nxt = p[i + 1]
        if nxt.isalnum() or nxt == "_":  # \d, \p{Han}, \b, \n ...: not a literal
            if nxt in "pP" and i + 2 < len(p) and p[i + 2] == "{":
                close = p.find("}", i + 2)
                if close < 0:
                    raise _Unknown
                return None, "", close + 1
            if nxt in "xuUN0123456789gkKGL":
                raise _Unknown  # hex, octal, named characters and lists, back references: not followed
            return None, "", i + 2
        return None, nxt, i + 2
    if ch == "[":
        j = i + 1
        if j < len(p) and p[j] == "^":
            j += 1
        if j < len(p) and p[j] == "]":
            j += 1
        while j < len(p) and p[j] != "]":
            if p[j] == "[":
                raise _Unknown  # nested sets (V1)
            j += 2 if p[j] == "\\" else 1
        if j >= len(p):
            raise _Unknown
        return None, "", j + 1
    if ch == "(":
        j = i + 1
        if p.startswith("?:", j):
            j += 2
        elif p.startswith("?P<", j) or (p.startswith("?<", j) and p[j + 2:j + 3] not in ("=", "!")):
            close = p.find(">", j)
            if close < 0:
                raise _Unknown
            j = close + 1
        elif p.startswith("?", j):
            raise _Unknown  # lookarounds, flags, atomic groups, conditionals
        found, j = _alternation(p, j)
        if j >= len(p) or p[j] != ")":
            raise _Unknown
        return found, "", j + 1
    if ch in ".^$":
        return None, "", i + 1
    if ch in _META:
        raise _Unknown  # a quantifier with nothing before it, a stray brace
    return None, ch, i + 1
