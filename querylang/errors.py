"""Errors: the one exception querylang raises for a bad query, and its diagnostics.

Every stage (parse, check, compile, decompile) reports problems as `Diagnostic` values and raises
them together in one `QueryError`. A diagnostic points into the query text with a `Span` of Python
string indexes, so an editor can underline it; `str(error)` draws that underline with carets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """The stable codes of diagnostics; tools may match on them."""

    SYNTAX = "syntax"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_VALUE = "invalid_value"
    MISSING_UNIT = "missing_unit"
    UNSUPPORTED = "unsupported"
    CONTRADICTION = "contradiction"
    DUPLICATE_OPTION = "duplicate_option"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A half-open range `[start, end)` of string indexes into the query text.

    An empty span (`start == end`) marks a point, such as where a missing value should be.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span {self.start}..{self.end}")

    def cover(self, other: Span) -> Span:
        """The smallest span containing both."""
        return Span(min(self.start, other.start), max(self.end, other.end))


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a query: what (`code`, `message`), where (`span`) and what to do (`hint`)."""

    code: ErrorCode
    message: str
    span: Span
    hint: str | None = None
    suggestions: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, for tools."""
        return {
            "code": str(self.code),
            "message": self.message,
            "start": self.span.start,
            "end": self.span.end,
            "hint": self.hint,
            "suggestions": list(self.suggestions),
        }


class QueryError(ValueError):
    """A query (or a body given to `decompile`) that querylang cannot accept.

    Carries every diagnostic found, in the order of their spans. `str(error)` shows the query with
    a caret line under each span.

    >>> import querylang
    >>> try:
    ...     querylang.compile("dirction:inbound")
    ... except querylang.QueryError as error:
    ...     print(error.diagnostics[0].code, error.diagnostics[0].suggestions)
    unknown_field ('direction',)
    """

    def __init__(self, text: str, diagnostics: Iterable[Diagnostic]) -> None:
        self.text = text
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=lambda d: (d.span.start, d.span.end))
        )
        if not self.diagnostics:
            raise ValueError("a QueryError needs at least one diagnostic")
        super().__init__(render(text, self.diagnostics))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: the query and its diagnostics."""
        return {"query": self.text, "diagnostics": [d.to_dict() for d in self.diagnostics]}


# Long lines are cut to a window around the span so that a 10,000-character query stays readable.
_WINDOW = 60


def render(text: str, diagnostics: Iterable[Diagnostic]) -> str:
    """Draw each diagnostic as a message, the query line it is on, and carets under its span."""
    blocks = []
    for diagnostic in diagnostics:
        lines = [f"{diagnostic.code}: {diagnostic.message}"]
        lines.extend(excerpt(text, diagnostic.span))
        if diagnostic.hint:
            lines.append(f"  hint: {diagnostic.hint}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def excerpt(text: str, span: Span) -> list[str]:
    """The line of `text` that `span` starts on (cut to a window if long), and a caret line."""
    if not text:
        return []
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.start)
    if line_end == -1:
        line_end = len(text)
    start = max(line_start, span.start - _WINDOW)
    end = min(line_end, max(span.end, span.start + 1) + _WINDOW)
    prefix = "…" if start > line_start else ""
    suffix = "…" if end < line_end else ""
    shown = text[start:end].replace("\t", " ")
    caret_at = len(prefix) + span.start - start
    width = max(1, min(span.end, end) - span.start)
    return [f"  {prefix}{shown}{suffix}", "  " + " " * caret_at + "^" * width]
