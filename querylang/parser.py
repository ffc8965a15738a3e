"""Parse: query text -> syntax tree (`querylang.syntax`), or a `syntax` / `too_large` QueryError.

The grammar is `grammar/query.lark` (shipped inside the wheel as `querylang/grammar/`). Lark's LALR
parser calls `_TreeBuilder` on every reduction, so the tree is built bottom-up without recursion and
a deeply nested query cannot overflow the stack. The builder keeps no state, so one parser serves
every thread. Lark's errors are translated here into messages that say what was expected in words.
"""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import cast

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from querylang.errors import Diagnostic, ErrorCode, QueryError, Span
from querylang.limits import DEFAULT_LIMITS, Limits
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

GRAMMAR_FILE = "query.lark"


def grammar_text() -> str:
    """The grammar's source: from the installed package, or from `grammar/` in a source checkout."""
    packaged = resources.files("querylang").joinpath("grammar").joinpath(GRAMMAR_FILE)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # Running from a source checkout (or an editable install): the grammar sits beside the package.
    return (Path(__file__).resolve().parent.parent / "grammar" / GRAMMAR_FILE).read_text(
        encoding="utf-8"
    )


_ESCAPE = re.compile(r'\\(["\\])')


def _unquote(token: Token) -> str:
    return _ESCAPE.sub(r"\1", token[1:-1])


def _span(token: Token) -> Span:
    assert token.start_pos is not None and token.end_pos is not None
    return Span(token.start_pos, token.end_pos)


def _depth(nodes: list[Expr]) -> int:
    return max(node.depth for node in nodes)


class _TreeBuilder(Transformer[Token, Expr | None]):
    """One method per grammar rule (or alias). Stateless: Lark calls it from any thread."""

    def start(self, children: list[Expr]) -> Expr | None:
        return children[0] if children else None

    def or_expr(self, children: list[Expr]) -> Or:
        return Or(tuple(children), children[0].span.cover(children[-1].span), _depth(children))

    def and_expr(self, children: list[Expr]) -> And:
        return And(tuple(children), children[0].span.cover(children[-1].span), _depth(children))

    def negation(self, children: tuple[Token, Expr]) -> Not:
        operator, operand = children
        return Not(operand, _span(operator).cover(operand.span), operand.depth + 1)

    def group(self, children: tuple[Token, Expr, Token]) -> Expr:
        opening, inner, closing = children
        return replace(inner, span=_span(opening).cover(_span(closing)), depth=inner.depth + 1)

    def term(self, children: tuple[Token, ValueShape]) -> Term:
        name, value = children
        field_span = _span(name)
        return Term(str(name), value, field_span.cover(value.span), field_span)

    def bare_word(self, children: tuple[Token]) -> BareWord:
        return BareWord(str(children[0]), _span(children[0]))

    def word(self, children: tuple[Token]) -> Value:
        return Value(str(children[0]), _span(children[0]))

    def string(self, children: tuple[Token]) -> Value:
        return Value(_unquote(children[0]), _span(children[0]), quoted=True)

    def comparison(self, children: tuple[Token, Value]) -> Comparison:
        comparator, value = children
        return Comparison(Comparator(str(comparator)), value, _span(comparator).cover(value.span))

    def closed_range(self, children: tuple[Value, Token, Value]) -> Range:
        low, _, high = children
        return Range(low, high, low.span.cover(high.span))

    def lower_range(self, children: tuple[Value, Token]) -> Range:
        low, operator = children
        return Range(low, None, low.span.cover(_span(operator)))

    def upper_range(self, children: tuple[Token, Value]) -> Range:
        operator, high = children
        return Range(None, high, _span(operator).cover(high.span))

    def value_list(self, children: list[Token | Value]) -> ValueList:
        opening, *values, closing = children
        assert isinstance(opening, Token) and isinstance(closing, Token)
        items = tuple(value for value in values if isinstance(value, Value))
        return ValueList(items, _span(opening).cover(_span(closing)))


# Built once, at import: Lark's parse() keeps its state per call, so sharing it is thread-safe.
_PARSER = Lark(
    grammar_text(),
    parser="lalr",
    lexer="contextual",
    transformer=_TreeBuilder(),
    cache=True,
)


