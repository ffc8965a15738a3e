"""The search-box toolkit (issue 3): `complete`, `tokens`, `diagnose`, `explain`.

Golden data in tests/golden/ (the format of each is described at its top or here):
- completions.txt: `text with | cursor => expected inserts`, see the file's header.
- tokens.json: `{text, tokens: [[kind, text, code or null], ...]}`: `tokens(text)` gives exactly
  these tokens, in order. Together the cases use every `TokenKind`.
- diagnostics.json: `{query, diagnostics: [{code, start, end, ...}]}`: `diagnose(query)` gives
  exactly these diagnostics, in order, comparing the keys each case states (as errors.json does);
  `now` is NOW unless the case says otherwise.
A case with an `xfail` reason (in completions.txt: a `# xfail: reason` line above it) is a known
library bug; it must fail until fixed (strict).

Then the laws, with hypothesis, for any text: `tokens` covers it exactly; `diagnose` never raises,
keeps its spans in the text, and is empty exactly when `compile` succeeds; applying a completion
adds no syntax error before the new cursor; `explain` succeeds exactly when `compile` does, with
the same body; every `to_dict()` is JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from strategies import queries

import querylang
from querylang import (
    Completion,
    CompletionKind,
    Diagnostic,
    ErrorCode,
    QueryError,
    Span,
    TokenKind,
    complete,
    default_schema,
    diagnose,
    diagnostics,
    explain,
    tokens,
)
from querylang.completion import _rank, _term_candidates, _zones
from querylang.parser import MAX_SYNTAX_ERRORS, parse_partial

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
SCHEMA = default_schema()
XFAIL = "# xfail:"


def golden_param(case: Any, name: str, xfail: str | None) -> Any:
    """A pytest param named by its text, strictly xfailed when the case says so."""
    marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
    return pytest.param(case, id=name or "<empty>", marks=marks)


# --- completions.txt --------------------------------------------------------------------------

AGENT_A = "3f0c2b7e-8a41-4c7a-9d2e-1b5f6a7c8d90"
AGENT_B = "9a1b3c5d-7e9f-4a2b-8c4d-6e8f0a2b4c6d"
OPEN_VALUES: dict[str, list[str | tuple[str, str]]] = {
    "agent_id": [AGENT_A, (AGENT_B, "Support bot")],
    "delivery_status": ["call_transferred", "no answer"],
}
"""What the `values=` callback of every completion case knows (completions.txt's header)."""


def open_values(field: str, prefix: str) -> list[str | tuple[str, str]]:
    return OPEN_VALUES.get(field, [])


@dataclass(frozen=True)
class Expected:
    """One candidate named by a case: its insert, and maybe its span and kind."""

    insert: str
    span: tuple[int, int, str] | None = None

    def check(self, found: Completion) -> None:
        if self.span is not None:
            assert (found.start, found.end, str(found.kind)) == self.span, found


@dataclass(frozen=True)
class CompletionCase:
    line: str
    text: str
    cursor: int
    clauses: tuple[tuple[str, tuple[Expected, ...]], ...]
    """(form, candidates): form is "prefix", "only", "has", "lacks" or "none"."""


_SPAN = re.compile(r"\s*\[(\d+),(\d+),(\w+)\]")
_FORMS = ("only", "has", "lacks")


def read_expected(items: str) -> tuple[Expected, ...]:
    """`a, "b c" [0,3,field], d` -> the candidates, as completions.txt writes them."""
    found: list[Expected] = []
    position, decoder = 0, json.JSONDecoder()
    while position < len(items):
        if items[position] == '"':
            insert, position = decoder.raw_decode(items, position)
        else:
            end = min(
                (i for i in (items.find(",", position), items.find(" [", position)) if i >= 0),
                default=len(items),
            )
            insert, position = items[position:end].strip(), end
        span = _SPAN.match(items, position)
        if span:
            start, end_, kind = span.groups()
            found.append(Expected(insert, (int(start), int(end_), kind)))
            position = span.end()
        else:
            found.append(Expected(insert))
        assert items[position : position + 1] in ("", ","), f"cannot read {items!r}"
        position += 1
        while position < len(items) and items[position] == " ":
            position += 1
    return tuple(found)


def read_completion_cases() -> list[Any]:
    params, xfail = [], None
    for raw in (GOLDEN / "completions.txt").read_text(encoding="utf-8").splitlines():
        if raw.startswith(XFAIL):
            xfail = raw.removeprefix(XFAIL).strip()
            continue
        if not raw.strip() or raw.startswith("#"):
            continue
        left, right = raw.rsplit(" => ", 1)
        assert "|" in left, f"no cursor in {raw!r}"
        cursor = left.index("|")
        clauses = []
        for clause in right.split(" ; "):
            form, _, items = clause.partition(": ")
            if clause.strip() == "(none)":
                clauses.append(("none", ()))
            elif form in _FORMS and items:
                clauses.append((form, read_expected(items)))
            else:
                clauses.append(("prefix", read_expected(clause)))
        case = CompletionCase(raw, left.replace("|", "", 1), cursor, tuple(clauses))
        params.append(golden_param(case, left, xfail))
        xfail = None
    return params


COMPLETION_CASES = read_completion_cases()


def test_completion_cases_are_enough() -> None:
    assert len(COMPLETION_CASES) >= 40


@pytest.mark.parametrize("case", COMPLETION_CASES)
def test_completion(case: CompletionCase) -> None:
    found = complete(case.text, case.cursor, values=open_values)
    inserts = [c.insert for c in found]
    by_insert = {c.insert: c for c in reversed(found)}
    for form, expected in case.clauses:
        wanted = [e.insert for e in expected]
        match form:
            case "none":
                assert inserts == []
            case "only":
                assert inserts == wanted
            case "prefix":
                assert inserts[: len(wanted)] == wanted
            case "has":
                assert [w for w in wanted if w not in by_insert] == [], inserts
            case "lacks":
                assert [w for w in wanted if w in by_insert] == [], inserts
        if form != "lacks":
            for item in expected:
                item.check(by_insert[item.insert])


def test_completion_aliases_are_shown_as_such() -> None:
    found = {c.label: c for c in complete("")}
    assert found["direction"].detail == SCHEMA.field("direction").doc  # type: ignore[union-attr]
    assert found["dir"].insert == "dir:"
    assert found["dir"].detail.startswith("alias of direction")
    assert found["caller"].detail.startswith("alias of from")
    assert all(c.kind is CompletionKind.FIELD for c in found.values() if c.insert.endswith(":"))


def test_completion_details() -> None:
    [inbound, outbound] = complete("dir:")
    assert (inbound.label, inbound.detail, outbound.detail) == (
        "inbound",
        "calls received",
        "calls placed",
    )
    assert [c.detail for c in complete("duration:5")] == [
        "5 hours",
        "5 minutes",
        "5 seconds",
        "5 milliseconds",
    ]
    agents = complete("agent:", values=open_values)
    doc = SCHEMA.field("agent_id").doc  # type: ignore[union-attr]
    assert [(c.label, c.detail) for c in agents] == [(AGENT_A, doc), (AGENT_B, "Support bot")]
    [no_answer] = complete("status:no", values=open_values)
    assert (no_answer.insert, no_answer.label) == ('"no answer"', "no answer")


def test_completion_values_callback_gets_field_and_prefix() -> None:
    calls: list[tuple[str, str]] = []

    def record(field: str, prefix: str) -> list[str | tuple[str, str]]:
        calls.append((field, prefix))
        return []

    complete("agent:3f", values=record)
    complete("mode:ai status:(a, cal", values=record)
    complete("contact:x", 0, values=record)  # the cursor is before the field: not a value
    complete("dir:in voicemail:t", values=record)  # closed sets: the schema knows them all
    assert calls == [("agent_id", "3f"), ("delivery_status", "cal")]


def test_completion_limit() -> None:
    assert len(complete("")) > 3
    assert len(complete("", limit=3)) == 3
    assert len(complete("tz:")) == 50
    assert complete("", limit=0) == []


def test_completion_cursor_is_clamped() -> None:
    assert complete("dir", 99) == complete("dir")
    assert complete("dir", -5) == complete("", 0)


# --- tokens.json ------------------------------------------------------------------------------

TOKEN_CASES = json.loads((GOLDEN / "tokens.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", [golden_param(c, c["text"], c.get("xfail")) for c in TOKEN_CASES])
def test_tokens(case: dict[str, Any]) -> None:
    found = [[str(t.kind), t.text, t.code and str(t.code)] for t in tokens(case["text"])]
    assert found == case["tokens"]


def test_token_cases_use_every_kind() -> None:
    used = {token[0] for case in TOKEN_CASES for token in case["tokens"]}
    assert used == {str(kind) for kind in TokenKind}


# --- diagnostics.json -------------------------------------------------------------------------

DIAGNOSTIC_CASES = json.loads((GOLDEN / "diagnostics.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "case", [golden_param(c, c["query"], c.get("xfail")) for c in DIAGNOSTIC_CASES]
)
def test_diagnostics(case: dict[str, Any]) -> None:
    now = datetime.fromisoformat(case["now"]) if "now" in case else NOW
    found = [d.to_dict() for d in diagnose(case["query"], now=now, tz=case.get("tz", "UTC"))]
    expected = case["diagnostics"]
    if len(found) == len(expected):
        found = [{key: f[key] for key in e} for f, e in zip(found, expected, strict=True)]
    else:
        found = [{key: f[key] for key in ("code", "start", "end")} for f in found]
    assert found == expected
    assert all(d.hint for d in diagnose(case["query"], now=now) if d.code == "syntax")


def test_no_diagnostic_is_reported_twice() -> None:
    for text in ("(((", "(" * 10, "dir:in (((("):
        found = [(d.code, d.span, d.message) for d in diagnose(text)]
        assert len(found) == len(set(found)), found


def test_no_diagnostic_blames_a_space_that_is_not_there() -> None:
    for text in ("mode:,x", "agent:,fr dir:in"):
        for d in diagnose(text):
            if "space" in d.message:
                assert not text[d.span.start : d.span.end].strip(), (text, d)


def test_syntax_errors_are_capped() -> None:
    for text in ("(" * 500, ") " * 200, '"' * 301):
        syntax = [d for d in diagnose(text) if d.code == "syntax"]
        assert len(syntax) <= MAX_SYNTAX_ERRORS + 1, (text[:10], len(syntax))


def test_diagnostic_cases_have_several_errors() -> None:
    assert all(len(case["diagnostics"]) >= 2 for case in DIAGNOSTIC_CASES)
    kinds = {
        "syntax" if d["code"] == "syntax" else "meaning"
        for case in DIAGNOSTIC_CASES
        for d in case["diagnostics"]
    }
    assert kinds == {"syntax", "meaning"}


# --- explain ----------------------------------------------------------------------------------


def test_explain_example() -> None:
    query = f"dir:in agent:({AGENT_A}, {AGENT_B}) duration:5s..60s after:2024-01-01"
    explanation = explain(query, now=NOW)
    assert explanation.sentence == (
        "Inbound calls handled by agent 3f0c… or 9a1b…, lasting 5 s to 1 min, "
        "created since 1 Jan 2024 00:00 UTC."
    )
    data = explanation.to_dict()
    assert data["body"] == querylang.compile(query, now=NOW).to_body()
    start = query.index("duration:")
    duration = [f for f in data["fields"] if f["key"] == "min_duration"]
    assert duration == [
        {
            "key": "min_duration",
            "value": 5000,
            "sources": [{"start": start, "end": start + 16, "text": "duration:5s..60s"}],
            "instant": None,
        }
    ]


def test_explain_resolves_relative_dates_in_the_query_time_zone() -> None:
    data = explain("after:yesterday tz:Europe/Paris", now=NOW).to_dict()
    assert data["time_zone"] == "Europe/Paris"
    [after] = data["fields"]
    assert after["instant"] == {
        "local": "2024-03-09T00:00:00+01:00",
        "utc": "2024-03-08T23:00:00Z",
    }
    assert [s["text"] for s in after["sources"]] == ["after:yesterday"]


def test_explain_raises_as_compile_does() -> None:
    with pytest.raises(QueryError):
        explain("dir:sideways")


# --- the laws ---------------------------------------------------------------------------------
# Texts: printable junk, and junk glued from the grammar's and the schema's pieces, and the
# schema's own examples combined (which are mostly valid, so that both sides of each law count).

_EXAMPLES = sorted({example for field in SCHEMA.fields for example in field.examples})
_PIECES = sorted(
    {
        *(":", "(", ")", ",", '"', '\\"', "\\", "..", ">", ">=", "<", "<=", "-", " ", "  "),
        *("\n", "\t", "AND", "OR", "NOT", "and", "or", "not", "AND ", "OR ", "NOT ", "tz:"),
        *(
            "UTC",
            "Europe/Paris",
            "Nope/Zone",
            "x",
            "5",
            "5s",
            "1m30s",
            "-7d",
            "today",
            "now",
            "2024-01-01",
        ),
        *("true", "maybe", "+14155550100", AGENT_A, "in", "inbund"),
        *(f"{name}:" for field in SCHEMA.fields for name in (field.name, *field.aliases)),
        *(value.name for field in SCHEMA.fields for value in field.values),
        *(value for field in SCHEMA.fields for value in field.known_values),
        *_EXAMPLES,
    }
)
_JOINERS = (" ", " AND ", " OR ", " -", " NOT ", "")


@st.composite
def _combined_examples(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(_EXAMPLES), max_size=4))
    text = parts[0] if parts else ""
    for part in parts[1:]:
        text += draw(st.sampled_from(_JOINERS)) + part
    return f"({text})" if draw(st.integers(0, 4)) == 0 else text


texts = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(_PIECES), max_size=12).map("".join),
    _combined_examples(),
)

