"""Quick parse: query text -> the same syntax tree as the grammar's, for the common case, fast.

The grammar (`grammar/query.lark`, run by Lark) is the definition of the syntax. Lark's LALR
parser costs about 5 µs a token in Python; this recursive descent over the grammar's own token
patterns costs a fraction of that. It accepts a subset of the language, written the usual way:
terms separated by whitespace, `AND` / `OR` / `NOT` between whitespace, `-` prefixes, groups,
and every value shape. Anything else (a syntax error, a bare word, an operator touching its
neighbour, unusual whitespace, deep nesting) raises `Unsure`, and the caller asks Lark, which
also explains errors. Where it answers, its tree equals Lark's with every span and depth: a
hypothesis test holds the two equal on any text (tests/test_quickparse.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from querylang.errors import Span
from querylang.syntax import (
    And,
    Comparator,
    Comparison,
    Expr,
    Not,
    Or,
    Range,
    Term,
    Value,
    ValueList,
    ValueShape,
)


class Unsure(Exception):
    """The text is outside the quick parser's subset: Lark must decide."""


TERMINALS = ("FIELD", "WORD", "STRING", "ITEM", "ITEM_STRING", "COMPARATOR", "RANGE", "MINUS")
"""The grammar's terminals whose patterns the quick parser uses as they are."""

# Lark ignores only these (the grammar's `%ignore WS`, common.WS); the terminals' patterns
# treat every `\s` as a separator. A text with any other white space is left to Lark.
_BLANKS = " \t\f\r\n"
_OTHER_WHITE_SPACE = re.compile(rf"[^\S{_BLANKS}]")
_SKIP_BLANKS = re.compile(f"[{_BLANKS}]*")
# Nesting handled here; deeper text goes to Lark, whose parser does not recurse.
_MAX_NESTING = 100


class QuickParser:
    """The quick parse of the grammar, with its terminals' compiled patterns."""

    def __init__(self, patterns: Mapping[str, re.Pattern[str]]) -> None:
        self.field = patterns["FIELD"]
        self.word = patterns["WORD"]
        self.string = patterns["STRING"]
        self.item = patterns["ITEM"]
        self.item_string = patterns["ITEM_STRING"]
        self.comparator = patterns["COMPARATOR"]
        self.range = patterns["RANGE"]
        self.minus = patterns["MINUS"]

    def parse(self, text: str) -> Expr | None:
        """The syntax tree of `text` (None for a blank text).

        Raises:
            Unsure: the text is not in the quick parser's subset.
        """
        if _OTHER_WHITE_SPACE.search(text):
            raise Unsure
        scan = _Scan(self, text)
        tree = None if scan.at_end() else scan.or_expr(0)
        if not scan.at_end():
            raise Unsure
        return tree


