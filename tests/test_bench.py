"""The benchmark suite (bench/): its corpus is valid in both syntaxes, and --quick's functions run.

No timing is asserted: the figures belong in docs/performance.md, not in a test that a busy CI
machine could fail. Skipped when luqum (the `bench` extra) is not installed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

pytest.importorskip("luqum")

from luqum.parser import parser as luqum_parser  # type: ignore[import-untyped]

import querylang
from bench import run, yardstick
from bench.corpus import Pair, corpus
from querylang.syntax import And, Expr, Not, Or, Term

PAIRS = corpus()
FEW = PAIRS[:6]


def _terms(node: Expr | None) -> list[Term]:
    match node:
        case Term():
            return [node]
        case Not(operand):
            return _terms(operand)
        case And(operands) | Or(operands):
            return [term for operand in operands for term in _terms(operand)]
        case _:
            return []


def test_corpus_size_and_lengths() -> None:
    assert len(PAIRS) >= 200
    assert len([p.querylang for p in PAIRS]) == len([p.lucene for p in PAIRS])
    assert set(Counter(pair.terms for pair in PAIRS)) == set(range(1, 13))


def test_corpus_covers_every_field_and_value_form() -> None:
    schema = querylang.default_schema()
    fields: set[str] = set()
    for pair in PAIRS:
        for term in _terms(querylang.parse(pair.querylang)):
            field = schema.field(term.field)
            if field is not None:
                fields.add(field.name)
    assert fields == {field.name for field in schema.fields}
    text = "\n".join(pair.querylang for pair in PAIRS)
    for form in ("..", ">=", ":>", ":<", ":(", " OR ", "NOT ", " -", '"', "-7d", "today", "tz:"):
        assert form in text, form


@pytest.mark.parametrize("pair", PAIRS, ids=[pair.querylang for pair in PAIRS])
def test_corpus_query_is_valid_in_both_syntaxes(pair: Pair) -> None:
    body = querylang.compile(pair.querylang, now=run.NOW).to_body()
    assert body
    luqum_parser.parse(pair.lucene)
    # The yardstick does the same work: its body is querylang's.
    assert yardstick.compile_body(pair.querylang, now=run.NOW) == body


def _positive(summary: dict[str, Any]) -> bool:
    return all(value > 0 for value in summary.values())


def test_quick_functions_run() -> None:
    stages = run.measure_stages(FEW, rounds=1)
    assert set(stages["us_per_query"]) == {
        "parse",
        "check",
        "compile",
        "dumps",
        "pipeline",
        "pipeline with the model",
        "luqum parse",
        "luqum pipeline",
        "yardstick parse",
        "yardstick pipeline",
    }
    assert all(_positive(summary) for summary in stages["us_per_query"].values())
    assert set(stages["ratios"]) == set(run.RATIOS)

    keystrokes = run.measure_keystrokes(FEW[:2], rounds=1)
    assert keystrokes["prefixes"] == sum(len(pair.querylang) for pair in FEW[:2])
    assert keystrokes["parse+check (today)"]["median"] > 0
    for name in run.SEARCH_BOX:  # n/a (None) until the search-box toolkit lands
        assert (keystrokes[name] is None) == (not hasattr(querylang, name))

    scaling = run.measure_scaling(0.0, sizes=(1, 10))
    for rows in scaling.values():
        assert rows["10"]["pipeline"] > 0

    startup = run.measure_startup(runs=1)
    assert set(startup["ms"]) >= {"python -c pass", "querylang --help", "querylang compile TYPICAL"}

    assert "µs per query" in run.report(
        {
            "machine": run.machine(),
            "stages": stages,
            "keystrokes": keystrokes,
            "scaling": scaling,
            "startup": startup,
        }
    )


def test_scaling_queries_compile_with_raised_limits() -> None:
    for text, lucene in run.scaling_queries(1_000).values():
        assert querylang.compile(text, now=run.NOW, limits=run.BIG).to_body()
        luqum_parser.parse(lucene)
