"""Format and decompile: typed `Query` -> canonical query text.

`format(text)` checks a query and writes it back canonically; `decompile(body)` writes a request
body as a query. Both go through `canonical` (merge, deduplicate, order) and `write`:

- canonical field names and value spellings (`values.spell_value`);
- the top-level terms (and the operands of each AND and OR) in the schema's field order, stable,
  so terms on one field keep their order, and with it the order of values in the body;
- `f:a OR f:b` merged into `f:(a, b)`, repeated values and operands dropped, `NOT NOT x` as `x`;
- `-` for NOT, a space for AND, parentheses only where precedence needs them;
- quotes only where the lexer needs them, with `\\"` and `\\\\` as the only escapes.
Relative dates and `tz:` stay as written: they mean something only when the query is compiled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeGuard, assert_never

from querylang.checker import check
from querylang.errors import Diagnostic, ErrorCode, QueryError, Span
from querylang.limits import Limits, stack_guard
from querylang.parser import BARE_VALUE, parse
from querylang.query import Condition, Conjunction, Disjunction, Filter, Negation, Op, Query
from querylang.schema import TZ_OPTION, Schema, ValueType, default_schema
from querylang.values import DateTime, TypedValue, spell_value

if TYPE_CHECKING:
    from querylang.request import SearchCallsRequest

_NOWHERE = Span(0, 0)


def format(
    text: str, *, region: str = "US", schema: Schema | None = None, limits: Limits | None = None
) -> str:
    """The canonical spelling of a query.

    Formatting twice changes nothing, and the result compiles to the same body as `text`.

    Args:
        text: the query.
        region: the phone region for numbers written without a country code.
        schema: the fields; the shipped schema by default.
        limits: size limits; `Limits()` by default.

    Raises:
        QueryError: the query does not parse or check (it need not compile: a contradiction
            formats fine).
        ValueError: an unknown `region`.

    >>> format('agent:9A1B3C5D7E9F4A2B8C4D6E8F0A2B4C6D AND (duration:90s OR duration:2m) dir:IN')
    'direction:inbound duration:(1m30s, 2m) agent_id:9a1b3c5d-7e9f-4a2b-8c4d-6e8f0a2b4c6d'
    """
    schema = schema or default_schema()
    with stack_guard(text):
        query = check(parse(text, limits=limits), text, schema=schema, region=region, limits=limits)
        return write(canonical(query, schema), schema)


def decompile(body: dict[str, Any] | SearchCallsRequest, *, schema: Schema | None = None) -> str:
    """A query that compiles back to `body`.

    For a body in canonical form (as `to_body()` spells it), `compile(decompile(body)).to_body()
    == body`. Instants are written as UTC date-times; relative dates cannot be recovered.

    Raises:
        QueryError: `invalid_value` for a body the API would not accept, or an enum value the
            schema does not know (diagnostics have empty spans: there is no query text).

    >>> decompile({"direction": "INBOUND", "min_duration": 5000, "after": "2024-01-01T00:00:00Z"})
    'after:2024-01-01T00:00:00Z direction:inbound min_duration:5s'
    """
    # Imported here: formatting and compiling (which uses the canonical form) need no pydantic.
    from pydantic import ValidationError

    from querylang.request import SearchCallsRequest

    schema = schema or default_schema()
    if not isinstance(body, SearchCallsRequest):
        try:
            body = SearchCallsRequest.model_validate(body)
        except ValidationError as error:
            raise QueryError("", [_body_problem(problem) for problem in error.errors()]) from None
    conditions = []
    problems = []
    for key, value in body.model_dump(by_alias=True, exclude_none=True).items():
        field = next(f for f in schema.fields if f.api == (key,))
        typed: list[TypedValue] = []
        for item in value if isinstance(value, list) else [value]:
            if field.type is ValueType.ENUM:
                enum_value = field.enum_by_api(item)
                if enum_value is None:
                    problems.append(_unknown_enum(key, item))
                    continue
                typed.append(enum_value.name)
            elif field.type is ValueType.TIME:
                typed.append(DateTime(item))
            else:
                typed.append(item if isinstance(item, (bool, int)) else str(item))
        spans = (_NOWHERE,) * len(typed)
        conditions.append(Condition(field.name, Op.ANY, tuple(typed), _NOWHERE, spans))
    if problems:
        raise QueryError("", problems)
    root = Conjunction(tuple(conditions), _NOWHERE) if conditions else None
    return write(canonical(Query(root), schema), schema)


def _body_problem(problem: Any) -> Diagnostic:
    where = ".".join(str(part) for part in problem["loc"])
    return Diagnostic(ErrorCode.INVALID_VALUE, f"body field {where}: {problem['msg']}", _NOWHERE)


def _unknown_enum(key: str, value: object) -> Diagnostic:
    return Diagnostic(
        ErrorCode.INVALID_VALUE,
        f"body field {key}: {value!r} is not a value the schema knows",
        _NOWHERE,
        "correct the value, or add it to the schema data",
    )


# --- canonical form ---------------------------------------------------------------------------


def canonical(query: Query, schema: Schema) -> Query:
    """The same query in canonical form (see the module docstring)."""
    if query.filter is None:
        return query
    return Query(_canonical(query.filter, schema), query.tz, query.tz_span)


def _canonical(node: Filter, schema: Schema) -> Filter:
    match node:
        case Condition():
            # Without a repeated value (nearly always) the condition is canonical as it is, and
            # rebuilding it was a quarter of the canonical form's cost.
            if node.op is Op.ANY and len(set(node.values)) < len(node.values):
                return _any_of(node, node.values, node.value_spans, node.span)
            return node
        case Negation(operand):
            inner = _canonical(operand, schema)
            # NOT NOT x is x, also where the inner NOT appears only once its operand is simplified.
            return inner.operand if isinstance(inner, Negation) else Negation(inner, node.span)
        case Conjunction(operands) | Disjunction(operands):
            kind = type(node)
            flat: list[Filter] = []
            for operand in operands:
                child = _canonical(operand, schema)
                flat.extend(child.operands if isinstance(child, kind) else [child])
            if kind is Disjunction:
                flat = _merge_lists(flat)
            flat = sorted(dict.fromkeys(flat), key=lambda child: _first_field(child, schema))
            if len(flat) == 1:
                return flat[0]
            return kind(tuple(flat), node.span)
        case _:
            assert_never(node)


def _merge_lists(operands: list[Filter]) -> list[Filter]:
    """`f:a OR f:b` -> `f:(a, b)`, at the place of the first; one pass, so a 10,000-term OR
    costs no more per term than a short one."""
    lists: dict[str, list[Condition]] = {}
    for operand in operands:
        if _is_list(operand):
            lists.setdefault(operand.field, []).append(operand)
    merged: list[Filter] = []
    for operand in operands:
        if not _is_list(operand):
            merged.append(operand)
            continue
        same_field = lists[operand.field]
        if operand is not same_field[0]:
            continue
        values = tuple(value for condition in same_field for value in condition.values)
        spans = tuple(span for condition in same_field for span in condition.value_spans)
        merged.append(_any_of(operand, values, spans, operand.span.cover(same_field[-1].span)))
    return merged


def _is_list(node: Filter) -> TypeGuard[Condition]:
    """Whether `node` lists values of its field (a stand-in for a term with a problem does not)."""
    return isinstance(node, Condition) and node.op is Op.ANY and node.readable


def _any_of(
    condition: Condition,
    values: tuple[TypedValue | None, ...],
    value_spans: tuple[Span | None, ...],
    span: Span,
) -> Condition:
    """`condition` with these values, each once and at its first mention, covering `span`."""
    first_mention = dict(zip(reversed(values), reversed(value_spans), strict=True))
    unique = tuple(dict.fromkeys(values))
    spans = tuple(first_mention[value] for value in unique)
    return Condition(condition.field, Op.ANY, unique, span, spans)


def _first_field(node: Filter, schema: Schema) -> int:
    while not isinstance(node, Condition):
        node = node.operand if isinstance(node, Negation) else node.operands[0]
    field = schema.field(node.field)
    # Only a stand-in for a term with a problem has no field (see `Condition.readable`).
    return len(schema.fields) if field is None else schema.index(field)


# --- writing ----------------------------------------------------------------------------------


def quote(text: str) -> str:
    """`text` as the lexer reads it back: bare if it can be, else in double quotes.

    Beyond what the grammar allows in a bare word, two spellings would not survive being written
    next to an operator, and are quoted too: a trailing '.' (in `a...b` the lexer stops `a` before
    the `..`) and a leading '=' (`>` then `=x` reads as `>=` then `x`).
    """
    if BARE_VALUE.fullmatch(text) and not text.endswith(".") and not text.startswith("="):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(query: Query, schema: Schema) -> str:
    """The query's text: `tz:` first, then the filter."""
    parts = []
    if query.tz is not None:
        parts.append(f"{TZ_OPTION}:{quote(query.tz)}")
    if query.filter is not None:
        text = _write(query.filter, schema)
        # Beside tz:, an OR needs its parentheses: tz: is ANDed with the whole filter.
        if query.tz is not None and isinstance(query.filter, Disjunction):
            text = f"({text})"
        parts.append(text)
    return " ".join(parts)