TRICKY = [
    "",
    "mode:,",
    "dir:(in, out",
    "dir:(in,, out) mode:ai AND AND rating:x",
    'mode:"ai dir:in',
    "direction:inbund AND (mode: lang:xx",
    'mode:"a\nb" dir:in\n\tvoicemail:yes',
]


def _with_examples(test: Any) -> Any:
    for text in TRICKY:
        test = example(text)(test)
    return test


def _with_cursor_examples(test: Any) -> Any:
    for text in TRICKY:
        test = example(text, END)(test)
    return test


END = -1
cursors = st.one_of(st.just(END), st.integers(0, 60))
"""Where the cursor is: `END` for the end of the text, else an index (clamped to the text)."""


def _cursor(text: str, position: int) -> int:
    return len(text) if position == END else min(position, len(text))


@_with_examples
@given(texts)
def test_tokens_cover_the_text(text: str) -> None:
    found = tokens(text)
    assert "".join(t.text for t in found) == text
    position = 0
    for token in found:
        assert token.start == position < token.end, found
        assert text[token.start : token.end] == token.text
        assert (token.code is not None) == (token.code in set(ErrorCode)), token
        position = token.end
    assert position == len(text)


_VALUE_KINDS = {TokenKind.VALUE, TokenKind.STRING, TokenKind.NUMBER, TokenKind.DURATION}
_MEANING = {ErrorCode.UNSUPPORTED, ErrorCode.CONTRADICTION}


