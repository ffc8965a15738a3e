"""Hypothesis strategies for querylang, built from the schema rather than written per field.

Every field of `default_schema()` is covered through its `ValueType`: names and aliases in random
case, enum values and their aliases, `known_values`, comparisons and ranges only on `ordered`
fields, bare numbers only where a field has a `bare_number_unit`, arrays only where it is `many`.
Adding a field or an enum value to `schema.json` therefore widens these strategies by itself.

- `queries()`: valid query texts (they parse and check; they need not compile).
- `canonical_bodies()`: request bodies in canonical form, spelled as `to_body()` spells them.
- `json_bodies()`: dicts shaped like bodies, most of them invalid.
- `grammar_junk()`: fragments of the grammar's tokens glued at random, and mangled valid queries.
- `any_text()`: arbitrary text, with a bias towards grammar-shaped text.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import phonenumbers
from hypothesis import strategies as st

from querylang.parser import grammar_text
from querylang.schema import INTERVAL_TYPES, Field, ValueType, default_schema

SCHEMA = default_schema()

NOW = datetime(2024, 3, 10, 9, 30, 15, 250_000, tzinfo=UTC)
"""The fixed `now` every compile in the property tests uses (a US daylight-saving day)."""

REGION = "US"
"""The default phone region, so national spellings of its numbers are valid."""

# (text, kind): kind is "atom", "not", "and" or "or", so that a combinator knows when the text
# it wraps needs parentheses to keep its meaning.
Expr = tuple[str, str]

# --- spelling ---------------------------------------------------------------------------------

# What the lexer reads as one bare value (grammar/query.lark, WORD), less what would not survive
# being written next to an operator: a trailing '.' before '..', a leading '=' after '>' or '<'.
_BARE = re.compile(r'(?![<>=])(?:[^\s()",.]|\.(?!\.))+(?<!\.)')


def _quote_strict(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote_lenient(text: str) -> str:
    """Quotes escaping only what must be: a backslash stands for itself unless a `"` or another
    backslash (or the closing quote) follows it."""
    out = []
    for index, char in enumerate(text):
        if char == '"':
            out.append('\\"')
        elif char == "\\" and (index + 1 == len(text) or text[index + 1] in '"\\'):
            out.append("\\\\")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def spelled(text: str) -> st.SearchStrategy[str]:
    """`text` as a value: bare when the lexer allows it (or quoted anyway), else quoted."""
    quoted = st.sampled_from([_quote_strict(text), _quote_lenient(text)])
    if _BARE.fullmatch(text):
        return st.one_of(st.just(text), quoted)
    return quoted


def cased(word: str) -> st.SearchStrategy[str]:
    """`word` in random case (names, enum values and keywords are case-insensitive)."""
    flips = st.lists(st.booleans(), min_size=len(word), max_size=len(word))
    mixed = flips.map(
        lambda up: "".join(c.upper() if u else c.lower() for c, u in zip(word, up, strict=True))
    )
    return st.one_of(st.just(word), st.just(word.upper()), mixed)


# --- values, by ValueType ---------------------------------------------------------------------

_FAR_PAST = datetime(1, 1, 1)
_FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, 999_999)


@st.composite
def _date_time_text(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(_FAR_PAST, _FAR_FUTURE))
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    text += draw(st.sampled_from("TtT "))
    text += f"{moment.hour:02d}:{moment.minute:02d}"
    if draw(st.booleans()):
        text += f":{moment.second:02d}"
        if draw(st.booleans()):
            text += "." + f"{moment.microsecond:06d}"[: draw(st.integers(1, 6))]
    offset = draw(st.sampled_from(["", "Z", "z", "sign"]))
    if offset == "sign":
        hours, minutes = draw(st.integers(0, 23)), draw(st.integers(0, 59))
        offset = f"{draw(st.sampled_from('+-'))}{hours:02d}:{minutes:02d}"
    return text + offset


@st.composite
def _relative_time_text(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["now", "today", "yesterday", "ago"]))
    if kind != "ago":
        return draw(cased(kind))
    amount = draw(st.one_of(st.integers(0, 1_000), st.integers(0, 999_999_999)))
    unit = draw(st.sampled_from(["s", "m", "min", "h", "d", "w"]).flatmap(cased))
    prefix = draw(st.sampled_from(["", "now"]).flatmap(cased))
    return f"{prefix}-{amount}{unit}"


def _time_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.dates().map(lambda day: day.isoformat()),
        _date_time_text(),
        _relative_time_text(),
    )


# Unit sizes in ms, largest first; a compound spells them in strictly decreasing size.
_DURATION_UNITS = (("h", 3_600_000), ("m", 60_000), ("min", 60_000), ("s", 1_000), ("ms", 1))


@st.composite
def _compound_duration_text(draw: st.DrawFn) -> str:
    sizes = sorted({size for _, size in _DURATION_UNITS}, reverse=True)
    chosen = draw(st.lists(st.sampled_from(sizes), min_size=1, max_size=4, unique=True))
    chosen.sort(reverse=True)
    parts = []
    for position, size in enumerate(chosen):
        unit = draw(st.sampled_from([u for u, s in _DURATION_UNITS if s == size]).flatmap(cased))
        count = draw(st.integers(0, 10**6 if position == 0 else 999))
        number = str(count)
        # A fraction of at most three digits of a unit of at least a second is whole ms.
        if size >= 1_000 and position == len(chosen) - 1 and draw(st.booleans()):
            number += "." + draw(st.text("0123456789", min_size=1, max_size=3))
        parts.append(number + unit)
    return "".join(parts)


def _duration_text(field: Field) -> st.SearchStrategy[str]:
    if field.bare_number_unit is None:
        return _compound_duration_text()
    return st.one_of(_compound_duration_text(), st.integers(0, 10**12).map(str))


# Regions whose example numbers seed the phone strategy; national spellings only for REGION.
_PHONE_REGIONS = ("US", "CA", "GB", "FR", "DE", "CH", "JP", "IN", "BR", "AU", "NG", "SG")


@cache
def _phone_seeds() -> tuple[phonenumbers.PhoneNumber, ...]:
    seeds = []
    for region in _PHONE_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                seeds.append(number)
    return tuple(seeds)


@st.composite
def _phone_number(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    """A possible number: an example number with its last four digits redrawn (same length)."""
    seed = draw(st.sampled_from(_phone_seeds()))
    national = seed.national_number // 10_000 * 10_000 + draw(st.integers(0, 9_999))
    number = phonenumbers.PhoneNumber(country_code=seed.country_code, national_number=national)
    if seed.italian_leading_zero:
        number.italian_leading_zero = True
    assert phonenumbers.is_possible_number(number)
    return number


def e164_phones() -> st.SearchStrategy[str]:
    """Phone numbers as the body spells them."""
    return _phone_number().map(
        lambda n: phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    )


@st.composite
def _phone_text(draw: st.DrawFn) -> str:
    number = draw(_phone_number())
    styles = [phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL]
    if phonenumbers.region_code_for_number(number) == REGION:
        styles.append(phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, draw(st.sampled_from(styles)))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@st.composite
def _language_parts(draw: st.DrawFn) -> tuple[str, str | None, str | None]:
    language = draw(st.text(_LETTERS, min_size=2, max_size=3))
    script = draw(st.none() | st.text(_LETTERS, min_size=4, max_size=4))
    region = draw(
        st.none()
        | st.text(_LETTERS, min_size=2, max_size=2)
        | st.text("0123456789", min_size=3, max_size=3)
    )
    return language, script, region


def _canonical_language(parts: tuple[str, str | None, str | None]) -> str:
    language, script, region = parts
    spelled_parts = [language.lower()]
    if script:
        spelled_parts.append(script.title())
    if region:
        spelled_parts.append(region.upper())
    return "-".join(spelled_parts)


@st.composite
def _language_text(draw: st.DrawFn) -> str:
    language, script, region = draw(_language_parts())
    text = draw(cased(language))
    for part in (script, region):
        if part:
            text += draw(st.sampled_from("-_")) + draw(cased(part))
    return text


def canonical_languages(field: Field) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(field.known_values) if field.known_values else st.nothing(),
        _language_parts().map(_canonical_language),
    )


_BOOLEAN_SPELLINGS = ("true", "false", "yes", "no", "1", "0")  # language.md §3


@st.composite
def _uuid_text(draw: st.DrawFn) -> str:
    text = str(draw(st.uuids()))
    style = draw(st.sampled_from(["plain", "hex", "braces", "urn"]))
    if style == "hex":
        text = text.replace("-", "")
    elif style == "braces":
        text = "{" + text + "}"
    elif style == "urn":
        text = "urn:uuid:" + text
    return draw(st.sampled_from([text, text.upper()]))


# Text values: anything non-empty (surrogates cannot be encoded, so they are no query text).
_ANY_CHAR = st.characters(exclude_categories=("Cs",))


def _free_text(field: Field) -> st.SearchStrategy[str]:
    known = st.sampled_from(field.known_values) if field.known_values else st.nothing()
    return st.one_of(known, st.text(_ANY_CHAR, min_size=1, max_size=12))


@cache
def value_text(field: Field) -> st.SearchStrategy[str]:
    """The raw text (before quoting) of one valid value of `field`."""
    match field.type:
        case ValueType.TIME:
            return _time_text()
        case ValueType.DURATION:
            return _duration_text(field)
        case ValueType.PHONE:
            return _phone_text()
        case ValueType.ENUM:
            spellings = [s for v in field.values for s in (v.name, *v.aliases)]
            return st.sampled_from(spellings).flatmap(cased)
        case ValueType.TEXT:
            return _free_text(field)
        case ValueType.LANGUAGE:
            known = st.sampled_from(field.known_values).flatmap(cased)
            return st.one_of(known, _language_text())
        case ValueType.BOOLEAN:
            return st.sampled_from(_BOOLEAN_SPELLINGS).flatmap(cased)
        case ValueType.UUID:
            return _uuid_text()
    raise AssertionError(f"no strategy for {field.type}")


# --- query texts ------------------------------------------------------------------------------


def field_name(field: Field) -> st.SearchStrategy[str]:
    return st.sampled_from((field.name, *field.aliases)).flatmap(cased)


def _value_list(field: Field) -> st.SearchStrategy[str]:
    items = st.lists(value_text(field).flatmap(spelled), min_size=1, max_size=4)
    separator = st.sampled_from([",", ", ", " , ", ",\n"])
    pad = st.sampled_from(["", "", " "])
    return st.tuples(items, separator, pad, pad).map(
        lambda parts: "(" + parts[2] + parts[1].join(parts[0]) + parts[3] + ")"
    )


def _value_shape(field: Field) -> st.SearchStrategy[str]:
    scalar = value_text(field).flatmap(spelled)
    shapes = [scalar, _value_list(field)]
    if field.ordered:
        comparator = st.sampled_from([">", ">=", "<", "<="])
        shapes.append(st.tuples(comparator, scalar).map("".join))
        ends = st.tuples(st.none() | scalar, st.none() | scalar).filter(lambda e: e != (None, None))
        shapes.append(ends.map(lambda e: f"{e[0] or ''}..{e[1] or ''}"))
    return st.one_of(shapes)


@cache
def term(field: Field) -> st.SearchStrategy[str]:
    """`name:value` for one field, in any of the shapes the field allows."""
    return st.tuples(field_name(field), _value_shape(field)).map(lambda p: f"{p[0]}:{p[1]}")


@cache
def terms() -> st.SearchStrategy[str]:
    return st.one_of([term(field) for field in SCHEMA.fields])


def _wrap(expr: Expr, *, unless: tuple[str, ...]) -> str:
    text, kind = expr
    return text if kind in unless else f"({text})"


def _and(parts: tuple[Expr, Expr, str]) -> Expr:
    left, right, separator = parts
    keep = ("atom", "not", "and")
    return f"{_wrap(left, unless=keep)}{separator}{_wrap(right, unless=keep)}", "and"


def _or(parts: tuple[Expr, Expr]) -> Expr:
    return f"{parts[0][0]} OR {parts[1][0]}", "or"


def _not(parts: tuple[str, Expr]) -> Expr:
    prefix, operand = parts
    return prefix + _wrap(operand, unless=("atom", "not")), "not"


def _group(parts: tuple[Expr, str]) -> Expr:
    (text, _), pad = parts
    return f"({pad}{text}{pad.strip(' ')})", "atom"


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.tuples(children, children, st.sampled_from([" ", " AND ", "\n", "  "])).map(_and),
        st.tuples(children, children).map(_or),
        st.tuples(st.sampled_from(["NOT ", "-"]), children).map(_not),
        st.tuples(children, st.sampled_from(["", " "])).map(_group),
    )


@cache
def filters(max_leaves: int = 8) -> st.SearchStrategy[Expr]:
    """Boolean expressions of valid terms, parenthesised where their meaning needs it."""
    leaves = terms().map(lambda text: (text, "atom"))
    return st.recursive(leaves, _combine, max_leaves=max_leaves)


@cache
def _time_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


@st.composite
def queries(draw: st.DrawFn, max_leaves: int = 8) -> str:
    """Valid query texts: they parse and check (a query may still fail to compile)."""
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(["", " ", "\n"]))
    expr = draw(filters(max_leaves))
    if not draw(st.booleans()):
        return expr[0]
    # tz: is an option of the whole query: it must stand at the top level of an AND.
    option = f"{draw(cased('tz'))}:{draw(st.sampled_from(_time_zones()).flatmap(spelled))}"
    rest = _wrap(expr, unless=("atom", "not", "and"))
    return f"{option} {rest}" if draw(st.booleans()) else f"{rest} {option}"


# --- canonical bodies -------------------------------------------------------------------------


def spell_instant(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, as language.md §6 spells instants in a body."""
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def _body_values(field: Field) -> st.SearchStrategy[Any]:
    match field.type:
        case ValueType.PHONE:
            return e164_phones()
        case ValueType.ENUM:
            return st.sampled_from([value.api for value in field.values])
        case ValueType.TEXT:
            return _free_text(field)
        case ValueType.LANGUAGE:
            return canonical_languages(field)
        case ValueType.BOOLEAN:
            return st.booleans()
        case ValueType.UUID:
            return st.uuids().map(str)
    raise AssertionError(f"no body strategy for {field.type}")


