"""Complete: text and a cursor -> what may be typed there, for a search box.

The text before the cursor is parsed forgivingly and stopped at the cursor (`stop_at_end`), which
leaves the last tokens and the terminals the grammar accepts next. From those: a field name being
typed, a value after `field:` (by the field's type), a unit after a number, a value in a list
(not one already there), or the start of a new term with its operators. Prefix matches come first,
then fuzzy ones.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from lark import Token as LarkToken

from querylang.diagnostics import partial_parse
from querylang.formatter import quote
from querylang.parser import BARE_VALUE
from querylang.schema import TZ_OPTION, Field, ValueType, default_schema
from querylang.values import TypedValue, ValueProblem, read_value


class CompletionKind(StrEnum):
    """What a completion inserts, for choosing its icon."""

    FIELD = "field"
    VALUE = "value"
    UNIT = "unit"
    KEYWORD = "keyword"
    OPERATOR = "operator"
    SNIPPET = "snippet"


@dataclass(frozen=True, slots=True)
class Completion:
    """One candidate: put `insert` in place of `text[start:end]`."""

    insert: str
    start: int
    end: int
    kind: CompletionKind
    label: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "insert": self.insert,
            "start": self.start,
            "end": self.end,
            "kind": str(self.kind),
            "label": self.label,
            "detail": self.detail,
        }


ValueSource = Callable[[str, str], Sequence[str | tuple[str, str]]]
"""Supplies values for a field: `(field name, prefix typed so far) -> values or (value, detail)`."""


@dataclass(frozen=True, slots=True)
class _Candidate:
    insert: str
    kind: CompletionKind
    label: str
    detail: str


def complete(
    text: str, cursor: int | None = None, *, limit: int = 50, values: ValueSource | None = None
) -> list[Completion]:
    """What may be typed at `cursor` (the end of `text` by default).

    Args:
        text: the query, usually half-typed.
        cursor: where the caret is, as a string index.
        limit: the most candidates to return.
        values: supplies values for open fields (agent ids, statuses, ...), which the schema
            cannot list.

    Returns:
        Candidates, best first: prefix matches (case-insensitive) before fuzzy ones.

    >>> [c.insert for c in complete("dir")]
    ['direction:', 'dir:']
    >>> [c.insert for c in complete("direction:(inbound, ")]
    ['outbound']
    """
    cursor = len(text) if cursor is None else max(0, min(cursor, len(text)))
    before = text[:cursor]
    partial = partial_parse(before, stop_at_end=True)
    if any(d.span.end == cursor and before[d.span.start] == '"' for d in partial.diagnostics):
        return []  # inside a quoted value: anything may be typed
    tokens = [token for token in partial.tokens if token.type != "$END"]
    last = tokens[-1] if tokens else None
    touching = last is not None and last.end_pos == cursor
    field = _current_field(tokens)
    prefix, kind_of_place = "", ""
    if last is not None and touching:
        if last.type == "BARE":
            prefix, kind_of_place = str(last), "term"
        elif last.type in ("WORD", "ITEM"):
            prefix, kind_of_place = str(last), "value"
        elif last.type in ("_COLON", "COMPARATOR", "RANGE", "LIST_OPEN", "_COMMA"):
            kind_of_place = "value"
        elif last.type in ("MINUS", "LPAR"):
            kind_of_place = "term"
    elif before[-1:].strip():
        pass  # right after text the parser skipped: anything typed here would join it
    elif "FIELD" in partial.next_terminals:
        kind_of_place = "term"
    elif "ITEM" in partial.next_terminals:
        kind_of_place = "value"
    if kind_of_place == "term":
        # The token before the term being typed decides which operators may stand here.
        previous = tokens[-2] if touching and len(tokens) > 1 else (None if touching else last)
        if touching and last is not None and last.type != "BARE":
            previous = last
        candidates = _term_candidates(
            and_or=previous is not None and previous.type in _ENDS_A_TERM,
            negation=previous is None or previous.type != "MINUS",
            group=prefix == "",
        )
    elif kind_of_place == "value" and field is not None:
        candidates = _value_candidates(field, prefix, tokens, last, values)
    else:
        return []
    start = cursor - len(prefix)
    # With the caret inside a word, a candidate replaces the whole word, not only its start.
    rest = (_REST_OF_FIELD if kind_of_place == "term" else BARE_VALUE).match(text, cursor)
    end = rest.end() if rest and prefix else cursor
    ranked = _rank(candidates, prefix)
    return [Completion(c.insert, start, end, c.kind, c.label, c.detail) for c in ranked[:limit]]


_REST_OF_FIELD = re.compile(r'[^\s()",:]*:?')


def _current_field(tokens: list[LarkToken]) -> str | None:
    return next((str(t) for t in reversed(tokens) if t.type == "FIELD"), None)


_ENDS_A_TERM = {"WORD", "STRING", "RPAR", "RANGE", "BARE"}


def _term_candidates(*, and_or: bool, negation: bool, group: bool) -> list[_Candidate]:
    schema = default_schema()
    candidates = []
    for field in schema.fields:
        candidates.append(_Candidate(f"{field.name}:", CompletionKind.FIELD, field.name, field.doc))
        for alias in field.aliases:
            detail = f"alias of {field.name}: {field.doc}"
            candidates.append(_Candidate(f"{alias}:", CompletionKind.FIELD, alias, detail))
    candidates.append(
        _Candidate(f"{TZ_OPTION}:", CompletionKind.FIELD, TZ_OPTION, "the time zone of the query")
    )
    if and_or:
        candidates.append(_Candidate("AND ", CompletionKind.KEYWORD, "AND", "both must match"))
        candidates.append(_Candidate("OR ", CompletionKind.KEYWORD, "OR", "either may match"))
    if negation:
        candidates.append(_Candidate("NOT ", CompletionKind.KEYWORD, "NOT", "must not match"))
    if group:
        candidates.append(_Candidate("(", CompletionKind.SNIPPET, "(", "a group of terms"))
    return candidates


_NUMBER_END = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|min|h|m|s))*\d+(?:\.\d+)?", re.IGNORECASE)
_LAST_UNIT = re.compile(r"(ms|min|h|m|s)\d+(?:\.\d+)?$", re.IGNORECASE)
# Largest first, as a compound duration is written (1h30m, 1m30s).
_UNITS = (("h", "hours"), ("m", "minutes"), ("s", "seconds"), ("ms", "milliseconds"))
_TIME_VALUES = (
    ("today", "the whole of today, in the query's time zone"),
    ("yesterday", "the whole of yesterday, in the query's time zone"),
    ("now", "the moment the query is compiled"),
    ("-1h", "an hour before now"),
    ("-24h", "24 hours before now"),
    ("-7d", "7 days before now"),
    ("-30d", "30 days before now"),
)
_DURATION_VALUES = (("30s", "30 seconds"), ("1m", "1 minute"), ("5m", "5 minutes"))


def _value_candidates(
    field_name: str,
    prefix: str,
    tokens: list[LarkToken],
    last: LarkToken | None,
    values: ValueSource | None,
) -> list[_Candidate]:
    if field_name.lower() == TZ_OPTION:
        return [_Candidate(name, CompletionKind.VALUE, name, "time zone") for name in _zones()]
    field = default_schema().field(field_name)
    if field is None:
        return []
    found: list[_Candidate] = []
    if field.type is ValueType.DURATION and _NUMBER_END.fullmatch(prefix):
        return _units(prefix)
    listed = _listed(field, tokens, last)
    found.extend(
        _Candidate(quote(value), CompletionKind.VALUE, value, detail)
        for value, detail in _known_values(field)
        if _meaning(field, value) not in listed
    )
    if values is not None and field.type not in (ValueType.ENUM, ValueType.BOOLEAN):
        for supplied in values(field.name, prefix):
            value, detail = supplied if isinstance(supplied, tuple) else (supplied, field.doc)
            if _meaning(field, value) not in listed:
                found.append(_Candidate(quote(value), CompletionKind.VALUE, value, detail))
    if last is not None and last.type == "_COLON" and field.ordered:
        for operator, meaning in (
            (">=", "at least"),
            (">", "more than"),
            ("<=", "at most"),
            ("<", "less than"),
        ):
            found.append(_Candidate(operator, CompletionKind.OPERATOR, operator, meaning))
    return found


def _units(number: str) -> list[_Candidate]:
    """The units that may follow a number: after `1m3`, only those smaller than minutes."""
    names = [unit for unit, _ in _UNITS]
    last_unit = _LAST_UNIT.search(number)
    after = 0
    if last_unit:
        used = last_unit.group(1).lower()
        after = names.index("m" if used == "min" else used) + 1
    return [
        _Candidate(f"{number}{unit}", CompletionKind.UNIT, f"{number}{unit}", f"{number} {name}")
        for unit, name in _UNITS[after:]
    ]


def _known_values(field: Field) -> Iterable[tuple[str, str]]:
    match field.type:
        case ValueType.ENUM:
            return ((value.name, value.doc) for value in field.values)
        case ValueType.BOOLEAN:
            return (("true", "yes"), ("false", "no"), ("yes", "true"), ("no", "false"))
        case ValueType.TIME:
            return _TIME_VALUES
        case ValueType.DURATION:
            return _DURATION_VALUES
        case _:
            return ((value, field.doc) for value in field.known_values)


def _listed(field: Field, tokens: list[LarkToken], last: LarkToken | None) -> set[TypedValue]:
    """The values already in the list being typed, read as the checker reads them."""
    found: set[TypedValue] = set()
    for token in reversed(tokens):
        if token.type in ("LIST_OPEN", "FIELD"):
            break
        if token.type in ("ITEM", "ITEM_STRING") and token is not last:
            found.add(_meaning(field, str(token).strip('"')))
    return found


def _meaning(field: Field, text: str) -> TypedValue:
    """What a value means (so `EN` and `en` are one language), or its text if it means nothing."""
    try:
        return read_value(text, field, region="US")
    except (ValueProblem, ValueError):
        return text


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


_FUZZY_CUTOFF = 0.6


def _rank(candidates: list[_Candidate], prefix: str) -> list[_Candidate]:
    """Prefix matches in their given order, then fuzzy matches, best first."""
    lowered = prefix.lower()
    prefixed = [c for c in candidates if c.label.lower().startswith(lowered)]
    if not lowered:
        return prefixed
    chosen = {id(c) for c in prefixed}
    # One matcher with the prefix as its cached side, and the cheap upper bounds first, as
    # difflib.get_close_matches does: this runs on every keystroke.
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(lowered)
    scored: list[tuple[float, int, _Candidate]] = []
    for candidate in candidates:
        if id(candidate) in chosen:
            continue
        matcher.set_seq1(candidate.label.lower())
        if (
            matcher.real_quick_ratio() >= _FUZZY_CUTOFF
            and matcher.quick_ratio() >= _FUZZY_CUTOFF
            and (score := matcher.ratio()) >= _FUZZY_CUTOFF
        ):
            scored.append((-score, len(scored), candidate))
    return prefixed + [candidate for _, _, candidate in sorted(scored)]
