"""Parse: query text -> syntax tree (`querylang.syntax`), or a `syntax` / `too_large` QueryError.

The grammar is `grammar/query.lark` (shipped inside the wheel as `querylang/grammar/`). Lark's LALR
parser calls `_TreeBuilder` on every reduction, so the tree is built bottom-up without recursion and
a deeply nested query cannot overflow the stack. The builder keeps no state, so one parser serves
every thread. Lark's errors are translated here into messages that say what was expected in words.

The forgiving parse of the search-box toolkit (`parse_partial`) runs on every keystroke. Each of
its attempts goes to the quick parser first (`querylang.quickparse`), which answers for a query
typed the usual way, even one that stops too early (`field:`, an unclosed list, group or quote);
Lark takes the rest. Both take over from their latest parse where the new text begins as the
old one did, so a keystroke costs about the term being typed, not the whole query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple, cast

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_parser_state import ParseConf
from lark.utils import TextSlice

from querylang.errors import Diagnostic, ErrorCode, QueryError, Span
from querylang.limits import DEFAULT_LIMITS, Limits
from querylang.quickparse import (
    TERMINALS,
    Lexeme,
    QuickParser,
    Scanned,
    Unfinished,
    Unsure,
    last_before_change,
)
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
        return Value.from_quoted(children[0], _span(children[0]))

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


# Built once, at import: Lark keeps a parse's state per call, so sharing it is thread-safe.
_PARSER = Lark(
    grammar_text(),
    parser="lalr",
    lexer="contextual",
    transformer=_TreeBuilder(),
    cache=True,
)
# Lark's parse table without the tree builder, for the forgiving parse. Most texts it leaves to
# Lark have a syntax error, which ends the attempt, and their trees would be thrown away: a text
# that parses is parsed again for its tree.
_RECOGNISER = ParseConf(
    _PARSER.parse_interactive("").parser_state.parse_conf.parse_table, {}, "start"
)


def _terminal(name: str) -> re.Pattern[str]:
    return re.compile(_PARSER.get_terminal(name).pattern.to_regexp())


# A value the lexer reads back as one bare word (the grammar's ITEM, which is WORD without the
# rule that it must touch what comes before it). The formatter quotes whatever does not match.
BARE_VALUE = _terminal("ITEM")
_QUOTED = _terminal("ITEM_STRING")

# Most queries are parsed without Lark, by a quick parser over the grammar's own terminals that
# leaves to Lark whatever it is not sure of (errors above all), and gives the same trees.
_QUICK = QuickParser({name: _terminal(name) for name in TERMINALS})

# Past this many syntax errors the rest of the text is skipped: a query is not a source file.
MAX_SYNTAX_ERRORS = 20


@dataclass(frozen=True, slots=True)
class PartialParse:
    """What a forgiving parse of any text found.

    Each syntax error is reported, the text it covers is skipped (parsed as if it were blank),
    and parsing starts again, so one call reports every syntax error and still builds a tree of
    the rest. Spans stay those of the original text.
    """

    tree: Expr | None
    """The tree of what remained; `None` if nothing did, or the nesting is over the limit."""
    diagnostics: tuple[Diagnostic, ...]
    """Syntax errors (and `too_large`), in order."""
    tokens: tuple[Lexeme, ...]
    """The tokens of the last attempt: the whole text less the skipped parts, or, when
    `stop_at_end` stopped the parse, everything up to the end."""
    skipped: tuple[Span, ...]
    """The parts of the text parsed as blanks."""
    next_terminals: frozenset[str]
    """The terminals the grammar accepts after the last token, when the parse reached the end."""


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
        QueryError: `syntax` for each malformed part of the query, `too_large` beyond the limits.

    >>> parse("dir:in -mode:ai")  # doctest: +NORMALIZE_WHITESPACE
    And(operands=(Term(field='dir', value=Value(text='in')),
                  Not(operand=Term(field='mode', value=Value(text='ai')))))
    """
    limits = limits or DEFAULT_LIMITS
    if len(text) <= limits.max_length:
        try:
            tree = _QUICK.parse(text)
        except Unsure:
            pass
        else:
            if tree is None or tree.depth <= limits.max_depth:
                return tree
    result = parse_partial(text, limits=limits)
    if result.diagnostics:
        raise QueryError(text, result.diagnostics)
    return result.tree


