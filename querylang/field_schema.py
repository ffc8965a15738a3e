"""Field schema: schema -> a JSON Schema of the filters, and a plain-text table of the fields.

Stage: documentation and tooling, beside the compiler rather than in it (`querylang fields`).
Input: a `Schema` (the shipped `schema.json` by default). Output: `schema_json` gives plain JSON
data, a JSON Schema (draft 2020-12) of an object whose properties are the fields, each value
written as it would be after `field:` in a query, plus the language's own metadata under
`x-querylang` keys; `fields_table` gives the text `querylang fields` prints.

Everything is read from the schema and from the value readers' own tables (`querylang.values`):
the patterns are those readers' regular expressions, rewritten in the dialect JSON Schema uses.
The patterns check a value's shape; the checker has the last word (a real date, a possible phone
number, a whole number of milliseconds).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, assert_never

from querylang.parser import parse
from querylang.schema import TZ_OPTION, Field, Schema, ValueType, default_schema
from querylang.syntax import Comparator, Comparison, Range, Term, Value, ValueList
from querylang.values import (
    AGO_PATTERN,
    AGO_UNITS,
    BOOLEANS,
    DATE_PATTERN,
    DATE_TIME_PATTERN,
    DURATION_UNITS,
    LANGUAGE_PATTERN,
    NUMBER_PATTERN,
    RELATIVE_DAYS,
)

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
METADATA_KEY = "x-querylang"
"""The key of the language's own metadata, at the top and in each property; validators ignore it."""

RANGE = ".."  # the grammar's RANGE terminal
NOW_WORD = "now"  # read by values.read_time beside RELATIVE_DAYS

_BOOLEAN_OPERATORS = (
    ("AND", "A AND B", "both must match; terms side by side are joined with AND too"),
    ("OR", "A OR B", "either may match; AND binds tighter, so A B OR C is (A B) OR C"),
    ("NOT", "NOT A", "must not match; binds tightest"),
    ("-", "-A", "short for NOT, written touching what it negates"),
    ("( )", "(A OR B) C", "parentheses group terms"),
)

_DESCRIPTION = (
    "The filters of a call search in the querylang query language: each property is a field, "
    "its value written as it would be after `field:` in a query (several values, where the API "
    "takes them, as an array: any of them). All the properties must match. A query can say more "
    "(OR, NOT, lists on any field): `x-querylang` describes the language."
)

_TZ_DESCRIPTION = (
    f"`{TZ_OPTION}:NAME` sets the IANA time zone in which the query's dates, local date-times, "
    f"`today` and `yesterday` are read; at most once, at the top level of the query. An option, "
    f"not a field."
)


def schema_json(schema: Schema | None = None) -> dict[str, Any]:
    """The JSON Schema of the filters a query can express, with the language's metadata.

    The filters are an object whose properties are the fields (canonical names only). A value is
    written as it would be after `field:` (`"inbound"`, `"5s..60s"`, `">=-7d"`), as an array for
    several values of a field the API takes several of; a boolean may also be a JSON boolean and
    a bare number of milliseconds a JSON integer. Each property keeps the language's metadata
    (aliases, API keys, operators, units, enum values with their API spelling, query examples)
    under `x-querylang`; so does the whole (the `tz` option, the operators, relative times and
    duration units). The result is plain JSON data in a fixed key order.

    Args:
        schema: the fields to describe; the shipped schema by default.

    Returns:
        A JSON Schema (draft 2020-12) as a dict, ready for `json.dumps`.

    >>> direction = schema_json()["properties"]["direction"]
    >>> direction["anyOf"][0]["enum"]  # one value; anyOf[1] is an array of them
    ['inbound', 'outbound', 'in', 'out']
    >>> direction["x-querylang"]["values"][0]
    {'name': 'inbound', 'api': 'INBOUND', 'aliases': ['in'], 'doc': 'calls received'}
    """
    schema = default_schema() if schema is None else schema
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "querylang filters",
        "description": _DESCRIPTION,
        "type": "object",
        "properties": {field.name: _property(field) for field in schema.fields},
        "additionalProperties": False,
        METADATA_KEY: _language_metadata(),
    }


# --- one property per field -------------------------------------------------------------------


