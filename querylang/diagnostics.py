"""Diagnose: any text -> every problem in it, as a list, never an exception.

For search boxes, which ask on every keystroke. Syntax errors come from the forgiving parse
(`parser.parse_partial`), which skips each error and goes on; what remains is checked and, when
the check passes, compiled, so meaning errors (`unknown_field`, `contradiction`, ...) show up
beside syntax errors. `diagnose(text) == []` exactly when `compile(text)` succeeds.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from querylang.checker import check
from querylang.compiler import compile_query
from querylang.errors import Diagnostic, QueryError
from querylang.limits import stack_guard
from querylang.parser import PartialParse, parse_partial_both
from querylang.query import Query
from querylang.values import phone_region, time_zone

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
def _checked(text: str, region: str) -> tuple[Query | None, tuple[Diagnostic, ...]]:
    partial = partial_parse(text)
    diagnostics = partial.diagnostics
    try:
        with stack_guard(text):
            return check(partial.tree, text, region=region), diagnostics
    except QueryError as error:
        return None, diagnostics + error.diagnostics


def diagnose(
    text: str, *, now: datetime | None = None, tz: str = "UTC", region: str = "US"
) -> list[Diagnostic]:
    """Every problem in a query, syntax and meaning together, in the order of their spans.

    Never raises for any text. Each syntax error is reported where it is and parsing goes on
    after it, so one call shows them all; the rest of the query is then checked, and compiled
    if the check passes.

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
    query, diagnostics = _checked(text, phone_region(region))
    if query is not None:
        try:
            with stack_guard(text):
                compile_query(query, text, now=now, tz=tz)
        except QueryError as error:
            diagnostics += error.diagnostics
    return sorted(diagnostics, key=lambda d: (d.span.start, d.span.end))
