"""Rows of a corpus-wide rule in parts of whole groups (auditor/rules/kinds/_parts.py): held as one
part when few, bucketed by group in scratch files when many."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from auditor.rules.context import AuditContext
from auditor.rules.kinds._parts import in_group_parts


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["洮南", "大安", "通榆", "镇赉", "白城"]), st.integers(0, 9)), max_size=40),
       held_at_most=st.integers(1, 50), buckets=st.integers(1, 5))
def test_every_row_once_each_group_whole_and_in_order(rows, held_at_most, buckets):
    parts = list(in_group_parts(AuditContext([]), iter(rows), lambda row: row[0], held_at_most, buckets))
    assert all(parts)
    assert sorted(row for part in parts for row in part) == sorted(rows)
    groups_of = [{row[0] for row in part} for part in parts]
    assert sum(map(len, groups_of)) == len(set().union(*groups_of))  # no group in two parts
    for part in parts:
        for group in {row[0] for row in part}:
            assert [r for r in part if r[0] == group] == [r for r in rows if r[0] == group]
    if len(rows) < held_at_most:
        assert parts == ([rows] if rows else [])


def test_rows_are_read_once_and_lazily():
    """A tail computed from the head (as year-over-year asks the history store for the series
    it saw) comes after the head is read."""
    seen = []

    def rows():
        for n in range(5):
            seen.append(n)
            yield ("a", n)
        yield ("b", len(seen))

    (part,) = in_group_parts(AuditContext([]), rows(), lambda row: row[0], held_at_most=3, buckets=1)
    assert part == [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 5)]