def _property(field: Field) -> dict[str, Any]:
    value = _value_schema(field)
    shapes = list(value.get("anyOf", [value]))
    if field.ordered:
        body = _ordered_pattern(field)
        comparators = "|".join(sorted(map(re.escape, _comparators()), key=len, reverse=True))
        shapes.append(
            _string(
                f"(?:{comparators})(?:{body})",
                "a comparison: " + ", ".join(f"{comparator}v" for comparator in _comparators()),
            )
        )
        dots = re.escape(RANGE)
        shapes.append(
            _string(
                f"(?:{body}){dots}(?:{body})?|{dots}(?:{body})",
                f"a range, both ends included: a{RANGE}b, a{RANGE}, {RANGE}b",
            )
        )
    if field.many:
        many = {"type": "array", "items": value, "minItems": 1, "description": "any of these"}
        shapes.append(many)
    description = field.doc
    if field.known_values:
        description += " Known values: " + ", ".join(field.known_values) + "."
    result: dict[str, Any] = {"description": description}
    if len(shapes) == 1:  # the field's doc says it better than the value's own description
        result.update((key, part) for key, part in shapes[0].items() if key != "description")
    else:
        result["anyOf"] = shapes
    if examples := _example_values(field):
        result["examples"] = examples
    result[METADATA_KEY] = _field_metadata(field)
    return result


def _value_schema(field: Field) -> dict[str, Any]:
    """The schema of one value of `field`, as written in `field:v` and in a list."""
    match field.type:
        case ValueType.TIME:
            return {"anyOf": _time_schemas()}
        case ValueType.DURATION:
            units = ", ".join(DURATION_UNITS)
            if field.bare_number_unit is None:
                return _string(_duration_pattern(), f"a duration with a unit ({units}): 1m30s")
            return {
                "type": ["string", "integer"],
                "pattern": f"^(?:{_duration_pattern()}|[0-9]+)$",
                "minimum": 0,
                "description": (
                    f"a duration with a unit ({units}), or a whole number of "
                    f"{field.bare_number_unit}"
                ),
            }
        case ValueType.PHONE:
            # libphonenumber decides; this only keeps out what has no digit or other characters.
            return _string(
                r"\+?[0-9 ().\-]*[0-9][0-9 ().\-]*",
                "a phone number, best in E.164 (+14155550100)",
            )
        case ValueType.ENUM:
            spellings = [value.name for value in field.values]
            spellings += [alias for value in field.values for alias in value.aliases]
            return {"type": "string", "enum": spellings}
        case ValueType.TEXT:
            return {"type": "string", "minLength": 1}
        case ValueType.LANGUAGE:
            return _string(_portable(LANGUAGE_PATTERN), "a BCP 47 language code: en, en-US")
        case ValueType.BOOLEAN:
            return {"type": ["boolean", "string"], "enum": [True, False, *BOOLEANS]}
        case ValueType.UUID:
            return {
                "type": "string",
                "format": "uuid",
                "pattern": "^" + "-".join(f"[0-9a-fA-F]{{{n}}}" for n in (8, 4, 4, 4, 12)) + "$",
            }
        case _:
            assert_never(field.type)


def _time_schemas() -> list[dict[str, Any]]:
    date = _string(
        _portable(DATE_PATTERN), "a date, the whole day in the query's time zone: 2024-01-31"
    )
    date["format"] = "date"
    return [
        date,
        _string(
            _portable(DATE_TIME_PATTERN),
            "an ISO 8601 date-time (without an offset, in the query's time zone): "
            "2024-01-31T09:30:00Z",
        ),
        _string(
            _relative_time_pattern(),
            "relative to when the query runs: "
            + ", ".join(_time_words())
            + ", or a time back from now: -7d, now-36h",
        ),
    ]


def _ordered_pattern(field: Field) -> str:
    """The pattern of one value of an ordered field, for its comparisons and ranges."""
    match field.type:
        case ValueType.TIME:
            patterns = (_portable(DATE_PATTERN), _portable(DATE_TIME_PATTERN))
            return "|".join([*patterns, _relative_time_pattern()])
        case ValueType.DURATION:
            return _duration_pattern()
        case _:
            raise ValueError(f"{field.name}: a {field.type} field has no order")


