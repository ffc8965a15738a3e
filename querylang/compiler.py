"""Compile: typed `Query` -> the request body, lowering the boolean expression to one request.

The API ANDs its fields and ORs the values of one field, with no negation. So the filter is cut
into the clauses of its top-level AND (pushing NOT inward with De Morgan where it meets an OR),
each clause must speak of one field (the time fields `after`/`before`/`created` count as one, and
so do the duration fields), and each is evaluated exactly with the set algebra of `constraints`.
Whatever the final sets cannot say in one request is `unsupported`; a set that is empty is a
`contradiction`, reported on every term that took part.

The lowering builds the JSON body itself; `compile` then validates it into a `SearchCallsRequest`.
pydantic is imported only for that, so `compile_body` (and the `querylang compile` command) runs
without it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, assert_never
from zoneinfo import ZoneInfo

from querylang.checker import check
from querylang.constraints import IntervalSet, ValueSet
from querylang.errors import Diagnostic, ErrorCode, QueryError, Span
from querylang.formatter import canonical
from querylang.limits import Limits, stack_guard
from querylang.parser import parse
from querylang.query import Condition, Conjunction, Disjunction, Filter, Negation, Op, Query
from querylang.schema import INTERVAL_TYPES, Field, Schema, ValueType, default_schema
from querylang.values import TypedValue, ValueProblem, resolve_time, spell_instant, time_zone

if TYPE_CHECKING:
    from querylang.request import SearchCallsRequest

Constraint = ValueSet | IntervalSet[Any]


def compile(
    text: str,
    *,
    now: datetime | None = None,
    tz: str = "UTC",
    region: str = "US",
    schema: Schema | None = None,
    limits: Limits | None = None,
) -> SearchCallsRequest:
    """Compile a query into the Search Calls request body.

    Args:
        text: the query, e.g. `direction:inbound duration:5s..60s after:-7d`.
        now: the instant relative dates (`-7d`, `today`) count back from; timezone-aware; the
            current time by default. Relative dates are resolved here, never earlier.
        tz: the IANA time zone that dates and local times are read in, unless the query has `tz:`.
        region: the phone region (ISO 3166 code) for numbers without a country code.
        schema: the fields; the shipped schema by default.
        limits: size limits; `Limits()` by default.

    Returns:
        The request; `.to_body()` gives the JSON body.

    Raises:
        QueryError: any problem in the query, with every diagnostic found.
        ValueError: a bad option (`now` naive, unknown `tz` or `region`).

    >>> compile("dir:in duration:>=5s").to_body()
    {'direction': 'INBOUND', 'min_duration': 5000}
    """
    return _request(compile_body(text, now=now, tz=tz, region=region, schema=schema, limits=limits))


def compile_body(
    text: str,
    *,
    now: datetime | None = None,
    tz: str = "UTC",
    region: str = "US",
    schema: Schema | None = None,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """`compile(text, ...).to_body()`, without building the pydantic model: for callers that
    only send or print the body, and do not want to import pydantic (about 80 ms) to do it.

    Arguments and errors as for `compile`.

    >>> compile_body("dir:in duration:>=5s")
    {'direction': 'INBOUND', 'min_duration': 5000}
    """
    time_zone(tz)
    with stack_guard(text):
        query = check(parse(text, limits=limits), text, schema=schema, region=region, limits=limits)
        return lower(query, text, now=now, tz=tz, schema=schema).body


def _request(body: dict[str, Any]) -> SearchCallsRequest:
    from querylang.request import SearchCallsRequest  # imported here: see compile_body

    return SearchCallsRequest.model_validate(body)


@dataclass(frozen=True, slots=True)
class Lowered:
    """A compiled query, with where each body key came from."""

    body: dict[str, Any]
    """The JSON body, as `SearchCallsRequest.to_body()` spells it."""
    sources: dict[str, tuple[Span, ...]]
    """For each body key, the spans of the terms that decided it."""
    zone: ZoneInfo
    """The time zone the query was read in."""


def lower(
    query: Query,
    text: str,
    *,
    now: datetime | None = None,
    tz: str = "UTC",
    schema: Schema | None = None,
) -> Lowered:
    """Lower a checked query to the JSON body, keeping the terms behind each body key (for
    `explain`) and the time zone it was read in.

    Args:
        query: what `check` returned (or `check_all`, whose stand-ins it says nothing of).
        text: the query text, for error messages.
        now: the instant relative dates count back from (timezone-aware); the current time by
            default.
        tz: the IANA time zone of dates and local times, unless the query sets `tz:`.
        schema: the fields; the shipped schema by default.

    Raises:
        QueryError: `unsupported`, `contradiction`, or `invalid_value` for a relative date out of
            range.
        ValueError: `now` is naive, or `tz` is not a known time zone.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware, e.g. datetime.now(UTC)")
    zone = time_zone(query.tz or tz)
    schema = schema or default_schema()
    lowering = _Lowering(schema, now, zone)
    # A `tz:` that the check could not read (only `check_all` lets it through) leaves the
    # meaning of every time unknown, as a stand-in does its dimension's.
    unread_zone = query.tz is None and query.tz_span is not None
    unread = frozenset({ValueType.TIME.value} if unread_zone else ())
    # Lowering the canonical form makes `compile(format(q))` and `compile(q)` agree by
    # construction, and lets `x OR x` through like `x`.
    body, sources = lowering.body(canonical(query, schema).filter, unread)
    if lowering.diagnostics:
        raise QueryError(text, lowering.diagnostics)
    return Lowered(body, sources, zone)


