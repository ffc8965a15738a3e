"""Quick parse: query text -> the same syntax tree as the grammar's, for the common case, fast.

The grammar (`grammar/query.lark`, run by Lark) is the definition of the syntax. Lark's LALR
parser costs about 5 µs a token in Python; this recursive descent over the grammar's own token
patterns costs a fraction of that. It accepts a subset of the language, written the usual way:
terms separated by whitespace, `AND` / `OR` / `NOT` between whitespace, `-` prefixes, groups,
every value shape, and bare words (which a half-typed query is full of). Anything else (a syntax
error, an operator touching its neighbour, unusual whitespace, deep nesting) raises `Unsure`,
and the caller asks Lark, which also explains errors. Where it answers, its tree equals Lark's
with every span and depth, and its tokens are Lark's: a hypothesis test holds the two equal on
any text (tests/test_quickparse.py).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from operator import attrgetter
from typing import NamedTuple, TypeVar

from querylang.errors import Span
from querylang.syntax import (
    And,
    BareWord,
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


class Unfinished(Unsure):
    """The text stops where the grammar needs more, as a query being typed does, after tokens
    the quick parser is sure of: it ends there (inside a group, maybe), or a quote opens there
    that never closes."""

    def __init__(self, tokens: tuple[Lexeme, ...], quote: int | None, group: bool) -> None:
        super().__init__()
        self.tokens = tokens
        """The tokens before, those Lark's lexer gives."""
        self.quote = quote
        """Where the unclosed quote is, if that is what stops the text."""
        self.group = group
        """Whether the text ends after a whole term inside a group that is not closed."""


TERMINALS = (
    "FIELD",
    "BARE",
    "WORD",
    "STRING",
    "ITEM",
    "ITEM_STRING",
    "COMPARATOR",
    "RANGE",
    "MINUS",
)
"""The grammar's terminals whose patterns the quick parser uses as they are."""

# Lark gives a BARE (or WORD) that is exactly a keyword the keyword's type where the keyword may
# stand, and reports it as an error where it may not: Lark must decide.
_KEYWORDS = frozenset({"AND", "OR", "NOT"})


class Lexeme(NamedTuple):
    """One token, as Lark's lexer gives it: the grammar's terminal, its text and its span."""

    type: str
    value: str
    start_pos: int
    end_pos: int

    @property
    def span(self) -> Span:
        return Span(self.start_pos, self.end_pos)


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
        self.bare = patterns["BARE"]
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
        return _Scan(self, text, None).whole()

    def scan(self, text: str, base: Scanned | None = None) -> Scanned:
        """The syntax tree of `text` and its tokens, those Lark's lexer gives; taking over
        from `base` (an earlier scan) for the top-level terms the two texts share.

        Raises:
            Unsure: the text is not in the quick parser's subset.
        """
        scan = _Scan(self, text, [])
        tree = scan.whole(base)
        return Scanned(
            text,
            tree,
            tuple(scan.tokens or ()),
            tuple(scan.operands),
            tuple(scan.breaks),
            tuple(scan.resumes),
        )


@dataclass(frozen=True, slots=True)
class _Resume:
    """Where a scan may take over: after a whole top-level operand that a blank follows."""

    end: int
    """Where the operand ends; the text has a blank here."""
    token_count: int
    """Its tokens and those before it."""
    operand_count: int
    """It and the top-level operands before it."""
    break_count: int
    """The ORs before it."""


@dataclass(frozen=True, slots=True)
class Scanned:
    """What `QuickParser.scan` found in a text."""

    text: str
    tree: Expr | None
    tokens: tuple[Lexeme, ...]
    operands: tuple[Expr, ...]
    """The top-level operands (of the ANDs of the top-level OR), in order."""
    breaks: tuple[int, ...]
    """Where among them each OR starts a new AND."""
    resumes: tuple[_Resume, ...]

    def resume(self, text: str) -> int | None:
        """The last of `resumes` where a scan of `text` can take over from this one, by index:
        the two texts agree up to the end of an operand and the blank after it (which is as
        far as reading the operand looked)."""
        return last_before_change(self.text, text, self.resumes, attrgetter("end"))


_Point = TypeVar("_Point")


def last_before_change(
    old: str, new: str, points: Sequence[_Point], where: Callable[[_Point], int]
) -> int | None:
    """The index of the last of `points` (in the order of `where`, their places in `old`) that
    stands before the first character where `new` differs from `old`; None if none does."""
    index = bisect_left(points, common_prefix(old, new), key=where) - 1
    return None if index < 0 else index