def _time_words() -> list[str]:
    return [NOW_WORD, *RELATIVE_DAYS]


def _relative_time_pattern() -> str:
    words = [_portable(re.compile(re.escape(word), re.IGNORECASE)) for word in _time_words()]
    return "|".join([*words, _portable(AGO_PATTERN)])


def _duration_pattern() -> str:
    """A compound duration: parts in strictly decreasing unit size, as `read_duration` wants."""
    number = _portable(NUMBER_PATTERN)
    parts = []
    for size in sorted(set(DURATION_UNITS.values()), reverse=True):
        names = sorted((unit for unit, ms in DURATION_UNITS.items() if ms == size), key=len)
        units = "|".join(re.escape(unit) for unit in reversed(names))  # `min` before `m`
        parts.append(f"(?:{number}(?:{_portable(re.compile(units, re.IGNORECASE))}))?")
    return r"(?=\d)" + "".join(parts)


def _string(pattern: str, description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^(?:{pattern})$", "description": description}


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def _portable(pattern: re.Pattern[str]) -> str:
    """`pattern` in the regex dialect JSON Schema uses (ECMA 262), which has no named groups
    and no flags: a case-insensitive pattern spells out both cases of each letter."""
    source = _NAMED_GROUP.sub("(?:", pattern.pattern)
    if "(?(" in source or "(?P" in source or pattern.flags & ~(re.IGNORECASE | re.UNICODE):
        raise ValueError(f"no portable form of the pattern {pattern.pattern!r}")
    if not pattern.flags & re.IGNORECASE:
        return source
    out = []
    in_class = False
    index = 0
    while index < len(source):
        char = source[index]
        step = 1
        if char == "\\":
            step = 2
            out.append(source[index : index + 2])
        elif in_class and char.isalpha():
            end = source[index + 2 : index + 3]
            if source[index + 1 : index + 2] == "-" and end.isalpha():
                step = 3
                out.append(f"{char.lower()}-{end.lower()}{char.upper()}-{end.upper()}")
            else:
                out.append(char.lower() + char.upper())
        elif char.isalpha():
            out.append(f"[{char.lower()}{char.upper()}]")
        else:
            in_class = (in_class and char != "]") or (not in_class and char == "[")
            out.append(char)
        index += step
    return "".join(out)


def _example_values(field: Field) -> list[Any]:
    """The values of the field's examples that are one term, as the property spells them."""
    values: list[Any] = []
    for example in field.examples:
        tree = parse(example)
        if not isinstance(tree, Term):
            continue  # a negation, or several terms: no value of this property
        match tree.value:
            case Value(text):
                value: Any = text
            case ValueList(items):
                if not field.many:
                    continue
                value = [item.text for item in items]
            case Comparison(comparator, Value(text)):
                value = f"{comparator}{text}"
            case Range(low, high):
                value = f"{low.text if low else ''}{RANGE}{high.text if high else ''}"
            case _:
                assert_never(tree.value)
        if value not in values:
            values.append(value)
    return values


def _field_metadata(field: Field) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "type": str(field.type),
        "aliases": list(field.aliases),
        "api": list(field.api),
        "many": field.many,
        "ordered": field.ordered,
        "operators": _operators(field),
        "implies": field.implies,
    }
    if field.type is ValueType.DURATION:
        metadata["units"] = _duration_units()
        metadata["bare_number_unit"] = field.bare_number_unit
    if field.values:
        metadata["values"] = [
            {"name": value.name, "api": value.api, "aliases": list(value.aliases), "doc": value.doc}
            for value in field.values
        ]
    if field.known_values:
        metadata["known_values"] = list(field.known_values)
    metadata["examples"] = list(field.examples)
    return metadata


def _operators(field: Field) -> list[str]:
    return [":", *_comparators(), RANGE] if field.ordered else [":"]


def _comparators() -> list[str]:
    return [str(comparator) for comparator in Comparator]


def _duration_units() -> list[dict[str, Any]]:
    return [{"unit": unit, "milliseconds": size} for unit, size in DURATION_UNITS.items()]


