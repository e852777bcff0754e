"""Texts as arrays of code points, for the passes that look at every character of a page.

A page is read whole by numpy (its UTF-32 bytes), classified or mapped by a table indexed by code
point, and made a string again: one pass in C where a regex per character, a ``str.translate``
with a dict, or a substitution per clause costs several times more. Used by normalisation (the
width fold) and by the rules that compare characters (duplicate keys, doubled text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import regex

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


def code_points(text: str) -> "np.ndarray":
    """`text` as an array of its code points (uint32); lone surrogates pass through."""
    import numpy as np

    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def from_code_points(codes: "np.ndarray") -> str:
    """The text of an array of code points (uint32), as ``code_points`` made it."""
    return codes.tobytes().decode("utf-32-le", "surrogatepass")


class CodeTable:
    """Which code points a one-character class matches, as a numpy table by code point filled in
    as characters are met: a page meets few characters earlier pages did not, so a page costs one
    regex match per new character and one numpy read for the whole of it (a regex per character,
    or a substitution per clause, cost several times more). Per process; two 1.1 MB arrays."""

    def __init__(self, char_class: str) -> None:
        self._class = regex.compile(char_class)
        self._known = self._table = None

    def __call__(self, codes: "np.ndarray") -> "np.ndarray":
        """For each code point of `codes` (uint32), whether the class matches it."""
        import numpy as np

        if self._table is None:
            self._known = np.zeros(0x110000, dtype=bool)
            self._table = np.zeros(0x110000, dtype=bool)
        known, table = self._known, self._table
        new = np.unique(codes[~known[codes]])
        if len(new):
            table[new] = [self._class.match(chr(c)) is not None for c in new.tolist()]  # no context: one character
            known[new] = True
        return table[codes]


class CodeMap:
    """``str.translate`` for a table of one-to-one replacements below U+10000, by numpy: a dict
    lookup per character was a third of normalisation, a whole page through a table of 65,536
    code points takes a twentieth of that. Per process; one 256 KB array, made on first use."""

    def __init__(self, replacements: Mapping[int, int]) -> None:
        if any(not (0 <= k < 0x10000 and 0 <= v < 0x110000) for k, v in replacements.items()):
            raise ValueError("CodeMap replaces code points below U+10000 by code points")
        self._replacements = dict(replacements)
        self._table = None

    def __call__(self, text: str) -> str:
        import numpy as np

        if self._table is None:
            table = np.arange(0x10000, dtype=np.uint32)
            table[list(self._replacements)] = list(self._replacements.values())
            self._table = table
        codes = code_points(text)
        low = codes < 0x10000
        if low.all():
            return from_code_points(self._table[codes])
        out = codes.copy()
        out[low] = self._table[codes[low]]
        return from_code_points(out)
