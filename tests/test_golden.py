"""Golden data: the language as examples, kept in tests/golden/ as plain text and JSON.

- identity.txt: canonical queries; `format` returns each unchanged.
- canonical.txt: `input => canonical` pairs (split on the last ` => `); the canonical side is a
  fixpoint.
- bodies.json: `{query, body, now?, tz?, region?, limits?}`; `compile(...).to_body() == body`, and
  the formatted query compiles to the same body.
- errors.json: `{query, errors: [{code, start, end, suggestions?}], now?, tz?, region?, limits?}`;
  compiling raises `QueryError` with exactly these diagnostics, in span order; syntax errors
  carry a hint (language.md §1).

Unless a case says otherwise it is compiled at NOW, in UTC, with region US. A case with an `xfail`
reason (in the .txt files: a `# xfail: reason` line just above it) is a known library bug; it must
fail until fixed (strict), and the marker goes when the fix lands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import querylang
from querylang import Limits, QueryError

GOLDEN = Path(__file__).parent / "golden"
NOW = "2024-03-10T12:00:00Z"
XFAIL = "# xfail:"


@dataclass(frozen=True)
class Line:
    text: str
    xfail: str | None


def read_lines(name: str) -> list[Line]:
    """The query lines of a golden .txt file; `# xfail: reason` marks the line after it."""
    lines, xfail = [], None
    for raw in (GOLDEN / name).read_text(encoding="utf-8").splitlines():
        if raw.startswith(XFAIL):
            xfail = raw.removeprefix(XFAIL).strip()
        elif raw.strip() and not raw.startswith("#"):
            lines.append(Line(raw, xfail))
            xfail = None
    return lines


def read_json(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    return cases


def param(case: Any, query: str, xfail: str | None) -> Any:
    """A pytest param named by its query text, strictly xfailed when the case says so."""
    marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
    return pytest.param(case, id=query or "<empty>", marks=marks)


def line_params(name: str) -> list[Any]:
    return [param(line, line.text, line.xfail) for line in read_lines(name)]


def json_params(name: str) -> list[Any]:
    return [param(case, case["query"], case.get("xfail")) for case in read_json(name)]


def compile_options(case: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of `compile` that a case states, with the golden defaults."""
    options: dict[str, Any] = {"now": datetime.fromisoformat(case.get("now", NOW))}
    options |= {key: case[key] for key in ("tz", "region") if key in case}
    if "limits" in case:
        options["limits"] = Limits(**case["limits"])
    return options


def body_of(query: str, case: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = querylang.compile(query, **compile_options(case)).to_body()
    return body


def assert_same_json(found: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal as JSON, types included: in Python `True == 1` and `5000 == 5000.0`."""
    assert (found, as_json(found)) == (expected, as_json(expected))


def as_json(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True)


def diagnostics_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The diagnostics compiling the case raises, keeping only the keys the case states."""
    with pytest.raises(QueryError) as caught:
        querylang.compile(case["query"], **compile_options(case))
    found = [d.to_dict() for d in caught.value.diagnostics]
    assert all(f["hint"] for f in found if f["code"] == "syntax"), "a syntax error without a hint"
    expected = case["errors"]
    if len(found) == len(expected):
        return [{key: f[key] for key in e} for f, e in zip(found, expected, strict=True)]
    return [{key: f[key] for key in ("code", "start", "end")} for f in found]


@pytest.mark.parametrize("line", line_params("identity.txt"))
def test_identity(line: Line) -> None:
    assert querylang.format(line.text) == line.text


def test_empty_query_is_canonical() -> None:
    assert querylang.format("") == ""


@pytest.mark.parametrize("line", line_params("canonical.txt"))
def test_canonical(line: Line) -> None:
    given, canonical = line.text.rsplit(" => ", 1)
    assert (querylang.format(given), querylang.format(canonical)) == (canonical, canonical)


@pytest.mark.parametrize("case", json_params("bodies.json"))
def test_body(case: dict[str, Any]) -> None:
    assert_same_json(body_of(case["query"], case), case["body"])


@pytest.mark.parametrize("case", json_params("bodies.json"))
def test_formatted_body(case: dict[str, Any]) -> None:
    formatted = querylang.format(case["query"], region=case.get("region", "US"))
    assert_same_json(body_of(formatted, case), case["body"])


@pytest.mark.parametrize("case", json_params("errors.json"))
def test_errors(case: dict[str, Any]) -> None:
    assert diagnostics_of(case) == case["errors"]


AT_LIMITS = {
    "10,000 characters": "mode:" + "x" * 9_995,
    "1,000 list values": "mode:(" + ",".join(["x"] * 1_000) + ")",
    "depth 100 (parentheses)": "(" * 100 + "mode:x" + ")" * 100,
    "depth 100 (NOT)": "-" * 100 + "dir:in",
}
BEYOND_LIMITS = {
    "10,001 characters": "mode:" + "x" * 9_996,
    "1,001 list values": "mode:(" + ",".join(["x"] * 1_001) + ")",
    "depth 101 (parentheses)": "(" * 101 + "mode:x" + ")" * 101,
    "depth 101 (NOT)": "-" * 101 + "dir:in",
}


@pytest.mark.parametrize("query", AT_LIMITS.values(), ids=AT_LIMITS.keys())
def test_default_limits_allow(query: str) -> None:
    querylang.format(query)


@pytest.mark.parametrize("query", BEYOND_LIMITS.values(), ids=BEYOND_LIMITS.keys())
def test_default_limits_refuse(query: str) -> None:
    with pytest.raises(QueryError) as caught:
        querylang.format(query)
    assert [d.code for d in caught.value.diagnostics] == ["too_large"]
