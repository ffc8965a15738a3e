"""The typed query: what a query means, as `check` leaves it and `compiler` and `format` read it.

Fields have their canonical names and values their typed form (`values.TypedValue`); spans are
kept for error messages but ignored by equality, so two spellings of one query compare equal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from querylang.errors import Span
from querylang.values import TypedValue


class Op(StrEnum):
    """What a condition says of its field."""

    ANY = ":"
    """The field is one of `values` (one value, or a list)."""
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    RANGE = ".."
    """The field lies in `values == (low, high)`, both ends included; `None` is an open end."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One term: `field`, `op` and typed `values` (a comparison has exactly one)."""

    field: str
    op: Op
    values: tuple[TypedValue | None, ...]
    span: Span = dataclasses.field(compare=False, repr=False)
    value_spans: tuple[Span | None, ...] = dataclasses.field(compare=False, repr=False)
    readable: bool = True
    """False for a stand-in of a term the check found a problem in (an unknown field, a bad
    value, a bare word): `field` is the name of its field if there is one, else empty, and
    `values` is empty. Only `check_all` leaves stand-ins in a query, so that `diagnose` can
    lower the rest of it."""


@dataclass(frozen=True, slots=True)
class Negation:
    operand: Filter
    span: Span = dataclasses.field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Conjunction:
    operands: tuple[Filter, ...]
    span: Span = dataclasses.field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Disjunction:
    operands: tuple[Filter, ...]
    span: Span = dataclasses.field(compare=False, repr=False)


Filter = Condition | Negation | Conjunction | Disjunction


@dataclass(frozen=True, slots=True)
class Query:
    """A checked query: its filter (`None` matches every call) and its `tz:` option, if any."""

    filter: Filter | None
    tz: str | None = None
    tz_span: Span | None = dataclasses.field(default=None, compare=False, repr=False)
