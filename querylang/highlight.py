"""Tokens for highlighting: any text -> tokens that cover it exactly, each with a kind.

Built on the forgiving parse, so a half-typed or broken query is still coloured: the parts the
parser had to skip are `error` tokens, and every token carries the code of the diagnostic that
falls on it (an unknown field, an invalid value), so a search box can underline it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from querylang.diagnostics import diagnose, partial_parse
from querylang.errors import Diagnostic, ErrorCode
from querylang.quickparse import Lexeme, common_prefix
from querylang.schema import TZ_OPTION, ValueType, default_schema


class TokenKind(StrEnum):
    """What a piece of the query is, for choosing its colour."""

    FIELD = "field"
    COLON = "colon"
    VALUE = "value"
    STRING = "string"
    NUMBER = "number"
    DURATION = "duration"
    DATE = "date"
    OPERATOR = "operator"
    KEYWORD = "keyword"
    PAREN = "paren"
    COMMA = "comma"
    RANGE = "range"
    COMPARISON = "comparison"
    OPTION = "option"
    WHITESPACE = "whitespace"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of the query: `text[start:end]`, its kind, and the code of any diagnostic on it."""

    kind: TokenKind
    start: int
    end: int
    text: str
    code: ErrorCode | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "kind": str(self.kind),
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "code": None if self.code is None else str(self.code),
        }


_BY_TERMINAL = {
    "_COLON": TokenKind.COLON,
    "LPAR": TokenKind.PAREN,
    "RPAR": TokenKind.PAREN,
    "LIST_OPEN": TokenKind.PAREN,
    "_COMMA": TokenKind.COMMA,
    "RANGE": TokenKind.RANGE,
    "COMPARATOR": TokenKind.COMPARISON,
    "_AND": TokenKind.OPERATOR,
    "_OR": TokenKind.OPERATOR,
    "NOT": TokenKind.OPERATOR,
    "MINUS": TokenKind.OPERATOR,
    "STRING": TokenKind.STRING,
    "ITEM_STRING": TokenKind.STRING,
    "BARE": TokenKind.ERROR,  # a word with no field: check always reports it
}
_VALUE_KINDS = {ValueType.DURATION: TokenKind.DURATION, ValueType.TIME: TokenKind.DATE}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_TIME_KEYWORDS = {"now", "today", "yesterday"}


def tokens(text: str) -> list[Token]:
    """Split a query into tokens for highlighting; never raises.

    The tokens cover the text exactly: joined, their texts give it back, with no gap and no
    overlap. Whitespace is a token of its own; what the parser could not read is `error`.

    >>> [(t.kind.value, t.text, t.code and t.code.value) for t in tokens("dir:inx  -mode:ai")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('field', 'dir', None), ('colon', ':', None), ('value', 'inx', 'invalid_value'),
     ('whitespace', '  ', None), ('operator', '-', None), ('field', 'mode', 'unsupported'),
     ('colon', ':', 'unsupported'), ('value', 'ai', 'unsupported')]
    """
    partial = partial_parse(text)
    pieces: list[tuple[int, int, TokenKind]] = [
        (span.start, span.end, TokenKind.ERROR) for span in partial.skipped
    ]
    schema = default_schema()
    value_kind = TokenKind.VALUE
    for token in partial.tokens:
        kind = _BY_TERMINAL.get(token.type)
        if token.type == "FIELD":
            is_option = token.value.lower() == TZ_OPTION
            kind = TokenKind.OPTION if is_option else TokenKind.FIELD
            field = None if is_option else schema.field(token.value)
            value_kind = _VALUE_KINDS.get(field.type, TokenKind.VALUE) if field else TokenKind.VALUE
        elif kind is None:  # WORD or ITEM: a bare value, coloured by its field
            kind = _bare_value_kind(token, value_kind)
        pieces.append((token.start_pos, token.end_pos, kind))
    pieces.sort()
    return _covering(text, pieces, diagnose(text))


def _bare_value_kind(token: Lexeme, field_kind: TokenKind) -> TokenKind:
    if _NUMBER.fullmatch(token.value):
        return TokenKind.NUMBER
    if field_kind is TokenKind.DATE and token.value.lower() in _TIME_KEYWORDS:
        return TokenKind.KEYWORD
    return field_kind


def _covering(
    text: str, pieces: list[tuple[int, int, TokenKind]], diagnostics: list[Diagnostic]
) -> list[Token]:
    """The pieces with the gaps between them filled, and each marked with its diagnostic."""
    covering: list[tuple[int, int, TokenKind]] = []
    position = 0
    for start, end, kind in [*pieces, (len(text), len(text), TokenKind.WHITESPACE)]:
        if start > position:
            # The parser skips only whitespace between tokens; anything else is a bug to show.
            blank = not text[position:start].strip()
            covering.append((position, start, TokenKind.WHITESPACE if blank else TokenKind.ERROR))
        if end > start:
            covering.append((start, end, kind))
        position = max(position, end)
    return _built(text, covering, _codes(covering, diagnostics))


# The latest text's tokens. A search box asks again on every keystroke, and the tokens before
# the caret are most often the same: comparing one costs less than building it. Tokens are
# immutable, and the pair is replaced whole, so threads may share it.
_latest_tokens: tuple[str, tuple[Token, ...]] = ("", ())


def _built(
    text: str, covering: list[tuple[int, int, TokenKind]], codes: list[ErrorCode | None]
) -> list[Token]:
    """The tokens, those of the latest text where they are the same."""
    global _latest_tokens
    previous_text, previous = _latest_tokens
    agreed = common_prefix(previous_text, text)
    built: list[Token] = []
    for index, ((start, end, kind), code) in enumerate(zip(covering, codes, strict=True)):
        old = previous[index] if index < len(previous) else None
        if (
            old is not None
            and old.end <= agreed
            and (old.start, old.end, old.kind, old.code) == (start, end, kind, code)
        ):
            built.append(old)
        else:
            built.append(Token(kind, start, end, text[start:end], code))
    _latest_tokens = (text, tuple(built))
    return built


def _codes(
    covering: list[tuple[int, int, TokenKind]], diagnostics: list[Diagnostic]
) -> list[ErrorCode | None]:
    """The code of the first diagnostic on each piece; skipped text and bare words are syntax
    errors whatever else is reported near them."""
    codes: list[ErrorCode | None] = [
        ErrorCode.SYNTAX if kind is TokenKind.ERROR else None for _, _, kind in covering
    ]
    starts = [start for start, _, _ in covering]
    for diagnostic in diagnostics:
        span = diagnostic.span
        if span.start == span.end:
            # An empty span marks a point: it belongs to the token that ends there.
            index = bisect_left(starts, span.start) - 1
            if index >= 0 and covering[index][2] is not TokenKind.WHITESPACE:
                codes[index] = codes[index] or diagnostic.code
            continue
        first = max(bisect_right(starts, span.start) - 1, 0)
        for index in range(first, bisect_left(starts, span.end)):
            codes[index] = codes[index] or diagnostic.code
    return codes
