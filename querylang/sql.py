"""SQL: a Search Calls request body -> one parameterised SQL `WHERE` over the `calls` table.

Stage: storage, for the reference server (and anyone keeping call records in a database).
Input: a `SearchCallsRequest`. Output: a `Where` (SQL text with placeholders, and the parameters).
No value is ever written into the SQL text: every one is bound.

Which comparison a body key means is read from the schema, not written here: a key set by a
one-sided field (`after`, `max_duration`) compares with that field's `implies` (`>=`, `<`, `<=`),
any other key is membership in its values (`IN`). So the server reads `after` as inclusive and
`before` as exclusive, as the compiler writes them (a date `D` is `[D 00:00, D+1 00:00)`).

What differs between databases is a `Dialect`: placeholders, identifier quoting, how a list of
values is bound, how Python values are stored. `SQLITE` is the one the server uses; `POSTGRES`
shows the size of another one.

    >>> from querylang.request import SearchCallsRequest
    >>> where = compile_where(SearchCallsRequest(direction=["INBOUND", "OUTBOUND"], voicemail=True))
    >>> where.sql
    '"direction" IN (?, ?) AND "voicemail" = ?'
    >>> where.params
    ('INBOUND', 'OUTBOUND', 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import UUID

from querylang.request import SearchCallsRequest
from querylang.schema import Schema, default_schema

TABLE = "calls"

# Body keys whose column is not named like the key: both time bounds compare one column, and
# both duration bounds another.
COLUMN_OF_KEY = {
    "after": "created_at",
    "before": "created_at",
    "min_duration": "duration",
    "max_duration": "duration",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_microseconds(moment: datetime) -> int:
    """An aware instant as whole microseconds since 1970-01-01 UTC: exact and ordered."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


Bind = Callable[[Any], str]
"""Adds a parameter and returns its placeholder."""


class Dialect:
    """ANSI SQL with DB-API `qmark` placeholders; subclasses override what their database does
    differently."""

    name = "ansi"

    def placeholder(self, index: int) -> str:
        """The placeholder of the `index`-th parameter (from 1)."""
        return "?"

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def member(self, column: str, values: Sequence[Any], bind: Bind) -> str:
        """`column` is one of `values` (at least one)."""
        if len(values) == 1:
            return f"{column} = {bind(values[0])}"
        return f"{column} IN ({', '.join(bind(value) for value in values)})"

    def value(self, value: Any) -> Any:
        """A Python value as the database stores it."""
        if isinstance(value, UUID):
            return str(value)
        return value


class SQLiteDialect(Dialect):
    """SQLite: instants as integer microseconds since the epoch (sorted and compared exactly,
    unlike text with varying fractions), booleans as 0/1."""

    name = "sqlite"

    def value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return epoch_microseconds(value)
        if isinstance(value, bool):
            return int(value)
        return super().value(value)


class PostgresDialect(Dialect):
    """PostgreSQL through psycopg: `%s` placeholders, a list bound as one array parameter
    (one statement shape whatever the list's length), native timestamps, booleans and UUIDs."""

    name = "postgres"

    def placeholder(self, index: int) -> str:
        return "%s"

    def member(self, column: str, values: Sequence[Any], bind: Bind) -> str:
        if len(values) == 1:
            return super().member(column, values, bind)
        return f"{column} = ANY({bind(list(values))})"

    def value(self, value: Any) -> Any:
        return value


SQLITE = SQLiteDialect()
POSTGRES = PostgresDialect()


@dataclass(frozen=True, slots=True)
class Where:
    """A `WHERE` condition: SQL text with placeholders, and the values to bind, in order."""

    sql: str
    params: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class KeyRule:
    """How one body key filters: the column it reads, and `=`/`IN` (`op is None`) or a
    comparison."""

    key: str
    column: str
    op: str | None


@cache
def key_rules(schema: Schema | None = None) -> tuple[KeyRule, ...]:
    """One rule per body key, in the schema's order, derived from the schema's fields."""
    schema = schema or default_schema()
    rules: dict[str, KeyRule] = {}
    for field in schema.fields:
        if len(field.api) != 1:
            continue  # `created`, `duration`: their keys are also one-sided fields of their own
        (key,) = field.api
        rules.setdefault(key, KeyRule(key, COLUMN_OF_KEY.get(key, key), field.implies))
    return tuple(rules.values())


def compile_where(
    request: SearchCallsRequest, *, dialect: Dialect = SQLITE, schema: Schema | None = None
) -> Where:
    """Compile a request body into one `WHERE` condition (`1 = 1` for the empty body).

    Args:
        request: the body, already validated.
        dialect: the database's SQL dialect; SQLite by default.
        schema: the fields, for which comparison each body key means; the shipped one by default.

    Returns:
        The condition and its parameters.

    >>> from datetime import datetime, UTC
    >>> request = SearchCallsRequest(after=datetime(2024, 1, 1, tzinfo=UTC), max_duration=60000)
    >>> compile_where(request, dialect=POSTGRES)
    Where(sql='"created_at" >= %s AND "duration" <= %s', params=(datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), 60000))
    """  # noqa: E501
    body = request.model_dump(by_alias=True, exclude_none=True)
    params: list[Any] = []

    def bind(value: Any) -> str:
        if isinstance(value, list):
            params.append([dialect.value(item) for item in value])
        else:
            params.append(dialect.value(value))
        return dialect.placeholder(len(params))

    conditions = []
    for rule in key_rules(schema):
        if rule.key not in body:
            continue
        column = dialect.quote(rule.column)
        value = body[rule.key]
        if rule.op is None:
            values = value if isinstance(value, list) else [value]
            conditions.append(dialect.member(column, values, bind))
        else:
            conditions.append(f"{column} {rule.op} {bind(value)}")
    return Where(" AND ".join(conditions) or "1 = 1", tuple(params))
