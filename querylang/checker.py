"""Check: syntax tree + schema -> typed `Query`, or a QueryError with every problem found.

Field names are looked up (aliases, any case), values read by their field's type, comparisons
allowed only on ordered fields, bare words explained, and the `tz:` option taken out of the filter.
Nothing stops at the first problem: each term is checked and all diagnostics are raised together.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import assert_never

from querylang.errors import Diagnostic, ErrorCode, QueryError, Span
from querylang.limits import DEFAULT_LIMITS, Limits
from querylang.query import Condition, Conjunction, Disjunction, Filter, Negation, Op, Query
from querylang.schema import INTERVAL_TYPES, TZ_OPTION, Field, Schema, ValueType, default_schema
from querylang.syntax import (
    And,
    BareWord,
    Comparison,
    Expr,
    Not,
    Or,
    Range,
    Term,
    Value,
    ValueList,
)
from querylang.values import TypedValue, ValueProblem, phone_region, read_value, time_zone


def check(
    tree: Expr | None,
    text: str,
    *,
    schema: Schema | None = None,
    region: str = "US",
    limits: Limits | None = None,
) -> Query:
    """Give a syntax tree its meaning.

    Args:
        tree: what `parse(text)` returned.
        text: the query text, for error messages.
        schema: the fields; the shipped schema by default.
        region: the phone region for numbers written without a country code.
        limits: size limits; `Limits()` by default.

    Raises:
        QueryError: with a diagnostic for every unknown field, bad value, misplaced operator or
            option, and bare word.
        ValueError: an unknown `region`.
    """
    query, diagnostics = check_all(tree, schema=schema, region=region, limits=limits)
    if diagnostics:
        raise QueryError(text, diagnostics)
    return query


def check_all(
    tree: Expr | None,
    *,
    schema: Schema | None = None,
    region: str = "US",
    limits: Limits | None = None,
) -> tuple[Query, list[Diagnostic]]:
    """`check` without raising, for the search-box toolkit: the query and every problem found,
    unsorted. Where a term has a problem, the query holds a stand-in for it (a `Condition` that
    is not `readable`), so that what the rest of the query means can still be found."""
    checker = _Checker(schema or default_schema(), phone_region(region), limits or DEFAULT_LIMITS)
    query = checker.query(tree)
    return query, checker.diagnostics


# A search box checks the whole query again on every keystroke, and a saved query repeats its
# numbers and ids: the values already read are remembered. Reading a value is a pure function of
# these arguments (times stay symbolic until they are compiled against `now`), the results are
# immutable, and the cache is bounded.
@lru_cache(maxsize=4096)
def read_remembered(text: str, field: Field, region: str) -> TypedValue | ValueProblem:
    """`read_value`, remembered, with the problem returned instead of raised."""
    try:
        return read_value(text, field, region=region)
    except ValueProblem as problem:
        # Kept by the cache: without the frames it went through, nor the error it replaced.
        problem.__traceback__ = problem.__context__ = None
        return problem


class _Checker:
    def __init__(self, schema: Schema, region: str, limits: Limits) -> None:
        self.schema = schema
        self.region = region
        self.limits = limits
        self.diagnostics: list[Diagnostic] = []

    def report(
        self,
        code: ErrorCode,
        message: str,
        span: Span,
        hint: str | None = None,
        suggestions: tuple[str, ...] = (),
    ) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint, suggestions))

    def query(self, tree: Expr | None) -> Query:
        tz: str | None = None
        tz_span: Span | None = None
        operands: list[Filter] = []
        for node in _top_level_terms(tree):
            if isinstance(node, Term) and node.field.lower() == TZ_OPTION:
                if tz_span is not None:
                    self.report(
                        ErrorCode.DUPLICATE_OPTION,
                        "tz: is given more than once",
                        node.span,
                        "keep one tz: per query",
                    )
                    continue
                tz, tz_span = self.time_zone(node), node.value.span
            else:
                operands.append(self.filter(node))
        if not operands:
            return Query(None, tz, tz_span)
        if len(operands) == 1:
            return Query(operands[0], tz, tz_span)
        span = operands[0].span.cover(operands[-1].span)
        return Query(Conjunction(tuple(operands), span), tz, tz_span)

    def time_zone(self, term: Term) -> str | None:
        if not isinstance(term.value, Value):
            self.report(ErrorCode.SYNTAX, "tz: takes one time zone name", term.value.span)
            return None
        name = term.value.text
        try:
            time_zone(name)
        except ValueError:
            self.report(
                ErrorCode.INVALID_VALUE,
                f"unknown time zone {name!r}",
                term.value.span,
                "use an IANA name such as UTC, Europe/Paris or America/New_York",
            )
            return None
        return name

    def filter(self, node: Expr) -> Filter:
        """The typed form of `node`, with a stand-in for each term that has a problem (reported)."""
        match node:
            case Term():
                condition = self.condition(node)
                return self.stand_in(node.field, node.span) if condition is None else condition
            case BareWord():
                self.bare_word(node)
                return self.stand_in(None, node.span)
            case Not(operand):
                return Negation(self.filter(operand), node.span)
            case And(operands) | Or(operands):
                kind = And if isinstance(node, And) else Or
                children = tuple(self.filter(child) for child in _flatten(operands, kind))
                if kind is And:
                    return Conjunction(children, node.span)
                return Disjunction(children, node.span)
            case _:
                assert_never(node)

    def stand_in(self, field_name: str | None, span: Span) -> Condition:
        """What stands for a term with a problem: its field, if it names one (not `tz:`)."""
        field = None if field_name is None else self.schema.field(field_name)
        return Condition(field.name if field else "", Op.ANY, (), span, (), readable=False)

    def condition(self, term: Term) -> Condition | None:
        if term.field.lower() == TZ_OPTION:
            self.report(
                ErrorCode.UNSUPPORTED,
                "tz: sets the time zone of the whole query; it cannot be negated or OR-ed",
                term.span,
                "put tz: at the top level of the query",
            )
            return None
        field = self.schema.field(term.field)
        if field is None:
            suggestions = self.schema.suggest_fields(term.field)
            self.report(
                ErrorCode.UNKNOWN_FIELD,
                f"unknown field {term.field!r}",
                term.field_span,
                f"did you mean {suggestions[0]!r}?"
                if suggestions
                else "the fields are " + ", ".join(f.name for f in self.schema.fields),
                suggestions,
            )
            return None
        shape = term.value
        match shape:
            case Value():
                return self.typed(term, field, Op.ANY, [shape])
            case ValueList(values):
                if len(values) > self.limits.max_list_values:
                    self.report(
                        ErrorCode.TOO_LARGE,
                        f"the list has {len(values):,} values; the limit is "
                        f"{self.limits.max_list_values:,}",
                        shape.span,
                        "split the search, or raise Limits.max_list_values",
                    )
                    return None
                return self.typed(term, field, Op.ANY, list(values))
            case Comparison(comparator, value):
                if not self.ordered(field, shape.span, f"a comparison ({comparator})"):
                    return None
                return self.typed(term, field, Op(comparator.value), [value])
            case Range(low, high):
                if not self.ordered(field, shape.span, "a range (..)"):
                    return None
                return self.typed(term, field, Op.RANGE, [low, high])
            case _:
                assert_never(shape)

    def ordered(self, field: Field, span: Span, what: str) -> bool:
        if field.ordered:
            return True
        if field.type in INTERVAL_TYPES:
            ordered_field = next(
                f for f in self.schema.fields if f.type == field.type and f.ordered
            )
            hint = (
                f"{field.name}:v already means {field.implies}v; "
                f"for other comparisons use {ordered_field.name}:"
            )
        else:
            hint = f"{field.name} has no order; list the values instead: {field.name}:(a, b)"
        self.report(ErrorCode.UNSUPPORTED, f"{what} on {field.name}", span, hint)
        return False

    def typed(
        self, term: Term, field: Field, op: Op, values: list[Value | None]
    ) -> Condition | None:
        typed: list[TypedValue | None] = []
        ok = True
        for value in values:
            if value is None:
                typed.append(None)
                continue
            found = read_remembered(value.text, field, self.region)
            if isinstance(found, ValueProblem):
                ok = False
                self.report(found.code, found.message, value.span, found.hint, found.suggestions)
            else:
                typed.append(found)
        if not ok:
            return None
        spans = tuple(value.span if value else None for value in values)
        return Condition(field.name, op, tuple(typed), term.span, spans)

    def bare_word(self, word: BareWord) -> None:
        text = word.text
        if text.lower() in ("and", "or", "not") and text != text.upper():
            self.report(
                ErrorCode.SYNTAX,
                f"{text!r} is not an operator: operators are upper case",
                word.span,
                f'write {text.upper()}, or quote the word as a value: field:"{text}"',
                (text.upper(),),
            )
        elif text in ("AND", "OR"):
            self.report(
                ErrorCode.SYNTAX,
                f"{text} needs a term on each side",
                word.span,
                "complete the query, or remove the operator",
            )
        elif text.startswith(".."):
            self.report(
                ErrorCode.SYNTAX,
                "'..' must touch the ends of its range",
                word.span,
                "write a range without spaces: duration:5s..60s",
            )
        elif ":" in text:
            self.report(
                ErrorCode.SYNTAX,
                f"{text!r} must be separated from what comes before it",
                word.span,
                "put a space between terms",
            )
        else:
            suggestions = self.fields_for(text)
            self.report(
                ErrorCode.SYNTAX,
                f"{text!r} has no field: querylang searches fields, not free text",
                word.span,
                f"did you mean {suggestions[0]}?" if suggestions else "write field:value",
                suggestions,
            )

    def fields_for(self, text: str) -> tuple[str, ...]:
        """`field:text` for each field that would accept the bare word as a value."""
        return tuple(
            f"{field.name}:{text}"
            for field in self.schema.fields
            if field.type in (ValueType.ENUM, ValueType.UUID, ValueType.BOOLEAN)
            and not isinstance(read_remembered(text, field, self.region), ValueProblem)
        )


def _top_level_terms(tree: Expr | None) -> Iterator[Expr]:
    """The operands of the top-level AND, through nested ANDs; the tree itself if it is no AND."""
    if tree is None:
        return
    yield from _flatten((tree,), And)


def _flatten(nodes: tuple[Expr, ...], kind: type[And] | type[Or]) -> Iterator[Expr]:
    for node in nodes:
        if isinstance(node, kind):
            yield from _flatten(node.operands, kind)
        else:
            yield node
