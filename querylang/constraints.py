"""Constraints: the set algebra the compiler lowers a boolean expression with.

One field's clause (any AND / OR / NOT of its terms) evaluates to a `ValueSet` (value-set fields)
or an `IntervalSet` (time and duration). Both are closed under union, intersection and
complement, so the clause can be evaluated exactly, and only its final value has to be something
one request can say (a finite set, one interval). Union and intersection are n-ary and linear in
their input, so a 10,000-term OR costs no more per term than a two-term one.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

OrderKey = tuple[int, int]
"""Where a member was first mentioned, `(0, offset in the text)`, or where a complement put it,
`(1, position in the schema)`: mentioned values come first, in the order written."""


@dataclass(frozen=True, slots=True)
class ValueSet:
    """A finite set of values (`complement=False`), or everything but them (`complement=True`)."""

    members: dict[Hashable, OrderKey]
    complement: bool = False

    @classmethod
    def of(cls, members: Iterable[tuple[Hashable, OrderKey]]) -> ValueSet:
        found: dict[Hashable, OrderKey] = {}
        for value, key in members:
            found[value] = min(key, found.get(value, key))
        return cls(found)

    def negate(self) -> ValueSet:
        return ValueSet(self.members, not self.complement)

    def within(self, universe: Sequence[Hashable]) -> ValueSet:
        """The same set as a finite one, for a closed set of possible values."""
        if not self.complement:
            return ValueSet({v: k for v, k in self.members.items() if v in universe})
        return ValueSet(
            {value: (1, index) for index, value in enumerate(universe) if value not in self.members}
        )

    def ordered(self) -> list[Hashable]:
        return sorted(self.members, key=self.members.__getitem__)

    @staticmethod
    def union(sets: Iterable[ValueSet]) -> ValueSet:
        finite, cofinite = _split(sets)
        mentioned = _merge(s.members for s in finite)
        if not cofinite:
            return ValueSet(mentioned)
        excluded = _common(s.members for s in cofinite)
        return ValueSet({v: k for v, k in excluded.items() if v not in mentioned}, complement=True)

    @staticmethod
    def intersection(sets: Iterable[ValueSet]) -> ValueSet:
        finite, cofinite = _split(sets)
        excluded = _merge(s.members for s in cofinite)
        if not finite:
            return ValueSet(excluded, complement=True)
        common = _common(s.members for s in finite)
        return ValueSet({v: k for v, k in common.items() if v not in excluded})


def _split(sets: Iterable[ValueSet]) -> tuple[list[ValueSet], list[ValueSet]]:
    finite: list[ValueSet] = []
    cofinite: list[ValueSet] = []
    for value_set in sets:
        (cofinite if value_set.complement else finite).append(value_set)
    return finite, cofinite


def _merge(all_members: Iterable[dict[Hashable, OrderKey]]) -> dict[Hashable, OrderKey]:
    merged: dict[Hashable, OrderKey] = {}
    for members in all_members:
        for value, key in members.items():
            if value not in merged or key < merged[value]:
                merged[value] = key
    return merged


def _common(all_members: Iterable[dict[Hashable, OrderKey]]) -> dict[Hashable, OrderKey]:
    iterator = iter(all_members)
    common = dict(next(iterator))
    for members in iterator:
        common = {v: min(k, members[v]) for v, k in common.items() if v in members}
    return common


class _Comparable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


T = TypeVar("T", bound=_Comparable)


@dataclass(frozen=True, slots=True)
class IntervalSet(Generic[T]):
    """A union of disjoint, non-touching half-open intervals `[low, high)`, sorted; `None` is an
    infinite end. Integers (milliseconds) and datetimes both fit."""

    intervals: tuple[tuple[T | None, T | None], ...]

    @classmethod
    def between(cls, low: T | None, high: T | None) -> Self:
        empty = low is not None and high is not None and not low < high
        return cls(() if empty else ((low, high),))

    @classmethod
    def everything(cls) -> Self:
        return cls(((None, None),))

    def negate(self) -> IntervalSet[T]:
        gaps: list[tuple[T | None, T | None]] = []
        previous_high: T | None = None
        started = False
        for low, high in self.intervals:
            if low is not None:
                gaps.append((previous_high if started else None, low))
            previous_high, started = high, True
            if high is None:
                break
        else:
            gaps.append((previous_high if started else None, None))
        return IntervalSet(tuple(gaps))

    @staticmethod
    def union(sets: Iterable[IntervalSet[T]]) -> IntervalSet[T]:
        pieces = [interval for s in sets for interval in s.intervals]
        pieces.sort(key=lambda interval: (interval[0] is not None, interval[0]))  # None first
        merged: list[tuple[T | None, T | None]] = []
        for low, high in pieces:
            if merged:
                last_low, last_high = merged[-1]
                if last_high is None:
                    break
                if low is None or not last_high < low:  # overlapping or touching
                    if high is None or last_high < high:
                        merged[-1] = (last_low, high)
                    continue
            merged.append((low, high))
        return IntervalSet(tuple(merged))

    @staticmethod
    def intersection(sets: Iterable[IntervalSet[T]]) -> IntervalSet[T]:
        result: IntervalSet[T] | None = None
        for interval_set in sets:
            result = interval_set if result is None else result._intersect(interval_set)
        return result if result is not None else IntervalSet.everything()

    def _intersect(self, other: IntervalSet[T]) -> IntervalSet[T]:
        # Both lists are sorted and disjoint: one sweep, advancing whichever interval ends first.
        pieces: list[tuple[T | None, T | None]] = []
        mine, theirs = self.intervals, other.intervals
        i = j = 0
        while i < len(mine) and j < len(theirs):
            (low_a, high_a), (low_b, high_b) = mine[i], theirs[j]
            low, high = _max_low(low_a, low_b), _min_high(high_a, high_b)
            if low is None or high is None or low < high:
                pieces.append((low, high))
            if high_b is None or (high_a is not None and high_a < high_b):
                i += 1
            else:
                j += 1
        return IntervalSet(tuple(pieces))


def _max_low(a: T | None, b: T | None) -> T | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if a < b else a


def _min_high(a: T | None, b: T | None) -> T | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a < b else b
