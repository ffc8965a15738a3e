"""Limits on the size of a query, so that no input can exhaust time, memory or the stack."""

from __future__ import annotations

from dataclasses import dataclass


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
