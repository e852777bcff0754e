"""The normalised view of a document, and the map from it back to the original text.

Rules and extractors read `NormText.text`: full-width ASCII folded to ASCII, hard line wraps inside
sentences joined, stray spaces inside figures dropped, paragraph breaks reduced to one "\\n". Every
change is a one-for-one substitution or a deletion, so each normalised character comes from exactly
one original character and `NormText.to_original` maps any span back to `original[start:end]`.

The map is stored as runs (a new run starts after each deletion), not one int per character: a
20 MB page has a few hundred thousand line breaks, not twenty million entries.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass

import regex

from ..codepoints import CodeMap
from .packed import offset_array

# Full-width ASCII (U+FF01..U+FF5E) folds onto ASCII; the ideographic space and NBSP onto a space.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0x00A0: 0x20, 0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20, 0x202F: 0x20})
# Invisible characters are dropped, not folded, so they cannot hide inside a figure or a duplicate.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_FOLD_WIDTH = CodeMap(_FOLD)

# Spaces inside a figure: between a digit (or placeholder X) and a Han character or unit, either way round.
_FIGURE_SPACE = regex.compile(
    r"(?<=[0-9Xx×.%])[ \t]+(?=[0-9Xx×\p{Han}%])|(?<=[\p{Han}])[ \t]+(?=[0-9Xx×])"
)
_INVISIBLE_RUN = regex.compile("[" + _INVISIBLE + r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")

# A line that ends with one of these closes its sentence, so the break after it is kept.
_SENTENCE_END = frozenset("。！？!?：:…")
# A line starting like this opens a new block (dateline, outline heading, caption) even after a wrap.
_BLOCK_START = regex.compile(
    r"""^(?:本报讯|本报\p{Han}{0,4}讯|编者按|图片说明|本版稿件|——|\#|\*\*|[①-⑳]
         |[一二三四五六七八九十]{1,3}[、.]
         |[(（][一二三四五六七八九十0-9]{1,3}[)）]
         |[0-9]{1,2}[、.．](?![0-9]))""",
    regex.VERBOSE,
)
_IN_SENTENCE = regex.compile(r"[,，、。;；]")
# Two phrases set apart by a space inside a short line is how page headlines are printed.
_HEADLINE_GAP = regex.compile(r"\p{Han}[ \t]+\p{Han}")



def display_width(s: str) -> float:
    """Width in CJK cells: Han and full-width characters count 1, ASCII half."""
    return len(s) - 0.5 * len(s.encode("ascii", "ignore"))


@dataclass(frozen=True, slots=True)
class NormText:
    """Normalised text plus the runs that map it back to the original."""

    text: str
    original: str
    # Start of each run in `text`, and where that run starts in `original`: int arrays, 4 bytes a
    # run (a tuple of ints took 36, and the audit holds every document's map until it reports).
    _norm_starts: array
    _orig_starts: array

    def __hash__(self) -> int:  # arrays are not hashable; the texts decide (equal maps follow from them)
        return hash((self.text, self.original))

    def original_index(self, i: int) -> int:
        """Original offset of normalised character i (i == len(text) maps to len(original))."""
        if i >= len(self.text):
            return len(self.original)
        run = bisect_right(self._norm_starts, i) - 1
        return self._orig_starts[run] + (i - self._norm_starts[run])

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original span covering normalised [start, end); deleted characters inside it come along."""
        if end <= start:
            o = self.original_index(start)
            return o, o
        return self.original_index(start), self.original_index(end - 1) + 1

    def original_text(self, start: int, end: int) -> str:
        o_start, o_end = self.to_original(start, end)
        return self.original[o_start:o_end]


@dataclass(frozen=True, slots=True)
class _Line:
    start: int  # offsets into the folded text, the line's content without surrounding blanks
    end: int
    text: str
    width: float


def _content_lines(folded: str) -> list[_Line]:
    lines: list[_Line] = []
    pos = 0
    for raw in folded.split("\n"):
        stripped = raw.strip(" \t\r\f\v")
        if stripped:
            lead = len(raw) - len(raw.lstrip(" \t\r\f\v"))
            lines.append(_Line(pos + lead, pos + lead + len(stripped), stripped, display_width(stripped)))
        pos += len(raw) + 1
    return lines