@dataclass
class _Dimension:
    """What the whole query says of one body dimension (a field, or all time / duration fields):
    the constraints of its clauses, ANDed once at the end so that n clauses cost O(n)."""

    clauses: list[Constraint] = field(default_factory=list)
    terms: list[Span] = field(default_factory=list)
    negated_terms: list[Span] = field(default_factory=list)
    unread: bool = False
    """Whether a clause holds a stand-in for a term with a problem (see `Condition.readable`):
    then what the dimension allows is unknown, and nothing is said of it."""

    def constraint(self) -> Constraint:
        first = self.clauses[0]
        if len(self.clauses) == 1:
            return first  # most dimensions have one clause: no intersection to build
        if isinstance(first, ValueSet):
            return ValueSet.intersection(c for c in self.clauses if isinstance(c, ValueSet))
        return IntervalSet.intersection(c for c in self.clauses if isinstance(c, IntervalSet))


class _Lowering:
    def __init__(self, schema: Schema, now: datetime, zone: tzinfo) -> None:
        self.schema = schema
        self.now = now
        self.zone = zone
        self.diagnostics: list[Diagnostic] = []

    def report(self, code: ErrorCode, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint))

    def body(
        self, root: Filter | None, unread: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Any], dict[str, tuple[Span, ...]]]:
        """The body, and for each of its keys the spans of the terms behind it; nothing is said
        of the `unread` dimensions."""
        dimensions: dict[str, _Dimension] = {}
        for clause, negated in _clauses(root, negated=False):
            leaves = list(_leaves(clause, negated))
            # A stand-in without a field could be of any field: it neither adds one nor ORs one.
            names = {self.dimension(condition) for condition, _ in leaves if condition.field}
            if len(names) > 1:
                if _may_collapse_once_read(clause):
                    # Whether one search can say it depends on the value the stand-in will have.
                    for name in names:
                        dimensions.setdefault(name, _Dimension()).unread = True
                    continue
                fields = ", ".join(sorted({c.field for c, _ in leaves if c.field}))
                self.report(
                    ErrorCode.UNSUPPORTED,
                    f"one search cannot OR different fields ({fields})",
                    clause.span,
                    "run one search per field, or keep each OR within one field",
                )
                continue
            if not names:
                continue
            name = names.pop()
            dimension = dimensions.setdefault(name, _Dimension(unread=name in unread))
            if not all(condition.readable for condition, _ in leaves):
                dimension.unread = True
                continue
            constraint = self.evaluate(clause)
            if negated:
                constraint = constraint.negate()
            dimension.clauses.append(constraint)
            dimension.terms.extend(condition.span for condition, _ in leaves)
            dimension.negated_terms.extend(c.span for c, is_negated in leaves if is_negated)
        body: dict[str, Any] = {}
        sources: dict[str, tuple[Span, ...]] = {}
        for name, dimension in dimensions.items():
            if dimension.unread:
                continue
            keys = self.finish(name, dimension)
            body.update(keys)
            sources.update(dict.fromkeys(keys, tuple(sorted(dimension.terms))))
        # The keys in the API's order, as the model spells the body, whatever the clauses' order.
        return {key: body[key] for key in self.schema.body_keys if key in body}, sources

    def dimension(self, condition: Condition) -> str:
        field = self.field(condition)
        return field.type.value if field.type in INTERVAL_TYPES else field.name

    def field(self, condition: Condition) -> Field:
        field = self.schema.field(condition.field)
        assert field is not None, "check only lets known fields through"
        return field

    def evaluate(self, node: Filter) -> Constraint:
        """The exact set of values a clause (all on one dimension) allows."""
        match node:
            case Condition():
                return self.leaf(node)
            case Negation(operand):
                return self.evaluate(operand).negate()
            case Conjunction(operands):
                parts = [self.evaluate(operand) for operand in operands]
                return type(parts[0]).intersection(parts)  # type: ignore[arg-type]
            case Disjunction(operands):
                parts = [self.evaluate(operand) for operand in operands]
                return type(parts[0]).union(parts)  # type: ignore[arg-type]
            case _:
                assert_never(node)

    def leaf(self, condition: Condition) -> Constraint:
        field = self.field(condition)
        if field.type not in INTERVAL_TYPES:
            spans = condition.value_spans
            return ValueSet.of(
                (value, (0, span.start if span else 0))
                for value, span in zip(condition.values, spans, strict=True)
                if value is not None
            )
        points: list[tuple[Any, Any] | None] = []
        for value, span in zip(condition.values, condition.value_spans, strict=True):
            try:
                points.append(None if value is None else self.point(field, value))
            except ValueProblem as problem:
                self.report(problem.code, problem.message, span or condition.span, problem.hint)
                # Reported; allowing everything keeps it from showing up again as a contradiction.
                return IntervalSet.everything()
        if condition.op is Op.RANGE:
            return IntervalSet.between(_start(points[0]), _end(points[1]))
        # A one-sided field's plain value is a comparison (after:v is >=v); a list ORs them.
        op = Op(field.implies) if field.implies and condition.op is Op.ANY else condition.op
        return IntervalSet.union(_interval(op, point) for point in points if point)

    def point(self, field: Field, value: TypedValue) -> tuple[Any, Any]:
        """Where a value starts and ends on its line: a day spans 24 hours, an instant is a
        point, a duration of n ms covers [n, n + 1)."""
        if field.type is ValueType.DURATION:
            assert isinstance(value, int)
            return value, value + 1
        assert not isinstance(value, (str, bool, int))
        return resolve_time(value, now=self.now, zone=self.zone)

    def finish(self, name: str, dimension: _Dimension) -> dict[str, Any]:
        """The body keys for one dimension, or diagnostics if one request cannot say it."""
        constraint = dimension.constraint()
        if isinstance(constraint, IntervalSet):
            return self.finish_interval(ValueType(name), constraint, dimension)
        field = self.schema.field(name)
        assert field is not None
        if field.type is ValueType.ENUM:
            constraint = constraint.within([value.name for value in field.values])
        elif field.type is ValueType.BOOLEAN:
            constraint = constraint.within([True, False])
        if constraint.complement:
            if not constraint.members:
                return {}  # "x OR NOT x": every call matches, so there is nothing to send
            for span in dimension.negated_terms or dimension.terms:
                self.report(
                    ErrorCode.UNSUPPORTED,
                    f"the API cannot exclude values of {field.name}, an open set",
                    span,
                    f"list the values you want instead: {field.name}:(a, b)",
                )
            return {}
        values = constraint.ordered()
        if not values:
            self.contradiction(dimension, f"no call can match every condition on {field.name}")
            return {}
        if not field.many and len(values) > 1:
            for span in dimension.terms:
                self.report(
                    ErrorCode.UNSUPPORTED,
                    f"{field.name} takes one value, and these conditions allow every value",
                    span,
                    f"leave {field.name} out to match every call",
                )
            return {}
        api_values = [self.api_value(field, value) for value in values]
        return {field.api[0]: api_values[0] if len(api_values) == 1 else api_values}

    def finish_interval(
        self, value_type: ValueType, constraint: IntervalSet[Any], dimension: _Dimension
    ) -> dict[str, Any]:
        lower, upper = self.schema.interval_keys(value_type)
        what = "duration" if value_type is ValueType.DURATION else "creation time"
        if len(constraint.intervals) > 1:
            for span in dimension.terms:
                self.report(
                    ErrorCode.UNSUPPORTED,
                    f"these conditions allow separate ranges of {what}; one search takes one range",
                    span,
                    "run one search per range",
                )
            return {}
        if not constraint.intervals:
            self.contradiction(dimension, f"no {what} can satisfy every condition on it")
            return {}
        low, high = constraint.intervals[0]
        if upper.implies == "<=" and high is not None:
            high -= 1  # the half-open [low, high) of whole milliseconds ends at high - 1
            if high < 0:
                self.contradiction(dimension, f"a {what} is never negative")
                return {}
        bounds = {lower.api[0]: low, upper.api[0]: high}
        return {
            key: spell_instant(bound) if value_type is ValueType.TIME else bound
            for key, bound in bounds.items()
            if bound is not None
        }

    def contradiction(self, dimension: _Dimension, message: str) -> None:
        for span in dimension.terms:
            self.report(
                ErrorCode.CONTRADICTION,
                message,
                span,
                "these conditions exclude each other; remove or widen one",
            )

    @staticmethod
    def api_value(field: Field, value: Hashable) -> Any:
        if field.type is ValueType.ENUM:
            assert isinstance(value, str)
            enum_value = field.enum_value(value)
            assert enum_value is not None
            return enum_value.api
        return value


