"""Saved queries: TOML positions (`toml_source`), reading and checking files (`saved`), and the
`querylang check` and `querylang run` commands.

Fixtures in tests/golden/saved/: `good.toml` (valid and canonical), `bad.toml` and `crlf.toml`
with their problems in `problems.json` (line, column, and the exact bytes at the byte offsets),
`messy.toml` and what `--fix` makes of it, `messy.fixed.toml`.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from harness import Run
from hypothesis import example, given
from hypothesis import strategies as st

import querylang
from querylang.sample import sample_calls
from querylang.saved import (
    TABLE,
    ConfigError,
    QueryFile,
    SavedQuery,
    check_file,
    load_queries,
)
from querylang.server import ReferenceServer
from querylang.toml_source import Quotes, literal, locate

SAVED = Path(__file__).parent / "golden" / "saved"
PROBLEMS = json.loads((SAVED / "problems.json").read_text(encoding="utf-8"))
NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)


def copy(name: str, directory: Path) -> Path:
    return Path(shutil.copy(SAVED / name, directory / name))


def query_spans(text: str) -> list[tuple[int, int]]:
    """The spans of the saved queries' strings in a file's text."""
    values = locate(text).values
    return sorted(
        (value.start, value.end)
        for path, value in values.items()
        if len(path) == 3 and path[0] == TABLE and path[2] == "query"
    )


def outside(text: str) -> list[str]:
    """The text between the query strings."""
    pieces, at = [], 0
    for start, end in query_spans(text):
        pieces.append(text[at:start])
        at = end
    return [*pieces, text[at:]]


# ---------------------------------------------------------------------------------------------
# toml_source: laws


QUOTES: list[Quotes] = ['"', "'", '"""', "'''"]


@given(st.text(), st.sampled_from(QUOTES))
def test_literal_reads_back(value: str, quotes: Quotes) -> None:
    document = f"key = {literal(value, quotes)}\n"
    assert tomllib.loads(document)["key"] == value
    string = locate(document).values[("key",)].string
    assert string is not None and string.value == value


_NAMED = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


@st.composite
def basic_strings(draw: st.DrawFn) -> tuple[str, str]:
    """A value, and a basic string (one- or multi-line) that spells each character one of the
    ways TOML allows: as itself, a named escape, \\uXXXX or \\UXXXXXXXX; multi-line strings
    also with line-ending backslashes and CRLF newlines."""
    multiline = draw(st.booleans())
    value = draw(st.text(st.characters(exclude_categories=("Cs",)), max_size=20))
    parts: list[str] = []
    for char in value:
        plain = not (char in '"\\' or char < " " or char == "\x7f") or (
            multiline and char in "\t\n"
        )
        spellings = [_NAMED.get(char, ""), f"\\u{ord(char):04x}" if ord(char) < 0x10000 else ""]
        spellings += [f"\\U{ord(char):08X}", char if plain else ""]
        if multiline and char == "\n":
            spellings.append("\r\n")
        spelling = draw(st.sampled_from([s for s in spellings if s]))
        # A line-ending backslash trims the whitespace after it, so it goes before other text.
        if multiline and spelling[0] not in " \t\r\n" and draw(st.integers(0, 5)) == 0:
            parts.append("\\" + draw(st.sampled_from(["\n", "  \r\n", " \n \t \n"])) + "  ")
        parts.append(spelling)
    # A newline right after the opening delimiter is dropped: one that is part of the value
    # needs another before it.
    if multiline and (draw(st.booleans()) or "".join(parts).startswith(("\n", "\r\n"))):
        parts.insert(0, draw(st.sampled_from(["\n", "\r\n"])))
    quotes = '"""' if multiline else '"'
    return value, quotes + "".join(parts) + quotes


@given(basic_strings())
@example(("\n", '"""\n\n"""'))  # the first newline, right after the delimiter, is dropped
def test_locate_follows_every_character(case: tuple[str, str]) -> None:
    value, written = case
    document = f"[t]\nkey = {written} # after\n"
    assert tomllib.loads(document)["t"]["key"] == value
    located = locate(document).values[("t", "key")]
    assert document[located.start : located.end] == written
    string = located.string
    assert string is not None and string.value == value
    assert len(string.offsets) == len(value) + 1
    assert list(string.offsets) == sorted(set(string.offsets))
    for char, at in zip(value, string.offsets, strict=False):
        assert document[at] in (char, "\\", "\r")
    assert document.startswith(string.quotes, string.offsets[-1])