@cache
def _one_or_many(field: Field) -> st.SearchStrategy[Any]:
    values = _body_values(field)
    if not field.many:
        return values
    several = st.lists(values, min_size=1, max_size=4, unique=True)
    return several.map(lambda items: items[0] if len(items) == 1 else items)


def _interval_bounds(value_type: ValueType) -> st.SearchStrategy[tuple[Any | None, Any | None]]:
    """Lower and upper bound of one interval type, either may be absent; lower below upper
    (instants strictly earlier, durations not above)."""
    bound: st.SearchStrategy[Any]
    if value_type is ValueType.TIME:
        bound = st.datetimes(_FAR_PAST, _FAR_FUTURE)
        strict = True
    else:
        bound = st.one_of(st.integers(0, 10**7), st.integers(0, 10**15))
        strict = False

    def ordered(pair: tuple[Any | None, Any | None]) -> bool:
        low, high = pair
        return low is None or high is None or (low < high if strict else low <= high)

    def sort(pair: tuple[Any | None, Any | None]) -> tuple[Any | None, Any | None]:
        low, high = pair
        if low is not None and high is not None and high < low:
            return high, low
        return low, high

    return st.tuples(st.none() | bound, st.none() | bound).map(sort).filter(ordered)


@st.composite
def canonical_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies in canonical form (language.md §7): any subset of the schema's body keys."""
    body: dict[str, Any] = {}
    include = st.integers(0, 3).map(lambda n: n == 0)
    for value_type in sorted(INTERVAL_TYPES):
        lower, upper = SCHEMA.interval_keys(value_type)
        if not draw(st.booleans()):
            continue
        low, high = draw(_interval_bounds(value_type))
        spell: Callable[[Any], Any] = spell_instant if value_type is ValueType.TIME else int
        if low is not None:
            body[lower.api[0]] = spell(low)
        if high is not None:
            body[upper.api[0]] = spell(high)
    for field in SCHEMA.fields:
        if field.type in INTERVAL_TYPES or not draw(include):
            continue
        (key,) = field.api
        body[key] = draw(_one_or_many(field))
    return body