# A value the lexer reads back as one bare word (the grammar's ITEM, which is WORD without the
# rule that it must touch what comes before it). The formatter quotes whatever does not match.
BARE_VALUE = re.compile(_PARSER.get_terminal("ITEM").pattern.to_regexp())


def parse(text: str, *, limits: Limits | None = None) -> Expr | None:
    """Parse query text into its syntax tree; `None` for an empty query.

    Only the shape is checked here: field names and values are not looked at (`check` does that),
    and a bare word is kept as a `BareWord` node for `check` to explain.

    Args:
        text: the query.
        limits: size limits; `Limits()` by default.

    Returns:
        The root node, or `None` when the text is empty or only whitespace.

    Raises:
        QueryError: `syntax` for a malformed query, `too_large` beyond the limits.

    >>> parse("dir:in -mode:ai")  # doctest: +NORMALIZE_WHITESPACE
    And(operands=(Term(field='dir', value=Value(text='in')),
                  Not(operand=Term(field='mode', value=Value(text='ai')))))
    """
    limits = limits or DEFAULT_LIMITS
    if len(text) > limits.max_length:
        raise QueryError(
            text,
            [
                Diagnostic(
                    ErrorCode.TOO_LARGE,
                    f"the query is {len(text):,} characters long; "
                    f"the limit is {limits.max_length:,}",
                    Span(limits.max_length, len(text)),
                    hint="split it into several searches, or raise Limits.max_length",
                )
            ],
        )
    try:
        # The tree builder runs inside the parser, so parse() returns its result, not a Tree.
        tree = cast(Expr | None, _PARSER.parse(text))
    except UnexpectedInput as error:
        raise QueryError(text, [_explain(text, error)]) from None
    except LarkError as error:  # Lark raises only UnexpectedInput on bad input; this is a guard
        diagnostic = Diagnostic(ErrorCode.SYNTAX, str(error), Span(0, len(text)))
        raise QueryError(text, [diagnostic]) from None
    if tree is not None and tree.depth > limits.max_depth:
        raise QueryError(
            text,
            [
                Diagnostic(
                    ErrorCode.TOO_LARGE,
                    f"the query nests {tree.depth} levels deep; the limit is {limits.max_depth}",
                    tree.span,
                    hint="remove redundant parentheses or NOTs, or raise Limits.max_depth",
                )
            ],
        )
    return tree


# --- Lark's errors, told in words -------------------------------------------------------------

_VALUE_TERMINALS = {"WORD", "STRING", "LIST_OPEN", "COMPARATOR", "RANGE", "ITEM", "ITEM_STRING"}
_TERM_TERMINALS = {"FIELD", "BARE", "NOT", "MINUS", "LPAR"}
_CAN_FOLLOW_A_TERM = _TERM_TERMINALS | {"$END", "RPAR", "_AND", "_OR"}
_FIELD_AHEAD = re.compile(r'[^\s()",:\-][^\s()",:]*:')
_STRING = re.compile(r'"(?:[^"\\]|\\["\\]|\\(?!["\\]))*"')
_BEFORE_VALUE = re.compile(r'(?:([^\s()",:]+):|(>=|<=|>|<)|(\.\.)|([(,]))$')
_LAST_WORD = re.compile(r"(\S+)$")