@given(queries(), st.integers(min_value=0))
@example("dir:in OR mode:ai -agent:3f0c2b7e8a414c7a9d2e1b5f6a7c8d90", 2)  # the agent
@example("from:+12015550000 NOT dir:in OR from:+12015550000 NOT dir:in", 0)  # one 'a OR a'
@example("(dir:in OR before:2000-01-01) (dir:in OR before:2000-01-01)", 0)  # and 'a AND a'
def test_a_bad_value_hides_only_what_depends_on_it(text: str, which: int) -> None:
    # An unreadable value leaves its field's conditions unknown: diagnose reports nothing that
    # depends on it (what it still reports is in tests/golden/diagnostics.json).
    values = [t for t in tokens(text) if t.kind in _VALUE_KINDS or t.kind is TokenKind.DATE]
    assume(values)
    value = values[which % len(values)]
    broken = text[: value.start] + "z" * (value.end - value.start) + text[value.end :]
    found = diagnose(broken, now=NOW)
    assume(any(d.span == Span(value.start, value.end) for d in found))  # "zz" may be readable
    # Compared by message, not span: where the canonical form kept one of two equal clauses, the
    # error is on each copy once one holds a stand-in (they are no longer equal).
    meaning = {(d.code, d.message) for d in diagnose(text, now=NOW) if d.code in _MEANING}
    assert {(d.code, d.message) for d in found if d.code in _MEANING} <= meaning


