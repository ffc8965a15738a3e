"""The laws of language.md §7 (round trip) and §8 (errors), checked with hypothesis.

Strategies come from tests/strategies.py and are built from the schema. Every compile uses the
fixed `NOW`, so relative dates mean the same on both sides of a law. A deeper run, by hand:

    HYPOTHESIS_PROFILE=deep python -m pytest tests/test_laws.py

Each law is a plain function, run by a hypothesis test and, by `test_found_by_the_laws`, on the
minimal example of every library bug the laws have found (all fixed since), so that none returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from strategies import NOW, any_text, canonical_bodies, grammar_junk, json_bodies, queries

from querylang import (
    QueryError,
    SearchCallsRequest,
    compile,
    compile_body,
    decompile,
    format,
    parse,
)


def compiled(text: str) -> dict[str, Any] | frozenset[str]:
    """The body `text` compiles to, or the set of error codes it fails with."""
    try:
        return compile(text, now=NOW).to_body()
    except QueryError as error:
        return frozenset(str(d.code) for d in error.diagnostics)


# --- the laws ---------------------------------------------------------------------------------


def format_is_a_fixpoint(text: str) -> None:
    once = format(text)
    assert format(once) == once


def format_keeps_the_meaning(text: str) -> None:
    """The canonical text compiles to the same body, or fails with the same error codes."""
    assert compiled(format(text)) == compiled(text)


def the_model_spells_the_body_alike(text: str) -> None:
    """`compile_body` builds the JSON body without pydantic; the model, validating that body,
    gives it back as it is, key order included (so `compile` and `querylang compile` agree)."""
    try:
        body = compile_body(text, now=NOW)
    except QueryError:
        return
    assert list(SearchCallsRequest.model_validate(body).to_body().items()) == list(body.items())


def decompile_round_trips(body: dict[str, Any]) -> None:
    text = decompile(body)
    assert compile(text, now=NOW).to_body() == body
    assert format(text) == text, "decompile's text is not canonical"


def only_query_errors(stage: Callable[[str], object]) -> Callable[[str], None]:
    """`stage(text)` returns, or raises a QueryError about `text` with spans inside it."""

    def law(text: str) -> None:
        try:
            stage(text)
        except QueryError as error:
            assert error.text == text
            assert error.diagnostics
            for diagnostic in error.diagnostics:
                assert 0 <= diagnostic.span.start <= diagnostic.span.end <= len(text), diagnostic

    law.__name__ = f"only_query_errors_from_{stage.__name__}"
    return law


def error_prints_every_message(text: str) -> None:
    try:
        compile(text, now=NOW)
    except QueryError as error:
        shown = str(error)
        for diagnostic in error.diagnostics:
            assert diagnostic.message in shown
        json.dumps(error.to_dict())


def compile_at_now(text: str) -> object:
    return compile(text, now=NOW)


STAGES: dict[str, Callable[[str], object]] = {
    "parse": parse,
    "format": format,
    "compile": compile_at_now,
}

# --- format -----------------------------------------------------------------------------------


@given(queries())
@example("dir:IN AND (duration:90s OR duration:2m) -NOT -mode:ai")
@example('tz:Europe/Paris (created:2024-03-31 OR date:yesterday) from:"(415) 555-0100"')
@example("duration:0h.. NOT duration:0h")  # an open range before a negation
def test_format_is_a_fixpoint_after_one_pass(text: str) -> None:
    format_is_a_fixpoint(text)


@given(queries())
@example("duration:(5s, 10s)")  # two disjoint points: unsupported on both sides
@example("duration:5s duration:>10s")  # contradiction on both sides
@example(
    "agent:(3f0c2b7e8a414c7a9d2e1b5f6a7c8d90, {9A1B3C5D-7E9F-4A2B-8C4D-6E8F0A2B4C6D})"
    " -agent:3f0c2b7e8a414c7a9d2e1b5f6a7c8d90"
)
@example("mode:ai OR NOT mode:ai")
@example("max_duration:(5s, 10s) min_duration:(10s, 5s)")
@example("before:yesterday min_duration:0 OR before:yesterday min_duration:0")  # deduplicated
def test_format_compiles_to_the_same_body_or_the_same_errors(text: str) -> None:
    format_keeps_the_meaning(text)


# --- compile_body -----------------------------------------------------------------------------


@given(queries())
@example("created:2024-03-01T10:00:00.250+05:30..2024-03-02 duration:>1.5s")
@example("before:2099-03-01T10:00:00.000001Z tz:Asia/Tokyo after:-90min")
@example(
    "agent:(3F0C2B7E8A414C7A9D2E1B5F6A7C8D90, 9A1B3C5D-7E9F-4A2B-8C4D-6E8F0A2B4C6D) from:+44207946"
)
@example("voicemail:no mode:ai -direction:in language:EN-us")
@example(
    "direction:inbound NOT (after:now OR voicemail:true)"
)  # the clauses' order is not the API's
def test_compile_body_is_what_the_model_gives(text: str) -> None:
    the_model_spells_the_body_alike(text)


# --- decompile --------------------------------------------------------------------------------


@given(canonical_bodies())
@example({})
@example({"after": "0999-12-31T23:59:59Z", "before": "1000-01-01T00:00:00.000001Z"})
@example({"direction": ["OUTBOUND", "INBOUND"], "voicemail": False, "max_duration": 0})
@example({"mode": 'a "quoted" \\ value, with (parens)', "delivery_status": ["AND", "OR", "-x"]})
def test_decompile_compiles_back_to_the_body_and_is_canonical(body: dict[str, Any]) -> None:
    decompile_round_trips(body)


# --- errors -----------------------------------------------------------------------------------


@given(json_bodies())
@example({"after": "2024-01-02T00:00:00Z", "before": "2024-01-01T00:00:00Z"})
@example({"direction": "SIDEWAYS", "from": "+1", "min_duration": -1})
def test_any_body_decompiles_or_raises_query_error(body: dict[str, Any]) -> None:
    try:
        text = decompile(body)
    except QueryError as error:
        assert error.text == ""
        assert all(d.span.start == d.span.end == 0 for d in error.diagnostics)
        shown = str(error)
        assert all(d.message in shown for d in error.diagnostics)
    else:
        assert isinstance(text, str)


@pytest.mark.parametrize("stage", STAGES.values(), ids=STAGES.keys())
@given(text=any_text())
@example(text="")
@example(text="(" * 200)
@example(text='"' * 3)
@example(text="created:0001-01-01 tz:Asia/Tokyo")
def test_any_text_succeeds_or_raises_query_error(stage: Callable[[str], object], text: str) -> None:
    only_query_errors(stage)(text)


@pytest.mark.parametrize("stage", STAGES.values(), ids=STAGES.keys())
@given(text=grammar_junk())
def test_grammar_shaped_junk_succeeds_or_raises_query_error(
    stage: Callable[[str], object], text: str
) -> None:
    only_query_errors(stage)(text)


@given(any_text())
@example("dirction:inbound mode: ai")
@example("x" * 10_001)
def test_query_error_prints_every_message(text: str) -> None:
    error_prints_every_message(text)


# --- what the laws found ---------------------------------------------------------------------

# The minimal example of each library bug the laws found (language.md section broken, in brackets),
# all fixed since: run on every test run, whatever the random search draws.
FOUND = [
    # [§7] a list on a one-sided field compiled its first value only, so formatting
    # 'after:a OR after:b' into 'after:(a, b)' changed the body
    (format_keeps_the_meaning, "after:2000-01-02 OR after:2000-01-01"),
    # [§6] instants before year 1000 were written '999-01-01T00:00:00Z'
    (decompile_round_trips, {"after": "0999-01-01T00:00:00Z"}),
    # [§7] '--mode:a': the inner AND lost its duplicate after NOT NOT had been looked for
    (format_is_a_fixpoint, "-(-mode:a -mode:a)"),
    # [§7] 'after:(now, now)': -0m and now are distinct values spelled alike
    (format_is_a_fixpoint, "after:(-0m, now)"),
    # [§7] 'tz:UTC mode:ai OR language:en': the parentheses were dropped, and tz: ended in an OR
    (format_is_a_fixpoint, "tz:UTC (mode:ai OR lang:en)"),
    # [§8] ValueError from uuid.UUID: the reader took URN:UUID: in any case, uuid only lower case
    (only_query_errors(compile_at_now), "agent:URN:UUID:00000000-0000-0000-0000-000000000000"),
    # [§8] IsADirectoryError from ZoneInfo('America'), a directory of tzdata
    (only_query_errors(compile_at_now), "tz:America"),
    # [§8] pydantic ValidationError: a 16-digit number phonenumbers finds possible, beyond E.164
    (only_query_errors(compile_at_now), "from:+2342033120000101"),
]


@pytest.mark.parametrize(
    ("law", "case"), [pytest.param(law, case, id=f"{law.__name__}:{case}") for law, case in FOUND]
)
def test_found_by_the_laws(law: Callable[[Any], None], case: Any) -> None:
    law(case)
