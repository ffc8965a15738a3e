"""Limits (language.md §8): too_large at each default limit and nothing else, work exactly at it,
raised limits for big queries, linear work (counted, not timed) and thread safety."""

from __future__ import annotations

import dataclasses
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import NOW, SCHEMA, any_text, queries

from querylang import Limits, QueryError, SearchCallsRequest, compile, format, parse

DEFAULTS = Limits()
ROOMY = Limits(max_length=10**7, max_list_values=10**6, max_depth=10**6)

STAGES: dict[str, Callable[..., object]] = {
    "parse": parse,
    "format": format,
    "compile": lambda text, **options: compile(text, now=NOW, **options),
}


def outcome(stage: Callable[..., object], text: str, **options: Any) -> frozenset[str] | object:
    """What `stage` returns, or the set of codes of its QueryError; any other exception fails
    the test (a RecursionError or MemoryError escaping is exactly what the limits prevent)."""
    try:
        return stage(text, **options)
    except QueryError as error:
        for diagnostic in error.diagnostics:
            assert 0 <= diagnostic.span.start <= diagnostic.span.end <= len(text)
        return frozenset(str(d.code) for d in error.diagnostics)


TOO_LARGE = frozenset({"too_large"})


def term_of(length: int) -> str:
    """A valid query of exactly `length` characters."""
    return "mode:" + "a" * (length - len("mode:"))


