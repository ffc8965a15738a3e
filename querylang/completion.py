"""Complete: text and a cursor -> what may be typed there, for a search box.

The text before the cursor is parsed forgivingly and stopped at the cursor (`stop_at_end`), which
leaves the last tokens and the terminals the grammar accepts next. From those: a field name being
typed, a value after `field:` (by the field's type), a unit after a number, a value in a list
(not one already there), or the start of a new term with its operators. Prefix matches come first,
then fuzzy ones.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any
from zoneinfo import available_timezones

from querylang.checker import read_remembered
from querylang.diagnostics import partial_parse
from querylang.formatter import quote
from querylang.parser import BARE_VALUE
from querylang.quickparse import Lexeme
from querylang.schema import TZ_OPTION, Field, ValueType, default_schema
from querylang.values import TypedValue, ValueProblem


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
    folded: str = dataclasses.field(init=False)
    """The label in lower case, as it is matched: once, not on every keystroke."""
    letters: frozenset[str] = dataclasses.field(init=False)
    """The letters of `folded`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "folded", self.label.lower())
        object.__setattr__(self, "letters", frozenset(self.folded))


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
    tokens = partial.tokens
    last = tokens[-1] if tokens else None
    touching = last is not None and last.end_pos == cursor
    field = _current_field(tokens)
    prefix, kind_of_place = "", ""
    if last is not None and touching:
        if last.type == "BARE":
            prefix, kind_of_place = last.value, "term"
        elif last.type in ("WORD", "ITEM"):
            prefix, kind_of_place = last.value, "value"
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
    candidates: Sequence[_Candidate]
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
    ranked = _rank(candidates, prefix, limit)
    return [Completion(c.insert, start, end, c.kind, c.label, c.detail) for c in ranked]


_REST_OF_FIELD = re.compile(r'[^\s()",:]*:?')


def _current_field(tokens: Sequence[Lexeme]) -> str | None:
    return next((t.value for t in reversed(tokens) if t.type == "FIELD"), None)


_ENDS_A_TERM = {"WORD", "STRING", "RPAR", "RANGE", "BARE"}


# The candidates are immutable and there are eight sets of them: each is built once.
@cache
def _term_candidates(*, and_or: bool, negation: bool, group: bool) -> tuple[_Candidate, ...]:
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
    return tuple(candidates)


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
    tokens: Sequence[Lexeme],
    last: Lexeme | None,
    values: ValueSource | None,
) -> Sequence[_Candidate]:
    if field_name.lower() == TZ_OPTION:
        return _zones()
    field = default_schema().field(field_name)
    if field is None:
        return []
    found: list[_Candidate] = []
    if field.type is ValueType.DURATION and _NUMBER_END.fullmatch(prefix):
        return _units(prefix)
    listed = _listed(field, tokens, last)
    found.extend(candidate for candidate, meaning in _known(field) if meaning not in listed)
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


# The fields are the shipped schema's: a bounded set, and their candidates are immutable.
@cache
def _known(field: Field) -> tuple[tuple[_Candidate, TypedValue], ...]:
    """The candidates of the values the schema knows for `field`, with their meaning."""
    return tuple(
        (_Candidate(quote(value), CompletionKind.VALUE, value, detail), _meaning(field, value))
        for value, detail in _known_values(field)
    )


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


def _listed(field: Field, tokens: Sequence[Lexeme], last: Lexeme | None) -> set[TypedValue]:
    """The values already in the list being typed, read as the checker reads them."""
    found: set[TypedValue] = set()
    for token in reversed(tokens):
        if token.type in ("LIST_OPEN", "FIELD"):
            break
        if token.type in ("ITEM", "ITEM_STRING") and token is not last:
            found.add(_meaning(field, token.value.strip('"')))
    return found


def _meaning(field: Field, text: str) -> TypedValue:
    """What a value means (so `EN` and `en` are one language), or its text if it means nothing."""
    try:
        found = read_remembered(text, field, "US")
    except ValueError:
        return text
    return text if isinstance(found, ValueProblem) else found


@cache
def _zones() -> tuple[_Candidate, ...]:
    zones = sorted(available_timezones())
    return tuple(_Candidate(name, CompletionKind.VALUE, name, "time zone") for name in zones)


_FUZZY_CUTOFF = 0.6


def _longest_common_subsequence(text: str, positions: dict[str, int], length: int) -> int:
    """The length of the longest common subsequence of `text` and a word of `length` letters,
    given as the places of each of its letters (bit-parallel: Hyyrö, 2004; one step a letter)."""
    every = (1 << length) - 1
    unmatched = every
    for letter in text:
        matched = unmatched & positions.get(letter, 0)
        unmatched = ((unmatched + matched) | (unmatched - matched)) & every
    return length - unmatched.bit_count()


@lru_cache(maxsize=64)
def _near_lengths(typed: int) -> range:
    """The lengths of the labels whose real_quick_ratio (difflib's bound from the two lengths
    alone) with `typed` letters reaches the cutoff: an interval around `typed`."""
    near = [
        n for n in range(1, 3 * typed + 2) if 2.0 * min(n, typed) / (n + typed) >= _FUZZY_CUTOFF
    ]
    return range(near[0], near[-1] + 1)


def _rank(candidates: Sequence[_Candidate], prefix: str, limit: int) -> list[_Candidate]:
    """Prefix matches in their given order, then fuzzy matches, best first: the first `limit`."""
    lowered = prefix.lower()
    prefixed = [c for c in candidates if c.folded.startswith(lowered)]
    if not lowered or 0 <= limit <= len(prefixed):
        return prefixed[:limit]  # no fuzzy match would be shown
    chosen = {id(c) for c in prefixed}
    # One matcher with the prefix as its cached side, and upper bounds of its ratio first, the
    # cheapest first, as difflib.get_close_matches does; but cheaper than difflib's own, and a
    # closer one before the ratio itself: this runs on every keystroke, over 600 names after
    # `tz:`. The bounds only skip what would fall below the cutoff: the ranking is difflib's.
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(lowered)
    counts = Counter(lowered)
    once = frozenset(letter for letter, count in counts.items() if count == 1)
    repeated = [(letter, count) for letter, count in counts.items() if count > 1]
    near = _near_lengths(len(lowered))
    positions: dict[str, int] = {}  # for each letter typed, a bit for each place it is typed
    for place, letter in enumerate(lowered):
        positions[letter] = positions.get(letter, 0) | 1 << place
    scored: list[tuple[float, int, _Candidate]] = []
    for candidate in candidates:
        label = candidate.folded
        if len(label) not in near or id(candidate) in chosen:
            continue  # difflib's real_quick_ratio, from the lengths alone
        total = len(label) + len(lowered)
        # The letters the two have in common, with repeats: by sets in C for the letters typed
        # once (most of them), one by one for the others.
        common = len(once & candidate.letters)
        for letter, wanted in repeated:
            common += min(wanted, label.count(letter))
        if 2.0 * common / total < _FUZZY_CUTOFF:
            continue  # difflib's quick_ratio
        # The blocks that ratio() matches are a common subsequence: at most the longest one.
        if (
            2.0 * _longest_common_subsequence(label, positions, len(lowered)) / total
            < _FUZZY_CUTOFF
        ):
            continue
        matcher.set_seq1(label)
        if (score := matcher.ratio()) >= _FUZZY_CUTOFF:
            scored.append((-score, len(scored), candidate))
    return (prefixed + [candidate for _, _, candidate in sorted(scored)])[:limit]