# --- junk -------------------------------------------------------------------------------------


@cache
def grammar_tokens() -> tuple[str, ...]:
    """Pieces of the grammar (its literal terminals, and more punctuation) and of the schema
    (names, values), and a few values of each type, good and bad."""
    literals = re.findall(r'^\w+(?:\.\d+)?:\s*"([^"]+)"', grammar_text(), flags=re.MULTILINE)
    assert literals, "the grammar's literal terminals (OR, AND, NOT, -, ...) were not found"
    tokens = {
        *literals,
        *(":", "(", ")", ",", '"', '\\"', "\\", "\\\\", "..", ".", ">", ">=", "<", "<=", "="),
        *("AND", "OR", "NOT", "and", "or", "not", "-", " ", "  ", "\t", "\n", "tz", "tz:"),
        *("UTC", "Europe/Paris", "Nope/Zone", "x", "-7d", "now-2w", "today", "now", "yesterday"),
        *("2024-01-01", "2024-02-30", "2024-01-01T10:00:00Z", "10:00", "+02:00", "Z"),
        *("5s", "1m30s", "1.5s", "0.0001s", "-1s", "5", "999999999999999999999h", "ms"),
        *("true", "maybe", "+14155550100", "415 555", "3f0c2b7e-8a41-4c7a-9d2e-1b5f6a7c8d90"),
    }
    for field in SCHEMA.fields:
        for name in (field.name, *field.aliases):
            tokens.update({name, name + ":", name.upper()})
        for value in field.values:
            tokens.update({value.name, value.api, *value.aliases})
        tokens.update(field.known_values)
    return tuple(sorted(tokens))