def _language_metadata() -> dict[str, Any]:
    return {
        "options": {
            TZ_OPTION: {
                "description": _TZ_DESCRIPTION,
                "examples": [f"{TZ_OPTION}:Europe/Paris", f"{TZ_OPTION}:UTC"],
            }
        },
        "operators": {
            "boolean": [
                {"operator": operator, "usage": usage, "description": description}
                for operator, usage, description in _BOOLEAN_OPERATORS
            ],
            "term": ":",
            "comparison": _comparators(),
            "range": RANGE,
            "list": "(a, b)",
        },
        "relative_times": {
            "words": _time_words(),
            "offsets": {
                "pattern": f"^(?:{_portable(AGO_PATTERN)})$",
                "units": [
                    {"unit": unit, "seconds": int(size.total_seconds())}
                    for unit, size in AGO_UNITS.items()
                ],
            },
        },
        "duration_units": _duration_units(),
    }


# --- the table --------------------------------------------------------------------------------

_HEADINGS = ("FIELD", "ALIASES", "TYPE", "OPERATORS", "VALUES")
_GAP = "  "
_ELLIPSIS = "..."


def fields_table(schema: Schema | None = None, *, width: int = 100) -> str:
    """The fields as an aligned plain-text table, for a terminal (`querylang fields`).

    One row per field: its name, aliases, value type (`[]` when the API takes several values),
    operators beyond `:`, and its values (enum values with their aliases, known values of an
    open set, or the units of a duration), cut to fit `width`; then a line on the `tz:` option.

    Args:
        schema: the fields to list; the shipped schema by default.
        width: the width to fit the values column into (the other columns are never cut).

    Returns:
        The table, without a final newline.

    >>> print(fields_table().splitlines()[0])
    FIELD                   ALIASES        TYPE        OPERATORS     VALUES
    """
    schema = default_schema() if schema is None else schema
    rows = [_HEADINGS, *(_row(field) for field in schema.fields)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADINGS) - 1)]
    room = max(width - sum(widths) - len(_GAP) * len(widths), len(_HEADINGS[-1]))
    lines = []
    for *cells, values in rows:
        line = _GAP.join(cell.ljust(size) for cell, size in zip(cells, widths, strict=True))
        lines.append((line + _GAP + _cut(values, room)).rstrip())
    lines.extend(
        [
            "",
            "[] after a type: the API takes several values. Any field takes a list: field:(a, b).",
            f"{TZ_OPTION}:NAME sets the query's time zone (an option, not a field).",
            "All the details: querylang fields --json",
        ]
    )
    return "\n".join(lines)


def _row(field: Field) -> tuple[str, str, str, str, str]:
    kind = str(field.type) + ("[]" if field.many else "")
    if field.ordered:
        operators = " ".join([*_comparators(), RANGE])
    elif field.implies:
        operators = f"means {field.implies}"
    else:
        operators = ""
    return field.name, ", ".join(field.aliases), kind, operators, _values_cell(field)


def _values_cell(field: Field) -> str:
    if field.values:
        return ", ".join(_spelled(value.name, value.aliases) for value in field.values)
    if field.known_values:
        return "e.g. " + ", ".join(field.known_values)
    match field.type:
        case ValueType.TIME:
            return "date, date-time, or relative: -7d"
        case ValueType.DURATION:
            units = " ".join(DURATION_UNITS)
            if field.bare_number_unit:
                return f"{units}; a bare number is {field.bare_number_unit}"
            return units
        case ValueType.BOOLEAN:
            return ", ".join(BOOLEANS)
        case ValueType.PHONE:
            return "E.164 or any spelling"
        case ValueType.UUID:
            return "8-4-4-4-12 hex"
        case ValueType.ENUM | ValueType.TEXT | ValueType.LANGUAGE:
            return ""
        case _:
            assert_never(field.type)


def _spelled(name: str, aliases: Sequence[str]) -> str:
    return f"{name} ({', '.join(aliases)})" if aliases else name


def _cut(text: str, room: int) -> str:
    """`text` in at most `room` characters: whole items of a list, or whole characters."""
    if len(text) <= room:
        return text
    head = text[: room - len(_ELLIPSIS)]
    if ", " in head:
        head = head[: head.rindex(", ") + 2]
    return head + _ELLIPSIS