def common_prefix(first: str, second: str) -> int:
    """The length of the longest common prefix: by halves, each comparison in C."""
    low, high = 0, min(len(first), len(second))
    if first[:high] == second[:high]:
        return high
    while low < high:  # first[:low] agrees, first[:high + 1] does not
        middle = (low + high + 1) // 2
        if first[:middle] == second[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class _Scan:
    """One text being parsed: `at` is the position, always after skipped blanks."""

    def __init__(self, terminals: QuickParser, text: str, tokens: list[Lexeme] | None) -> None:
        self.terminals = terminals
        self.text = text
        # Only the search-box toolkit asks for the tokens: `parse` does not pay for them.
        self.tokens = tokens
        self.operands: list[Expr] = []
        self.breaks: list[int] = []
        self.resumes: list[_Resume] = []
        self.at = 0
        self.blanks()

    def whole(self, base: Scanned | None = None) -> Expr | None:
        """The tree of the whole text: the grammar's `or_expr` of `and_expr`s, read here at
        the top level so that a scan can take over from `base` after any operand (and note in
        `resumes` where a later one can)."""
        if _OTHER_WHITE_SPACE.search(self.text):
            raise Unsure
        operands, breaks = self.operands, self.breaks
        index = None if base is None else base.resume(self.text)
        if base is not None and index is not None and self.tokens is not None:
            resume = base.resumes[index]
            self.at = resume.end
            self.blanks()
            self.tokens.extend(base.tokens[: resume.token_count])
            operands.extend(base.operands[: resume.operand_count])
            breaks.extend(base.breaks[: resume.break_count])
            self.resumes.extend(base.resumes[: index + 1])
        while not self.at_end():
            # After an AND or OR the loop goes on to the operand at once: here, any operand
            # read so far belongs to the AND being read.
            if operands and self.keyword("OR"):
                breaks.append(len(operands))
                self.take("_OR", self.at + 2)
                self.blanks()
            elif operands and self.keyword("AND"):
                self.take("_AND", self.at + 3)
                self.blanks()
            operands.append(self.unary(0))
            if self.tokens and self.at > self.tokens[-1].end_pos:
                end = self.tokens[-1].end_pos
                self.resumes.append(_Resume(end, len(self.tokens), len(operands), len(breaks)))
        if not operands:
            return None
        bounds = [0, *breaks, len(operands)]
        return _joined(Or, [_joined(And, operands[a:b]) for a, b in pairwise(bounds)])

    def take(self, kind: str, end: int) -> Span:
        """The token of terminal `kind` from here to `end`: noted, and stepped over."""
        span = Span(self.at, end)
        if self.tokens is not None:
            self.tokens.append(Lexeme(kind, self.text[self.at : end], self.at, end))
        self.at = end
        return span

    def blanks(self) -> bool:
        """Skip blanks; whether there were any (or the text ended)."""
        start = self.at
        match = _SKIP_BLANKS.match(self.text, self.at)
        assert match is not None  # the pattern matches the empty string
        self.at = match.end()
        return self.at > start or self.at == len(self.text)

    def at_end(self) -> bool:
        return self.at == len(self.text)

    def unfinished(self, quote: int | None = None, group: bool = False) -> Unfinished:
        return Unfinished(tuple(self.tokens or ()), quote, group)

    def peek(self, prefix: str) -> bool:
        return self.text.startswith(prefix, self.at)

    def keyword(self, word: str) -> bool:
        """Whether `word` stands here as a keyword (followed by blanks)."""
        end = self.at + len(word)
        return self.peek(word) and end < len(self.text) and self.text[end] in _BLANKS

    def or_expr(self, nesting: int) -> Expr:
        operands = [self.and_expr(nesting)]
        while self.keyword("OR"):
            self.take("_OR", self.at + 2)
            self.blanks()
            operands.append(self.and_expr(nesting))
        return _joined(Or, operands)

    def and_expr(self, nesting: int) -> Expr:
        operands = [self.unary(nesting)]
        while not self.at_end() and not self.peek(")") and not self.keyword("OR"):
            if self.keyword("AND"):
                self.take("_AND", self.at + 3)
                self.blanks()
            operands.append(self.unary(nesting))
        return _joined(And, operands)

    def unary(self, nesting: int) -> Expr:
        """A term, a bare word, a negation or a group, and the blanks after it."""
        if nesting > _MAX_NESTING:
            raise Unsure
        if self.at_end():
            raise self.unfinished()  # after an operator or a '('
        if self.peek("("):
            opening = self.take("LPAR", self.at + 1)
            self.blanks()
            inner = self.or_expr(nesting + 1)
            if not self.peek(")"):
                raise self.unfinished(group=True) if self.at_end() else Unsure()
            span = opening.cover(self.take("RPAR", self.at + 1))
            self.after_unary()
            return replace(inner, span=span, depth=inner.depth + 1)
        minus = self.terminals.minus.match(self.text, self.at)
        if minus is not None or self.keyword("NOT"):
            operator = self.take("MINUS", minus.end()) if minus else self.take("NOT", self.at + 3)
            self.blanks()
            operand = self.unary(nesting + 1)
            return Not(operand, operator.cover(operand.span), operand.depth + 1)
        return self.term()

    def after_unary(self) -> None:
        """What may follow a term or a group here: blanks, a closing parenthesis, the end."""
        if not self.blanks() and not self.peek(")"):
            raise Unsure

    def term(self) -> Term | BareWord:
        # FIELD outranks the keywords and BARE in the grammar: `AND:x` is a term.
        field = self.terminals.field.match(self.text, self.at)
        if field is None:
            return self.bare_word()
        field_span = self.take("FIELD", field.end())
        self.take("_COLON", self.at + 1)  # the ':' that FIELD looks ahead to
        value = self.value()
        term = Term(field.group(), value, field_span.cover(value.span), field_span)
        self.after_unary()
        return term

    def bare_word(self) -> BareWord:
        word = self.terminals.bare.match(self.text, self.at)
        if word is None or word.group() in _KEYWORDS:
            raise Unsure  # a quoted word, a keyword out of place, or anything else
        bare = BareWord(word.group(), self.take("BARE", word.end()))
        self.after_unary()
        return bare

    def value(self) -> ValueShape:
        """The value touching the ':' (the grammar's `value`)."""
        if self.at_end():
            raise self.unfinished()
        if self.peek("("):
            return self.value_list()
        comparator = self.terminals.comparator.match(self.text, self.at)
        if comparator is not None:
            comparing = self.take("COMPARATOR", comparator.end())
            scalar = self.scalar()
            if scalar is None:
                raise self.unfinished() if self.at_end() else Unsure()
            return Comparison(Comparator(comparator.group()), scalar, comparing.cover(scalar.span))
        if (opening := self.range_operator()) is not None:
            high = self.scalar()
            if high is None:
                raise self.unfinished() if self.at_end() else Unsure()
            return Range(None, high, opening.cover(high.span))
        low = self.scalar()
        if low is None:
            raise Unsure
        if (operator := self.range_operator()) is None:
            return low
        high = self.scalar()
        if high is None:
            return Range(low, None, low.span.cover(operator))
        if not high.quoted and high.text in _KEYWORDS:
            # After `a..` a new term may follow, so Lark reads `AND`, `OR`, `NOT` there as the
            # keywords (`a:b..NOT x:y` is `a:b.. NOT x:y`), not as the end of the range.
            raise Unsure
        return Range(low, high, low.span.cover(high.span))

    def range_operator(self) -> Span | None:
        """The span of a `..` here, taken; or None."""
        match = self.terminals.range.match(self.text, self.at)
        return None if match is None else self.take("RANGE", match.end())

    def scalar(self) -> Value | None:
        """A bare word or a quoted string touching what came before, if there is one."""
        if self.peek('"'):
            match = self.terminals.string.match(self.text, self.at)
            if match is None:
                raise self.unfinished(quote=self.at)
            return Value.from_quoted(match.group(), self.take("STRING", match.end()))
        match = self.terminals.word.match(self.text, self.at)
        if match is None:
            return None
        return Value(match.group(), self.take("WORD", match.end()))

    def value_list(self) -> ValueList:
        opening = self.take("LIST_OPEN", self.at + 1)
        items = []
        while True:
            self.blanks()
            if self.at_end():
                raise self.unfinished()
            if self.peek('"'):
                match = self.terminals.item_string.match(self.text, self.at)
                if match is None:
                    raise self.unfinished(quote=self.at)
                item = Value.from_quoted(match.group(), self.take("ITEM_STRING", match.end()))
            else:
                match = self.terminals.item.match(self.text, self.at)
                if match is None:
                    raise Unsure
                item = Value(match.group(), self.take("ITEM", match.end()))
            items.append(item)
            self.blanks()
            if self.at_end():
                raise self.unfinished()
            if self.peek(")"):
                return ValueList(tuple(items), opening.cover(self.take("RPAR", self.at + 1)))
            if not self.peek(","):
                raise Unsure
            self.take("_COMMA", self.at + 1)


def _joined(node: type[And] | type[Or], operands: list[Expr]) -> Expr:
    if len(operands) == 1:
        return operands[0]
    span = operands[0].span.cover(operands[-1].span)
    return node(tuple(operands), span, max(operand.depth for operand in operands))