class _Scan:
    """One text being parsed: `at` is the position, always after skipped blanks."""

    def __init__(self, terminals: QuickParser, text: str) -> None:
        self.terminals = terminals
        self.text = text
        self.at = 0
        self.blanks()

    def blanks(self) -> bool:
        """Skip blanks; whether there were any (or the text ended)."""
        start = self.at
        match = _SKIP_BLANKS.match(self.text, self.at)
        assert match is not None  # the pattern matches the empty string
        self.at = match.end()
        return self.at > start or self.at == len(self.text)

    def at_end(self) -> bool:
        return self.at == len(self.text)

    def peek(self, prefix: str) -> bool:
        return self.text.startswith(prefix, self.at)

    def keyword(self, word: str) -> Span | None:
        """The span of `word` as a keyword here (followed by blanks), or None."""
        end = self.at + len(word)
        if self.peek(word) and end < len(self.text) and self.text[end] in _BLANKS:
            return Span(self.at, end)
        return None

    def or_expr(self, nesting: int) -> Expr:
        operands = [self.and_expr(nesting)]
        while (operator := self.keyword("OR")) is not None:
            self.at = operator.end
            self.blanks()
            operands.append(self.and_expr(nesting))
        return _joined(Or, operands)

    def and_expr(self, nesting: int) -> Expr:
        operands = [self.unary(nesting)]
        while not self.at_end() and not self.peek(")") and self.keyword("OR") is None:
            if (operator := self.keyword("AND")) is not None:
                self.at = operator.end
                self.blanks()
            operands.append(self.unary(nesting))
        return _joined(And, operands)

    def unary(self, nesting: int) -> Expr:
        """A term, a negation or a group, and the blanks after it."""
        if nesting > _MAX_NESTING:
            raise Unsure
        start = self.at
        if self.peek("("):
            self.at += 1
            self.blanks()
            inner = self.or_expr(nesting + 1)
            if not self.peek(")"):
                raise Unsure
            self.at += 1
            span = Span(start, self.at)
            self.after_unary()
            return replace(inner, span=span, depth=inner.depth + 1)
        minus = self.terminals.minus.match(self.text, self.at)
        operator = Span(start, minus.end()) if minus else self.keyword("NOT")
        if operator is not None:
            self.at = operator.end
            self.blanks()
            operand = self.unary(nesting + 1)
            return Not(operand, operator.cover(operand.span), operand.depth + 1)
        return self.term()

    def after_unary(self) -> None:
        """What may follow a term or a group here: blanks, a closing parenthesis, the end."""
        if not self.blanks() and not self.peek(")"):
            raise Unsure

    def term(self) -> Term:
        # FIELD outranks the keywords and BARE in the grammar: `AND:x` is a term.
        field = self.terminals.field.match(self.text, self.at)
        if field is None:
            raise Unsure  # a bare word, a quoted word, or anything else
        self.at = field.end() + 1  # and the ':' that FIELD looks ahead to
        value = self.value()
        field_span = Span(field.start(), field.end())
        term = Term(field.group(), value, field_span.cover(value.span), field_span)
        self.after_unary()
        return term

    def value(self) -> ValueShape:
        """The value touching the ':' (the grammar's `value`)."""
        start = self.at
        if self.peek("("):
            return self.value_list()
        comparator = self.terminals.comparator.match(self.text, self.at)
        if comparator is not None:
            self.at = comparator.end()
            scalar = self.scalar()
            if scalar is None:
                raise Unsure
            span = Span(start, scalar.span.end)
            return Comparison(Comparator(comparator.group()), scalar, span)
        if (operator := self.range_operator()) is not None:
            high = self.scalar()
            if high is None:
                raise Unsure
            return Range(None, high, operator.cover(high.span))
        low = self.scalar()
        if low is None:
            raise Unsure
        if (operator := self.range_operator()) is None:
            return low
        high = self.scalar()
        if high is None:
            return Range(low, None, low.span.cover(operator))
        return Range(low, high, low.span.cover(high.span))

    def range_operator(self) -> Span | None:
        """The span of a `..` here, taken; or None."""
        match = self.terminals.range.match(self.text, self.at)
        if match is None:
            return None
        self.at = match.end()
        return Span(match.start(), match.end())

    def scalar(self) -> Value | None:
        """A bare word or a quoted string touching what came before, if there is one."""
        if self.peek('"'):
            match = self.terminals.string.match(self.text, self.at)
            if match is None:
                raise Unsure  # an unclosed quote
            self.at = match.end()
            return Value.from_quoted(match.group(), Span(match.start(), match.end()))
        match = self.terminals.word.match(self.text, self.at)
        if match is None:
            return None
        self.at = match.end()
        return Value(match.group(), Span(match.start(), match.end()))

    def value_list(self) -> ValueList:
        start = self.at
        self.at += 1
        items = []
        while True:
            self.blanks()
            pattern = self.terminals.item_string if self.peek('"') else self.terminals.item
            match = pattern.match(self.text, self.at)
            if match is None:
                raise Unsure
            self.at = match.end()
            span = Span(match.start(), match.end())
            written = match.group()
            quoted = written.startswith('"')
            items.append(Value.from_quoted(written, span) if quoted else Value(written, span))
            self.blanks()
            if self.peek(")"):
                self.at += 1
                return ValueList(tuple(items), Span(start, self.at))
            if not self.peek(","):
                raise Unsure
            self.at += 1


def _joined(node: type[And] | type[Or], operands: list[Expr]) -> Expr:
    if len(operands) == 1:
        return operands[0]
    span = operands[0].span.cover(operands[-1].span)
    return node(tuple(operands), span, max(operand.depth for operand in operands))
