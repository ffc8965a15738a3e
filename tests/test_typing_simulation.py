"""Typing simulation (issue 3): a search box calls the toolkit on every keystroke.

200 realistic queries are typed one character at a time; every prefix goes through `tokens`,
`diagnose` and `complete` (cursor at the end), none of which may raise. For every fourth query
the whole text is also completed with the cursor inside it, as when the user clicks back into
the query.

Prefixes are sampled, deterministically, to keep the run short (all of them would be some 20,000
keystrokes, about a millisecond each today): every prefix that ends just after a character where
the grammar changes state (space : ( ) , " < > = . -), and every STRIDE-th of the others, starting
at a different offset for each query so that together the queries try every position.

The queries are built from the schema's own examples (the same data the docs show), a few terms
each, at most one per body dimension so that every finished query compiles, joined by spaces or
AND, with same-field ORs, NOTs on closed sets and a `tz:` option mixed in, from a fixed seed.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from querylang import Completion, Diagnostic, Token, compile, complete, default_schema, diagnose
from querylang import tokens as tokenize
from querylang.schema import Field, ValueType

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
SEED = 3
COUNT = 200
TERM_WEIGHTS = {1: 4, 2: 6, 3: 6, 4: 4, 5: 2, 6: 1}
MAX_LENGTH = 200
"""The issue's performance goal is for queries up to 200 characters."""
MIDDLE_EVERY = 4
"""Every MIDDLE_EVERY-th query is also completed with the cursor inside it."""
STRIDE = 6
BOUNDARIES = frozenset(' :(),"<>=.-')


def _dimensions() -> list[list[Field]]:
    """The fields grouped by the body keys they set: two fields of a group could contradict."""
    groups: list[tuple[set[str], list[Field]]] = []
    for field in default_schema().fields:
        keys = set(field.api)
        joined = [group for group in groups if group[0] & keys]
        for group in joined:
            groups.remove(group)
            keys |= group[0]
        groups.append((keys, [f for group in joined for f in group[1]] + [field]))
    return [fields for _, fields in groups]


def _term(rng: random.Random, field: Field) -> str:
    examples = list(field.examples)
    plain = [e for e in examples if not e.startswith("-")]
    closed = field.type in (ValueType.ENUM, ValueType.BOOLEAN)
    roll = rng.random()
    if roll < 0.15 and field.many and len(plain) >= 2:
        first, second = rng.sample(plain, 2)
        return f"({first} OR {second})"
    if roll < 0.25 and closed:
        return f"NOT {rng.choice(plain)}"
    return rng.choice(examples)


def realistic_queries() -> list[str]:
    rng = random.Random(SEED)
    dimensions = _dimensions()
    counts, weights = list(TERM_WEIGHTS), list(TERM_WEIGHTS.values())
    queries: dict[str, None] = {}
    while len(queries) < COUNT:
        chosen = rng.sample(dimensions, rng.choices(counts, weights)[0])
        terms = [_term(rng, rng.choice(fields)) for fields in chosen]
        if rng.random() < 0.2:
            option = f"tz:{rng.choice(['Europe/Paris', 'America/New_York', 'UTC'])}"
            terms.insert(rng.choice([0, len(terms)]), option)
        text = terms[0]
        for term in terms[1:]:
            text += rng.choice([" ", " ", " ", " AND "]) + term
        if len(text) <= MAX_LENGTH:
            queries[text] = None
    return list(queries)


QUERIES = realistic_queries()


def test_the_queries_are_realistic() -> None:
    assert len(QUERIES) == COUNT
    for query in QUERIES:
        compile(query, now=NOW)  # a finished query is a valid one
    assert max(len(query) for query in QUERIES) <= MAX_LENGTH


def keystrokes(number: int, query: str) -> list[int]:
    """Where the sampled prefixes of query `number` end (see the module docstring)."""
    ends = set(range(number % STRIDE, len(query) + 1, STRIDE)) | {0, len(query)}
    ends |= {end for end in range(1, len(query) + 1) if query[end - 1] in BOUNDARIES}
    return sorted(ends)


def test_the_sample_tries_every_position() -> None:
    tried = {
        (number % STRIDE, end % STRIDE)
        for number, query in enumerate(QUERIES)
        for end in keystrokes(number, query)
    }
    assert len(tried) == STRIDE * STRIDE
    assert sum(len(keystrokes(n, q)) for n, q in enumerate(QUERIES)) > 5_000


def _check_keystroke(text: str, cursor: int) -> None:
    found: list[Token] = tokenize(text)
    problems: list[Diagnostic] = diagnose(text, now=NOW)
    candidates: list[Completion] = complete(text, cursor)
    assert sum(len(token.text) for token in found) >= len(text)
    assert all(0 <= d.span.start <= d.span.end <= len(text) for d in problems)
    assert all(0 <= c.start <= cursor <= c.end <= len(text) for c in candidates)


@pytest.mark.parametrize("index", range(0, COUNT, 20), ids=lambda i: f"queries {i}-{i + 19}")
def test_typing_never_raises(index: int) -> None:
    for number, query in enumerate(QUERIES[index : index + 20], start=index):
        for end in keystrokes(number, query):
            _check_keystroke(query[:end], end)
        if number % MIDDLE_EVERY == 0:
            for cursor in keystrokes(number + 1, query):
                assert all(c.start <= cursor <= c.end for c in complete(query, cursor))
        assert diagnose(query, now=NOW) == []
