"""Limits on the size of a query, so that no input can exhaust time, memory or the stack."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from querylang.errors import Diagnostic, ErrorCode, QueryError, Span


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits checked by `parse` and `check`; a query beyond one is a `too_large` error.

    Callers with a reason to accept bigger queries pass their own: `Limits(max_length=200_000)`.
    """

    max_length: int = 10_000
    """Characters in the query text."""
    max_list_values: int = 1_000
    """Values in one list `field:(a, b, …)`, counted as written (before duplicates are removed)."""
    max_depth: int = 100
    """Nesting of parentheses and NOT / `-` prefixes, counted as written."""


DEFAULT_LIMITS = Limits()


@contextmanager
def stack_guard(text: str) -> Iterator[None]:
    """Turn a `RecursionError` into a `too_large` QueryError.

    The parser never recurses; the later stages walk the tree recursively, which is safe within
    the default depth limit. A caller who raises `max_depth` far enough could exhaust the Python
    stack, and must still get a QueryError, never a crash.
    """
    try:
        yield
    except RecursionError:
        raise QueryError(
            text,
            [
                Diagnostic(
                    ErrorCode.TOO_LARGE,
                    "the query nests too deeply to process",
                    Span(0, len(text)),
                    hint="remove redundant parentheses or NOTs, or lower Limits.max_depth",
                )
            ],
        ) from None