def parse_partial(
    text: str, *, limits: Limits | None = None, stop_at_end: bool = False
) -> PartialParse:
    """Parse as much of `text` as can be parsed; never raises for any text.

    With `stop_at_end`, an error at the very end of the text (where the text is merely
    unfinished, as it is while being typed) ends the parse without a diagnostic, keeping the
    tokens and the parser's expectations there: what completion needs.
    """
    return parse_partial_both(text, limits=limits)[stop_at_end]


def parse_partial_both(
    text: str, *, limits: Limits | None = None
) -> tuple[PartialParse, PartialParse]:
    """`parse_partial` without and with `stop_at_end`, for the price of one: the two parse
    alike until the first attempt that reaches the end of the text."""
    limits = limits or DEFAULT_LIMITS
    if len(text) > limits.max_length:
        too_long = Diagnostic(
            ErrorCode.TOO_LARGE,
            f"the query is {len(text):,} characters long; the limit is {limits.max_length:,}",
            Span(limits.max_length, len(text)),
            hint="split it into several searches, or raise Limits.max_length",
        )
        result = PartialParse(None, (too_long,), (), (Span(0, len(text)),), frozenset())
        return result, result
    diagnostics: list[Diagnostic] = []
    skipped: list[Span] = []
    stopped: PartialParse | None = None
    work = text
    while True:
        attempt = _attempt(work)
        if attempt.error is not None and not skipped and _most_depth(text) > limits.max_depth:
            written = _least_depth(attempt.tokens)
            if written > limits.max_depth:
                # Too deep to be worth repairing, even if it never parses: `((((…` alone.
                result = PartialParse(
                    None,
                    (_too_deep(written, limits, Span(0, len(text))),),
                    (),
                    (Span(0, len(text)),),
                    frozenset(),
                )
                return result, result
        if stopped is None and (attempt.error is None or attempt.error.at_end):
            stopped = _result(attempt, diagnostics, skipped, limits)
        if attempt.error is None:
            break
        problem = _explain(work, attempt.error, attempt.tokens)
        skip = problem.skip
        if len(diagnostics) == MAX_SYNTAX_ERRORS:
            skip = Span(0, len(text))  # enough is reported: parse nothing more
        if problem.diagnostic not in diagnostics:
            diagnostics.append(problem.diagnostic)
        skipped.append(skip)
        work = work[: skip.start] + " " * (skip.end - skip.start) + work[skip.end :]
    full = _result(attempt, diagnostics, skipped, limits)
    return full, stopped or full


def _result(
    attempt: _Attempt, diagnostics: list[Diagnostic], skipped: list[Span], limits: Limits
) -> PartialParse:
    found = list(diagnostics)
    tree = attempt.tree
    if tree is not None and tree.depth > limits.max_depth:
        found.append(_too_deep(tree.depth, limits, tree.span))
        tree = None
    return PartialParse(
        tree,
        tuple(sorted(found, key=lambda d: (d.span.start, d.span.end))),
        attempt.tokens,
        _merged(skipped),
        attempt.next_terminals,
    )


def _merged(spans: list[Span]) -> tuple[Span, ...]:
    """The spans, sorted, with those that overlap or touch joined (a retry may skip more of what
    an earlier one skipped)."""
    merged: list[Span] = []
    for span in sorted(spans):
        if merged and span.start <= merged[-1].end:
            merged[-1] = merged[-1].cover(span)
        else:
            merged.append(span)
    return tuple(merged)


def _too_deep(depth: int, limits: Limits, span: Span) -> Diagnostic:
    return Diagnostic(
        ErrorCode.TOO_LARGE,
        f"the query nests {depth} levels deep; the limit is {limits.max_depth}",
        span,
        hint="remove redundant parentheses or NOTs, or raise Limits.max_depth",
    )


def _most_depth(text: str) -> int:
    """At most how deep the text can nest, counted in C: a bound on `_least_depth`, which
    walks the tokens, so that a keystroke does not walk them all."""
    return max(text.count("("), text.count("NOT") + text.count("-"))


