"""The quick parser agrees with the grammar: wherever it answers, its tree is Lark's, with every
span, depth and quoting flag; and it answers for the queries people write."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import any_text, queries

import querylang
from querylang.parser import _QUICK, parse_partial
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
    """Whether the quick parser answered for `text`; when it did, Lark gives the same tree."""
    tree = quick(text)
    if isinstance(tree, Unsure):
        return False
    lark = parse_partial(text)
    assert lark.diagnostics == (), f"the quick parser accepts what the grammar does not: {text!r}"
    assert exact(tree) == exact(lark.tree)
    return True


@given(st.one_of(any_text(), queries()))
def test_same_tree_as_the_grammar(text: str) -> None:
    agrees(text)


# Where the two could part: keywords as field names, touching operators, every value shape,
# white space Lark does not skip.
EDGES = [
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
    "free text",
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