def _explain(text: str, error: UnexpectedInput) -> Diagnostic:
    """Turn a Lark error into one diagnostic with a targeted message and hint."""
    if isinstance(error, UnexpectedToken):
        expected = set(error.expected)
        at_end = error.token.type == "$END"
        pos = len(text) if at_end else error.token.start_pos
        found_span = Span(pos, pos) if at_end else _span(error.token)
        found = "the end of the query" if at_end else repr(str(error.token))
    else:
        assert isinstance(error, UnexpectedCharacters)
        expected = set(error.allowed or ())
        at_end = False
        pos = error.pos_in_stream
        assert pos is not None, "the contextual lexer always knows where it stopped"
        found_span = Span(pos, pos + 1)
        found = repr(text[pos])

    def syntax(message: str, span: Span, hint: str | None = None) -> Diagnostic:
        return Diagnostic(ErrorCode.SYNTAX, message, span, hint)

    if not at_end and text[pos] == '"' and not _STRING.match(text, pos):
        return syntax(
            "unclosed quote",
            Span(pos, len(text)),
            'end the value with "; inside quotes, write \\" for a quote and \\\\ for a backslash',
        )
    if not at_end and text[pos] == "," and "_COMMA" not in expected:
        return syntax(
            "a ',' separates values inside a list only",
            found_span,
            "write field:(a, b) for any of several values, or use OR between terms",
        )
    before = text[:pos].rstrip()
    gap = Span(len(before), pos)
    # A value is required only where nothing else could come: after "field:", a comparator, "(".
    if expected & _VALUE_TERMINALS and not expected & _CAN_FOLLOW_A_TERM:
        after = _describe_introducer(_BEFORE_VALUE.search(before))
        if gap.start != gap.end and not at_end:
            if _FIELD_AHEAD.match(text, pos):
                return syntax(
                    f"expected a value after {after}",
                    gap,
                    f"{after} has no value: the space ends it",
                )
            return syntax(
                f"expected a value right after {after}, found a space",
                gap,
                "a value touches what comes before it: remove the space, or quote a value "
                "that contains spaces",
            )
        if not at_end and text[pos] == ")" and before.endswith("("):
            return syntax(
                "a list needs at least one value",
                Span(len(before) - 1, pos + 1),
                "write the values between the parentheses: field:(a, b)",
            )
        return syntax(
            f"expected a value after {after}, found {found}",
            found_span,
            'write the value right after it, e.g. mode:ai, or quote it: mode:"a b"',
        )
    if "RPAR" in expected and at_end:
        opening = _unclosed_parenthesis(text)
        return syntax("unclosed '('", Span(opening, opening + 1), "add ')' where the group ends")
    if not at_end and text[pos] == ")" and "RPAR" not in expected:
        return syntax("unmatched ')'", found_span, "remove it, or add the '(' it closes")
    if expected & _TERM_TERMINALS:
        last = _LAST_WORD.search(before)
        if at_end and last and last.group(1) in {"AND", "OR", "NOT", "-", "("}:
            return syntax(
                f"expected a term after {last.group(1)!r}",
                Span(last.start(1), last.end(1)),
                "complete the query, or remove the dangling operator",
            )
        if not at_end and text[pos] == "-":
            return syntax(
                "'-' must touch the term it negates",
                found_span,
                "write -dir:in (or NOT dir:in)",
            )
        if not at_end and text[pos] == '"':
            return syntax(
                "a quoted value needs a field",
                found_span,
                'write field:"…"; querylang has no free-text search',
            )
        return syntax(
            f"expected a term, found {found}", found_span, "a term is field:value, e.g. dir:in"
        )
    if expected <= {"RPAR", "_COMMA"}:
        return syntax(
            f"unexpected {found} in a list",
            found_span,
            "separate list values with commas, and quote a value that contains spaces",
        )
    return syntax(
        f"unexpected {found}; expected {_words(expected)}",
        found_span,
        'quote a value that contains spaces or ( ) , "',
    )


def _describe_introducer(match: re.Match[str] | None) -> str:
    if match is None:
        return "':'"
    field, comparator, range_operator, opening = match.groups()
    if field is not None:
        return f"'{field}:'"
    if comparator is not None:
        return f"'{comparator}'"
    if range_operator is not None:
        return "'..'"
    return f"'{opening}' in a list"


_TERMINAL_WORDS = {
    "RPAR": "')'",
    "_COMMA": "','",
    "_AND": "AND",
    "_OR": "OR",
    "$END": "the end of the query",
}


def _words(expected: set[str]) -> str:
    words = set()
    for name in expected:
        if name in _TERM_TERMINALS:
            words.add("a term")
        elif name in _VALUE_TERMINALS:
            words.add("a value")
        else:
            words.add(_TERMINAL_WORDS.get(name, name))
    return " or ".join(sorted(words)) or "nothing more"


def _unclosed_parenthesis(text: str) -> int:
    """Where the innermost '(' that is never closed stands (quoted strings are skipped)."""
    open_at: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            quoted = _STRING.match(text, index)
            index = quoted.end() if quoted else len(text)
            continue
        if char == "(":
            open_at.append(index)
        elif char == ")" and open_at:
            open_at.pop()
        index += 1
    return open_at[-1] if open_at else 0