def _least_depth(tokens: tuple[Lexeme, ...]) -> int:
    """At least how deep the text nests as written, from the tokens before a syntax error:
    open group parentheses, or a run of NOT / '-' prefixes."""
    deepest = depth = run = 0
    open_parentheses: list[bool] = []  # True for a group; a list's parentheses do not nest
    for token in tokens:
        if token.type in ("LPAR", "LIST_OPEN"):
            open_parentheses.append(token.type == "LPAR")
            depth += token.type == "LPAR"
        elif token.type == "RPAR" and open_parentheses:
            depth -= open_parentheses.pop()
        run = run + 1 if token.type in ("NOT", "MINUS") else 0
        deepest = max(deepest, depth, run)
    return deepest


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    """Lark's parser just before a FIELD token (the start of a term): where the parse of a text
    that begins the same way can take over, lexing and parsing only the rest."""

    position: int
    """Where the FIELD starts."""
    token_count: int
    """How many tokens come before it."""
    states: tuple[int, ...]
    """The parser's stack of states (its values are not read: see `_RECOGNISER`)."""


@dataclass(frozen=True, slots=True)
class _Attempt:
    text: str
    tree: Expr | None
    tokens: tuple[Lexeme, ...]
    next_terminals: frozenset[str]
    error: _Failure | None
    checkpoints: tuple[_Checkpoint, ...]
    """Where a later Lark parse can take over (none from the quick parser)."""

    def resumable(self, text: str) -> int | None:
        """The last of `checkpoints` that a parse of `text` can take over, by index: the two
        texts agree up to it and one character beyond (the lexer looks one character past a
        token's end)."""
        return last_before_change(self.text, text, self.checkpoints, attrgetter("position"))


# The latest parses, the quick parser's and Lark's. A search box parses the text again on every
# keystroke, and the new text begins as the old one did up to the caret: the new parse takes
# over from the old one before the change, and reads only the rest. Both are immutable, and a
# parse copies what it takes over, so threads may share them: at worst a thread takes over from
# another's text, which only saves less.
_latest_scan: Scanned | None = None
_latest_lark: _Attempt | None = None


def _attempt(text: str) -> _Attempt:
    """One parse: the quick parser's where it answers (a prefix typed so far, or what is left
    once the errors are skipped, mostly), else Lark's."""
    global _latest_scan, _latest_lark
    try:
        scanned = _QUICK.scan(text, _latest_scan)
    except Unsure as unsure:
        known = _unfinished(text, unsure) if isinstance(unsure, Unfinished) else None
        if known is not None:
            return known
        _latest_lark = _lark_attempt(text, _latest_lark)
        return _latest_lark
    _latest_scan = scanned
    last = scanned.tokens[-1].type if scanned.tokens else None
    return _Attempt(text, scanned.tree, scanned.tokens, _accepted_after(last), None, ())


# What the grammar accepts after a whole query depends only on the query's last token (the LALR
# state after it is the same wherever it stands), so Lark's answer for one query of each ending
# is its answer for all; tests/test_quickparse.py holds the two equal on any text.
_ENDINGS: dict[str | None, str] = {
    None: "",
    "BARE": "x",
    "WORD": "a:b",
    "STRING": 'a:"b"',
    "RANGE": "a:b..",
    "RPAR": "(x)",
}


def _accepted_after(last: str | None) -> frozenset[str]:
    return _example(_ENDINGS[last]).next_terminals


# Likewise where a text being typed stops too early, after a token of these terminals (the text
# ends, or an unclosed quote opens, as the key's second item says): the LALR state after the
# token only shifts, or reduces on ')' and ',' only, so Lark fails there whatever came before.
_UNFINISHED: dict[tuple[str | None, bool], str] = {
    ("_COLON", False): "a:",
    ("COMPARATOR", False): "a:>",
    ("RANGE", False): "a:..",
    ("LIST_OPEN", False): "a:(",
    ("_COMMA", False): "a:(b,",
    ("ITEM", False): "a:(b",
    ("ITEM_STRING", False): 'a:("b"',
    ("_AND", False): "a:b AND ",
    ("_OR", False): "a:b OR ",
    ("NOT", False): "NOT ",
    ("MINUS", False): "-",
    ("LPAR", False): "(",
    ("_COLON", True): 'a:"',
    ("LIST_OPEN", True): 'a:("',
    ("_COMMA", True): 'a:(b,"',
}


