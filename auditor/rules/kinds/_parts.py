"""Rows of a corpus-wide rule in parts of whole groups, so that what a rule holds at once stays
bounded however large the archive: year-over-year compares series by series, magnitude slip
figures by (entity, metric), and neither needs two groups at once."""

from __future__ import annotations

import pickle
from collections import defaultdict
from contextlib import ExitStack
from typing import BinaryIO, Callable, Hashable, Iterable, Iterator, Sequence, TypeVar

from ..context import AuditContext

T = TypeVar("T")

HELD_AT_MOST = 1 << 17  # rows held as one part (tens of MB of small tuples); past that, bucketed on disk
BUCKETS = 64


def in_group_parts(ctx: AuditContext, rows: Iterable[T], group: Callable[[T], Hashable],
                   held_at_most: int | None = None, buckets: int | None = None) -> Iterator[list[T]]:
    """`rows` in parts that each hold every row of their groups (``group(row)``), in their order.
    Up to `held_at_most` rows are one part, as they came; more are written as they come to
    `buckets` scratch files by the hash of their group (pickled a batch at a time) and read back
    a bucket at a time. `rows` is read once, lazily: it may compute its tail from its head."""
    held_at_most = held_at_most or HELD_AT_MOST
    held: list[T] = []
    with ExitStack() as stack:
        files: list[BinaryIO] = []
        for row in rows:
            held.append(row)
            if len(held) >= held_at_most:
                if not files:
                    files.extend(stack.enter_context(ctx.scratch_file()) for _ in range(buckets or BUCKETS))
                _spread(held, group, files)
        if not files:
            if held:
                yield held
            return
        _spread(held, group, files)
        for f in files:
            part = _read_back(f)
            if part:
                yield part


def _spread(held: list[T], group: Callable[[T], Hashable], files: Sequence[BinaryIO]) -> None:
    """Append `held` to the files of their groups, and empty it."""
    parts: dict[int, list[T]] = defaultdict(list)
    for row in held:
        parts[hash(group(row)) % len(files)].append(row)
    for f, part in parts.items():
        pickle.dump(part, files[f], protocol=pickle.HIGHEST_PROTOCOL)
    held.clear()


def _read_back(f: BinaryIO) -> list:
    f.seek(0)
    part: list = []
    while True:
        try:
            part.extend(pickle.load(f))
        except EOFError:
            return part