def _start(point: tuple[Any, Any] | None) -> Any:
    return None if point is None else point[0]


def _end(point: tuple[Any, Any] | None) -> Any:
    return None if point is None else point[1]


def _interval(op: Op, point: tuple[Any, Any]) -> IntervalSet[Any]:
    """The values `op` allows, against a value that covers `[start, end)`."""
    start, end = point
    match op:
        case Op.ANY:
            return IntervalSet.between(start, end)
        case Op.GE:
            return IntervalSet.between(start, None)
        case Op.GT:
            return IntervalSet.between(end, None)
        case Op.LT:
            return IntervalSet.between(None, start)
        case Op.LE:
            return IntervalSet.between(None, end)
        case Op.RANGE:
            raise AssertionError("a range has two points")
        case _:
            assert_never(op)


def _clauses(node: Filter | None, *, negated: bool) -> Iterator[tuple[Filter, bool]]:
    """The clauses of the top-level AND, each with whether it is negated: NOT is pushed through
    AND and OR (De Morgan) as far as it takes to reach clauses ANDed together."""
    match node:
        case None:
            return
        case Negation(operand):
            yield from _clauses(operand, negated=not negated)
        case Conjunction(operands) if not negated:
            for operand in operands:
                yield from _clauses(operand, negated=False)
        case Disjunction(operands) if negated:
            for operand in operands:
                yield from _clauses(operand, negated=True)
        case _:
            yield node, negated