# And where a text ends inside a group, after a whole term: at the end Lark reduces what it can
# and fails where the group waits for its ')' (or an OR), wherever the group stands.
_UNCLOSED_GROUP = "(a:b"


def _unfinished(text: str, unfinished: Unfinished) -> _Attempt | None:
    """Lark's attempt at `text`, from the quick parser's tokens and Lark's failure on the
    example of the same ending; None for an ending without an example."""
    last = unfinished.tokens[-1].type if unfinished.tokens else None
    if unfinished.group:
        if last not in _ENDINGS:
            return None
        model = _example(_UNCLOSED_GROUP)
        next_terminals = _accepted_after(last)
    else:
        example = _UNFINISHED.get((last, unfinished.quote is not None))
        if example is None:
            return None
        model = _example(example)
        next_terminals = model.next_terminals
    assert model.error is not None, model.text
    if unfinished.quote is None:
        failure = _Failure.ending(text, model.error.expected)
    else:
        failure = _Failure.unreadable(text, unfinished.quote, model.error.expected)
    return _Attempt(text, None, unfinished.tokens, next_terminals, failure, ())


@cache  # the examples above: a bounded set
def _example(text: str) -> _Attempt:
    return _lark_attempt(text, None)


def _lark_attempt(text: str, base: _Attempt | None) -> _Attempt:
    """One parse, token by token, so that the tokens and the parser's state survive an error;
    taking over from `base` where it can."""
    tokens: list[Lexeme] = []
    checkpoints: list[_Checkpoint] = []
    index = None if base is None else base.resumable(text)
    resumed = None if base is None or index is None else base.checkpoints[index]
    parser = _PARSER.parse_interactive(
        text if resumed is None else TextSlice(text, resumed.position, len(text))
    )
    state = parser.parser_state
    state.parse_conf = _RECOGNISER
    if base is not None and resumed is not None:
        state.state_stack = list(resumed.states)
        # Without the tree builder, the values are not read: only their number counts.
        state.value_stack = [None] * (len(resumed.states) - 1)
        tokens.extend(base.tokens[: resumed.token_count])
        checkpoints.extend(base.checkpoints[:index])
    next_terminals: frozenset[str] = frozenset()
    last: Token | None = None
    try:
        for last in parser.iter_parse():
            span = _span(last)
            if last.type == "FIELD":  # not fed to the parser yet
                checkpoints.append(_Checkpoint(span.start, len(tokens), tuple(state.state_stack)))
            tokens.append(Lexeme(last.type, last.value, span.start, span.end))
        choices = parser.choices()  # type: ignore[no-untyped-call]
        # The parse table also holds the grammar's rules (lower case): keep the terminals.
        next_terminals = frozenset(name for name in choices if name.upper() == name)
        parser.feed_eof(last)  # type: ignore[no-untyped-call]
    except UnexpectedInput as error:
        failure = _Failure.of(text, error)
        return _Attempt(text, None, tuple(tokens), next_terminals, failure, tuple(checkpoints))
    # The tree builder runs inside the parser: the result is ours, not a Lark Tree.
    tree = cast(Expr | None, _PARSER.parse(text))
    return _Attempt(text, tree, tuple(tokens), next_terminals, None, tuple(checkpoints))


class _Failure(NamedTuple):
    """Where and how a parse failed: what Lark's error says, and all that is kept of it."""

    expected: frozenset[str]
    """The terminals the grammar accepted there."""
    at_end: bool
    """Whether the text ended where more was needed."""
    found_span: Span
    found: str
    """What stood there instead, in words."""

    @classmethod
    def of(cls, text: str, error: UnexpectedInput) -> _Failure:
        if isinstance(error, UnexpectedToken):
            if error.token.type == "$END":
                return cls.ending(text, frozenset(error.expected))
            found_span = _span(error.token)
            return cls(frozenset(error.expected), False, found_span, repr(str(error.token)))
        assert isinstance(error, UnexpectedCharacters)
        position = error.pos_in_stream
        assert position is not None, "the contextual lexer always knows where it stopped"
        return cls.unreadable(text, position, frozenset(error.allowed or ()))

    @classmethod
    def ending(cls, text: str, expected: frozenset[str]) -> _Failure:
        """The text ends where one of `expected` was needed."""
        return cls(expected, True, Span(len(text), len(text)), "the end of the query")

    @classmethod
    def unreadable(cls, text: str, position: int, expected: frozenset[str]) -> _Failure:
        """No terminal reads the text at `position`; one of `expected` was needed."""
        return cls(expected, False, Span(position, position + 1), repr(text[position]))