def _wraps_on_single_newlines(folded: str, lines: list[_Line]) -> bool:
    """Pages that mark paragraphs with blank lines wrap their sentences with single newlines."""
    singles = sum(1 for a, b in zip(lines, lines[1:]) if "\n\n" not in folded[a.end:b.start].replace("\r", "").replace(" ", ""))
    return singles * 2 > max(len(lines) - 1, 1)


def _local_width(lines: list[_Line], i: int) -> float:
    """The column width at line i, read off its two neighbours: pages change column width between
    articles, so a page-wide figure would misjudge the narrow ones."""
    return max(lines[j].width for j in (i - 1, i + 1) if 0 <= j < len(lines))


def _is_hard_wrapped(lines: list[_Line]) -> bool:
    """Most lines shorter than a column: the page was wrapped at a fixed width (000, 003, 004),
    not written one line per paragraph (001, 002)."""
    return sum(1 for line in lines if line.width <= 60) * 2 >= len(lines)


def _joins(lines: list[_Line], i: int, blank_lines: int, single_newline_wraps: bool, hard_wrapped: bool) -> bool:
    """Is the break after line i a wrap inside a paragraph rather than the end of a block?"""
    prev, nxt = lines[i], lines[i + 1]
    if _BLOCK_START.match(nxt.text):
        return False
    full = prev.width >= 0.8 * _local_width(lines, i)
    if prev.text[-1] in _SENTENCE_END:
        # A sentence that ends exactly at the column edge continues the paragraph only where a
        # single newline is how the page wraps.
        return single_newline_wraps and blank_lines == 0 and prev.width >= 0.9 * _local_width(lines, i)
    if _IN_SENTENCE.search(prev.text):
        return True  # a comma or full stop inside: the line is part of a sentence, headlines never are
    if prev.width < 2 * 18 and _HEADLINE_GAP.search(prev.text):
        return False  # two phrases set apart by a space: a headline
    if not hard_wrapped:
        return prev.width >= 40  # a long line cut mid-sentence by the layout, not a headline
    return full and prev.width >= 8


def normalise(original: str) -> NormText:
    folded = _FOLD_WIDTH(original)
    lines = _content_lines(folded)
    single_newline_wraps = _wraps_on_single_newlines(folded, lines)
    hard_wrapped = _is_hard_wrapped(lines)

    # Edits over `folded`: (start, end, replacement), replacement "" (delete) or "\n" (one break).
    edits: list[tuple[int, int, str]] = []
    if lines:
        edits.append((0, lines[0].start, ""))
        edits.append((lines[-1].end, len(folded), ""))
    else:
        edits.append((0, len(folded), ""))
    for i in range(len(lines) - 1):
        gap_start, gap_end = lines[i].end, lines[i + 1].start
        blank_lines = folded.count("\n", gap_start, gap_end) - 1
        joined = _joins(lines, i, blank_lines, single_newline_wraps, hard_wrapped)
        edits.append((gap_start, gap_end, "" if joined else "\n"))
    for m in _FIGURE_SPACE.finditer(folded):
        edits.append((m.start(), m.end(), ""))
    for m in _INVISIBLE_RUN.finditer(folded):
        edits.append((m.start(), m.end(), ""))
    return _apply(original, folded, edits)


def _apply(original: str, folded: str, edits: list[tuple[int, int, str]]) -> NormText:
    edits.sort()
    pieces: list[str] = []
    norm_starts: list[int] = [0]
    orig_starts: list[int] = [0]
    pos = 0  # in folded/original
    out = 0  # in the normalised text
    for start, end, replacement in edits:
        if end <= pos:
            continue  # swallowed by an earlier, wider edit
        start = max(start, pos)
        pieces.append(folded[pos:start])
        out += start - pos
        if replacement:
            anchor = original.find("\n", start, end)
            norm_starts.append(out)
            orig_starts.append(anchor if anchor >= 0 else start)
            pieces.append(replacement)
            out += 1
        pos = end
        norm_starts.append(out)
        orig_starts.append(pos)
    pieces.append(folded[pos:])
    # Collapse runs that start at the same normalised offset: the later one wins.
    runs: dict[int, int] = {}
    for n, o in zip(norm_starts, orig_starts):
        runs[n] = o
    limit = max(len(original), out)
    return NormText("".join(pieces), original, offset_array(limit, runs), offset_array(limit, runs.values()))