def nested(kind: str, depth: int) -> str:
    """A term under `depth` levels of one kind of nesting, counted as written (a closed enum,
    so that an odd number of NOTs still compiles)."""
    term = "dir:in"
    match kind:
        case "parentheses":
            return "(" * depth + term + ")" * depth
        case "NOT":
            return "NOT " * depth + term
        case "-":
            return "-" * depth + term
        case "-(":  # each '-(' is two levels
            return "-(" * (depth // 2) + "-" * (depth % 2) + term + ")" * (depth // 2)
    raise AssertionError(kind)


def a_list(count: int, *, distinct: bool) -> str:
    return "mode:(" + ", ".join(f"v{i}" if distinct else "v" for i in range(count)) + ")"


# --- at and beyond each default limit ---------------------------------------------------------

AT_THE_LIMIT = {
    "length": term_of(DEFAULTS.max_length),
    "list with duplicates": a_list(DEFAULTS.max_list_values, distinct=False),
    "list": a_list(DEFAULTS.max_list_values, distinct=True),
    **{f"depth {kind}": nested(kind, DEFAULTS.max_depth) for kind in ("parentheses", "NOT", "-")},
    "depth -(": nested("-(", DEFAULTS.max_depth),
}
BEYOND_THE_LIMIT = {
    "length": term_of(DEFAULTS.max_length + 1),
    "length of junk": "(" * (DEFAULTS.max_length + 1),
    "length of quotes": '"' * (DEFAULTS.max_length + 1),
    "list with duplicates": a_list(DEFAULTS.max_list_values + 1, distinct=False),
    "list": a_list(DEFAULTS.max_list_values + 1, distinct=True),
    **{
        f"depth {kind}": nested(kind, DEFAULTS.max_depth + 1)
        for kind in ("parentheses", "NOT", "-", "-(")
    },
}


@pytest.mark.parametrize("stage", STAGES.values(), ids=STAGES.keys())
@pytest.mark.parametrize("text", AT_THE_LIMIT.values(), ids=AT_THE_LIMIT.keys())
def test_exactly_at_a_limit_works(stage: Callable[..., object], text: str) -> None:
    assert not isinstance(outcome(stage, text), frozenset)


BEYOND = [
    pytest.param(stage, text, id=f"{case}-{name}")
    for case, text in BEYOND_THE_LIMIT.items()
    for name, stage in STAGES.items()
    # parse() knows only the shape: it is `check` that counts the values of a list.
    if not (case.startswith("list") and name == "parse")
]


@pytest.mark.parametrize(("stage", "text"), BEYOND)
def test_beyond_a_limit_is_too_large(stage: Callable[..., object], text: str) -> None:
    assert outcome(stage, text) == TOO_LARGE


def test_the_list_limit_counts_values_as_written() -> None:
    at_limit = outcome(STAGES["compile"], a_list(DEFAULTS.max_list_values, distinct=False))
    assert isinstance(at_limit, SearchCallsRequest) and at_limit.to_body() == {"mode": "v"}
    beyond = outcome(STAGES["compile"], a_list(DEFAULTS.max_list_values + 1, distinct=False))
    assert beyond == TOO_LARGE


# 10,000 characters: not beyond the length limit, but nested thousands deep as written (and
# unfinished: the depth is reported, not only the syntax error at the end).
PATHOLOGICAL_NESTING = {
    "(": "(" * DEFAULTS.max_length,
    "-": "-" * DEFAULTS.max_length,
    "NOT": "NOT " * (DEFAULTS.max_length // 4),
    "(-": "(-" * (DEFAULTS.max_length // 2),
}


@pytest.mark.parametrize("stage", STAGES.values(), ids=STAGES.keys())
@pytest.mark.parametrize("text", PATHOLOGICAL_NESTING.values(), ids=PATHOLOGICAL_NESTING.keys())
def test_pathological_nesting_is_too_large(stage: Callable[..., object], text: str) -> None:
    result = outcome(stage, text)
    assert isinstance(result, frozenset) and "too_large" in result, result


PATHOLOGICAL = {
    **PATHOLOGICAL_NESTING,
    '"': '"' * DEFAULTS.max_length,
    ")": ")" * DEFAULTS.max_length,
    "\\": "\\" * DEFAULTS.max_length,
    "field:(": "mode:(" * (DEFAULTS.max_length // 6),
    'mode:"': 'mode:"' + '\\"' * ((DEFAULTS.max_length - 6) // 2),
    "commas": "mode:(" + "," * (DEFAULTS.max_length - 7) + ")",
    "ranges": "created:" + "." * (DEFAULTS.max_length - 8),
    "OR": ("mode:a OR " * DEFAULTS.max_length)[: DEFAULTS.max_length],
}


@pytest.mark.parametrize("stage", STAGES.values(), ids=STAGES.keys())
@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_input_raises_only_query_error(
    stage: Callable[..., object], text: str
) -> None:
    # '"' * 10,000 is ten thousand characters of syntax error: no limit is exceeded.
    outcome(stage, text)


@pytest.mark.parametrize("stage", STAGES.values(), ids=STAGES.keys())
@pytest.mark.parametrize("kind", ["parentheses", "NOT", "-", "-("])
def test_raised_limits_never_overflow_the_stack(stage: Callable[..., object], kind: str) -> None:
    """With the depth limit lifted, deep nesting works or is a QueryError, never RecursionError."""
    outcome(stage, nested(kind, 5_000), limits=ROOMY)


def test_raised_limits_accept_what_defaults_refuse() -> None:
    bigger = Limits(max_length=20_000, max_list_values=2_000, max_depth=200)
    for case, text in BEYOND_THE_LIMIT.items():
        if case.startswith("length of"):
            continue  # junk at any length
        assert not isinstance(outcome(STAGES["compile"], text, limits=bigger), frozenset), text[:40]


# --- big queries under raised limits ----------------------------------------------------------

BIG = 10_000


def agent_ids(count: int) -> list[str]:
    return [str(uuid.UUID(int=(index * 0x9E3779B97F4A7C15) % 2**128)) for index in range(count)]


def or_chain(field: str, values: list[str]) -> str:
    return " OR ".join(f"{field}:{value}" for value in values)


def test_a_10000_term_or_chain_compiles_with_every_value() -> None:
    values = agent_ids(BIG)
    text = or_chain("agent", [value.upper().replace("-", "") for value in values])
    assert compile(text, now=NOW, limits=ROOMY).to_body() == {"agent_id": values}


def test_a_10000_value_list_compiles_with_every_value() -> None:
    values = [f"status_{index}" for index in range(BIG)]
    text = "delivery_status:(" + ", ".join(values) + ")"
    assert compile(text, now=NOW, limits=ROOMY).to_body() == {"delivery_status": values}


# --- linear work, counted ---------------------------------------------------------------------


class _OverBudget(BaseException):
    """Raised from the profile hook to stop a run that has already done too much work
    (a BaseException, so no `except Exception` in the library swallows it)."""


def count_calls(work: Callable[[], object], budget: int | None = None) -> int | None:
    """The number of Python function calls `work()` makes; `None` once past `budget`."""
    calls = 0

    def hook(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call":
            calls += 1
            if budget is not None and calls > budget:
                raise _OverBudget

    sys.setprofile(hook)
    try:
        work()
    except _OverBudget:
        return None
    finally:
        sys.setprofile(None)
    return calls


# Linear work grows 10x from 1,000 to 10,000 terms; quadratic work, 100x.
LINEAR_RATIO = 12


def _or_text(count: int) -> str:
    return or_chain("status", [f"s{index}" for index in range(count)])


def _list_text(count: int) -> str:
    return "status:(" + ", ".join(f"s{index}" for index in range(count)) + ")"


# Once a bug: merging 'f:a OR f:b' into a list rebuilt the list for every operand, O(N^2).
WORK = [
    pytest.param("parse", _or_text, id="parse OR chain"),
    pytest.param("compile", _or_text, id="compile OR chain"),
    pytest.param("format", _or_text, id="format OR chain"),
    pytest.param("compile", _list_text, id="compile list"),
    pytest.param("format", _list_text, id="format list"),
]


@pytest.mark.parametrize(("stage", "query_of"), WORK)
def test_work_grows_linearly(stage: str, query_of: Callable[[int], str]) -> None:
    run = STAGES[stage]
    small, big = query_of(BIG // 10), query_of(BIG)
    run(small, limits=ROOMY)  # warm caches (phone metadata, the parser) before counting
    small_calls = count_calls(lambda: run(small, limits=ROOMY))
    assert small_calls
    big_calls = count_calls(lambda: run(big, limits=ROOMY), budget=LINEAR_RATIO * small_calls)
    assert big_calls is not None, f"over {LINEAR_RATIO}x the calls of a tenth of the query"


# --- thread safety ----------------------------------------------------------------------------


def dump(value: object) -> object:
    """A value with every span (which node equality ignores), for an exact comparison."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, dataclasses.asdict(value))
    if hasattr(value, "to_body"):
        return value.to_body()
    return value


def results(text: str) -> dict[str, object]:
    found: dict[str, object] = {}
    for name, stage in STAGES.items():
        try:
            found[name] = dump(stage(text))
        except QueryError as error:
            found[name] = error.to_dict()
    return found


@contextmanager
def frequent_thread_switches() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def in_threads(texts: list[str], workers: int = 8) -> list[dict[str, object]]:
    """`results` of each text, computed by `workers` threads at once."""
    all_up = threading.Barrier(workers)
    with frequent_thread_switches(), ThreadPoolExecutor(max_workers=workers) as pool:
        # Start every worker before the first query, so that they really run side by side.
        list(pool.map(lambda _: all_up.wait(), range(workers)))
        return list(pool.map(results, texts))


SCHEMA_EXAMPLES = [example for field in SCHEMA.fields for example in field.examples]
TRICKY = [
    "",
    "dir:in AND (duration:90s OR duration:2m) -NOT -mode:ai",
    'tz:Europe/Paris created:2024-03-31 from:"(415) 555-0100"',
    "mode: ai",
    "dirction:inbound",
    "agent:x",
    "duration:5s duration:>10s",
    "(mode:a",
    "mode:(" + ", ".join(["v"] * 1_001) + ")",
    'mode:"unclosed',
    nested("parentheses", 101),
]


def test_parsing_from_8_threads_matches_sequential_parsing() -> None:
    batch = (SCHEMA_EXAMPLES + TRICKY) * 8
    assert in_threads(batch) == [results(text) for text in batch]


@settings(max_examples=10)
@given(st.lists(st.one_of(queries(), any_text()), min_size=8, max_size=40))
def test_threads_agree_with_sequential_runs_on_generated_queries(texts: list[str]) -> None:
    assert in_threads(texts) == [results(text) for text in texts]
