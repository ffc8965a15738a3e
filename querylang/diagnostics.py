"""Diagnose: any text -> every problem in it, as a list, never an exception.

For search boxes, which ask on every keystroke. Syntax errors come from the forgiving parse
(`parser.parse_partial`), which skips each error and goes on; what remains is checked and lowered
to the request, so meaning errors (`unknown_field`, `contradiction`, ...) show up beside syntax
errors. A term with a problem stands in the checked query as an unread `Condition`, and hides
only what depends on its value. `diagnose(text) == []` exactly when `compile(text)` succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import assert_never

from querylang.checker import check_all
from querylang.compiler import lower
from querylang.errors import Diagnostic, QueryError, Span
from querylang.limits import stack_guard
from querylang.parser import PartialParse, parse_partial_both
from querylang.query import Condition, Conjunction, Disjunction, Filter, Negation, Query
from querylang.values import Ago, DaysAgo, phone_region, time_zone

# tokens(), diagnose() and complete() are called together on every keystroke with the same text:
# they share one parse (and one check) per text. Results are immutable, so sharing is safe.
_CACHE_SIZE = 64


def partial_parse(text: str, *, stop_at_end: bool = False) -> PartialParse:
    """`parse_partial` with the default limits, remembered for the last few texts."""
    return _partial_parses(text)[stop_at_end]


@lru_cache(maxsize=_CACHE_SIZE)
def _partial_parses(text: str) -> tuple[PartialParse, PartialParse]:
    return parse_partial_both(text)


@lru_cache(maxsize=_CACHE_SIZE)
def _checked(text: str, region: str) -> tuple[_Lowerable | None, tuple[Diagnostic, ...]]:
    partial = partial_parse(text)
    try:
        with stack_guard(text):
            query, problems = check_all(partial.tree, region=region)
    except QueryError as error:
        return None, partial.diagnostics + error.diagnostics
    spans = tuple(_reported_spans(query))
    lowerable = _Lowerable(query, spans, text, _reads_the_clock(query.filter))
    return lowerable, partial.diagnostics + tuple(problems)


def diagnose(
    text: str, *, now: datetime | None = None, tz: str = "UTC", region: str = "US"
) -> list[Diagnostic]:
    """Every problem in a query, syntax and meaning together, in the order of their spans.

    Never raises for any text. Each syntax error is reported where it is and parsing goes on
    after it, so one call shows them all; the rest of the query is then checked and lowered to
    the request. A term with a problem does not hide what the rest cannot say in one request:
    only what depends on that term's value goes unsaid (see `Condition.readable`).

    Args:
        text: the query, complete or half-typed.
        now, tz, region: as for `compile`.

    Returns:
        The diagnostics; empty exactly when `compile(text, now=now, tz=tz, region=region)`
        succeeds.

    Raises:
        ValueError: a bad option (naive `now`, unknown `tz` or `region`), never the text.

    >>> [(d.code.value, d.span.start) for d in diagnose("direction:inbund AND (mode:ai")]
    [('invalid_value', 10), ('syntax', 21)]
    """
    time_zone(tz)
    lowerable, diagnostics = _checked(text, phone_region(region))
    if lowerable is not None:
        if now is None and lowerable.reads_the_clock:
            diagnostics += _lowering_problems(lowerable, tz, now)
        else:
            diagnostics += _remembered_lowering_problems(lowerable, tz, now)
    return sorted(diagnostics, key=lambda d: (d.span.start, d.span.end))


@dataclass(frozen=True, slots=True)
class _Lowerable:
    """A checked query, compared as the lowering sees it: by its meaning and by every span the
    lowering may report. Not by the text, which only an error's message shows, nor by the spans
    of stand-ins for terms with problems, which it never reports: so the keystrokes typed inside
    a term with a problem (most keystrokes) find their lowering done."""

    query: Query
    spans: tuple[Span | None, ...]
    text: str = field(compare=False)
    reads_the_clock: bool = field(compare=False)
    """Whether lowering it without `now` reads the clock (derived from `query`: once a text)."""


def _reported_spans(query: Query) -> Iterator[Span | None]:
    """The spans of `tz:` (whose presence Query equality ignores) and of every node of the
    filter but the stand-ins and the top-level AND (which the lowering cuts into clauses)."""
    yield query.tz_span
    top = query.filter
    for node in top.operands if isinstance(top, Conjunction) else () if top is None else (top,):
        yield from _node_spans(node)


def _node_spans(node: Filter) -> Iterator[Span | None]:
    match node:
        case Condition(readable=False):
            return
        case Condition():
            yield node.span
            yield from node.value_spans
        case Negation(operand):
            yield node.span
            yield from _node_spans(operand)
        case Conjunction(operands) | Disjunction(operands):
            yield node.span
            for operand in operands:
                yield from _node_spans(operand)
        case _:
            assert_never(node)


def _lowering_problems(
    lowerable: _Lowerable, tz: str, now: datetime | None
) -> tuple[Diagnostic, ...]:
    """What `compile` finds after the check (less the request model built from the body)."""
    try:
        with stack_guard(lowerable.text):
            lower(lowerable.query, lowerable.text, now=now, tz=tz)
    except QueryError as error:
        return error.diagnostics
    return ()


# `tokens` and `diagnose` both lower the text, and so do the keystrokes typed in a term with a
# problem (see `_Lowerable`). The outcome is remembered unless it depends on the clock: with
# `now` given it is a function of the arguments, and without, the lowering reads the clock only
# for relative times.
_remembered_lowering_problems = lru_cache(maxsize=_CACHE_SIZE)(_lowering_problems)


def _reads_the_clock(node: Filter | None) -> bool:
    """Whether lowering `node` reads `now`: for a relative time (`-7d`, `today`) only."""
    match node:
        case None:
            return False
        case Condition(values=values):
            return any(isinstance(value, Ago | DaysAgo) for value in values)
        case Negation(operand):
            return _reads_the_clock(operand)
        case Conjunction(operands) | Disjunction(operands):
            return any(_reads_the_clock(operand) for operand in operands)
        case _:
            assert_never(node)