def forgetting(text: str) -> list[Diagnostic]:
    """`diagnose(text)` with nothing remembered from earlier texts."""
    for remembered in (diagnostics._partial_parses, diagnostics._checked):
        remembered.cache_clear()
    diagnostics._remembered_lowering_problems.cache_clear()
    return diagnose(text, now=NOW)


@given(st.lists(st.one_of(queries(), texts), min_size=1, max_size=3))
@example(["duration:5s..2s dir:inb -agent:3f0c2b7e8a414c7a9d2e1b5f6a7c8d90 x", " mode:ai OR dir:i"])
def test_what_diagnose_remembers_changes_nothing(sources: list[str]) -> None:
    # Each text typed keystroke by keystroke after the others: the lowering done for an earlier
    # text that differs only in a term with a problem is reused, and must be what it would be.
    typed = [source[:end] for source in sources for end in range(len(source) + 1)]
    remembering = [diagnose(text, now=NOW) for text in typed]
    for text, found in zip(typed, remembering, strict=True):
        assert forgetting(text) == found, text


@_with_examples
@given(texts)
def test_diagnose_matches_compile(text: str) -> None:
    found = diagnose(text, now=NOW)
    assert all(0 <= d.span.start <= d.span.end <= len(text) for d in found), found
    assert found == sorted(found, key=lambda d: (d.span.start, d.span.end))
    try:
        querylang.compile(text, now=NOW)
    except QueryError as error:
        assert found, f"compile fails ({error.diagnostics}) but diagnose finds nothing"
    else:
        assert found == []


