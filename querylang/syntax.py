"""The syntax tree: what was typed, with spans, before any field or value is understood.

`parser.parse` builds it from text; `check.check` turns it into a typed `Query`. Nodes are frozen
and compare without their spans (and without how a value was quoted), so two spellings of the
same shape are equal. AND and OR are n-ary and flat; parentheses leave no node of their own.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import StrEnum

from querylang.errors import Span

_ESCAPE = re.compile(r'\\(["\\])')


class Comparator(StrEnum):
    """The comparison written after `field:`."""

    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


@dataclass(frozen=True, slots=True)
class Value:
    """One value as typed: a bare word, or a quoted string with its escapes resolved."""

    text: str
    span: Span = dataclasses.field(compare=False, repr=False)
    quoted: bool = dataclasses.field(default=False, compare=False, repr=False)

    @classmethod
    def from_quoted(cls, written: str, span: Span) -> Value:
        """The value of a quoted string as written, quotes included: `\\"` and `\\\\` are the
        only escapes (the grammar's STRING), any other backslash stands for itself."""
        return cls(_ESCAPE.sub(r"\1", written[1:-1]), span, quoted=True)


@dataclass(frozen=True, slots=True)
class ValueList:
    """`(a, b, c)`: any of the values."""

    values: tuple[Value, ...]
    span: Span = dataclasses.field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Comparison:
    """`>v`, `>=v`, `<v`, `<=v`."""

    comparator: Comparator
    value: Value
    span: Span = dataclasses.field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Range:
    """`a..b`, `a..` or `..b`, both ends included; at least one end is present."""

    low: Value | None
    high: Value | None
    span: Span = dataclasses.field(compare=False, repr=False)


ValueShape = Value | ValueList | Comparison | Range


@dataclass(frozen=True, slots=True)
class Term:
    """`field:value`, with the field name as typed."""

    field: str
    value: ValueShape
    span: Span = dataclasses.field(compare=False, repr=False)
    field_span: Span = dataclasses.field(compare=False, repr=False)
    depth: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class BareWord:
    """A word with no field. The grammar accepts it so that `check` can explain it (free text is
    not searchable), and so that a half-typed query still has a tree."""

    text: str
    span: Span = dataclasses.field(compare=False, repr=False)
    depth: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Not:
    """`NOT x` or `-x`."""

    operand: Expr
    span: Span = dataclasses.field(compare=False, repr=False)
    depth: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class And:
    """Terms side by side, or joined with `AND`."""

    operands: tuple[Expr, ...]
    span: Span = dataclasses.field(compare=False, repr=False)
    depth: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Or:
    """Terms joined with `OR`."""

    operands: tuple[Expr, ...]
    span: Span = dataclasses.field(compare=False, repr=False)
    depth: int = dataclasses.field(default=0, compare=False, repr=False)


Expr = Term | BareWord | Not | And | Or
"""A node of the syntax tree. `depth` is its nesting as written (parentheses and NOT prefixes),
which the parser compares with `Limits.max_depth`."""