def _may_collapse_once_read(clause: Filter) -> bool:
    """Whether the operands of the clause's AND or OR may all become one once the stand-ins in
    it are read: they differ in nothing but values, and the canonical form keeps one of equal
    operands (`a OR a` is `a`), after which the clause may no longer OR two fields."""
    while isinstance(clause, Negation):
        clause = clause.operand
    if isinstance(clause, Condition):
        return False
    return len({_shape(operand) for operand in clause.operands}) == 1 and _holds_stand_in(clause)


def _shape(node: Filter) -> Hashable:
    """`node` without its values: its operators and its conditions' fields and comparisons."""
    match node:
        case Condition():
            return (node.field, node.op)
        case Negation(operand):
            return ("NOT", _shape(operand))
        case Conjunction(operands) | Disjunction(operands):
            return (type(node).__name__, frozenset(_shape(operand) for operand in operands))
        case _:
            assert_never(node)


def _holds_stand_in(node: Filter) -> bool:
    return any(not condition.readable for condition, _ in _leaves(node, False))


def _leaves(node: Filter, negated: bool) -> Iterator[tuple[Condition, bool]]:
    """Every condition in a clause, with whether an odd number of NOTs stands above it."""
    match node:
        case Condition():
            yield node, negated
        case Negation(operand):
            yield from _leaves(operand, not negated)
        case Conjunction(operands) | Disjunction(operands):
            for operand in operands:
                yield from _leaves(operand, negated)
        case _:
            assert_never(node)