def test_locate_paths() -> None:
    document = (
        "a = 1\n"
        "[t.'quoted key']\n"
        'x = [ "p", { y = "q" } ]\n'
        "[[arr]]\n"
        "v = 'one'\n"
        "[[arr]]\n"
        "v = 'two'\n"
        '[arr.sub]\nw = """three"""\n'
        'dotted . "key" = 2024-01-01 12:00:00  # a date-time with a space\n'
    )
    found = locate(document)
    strings = {path: value.string.value for path, value in found.values.items() if value.string}
    assert strings == {
        ("t", "quoted key", "x", 0): "p",
        ("t", "quoted key", "x", 1, "y"): "q",
        ("arr", 0, "v"): "one",
        ("arr", 1, "v"): "two",
        ("arr", 1, "sub", "w"): "three",
    }
    when = found.values[("arr", 1, "sub", "dotted", "key")]
    assert document[when.start : when.end] == "2024-01-01 12:00:00"
    start, end = found.keys[("t", "quoted key")]
    assert document[start:end] == "[t.'quoted key']"
    start, end = found.keys[("arr", 1, "sub", "dotted", "key")]
    assert document[start:end] == 'dotted . "key"'


# ---------------------------------------------------------------------------------------------
# reading files


def test_load_queries() -> None:
    queries = load_queries(SAVED / "good.toml")
    assert list(queries) == ["missed_inbound", "paris_today", "london_callers", "quoted"]
    assert queries["missed_inbound"] == SavedQuery(
        name="missed_inbound",
        query="after:-1d direction:inbound duration:<10s",
        description="Short inbound calls of the last day",
    )
    assert (queries["paris_today"].tz, queries["paris_today"].region) == ("Europe/Paris", "US")
    assert (queries["london_callers"].tz, queries["london_callers"].region) == ("UTC", "GB")
    assert queries["quoted"].query == 'mode:"ai voice"'


def test_compile_uses_the_saved_options() -> None:
    queries = load_queries(SAVED / "good.toml")
    body = queries["paris_today"].compile(now=NOW).to_body()
    assert body == querylang.compile("created:today dir:out", now=NOW, tz="Europe/Paris").to_body()
    assert body["after"] == "2024-03-14T23:00:00Z"  # midnight in Paris
    callers = queries["london_callers"].compile(now=NOW).to_body()
    assert callers["from"] == ["+442079460000", "+442079460001"]


def test_relative_dates_resolve_when_compiled(tmp_path: Path) -> None:
    path = copy("good.toml", tmp_path)
    before = path.read_bytes()
    saved = load_queries(path)["missed_inbound"]
    first = saved.compile(now=NOW).to_body()["after"]
    later = saved.compile(now=datetime(2024, 4, 1, tzinfo=UTC)).to_body()["after"]
    assert (first, later) == ("2024-03-14T12:00:00Z", "2024-03-31T00:00:00Z")
    assert path.read_bytes() == before