# --- Lark's errors, told in words -------------------------------------------------------------

_VALUE_TERMINALS = {"WORD", "STRING", "LIST_OPEN", "COMPARATOR", "RANGE", "ITEM", "ITEM_STRING"}
_TERM_TERMINALS = {"FIELD", "BARE", "NOT", "MINUS", "LPAR"}
_CAN_FOLLOW_A_TERM = _TERM_TERMINALS | {"$END", "RPAR", "_AND", "_OR"}
_FIELD_AHEAD = re.compile(r'[^\s()",:\-][^\s()",:]*:')
_NEXT_CHUNK = re.compile(r'"(?:[^"\\]|\\.)*"?|[^\s()]+')
_BEFORE_VALUE = re.compile(r'(?:([^\s()",:]+):|(>=|<=|>|<)|(\.\.)|([(,]))$')
_OPERATORS = {"NOT", "MINUS", "LPAR", "_AND", "_OR"}


@dataclass(frozen=True, slots=True)
class _Problem:
    diagnostic: Diagnostic
    skip: Span
    """What to parse as blank to go on: the least that removes the error."""


def _explain(text: str, failure: _Failure, tokens: tuple[Lexeme, ...]) -> _Problem:
    """Turn a failure into one diagnostic with a targeted message and hint, and the part of
    the text to skip to recover from it."""
    expected, at_end, found_span, found = failure
    pos = found_span.start

    def problem(message: str, span: Span, hint: str, skip: Span | None = None) -> _Problem:
        skip = _widen(text, skip or span, tokens)
        return _Problem(Diagnostic(ErrorCode.SYNTAX, message, span, hint), skip)

    value_required = bool(expected & _VALUE_TERMINALS) and not expected & _CAN_FOLLOW_A_TERM
    term_start = next((t.start_pos for t in reversed(tokens) if t.type == "FIELD"), None)
    if not at_end and text[pos] == '"' and not _QUOTED.match(text, pos):
        return problem(
            "unclosed quote",
            Span(pos, len(text)),
            'end the value with "; inside quotes, write \\" for a quote and \\\\ for a backslash',
            # The field before it has lost its value too: skip the whole term.
            Span(term_start if value_required and term_start is not None else pos, len(text)),
        )
    before = text[:pos].rstrip()
    gap = Span(len(before), pos)
    # A value is required only where nothing else could come: after "field:", a comparator, "(".
    if value_required:
        introducer = _BEFORE_VALUE.search(before)
        after = _describe_introducer(introducer)
        if term_start is None:  # cannot happen: the grammar asks for a value only after a field
            term_start = gap.start
        value_hint = 'write the value right after it, e.g. mode:ai, or quote it: mode:"a b"'
        if at_end:
            return problem(
                f"expected a value after {after}, found the end of the query",
                found_span,
                value_hint,
                Span(term_start, len(text)),
            )
        if introducer is not None and introducer.group(4) is not None:  # in a list
            if text[pos] != ")":
                skip = found_span  # a stray token: `(a,, b)`
            elif introducer.group(4) == ",":
                skip = Span(introducer.start(4), introducer.end(4))  # a trailing comma: `(a, )`
            else:
                return problem(
                    "a list needs at least one value",
                    Span(introducer.start(4), pos + 1),
                    "write the values between the parentheses: field:(a, b)",
                    Span(term_start, pos + 1),
                )
            return problem(
                f"expected a value after {after}, found {found}", found_span, value_hint, skip
            )
        if gap.start != gap.end:
            if _FIELD_AHEAD.match(text, pos):
                return problem(
                    f"expected a value after {after}",
                    gap,
                    f"{after} has no value: the space ends it",
                    Span(term_start, gap.start),
                )
            chunk = _NEXT_CHUNK.match(text, pos)
            return problem(
                f"expected a value right after {after}, found a space",
                gap,
                "a value touches what comes before it: remove the space, or quote a value "
                "that contains spaces",
                Span(term_start, chunk.end() if chunk else pos),
            )
        # Skip the dangling term, and what was found unless it is a ')' that may close a group.
        return problem(
            f"expected a value after {after}, found {found}",
            found_span,
            value_hint,
            Span(term_start, pos if text[pos] == ")" else found_span.end),
        )
    if not at_end and text[pos] == "," and "_COMMA" not in expected:
        return problem(
            "a ',' separates values inside a list only",
            found_span,
            "write field:(a, b) for any of several values, or use OR between terms",
        )
    if "RPAR" in expected and at_end:
        opening = _unclosed_parenthesis(tokens)
        if opening.type == "LIST_OPEN":
            # Without its ')' the list is no value: skip its whole term.
            before_list = tokens[: tokens.index(opening)]
            field = next(t for t in reversed(before_list) if t.type == "FIELD")
            return problem(
                "unclosed '(' of a list",
                opening.span,
                "add ')' after the last value",
                Span(field.start_pos, len(text)),
            )
        return problem("unclosed '('", opening.span, "add ')' where the group ends")
    if not at_end and text[pos] == ")" and "RPAR" not in expected:
        return problem("unmatched ')'", found_span, "remove it, or add the '(' it closes")
    if expected & _TERM_TERMINALS:
        dangling = _dangling_operators(tokens) if at_end else ()
        if dangling:
            return problem(
                f"expected a term after {dangling[-1].value!r}",
                dangling[0].span.cover(dangling[-1].span),
                "complete the query, or remove the dangling operator",
            )
        if not at_end and text[pos] == "-":
            return problem(
                "'-' must touch the term it negates", found_span, "write -dir:in (or NOT dir:in)"
            )
        if not at_end and text[pos] == '"':
            quoted = _QUOTED.match(text, pos)
            assert quoted is not None, "an unclosed quote was handled above"
            return problem(
                "a quoted value needs a field",
                Span(pos, quoted.end()),
                'write field:"…"; querylang has no free-text search',
            )
        return problem(
            f"expected a term, found {found}", found_span, "a term is field:value, e.g. dir:in"
        )
    if expected <= {"RPAR", "_COMMA"}:
        return problem(
            f"unexpected {found} in a list",
            found_span,
            "separate list values with commas, and quote a value that contains spaces",
        )
    return problem(
        f"unexpected {found}; expected {_words(expected)}",
        found_span,
        'quote a value that contains spaces or ( ) , "',
    )


