"""Compact forms of what an audit keeps for every document until it reports.

The audit's parent holds every analysed document of the corpus until the corpus-wide rules have
run and the reports are written. Offsets, counts and flags are kept in int arrays (4 bytes an
entry instead of 28 for an int object and 8 for its slot in a tuple), and sequences of small
objects (paragraphs, metrics) as columns, made into objects again only when read.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any, Iterable, Iterator


def offset_array(limit: int, values: Iterable[int] = ()) -> array:
    """An int array for offsets into a text of `limit` characters (and small counts, years, -1 for
    none): 4 bytes an entry, 8 for a text past 2^31 characters."""
    return array("i" if limit < 2**31 - 1 else "q", values)


class PackedSequence(Sequence):
    """A read-only sequence whose items are made from packed columns when read (``_item``). It
    reads like the tuple it stands for: len, index, slices (as tuples), iteration, equality with
    that tuple."""

    __slots__ = ()

    def _item(self, k: int) -> Any:  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def __getitem__(self, k):
        if isinstance(k, slice):
            return tuple(self._item(i) for i in range(*k.indices(len(self))))
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        return self._item(k)

    def __iter__(self) -> Iterator:
        return (self._item(k) for k in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (PackedSequence, tuple)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} items)"
