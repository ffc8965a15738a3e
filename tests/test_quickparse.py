"""The quick parser agrees with the grammar: wherever it answers, its tree is Lark's, with every
span, depth and quoting flag, its tokens are Lark's, and so is what the grammar accepts after
them; and it answers for the queries people write."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import any_text, queries

import querylang
from querylang import parser
from querylang.parser import (
    _QUICK,
    PartialParse,
    _attempt,
    _lark_attempt,
    parse_partial,
    parse_partial_both,
)
from querylang.quickparse import Unsure
from querylang.syntax import Expr

GOLDEN = Path(__file__).parent / "golden"


def exact(node: Any) -> Any:
    """A node as nested tuples of all its fields, spans and depths included (the nodes' own
    equality leaves those out)."""
    if dataclasses.is_dataclass(node):
        fields = dataclasses.fields(node)
        return (type(node).__name__, *(exact(getattr(node, f.name)) for f in fields))
    if isinstance(node, tuple):
        return tuple(exact(item) for item in node)
    return node


def quick(text: str) -> Expr | Unsure | None:
    try:
        return _QUICK.parse(text)
    except Unsure as unsure:
        return unsure


def agrees(text: str) -> bool:
    """Whether the quick parser answered for `text`; when it did, Lark gives the same tree, the
    same tokens, and accepts the same terminals after them."""
    tree = quick(text)
    if isinstance(tree, Unsure):
        return False
    lark = _lark_attempt(text, None)
    assert lark.error is None, f"the quick parser accepts what the grammar does not: {text!r}"
    assert exact(tree) == exact(lark.tree)
    scanned = _QUICK.scan(text)
    assert exact(scanned.tree) == exact(tree)
    assert scanned.tokens == lark.tokens
    assert _attempt(text).next_terminals == lark.next_terminals
    return True


@given(st.one_of(any_text(), queries()))
def test_same_tree_as_the_grammar(text: str) -> None:
    agrees(text)


# What a search box parses: a query as typed so far (the toolkit asks the quick parser first).
typed_so_far = queries().flatmap(lambda text: st.integers(0, len(text)).map(lambda n: text[:n]))


@given(typed_so_far)
def test_same_as_the_grammar_while_typing(text: str) -> None:
    agrees(text)


def same_attempt(text: str) -> None:
    """One attempt of the forgiving parse (the quick parser's where it can tell, even where the
    text stops too early, and each taking over from the latest parse) is Lark's own, from
    scratch: the tree, the tokens, what may follow them, and how it failed."""
    ours, lark = _attempt(text), _lark_attempt(text, None)
    assert exact(ours.tree) == exact(lark.tree), text
    assert (ours.tokens, ours.next_terminals, ours.error) == (
        lark.tokens,
        lark.next_terminals,
        lark.error,
    ), text


@given(st.one_of(any_text(), typed_so_far))
def test_each_attempt_is_the_grammars(text: str) -> None:
    same_attempt(text)


@given(queries(), st.booleans())
def test_each_attempt_is_the_grammars_keystroke_by_keystroke(text: str, backwards: bool) -> None:
    # In typing order, or deleting from the end: each parse takes over from the one before.
    ends = range(len(text), -1, -1) if backwards else range(len(text) + 1)
    for end in ends:
        same_attempt(text[:end])


def fresh(text: str) -> tuple[PartialParse, PartialParse]:
    """The forgiving parse of `text` with nothing to take over from."""
    saved = parser._latest_scan, parser._latest_lark
    parser._latest_scan = parser._latest_lark = None
    try:
        return parse_partial_both(text)
    finally:
        parser._latest_scan, parser._latest_lark = saved


@given(st.one_of(queries(), any_text()), st.booleans())
def test_the_forgiving_parse_is_the_same_after_any_text(text: str, backwards: bool) -> None:
    # Typed, or deleted, keystroke by keystroke: what each parse took over changes nothing.
    ends = range(len(text), -1, -1) if backwards else range(len(text) + 1)
    for end in ends:
        for ours, theirs in zip(parse_partial_both(text[:end]), fresh(text[:end]), strict=True):
            assert exact(ours.tree) == exact(theirs.tree)
            assert replace(ours, tree=None) == replace(theirs, tree=None)


@pytest.mark.parametrize(
    "text",
    [
        'dir:in from:"+1 (415',
        "mode:(ai, hu",
        'mode:(ai, "hu',
        "(mode:ai OR mode:hu",
        "dir:in AND ",
        "dir:in -",
        "NOT ",
        "duration:>",
        "duration:..",
        "duration:5s..",
        'duration:5s.."x',
        "(dir:in AND ",
        "a:b:",
    ],
)
def test_stopped_too_early(text: str) -> None:
    for end in range(len(text) + 1):
        same_attempt(text[:end])


# Where the two could part: keywords as field names, touching operators, every value shape,
# bare words, white space Lark does not skip.
EDGES = [
    "free text",
    "a:b x",
    ":x",
    "a:b ..x",
    "a:5.. x",
    "a:b ANDx",
    "a:b NOTx OR y",
    "-x",
    "(x) NOT y",
    "a:b and",
    "a:..NOT",
    "a:>NOT",
    "a:NOT",
    "AND:x",
    "a:b AND:x",
    "NOT:x OR:y",
    "-NOT a:b",
    "a:AND",
    "--a:b",
    "-(a:b OR c:d) e:f",
    "( a:b )",
    "a:b\tc:d\n",
    "a:-7d",
    "a::b",
    "a:.5",
    "a:5...6",
    "a:>=5",
    'a:(a, "b c" ,c)',
    'a:"x\\"y\\\\"',
    "a:..5",
    "a:5..",
    'a:"".."z"',
    "NOT NOT a:b",
    "a:b OR c:d AND e:f",
    "tz:UTC a:b",
]
LEFT_TO_LARK = [
    "a:b(c:d)",
    "a:b AND",
    "a:b OR",
    "dir:in -",
    "- a:b",
    "a: b",
    "a:b\vc:d",
    "a:b\u00a0c:d",
    "AND",
    "a:b..NOT x:y",
    "a:b..AND c:d",
    "g:x..OR",
    "a:b AND",
    "a:b NOT",
    "x OR",
    'x"y"',
    'a:"unclosed',
    "a:()",
    "a:(x,)",
    "(" * 150 + "a:b" + ")" * 150,
]


@pytest.mark.parametrize("text", EDGES)
def test_edges_answered(text: str) -> None:
    assert agrees(text)


@pytest.mark.parametrize("text", LEFT_TO_LARK)
def test_left_to_lark(text: str) -> None:
    assert isinstance(quick(text), Unsure)


def golden_queries() -> list[str]:
    """The canonical queries of the golden files: the language written the usual way."""
    lines = (GOLDEN / "identity.txt").read_text(encoding="utf-8").splitlines()
    pairs = (GOLDEN / "canonical.txt").read_text(encoding="utf-8").splitlines()
    found = [line for line in lines if line.strip() and not line.startswith("#")]
    found += [
        line.rsplit(" => ", 1)[1] for line in pairs if " => " in line and not line.startswith("#")
    ]
    return found


def test_answers_for_canonical_queries() -> None:
    texts = golden_queries()
    assert len(texts) > 100
    unanswered = [text for text in texts if not agrees(text)]
    assert unanswered == []


def test_parse_is_the_same_either_way() -> None:
    # querylang.parse takes the quick path where it can; the errors still come from Lark.
    assert querylang.parse("dir:in  -mode:ai") == parse_partial("dir:in  -mode:ai").tree
    with pytest.raises(querylang.QueryError) as caught:
        querylang.parse("dir:in AND")
    assert caught.value.diagnostics[0].message.startswith("expected")