def _dangling_operators(tokens: tuple[Lexeme, ...]) -> tuple[Lexeme, ...]:
    """The operators at the end that wait for a term (`AND (`, `NOT -`), all skipped at once."""
    count = 0
    for token in reversed(tokens):
        if token.type not in _OPERATORS:
            break
        count += 1
    return tokens[len(tokens) - count :]


def _widen(text: str, skip: Span, tokens: tuple[Lexeme, ...]) -> Span:
    """`skip`, or, if it holds nothing but blanks (an error at the end), the last token too, so
    that every retry removes something and the loop ends."""
    if text[skip.start : skip.end].strip():
        return skip
    if not tokens:
        return Span(skip.start, len(text)) if skip.start < len(text) else Span(0, len(text))
    return Span(tokens[-1].start_pos, max(skip.end, len(text)))


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


def _words(expected: frozenset[str]) -> str:
    words = set()
    for name in expected:
        if name in _TERM_TERMINALS:
            words.add("a term")
        elif name in _VALUE_TERMINALS:
            words.add("a value")
        else:
            words.add(_TERMINAL_WORDS.get(name, name))
    return " or ".join(sorted(words)) or "nothing more"


def _unclosed_parenthesis(tokens: tuple[Lexeme, ...]) -> Lexeme:
    """The innermost '(' that is never closed (the grammar expects a ')', so there is one)."""
    open_at: list[Lexeme] = []
    for token in tokens:
        if token.type in ("LPAR", "LIST_OPEN"):
            open_at.append(token)
        elif token.type == "RPAR" and open_at:
            open_at.pop()
    return open_at[-1]