def _write(node: Filter, schema: Schema) -> str:
    match node:
        case Condition():
            return f"{node.field}:{_write_values(node, schema)}"
        case Negation(operand):
            inner = _write(operand, schema)
            return f"-({inner})" if isinstance(operand, (Conjunction, Disjunction)) else f"-{inner}"
        case Conjunction(operands):
            return " ".join(_parenthesised(o, schema, Disjunction) for o in operands)
        case Disjunction(operands):
            return " OR ".join(_write(o, schema) for o in operands)
        case _:
            assert_never(node)


def _parenthesised(node: Filter, schema: Schema, looser: type[Disjunction]) -> str:
    text = _write(node, schema)
    return f"({text})" if isinstance(node, looser) else text


def _write_values(condition: Condition, schema: Schema) -> str:
    field = schema.field(condition.field)
    assert field is not None

    def spelled(values: Iterable[TypedValue | None]) -> list[str]:
        return ["" if v is None else quote(spell_value(v, field)) for v in values]

    match condition.op:
        case Op.ANY:
            items = spelled(condition.values)
            return items[0] if len(items) == 1 else "(" + ", ".join(items) + ")"
        case Op.RANGE:
            low, high = spelled(condition.values)
            return f"{low}..{high}"
        case Op.GT | Op.GE | Op.LT | Op.LE:
            return f"{condition.op.value}{spelled(condition.values)[0]}"
        case _:
            assert_never(condition.op)