def grammar_junk() -> st.SearchStrategy[str]:
    """Grammar-shaped junk: tokens glued at random, and valid queries with a slice cut out or
    a token pushed in."""
    piece = st.one_of(st.sampled_from(grammar_tokens()), st.text(max_size=2))
    glued = st.lists(piece, max_size=30).map("".join)

    @st.composite
    def mangled(draw: st.DrawFn) -> str:
        text = draw(queries(max_leaves=4))
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        return text[:start] + draw(st.just("") | piece) + text[end:]

    return st.one_of(glued, mangled())


def body_keys() -> tuple[str, ...]:
    return tuple(dict.fromkeys(key for field in SCHEMA.fields for key in field.api))


def json_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Dicts shaped like bodies, most of them wrong: the body's keys and stray ones, with any
    JSON values, or a mutation of a canonical body."""
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    )
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=5)
    keys = st.one_of(st.sampled_from(body_keys()), st.text(max_size=6))
    loose = st.dictionaries(keys, values, max_size=5)

    @st.composite
    def tweaked(draw: st.DrawFn) -> dict[str, Any]:
        body = draw(canonical_bodies())
        body.update(draw(st.dictionaries(st.sampled_from(body_keys()), values, max_size=2)))
        return body

    return st.one_of(loose, tweaked())


def any_text() -> st.SearchStrategy[str]:
    """Arbitrary text, grammar-shaped junk and valid queries."""
    return st.one_of(st.text(), grammar_junk(), queries(max_leaves=4))