def test_load_queries_refuses_a_bad_file() -> None:
    with pytest.raises(ConfigError) as caught:
        load_queries(SAVED / "bad.toml")
    shape = [p for p in PROBLEMS["bad.toml"] if p["code"] == "config"]
    assert [(p.line, p.column) for p in caught.value.problems] == [
        (p["line"], p["column"]) for p in shape
    ]
    path = SAVED / "bad.toml"
    assert str(caught.value).startswith(f"{path}:2:1: config: unknown key 'top_level'\n")


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("", "config", "no saved queries"),
        ("[queries]\n", "config", "no saved queries"),
        ("queries = 3\n", "config", "'queries' must be a table of named queries"),
        ("[queries]\nx = 'dir:in'\n", "config", "saved query 'x' must be a table with a query"),
        ("[queries.x]\nquery = 'dir:in'\nregion = 'ZZ'\n", "config", "unknown phone region"),
        ("[queries.x]\nquery = 'dir:in\n", "toml", 'expected "\'"'),
        ("[queries.x]\nquery = 'dir:in'\nquery = 'x'\n", "toml", "cannot overwrite a value"),
    ],
)
def test_file_shape_problems(text: str, code: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_text(text, encoding="utf-8")
    problems = check_file(path).problems
    assert len(problems) == 1
    assert (problems[0].code, problems[0].path) == (code, str(path))
    assert message in problems[0].message


def test_every_problem_of_a_table(tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_text(
        "[queries.x]\nquery = 5\ntz = 'Mars/Olympus'\nregon = 'GB'\n[querys.y]\nquery = 'dir:in'\n",
        encoding="utf-8",
    )
    problems = check_file(path).problems
    assert [(p.line, p.column, p.message) for p in problems] == [
        (2, 9, "'query' must be a string"),
        (3, 6, "unknown time zone 'Mars/Olympus'"),
        (4, 1, "unknown key 'regon' in 'x'"),
        (5, 1, "unknown key 'querys'"),  # at the header that creates it
    ]


def test_a_bad_key_does_not_hide_the_query(tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_text("[queries.x]\nquery = 'dir:sideways'\nregion = 'gb'\nnote = 1\n", "utf-8")
    source = QueryFile.read(path)
    assert [p.code for p in source.problems] == ["config"]
    assert source.queries["x"].region == "GB"
    assert [p.code for p in source.check("x")] == ["invalid_value"]


def test_syntax_problem_position(tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_text("[queries.x]\nquery = 'a' 'b'\n", encoding="utf-8")
    (problem,) = check_file(path).problems
    assert (problem.line, problem.column, problem.offset) == (2, 13, 24)
    assert problem.message == "expected newline or end of document after a statement"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_bytes(b"[queries.x]\nquery = 'caf\xe9'\n")
    (problem,) = check_file(path).problems
    assert (problem.code, problem.line, problem.column, problem.offset) == ("toml", 2, 13, 24)


# ---------------------------------------------------------------------------------------------
# check: positions, golden


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_problem_positions(name: str) -> None:
    report = check_file(SAVED / name)
    data = (SAVED / name).read_bytes()
    found = [
        {
            "line": p.line,
            "column": p.column,
            "code": p.code,
            "query": p.query,
            "at": data[p.offset : p.end_offset].decode(),
        }
        for p in report.problems
    ]
    assert found == PROBLEMS[name]


def test_every_problem_kind_is_in_the_fixtures() -> None:
    codes = {problem["code"] for problems in PROBLEMS.values() for problem in problems}
    assert {"toml", "config", "syntax", "unknown_field", "invalid_value", "missing_unit"} - {
        "toml"
    } <= codes


def test_good_file_has_no_problems() -> None:
    report = check_file(SAVED / "good.toml")
    assert report.problems == ()
    assert report.queries == ("missed_inbound", "paris_today", "london_callers", "quoted")


# ---------------------------------------------------------------------------------------------
# check --fix


def test_fix_golden(tmp_path: Path) -> None:
    path = copy("messy.toml", tmp_path)
    report = check_file(path, fix=True)
    assert path.read_bytes() == (SAVED / "messy.fixed.toml").read_bytes()
    assert report.rewritten == ("basic", "literal", "needs_quotes", "multi", "relative", "inline")
    assert [p.query for p in report.problems] == ["invalid"]


def test_fix_is_idempotent(tmp_path: Path) -> None:
    path = copy("messy.fixed.toml", tmp_path)
    assert check_file(path, fix=True).rewritten == ()
    assert path.read_bytes() == (SAVED / "messy.fixed.toml").read_bytes()


def test_fix_changes_nothing_outside_the_query_strings() -> None:
    before = (SAVED / "messy.toml").read_text(encoding="utf-8")
    after = (SAVED / "messy.fixed.toml").read_text(encoding="utf-8")
    assert outside(before) == outside(after)


def test_fix_keeps_what_each_query_means() -> None:
    before = QueryFile.read(SAVED / "messy.toml")
    after = load_queries(SAVED / "messy.fixed.toml")
    for name, saved in after.items():
        if name in before.queries and not before.check(name, now=NOW):
            original = before.queries[name].compile(now=NOW).to_body()
            assert saved.compile(now=NOW).to_body() == original, name
            assert saved.query == querylang.format(before.queries[name].query)


def test_fix_leaves_a_good_file_alone(tmp_path: Path) -> None:
    path = copy("good.toml", tmp_path)
    assert check_file(path, fix=True).rewritten == ()
    assert path.read_bytes() == (SAVED / "good.toml").read_bytes()


# ---------------------------------------------------------------------------------------------
# querylang check


def test_check_command_text(cli: Any) -> None:
    run = cli(["check", str(SAVED / "good.toml"), str(SAVED / "bad.toml")])
    assert run.code == 1
    first = PROBLEMS["bad.toml"][1]
    path = SAVED / "bad.toml"
    block = (
        f"{path}:{first['line']}:{first['column']}: invalid_value: 'inbund' is not a direction\n"
        '  query = "direction:inbund duration:<10s"\n'
        "                     ^^^^^^\n"
        "  hint: one of: inbound, outbound\n"
    )
    assert block in run.out
    headlines = [line for line in run.out.splitlines() if line.startswith(str(path))]
    assert len(headlines) == len(PROBLEMS["bad.toml"])


def test_check_command_good(cli: Any) -> None:
    assert cli(["check", str(SAVED / "good.toml")]) == Run(0, "", "")


def test_check_command_json(cli: Any, tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    run = cli(["check", "--format", "json", str(SAVED / "crlf.toml"), str(missing)])
    assert run.code == 1
    crlf, absent = json.loads(run.out)["files"]
    (problem,) = crlf["problems"]
    assert problem["code"] == "unknown_field" and problem["query"] == "crlf"
    assert (problem["line"], problem["column"]) == (3, 3)
    data = (SAVED / "crlf.toml").read_bytes()
    assert data[problem["offset"] : problem["end_offset"]] == b"dirction"
    assert absent["path"] == str(missing) and absent["queries"] == []
    assert absent["problems"][0]["code"] == "io"


def test_check_command_fix(cli: Any, tmp_path: Path) -> None:
    path = copy("messy.toml", tmp_path)
    run = cli(["check", "--fix", str(path)])
    assert run.code == 1  # the invalid query stays and is reported
    assert path.read_bytes() == (SAVED / "messy.fixed.toml").read_bytes()
    assert f"{path}: rewrote basic, literal, needs_quotes" in run.err
    assert cli(["check", "--fix", str(copy("good.toml", tmp_path))]) == Run(0, "", "")


def test_check_command_now(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_text('[queries.x]\nquery = "after:-1d before:2024-03-01"\n', encoding="utf-8")
    assert cli(["check", "--now", "2024-02-20T00:00:00Z", str(path)]).code == 0
    late = cli(["check", "--now", "2024-06-01T00:00:00Z", str(path)])
    assert late.code == 1 and "contradiction" in late.out


# ---------------------------------------------------------------------------------------------
# querylang run


KEY = "run-secret-key-1414213562"
CALLS = list(sample_calls(120, seed=9, now=NOW))


@pytest.fixture
def queries_file(tmp_path: Path) -> Path:
    path = tmp_path / "queries.toml"
    path.write_text(
        "[queries.short_inbound]\n"
        'query = "dir:in duration:<2m"\n'
        "[queries.broken]\n"
        'query = """dir:in\n  dirction:out"""\n',
        encoding="utf-8",
    )
    return path


def test_run_matches_search(
    cli: Any, server: ReferenceServer, queries_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHIPPY_API_KEY", KEY)
    common = ["--base-url", server.base_url, "--output", "json", "--all", "--now", NOW.isoformat()]
    run = cli(["run", "short_inbound", "--config", str(queries_file), *common])
    search = cli(["search", *common, "dir:in duration:<2m"])
    assert run.code == search.code == 0
    records = json.loads(run.out)
    assert records == json.loads(search.out) and records
    assert all(record["direction"] == "INBOUND" for record in records)


def test_run_reports_the_query_in_the_file(cli: Any, queries_file: Path) -> None:
    run = cli(["run", "broken", "--config", str(queries_file)])
    assert run.code == 1
    assert run.err.startswith(f"{queries_file}:5:3: unknown_field: unknown field 'dirction'\n")


def test_run_ignores_other_queries_problems(
    cli: Any, server: ReferenceServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHIPPY_API_KEY", KEY)
    path = tmp_path / "q.toml"
    path.write_text(
        "[queries.good]\nquery = 'dir:out'\n[queries.bad]\nquery = 'dir:in'\ntz = 'Nowhere'\n",
        encoding="utf-8",
    )
    base = ["--config", str(path), "--base-url", server.base_url, "--output", "json"]
    good = cli(["run", "good", *base])
    assert good.code == 0 and good.err == "" and json.loads(good.out)
    bad = cli(["run", "bad", *base])
    assert bad.code == 1 and "5:6: config: unknown time zone 'Nowhere'" in bad.err


def test_run_api_error(
    cli: Any, server: ReferenceServer, queries_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHIPPY_API_KEY", "wrong-key")
    run = cli(
        ["run", "short_inbound", "--config", str(queries_file), "--base-url", server.base_url]
    )
    assert run.code == 3 and run.err.startswith("querylang run: error: ")


def test_run_unknown_name(cli: Any, queries_file: Path) -> None:
    run = cli(["run", "short_inbnd", "--config", str(queries_file)])
    assert run.code == 2
    assert "no saved query 'short_inbnd'" in run.err and "did you mean 'short_inbound'?" in run.err


def test_run_bad_file(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_text("[queries.x]\nquery = 3\n", encoding="utf-8")
    run = cli(["run", "x", "--config", str(path)])
    assert run.code == 1 and f"{path}:2:9: config: 'query' must be a string" in run.err
    assert cli(["run", "x", "--config", str(tmp_path / "none.toml")]).code == 2


def test_run_finds_the_default_file(
    cli: Any, queries_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run = cli(["run", "broken"])
    assert run.code == 2 and "no file of saved queries" in run.err
    home = tmp_path / "config" / "querylang"
    home.mkdir(parents=True)
    shutil.copy(queries_file, home / "queries.toml")
    assert "unknown_field" in cli(["run", "broken"]).err
    shutil.copy(queries_file, elsewhere / "querylang.toml")
    assert cli(["run", "broken"]).err.startswith("querylang.toml:5:3: unknown_field")