def _syntax_errors(text: str) -> set[tuple[str, int, int]]:
    diagnostics = parse_partial(text, stop_at_end=True).diagnostics
    return {(str(d.code), d.span.start, d.span.end) for d in diagnostics}


@_with_cursor_examples
@example("dir:in,", END)
@example("dir:in AN", END)
@example("direction:(inbound, ", END)
@example("mode:ai dir:in", 8)
@given(texts, cursors)
def test_applied_completion_adds_no_syntax_error(text: str, position: int) -> None:
    cursor = _cursor(text, position)
    before = _syntax_errors(text[:cursor])
    for completion in complete(text, cursor, values=open_values):
        assert 0 <= completion.start <= cursor <= completion.end <= len(text), completion
        applied = text[: completion.start] + completion.insert + text[completion.end :]
        prefix = applied[: completion.start + len(completion.insert)]
        new = _syntax_errors(prefix) - before
        assert new == set(), (completion.insert, prefix)


@_with_examples
@given(texts)
def test_explain_matches_compile(text: str) -> None:
    try:
        body = querylang.compile(text, now=NOW).to_body()
    except QueryError:
        with pytest.raises(QueryError):
            explain(text, now=NOW)
        return
    explanation = explain(text, now=NOW)
    assert explanation.body == body
    assert [field.key for field in explanation.fields] == list(body)
    for field in explanation.fields:
        assert all(0 <= s.start <= s.end <= len(text) for s in field.sources), field


@_with_cursor_examples
@given(texts, cursors)
def test_every_result_is_json(text: str, position: int) -> None:
    cursor = _cursor(text, position)
    results: list[Any] = [
        *tokens(text),
        *diagnose(text, now=NOW),
        *complete(text, cursor, values=open_values),
    ]
    try:
        results.append(explain(text, now=NOW))
    except QueryError as error:
        results.append(error)
    for result in results:
        data_ = result.to_dict()
        assert json.loads(json.dumps(data_)) == data_


def test_diagnostic_type_is_public() -> None:
    assert all(isinstance(d, Diagnostic) for d in diagnose("dir:x hello"))


@pytest.mark.parametrize("text", ["tz:Europe", "tz:America dir:in", "tz:Etc"])
def test_a_time_zone_directory_is_an_invalid_value(text: str) -> None:
    assert [d.code for d in diagnose(text)] == ["invalid_value"]
    assert tokens(text)[2].code == "invalid_value"
    with pytest.raises(QueryError):
        querylang.compile(text)


def test_an_unclosed_list_skips_its_own_term_only() -> None:
    # Not from the field of an earlier list that is closed (the parser once took the first '('
    # of a list in the query for the unclosed one).
    text = "lang:(en, fr) dir:(in"
    assert [(d.message, d.span.start) for d in diagnose(text)] == [("unclosed '(' of a list", 18)]
    assert [(t.kind, t.text) for t in tokens(text) if t.code] == [(TokenKind.ERROR, "dir:(in")]


@given(st.text(alphabet="adeinorstu_/ AE", max_size=14), st.integers(0, 60))
def test_ranking_is_difflibs(prefix: str, limit: int) -> None:
    # complete() skips what cannot reach the cutoff by bounds of difflib's ratio, and the fuzzy
    # matches no one would see: the ranking is still a plain difflib ranking, cut at `limit`.
    for candidates in (_term_candidates(and_or=True, negation=True, group=True), _zones()):
        lowered = prefix.lower()
        prefixed = [c for c in candidates if c.label.lower().startswith(lowered)]
        scored = []
        for candidate in candidates if lowered else ():
            if candidate not in prefixed:
                score = SequenceMatcher(None, candidate.label.lower(), lowered).ratio()
                if score >= 0.6:
                    scored.append((-score, len(scored), candidate))
        expected = prefixed + [candidate for _, _, candidate in sorted(scored)]
        assert _rank(candidates, prefix, limit) == expected[:limit]
