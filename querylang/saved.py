"""Saved queries: TOML files of named queries, read, checked against the language, and fixed.

A file holds one table per query; only `query` is required:

    [queries.missed_inbound]
    query = "direction:inbound duration:<10s after:-1d"
    description = "Short inbound calls of the last day"
    tz = "Europe/Paris"    # the query's time zone (default UTC)
    region = "GB"          # the phone region of numbers without a country code (default US)

Relative dates stay relative in the file: they resolve when the query is compiled
(`SavedQuery.compile(now=...)`), never when it is read or fixed. Every problem, whether in the
file's shape or inside a query string, is a `Problem` at a line and column of the file: a
query's diagnostics are mapped from the string's text to where its characters are written, through
escapes and multi-line strings (`toml_source`). `QueryFile.fixed()` rewrites each valid query in
its canonical form and leaves every other character of the file as it was.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from querylang.errors import QueryError, Span
from querylang.errors import excerpt as excerpt_lines
from querylang.toml_source import Locations, StringValue, literal, locate

if TYPE_CHECKING:
    from querylang.request import SearchCallsRequest

TABLE = "queries"
_DEFAULTS = {"description": "", "tz": "UTC", "region": "US"}
KEYS = ("query", *_DEFAULTS)


def _time_zone(name: str) -> str:
    from querylang.values import time_zone

    time_zone(name)
    return name


def _phone_region(code: str) -> str:
    from querylang.values import phone_region

    return phone_region(code)


# The options checked when read, each giving its normal spelling or raising ValueError.
_CHECKS: dict[str, Callable[[str], str]] = {"tz": _time_zone, "region": _phone_region}

# Codes of problems in the file rather than in a query (whose codes are `ErrorCode`s).
TOML_SYNTAX, FILE_SHAPE, UNREADABLE = "toml", "config", "io"


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """A named query with the options it compiles with."""

    name: str
    query: str
    description: str = ""
    tz: str = "UTC"
    region: str = "US"

    def compile(self, *, now: datetime | None = None) -> SearchCallsRequest:
        """The request, with relative dates resolved against `now` (default: the current time).

        Raises:
            QueryError: the query is not valid.
        """
        from querylang.compiler import compile as compile_query

        return compile_query(self.query, now=now, tz=self.tz, region=self.region)

    def compile_body(self, *, now: datetime | None = None) -> dict[str, Any]:
        """`compile(now=now).to_body()`, without the pydantic model (see `compiler.compile_body`).

        Raises:
            QueryError: the query is not valid.
        """
        from querylang.compiler import compile_body

        return compile_body(self.query, now=now, tz=self.tz, region=self.region)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a file of saved queries, where a compiler would put it.

    `line` and `column` count from 1, the column in characters; `offset` and `end_offset` are
    byte offsets into the file (UTF-8). `query` names the saved query it is in, if any.
    """

    path: str
    line: int
    column: int
    offset: int
    end_offset: int
    code: str
    message: str
    hint: str | None = None
    query: str | None = None
    excerpt: tuple[str, ...] = field(default=(), compare=False, repr=False)
    """The line of the file with carets under the place (no more than one line)."""

    def __str__(self) -> str:
        """The problem as a compiler prints it: position, code and message, the line of the
        file with carets, and the hint."""
        lines = [f"{self.path}:{self.line}:{self.column}: {self.code}: {self.message}"]
        lines.extend(self.excerpt)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, for tools."""
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "offset": self.offset,
            "end_offset": self.end_offset,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "query": self.query,
        }


class ConfigError(ValueError):
    """A file of saved queries that cannot be read: its problems, one per line of the message."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in problems))


def load_queries(path: str | Path) -> dict[str, SavedQuery]:
    """The saved queries of a TOML file, by name, in the file's order.

    Queries are read, not compiled: a bad query is found by `SavedQuery.compile` or
    `querylang check`.

    Raises:
        ConfigError: the file is not TOML, or not a file of saved queries.
        OSError: it cannot be read.
    """
    source = QueryFile.read(path)
    if source.problems:
        raise ConfigError(source.problems)
    return source.queries


@dataclass(frozen=True, slots=True)
class FileReport:
    """What `check_file` found in one file, and which queries `fix` rewrote."""

    path: str
    queries: tuple[str, ...]
    problems: tuple[Problem, ...]
    rewritten: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, for tools."""
        return {
            "path": self.path,
            "queries": list(self.queries),
            "problems": [problem.to_dict() for problem in self.problems],
            "rewritten": list(self.rewritten),
        }


def check_file(path: str | Path, *, now: datetime | None = None, fix: bool = False) -> FileReport:
    """Read a file of saved queries and compile each against `now`; with `fix`, rewrite the
    valid ones in canonical form in place. A file that cannot be read is a problem in it."""
    try:
        source = QueryFile.read(path)
    except OSError as error:
        reason = f"cannot read: {error.strerror or error}"
        problem = Problem(str(path), 1, 1, 0, 0, UNREADABLE, reason)
        return FileReport(str(path), (), (problem,))
    problems = list(source.problems)
    valid = []
    for name in source.queries:
        found = source.check(name, now=now)
        problems.extend(found)
        if not found:
            valid.append(name)
    rewritten: list[str] = []
    if fix:
        text, rewritten = source.fixed(valid)
        if rewritten:
            Path(path).write_bytes(text.encode())
    problems.sort(key=_place)
    return FileReport(source.path, tuple(source.queries), tuple(problems), tuple(rewritten))


def _place(problem: Problem) -> tuple[int, int]:
    return problem.offset, problem.end_offset


def default_config_paths() -> tuple[Path, ...]:
    """Where `querylang run` looks for saved queries without `--config`, in order."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path("querylang.toml"), Path(config_home) / "querylang" / "queries.toml"


class QueryFile:
    """A file of saved queries: its text, its queries, the problems in its shape, and where
    each of its values is written."""

    def __init__(self, path: str, text: str, *, not_utf8_at: int | None = None) -> None:
        """Read `text` as the file at `path`; `not_utf8_at` says where bytes that were not
        UTF-8 were replaced, and the file is not read further."""
        self.path = path
        self.text = text
        self.queries: dict[str, SavedQuery] = {}
        self.problems: list[Problem] = []
        self._locations = Locations()
        if not_utf8_at is None:
            self._read()
        else:
            problem = self._problem(not_utf8_at, not_utf8_at, TOML_SYNTAX, "the file is not UTF-8")
            self.problems.append(problem)

    @classmethod
    def read(cls, path: str | Path) -> QueryFile:
        """The file at `path` (UTF-8 TOML).

        Raises:
            OSError: it cannot be read.
        """
        data = Path(path).read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            at = len(data[: error.start].decode("utf-8"))
            return cls(str(path), data.decode("utf-8", errors="replace"), not_utf8_at=at)
        return cls(str(path), text)

    def check(self, name: str, *, now: datetime | None = None) -> list[Problem]:
        """The problems of one saved query, compiled against `now`, placed in the file."""
        try:
            self.queries[name].compile_body(now=now)  # the body, not the model: no pydantic
        except QueryError as error:
            return self.problems_in(name, error)
        return []

    def problems_in(self, name: str, error: QueryError) -> list[Problem]:
        """The diagnostics of one saved query's error, placed in the file."""
        string = self._query_string(name)
        problems = []
        for diagnostic in error.diagnostics:
            start, end = string.span(diagnostic.span.start, diagnostic.span.end)
            code, message, hint = str(diagnostic.code), diagnostic.message, diagnostic.hint
            problems.append(self._problem(start, end, code, message, hint, name))
        return problems

    def fixed(self, names: list[str]) -> tuple[str, list[str]]:
        """The file's text with the named queries in canonical form and nothing else changed,
        and the names of those that changed. Each string keeps its delimiters when they can
        hold the canonical text.

        Raises:
            QueryError: one of the queries is not valid.
        """
        from querylang.formatter import format as format_query

        replacements = []
        for name in names:
            saved = self.queries[name]
            canonical = format_query(saved.query, region=saved.region)
            if canonical != saved.query:
                value = self._locations.values[(TABLE, name, "query")]
                written = literal(canonical, self._query_string(name).quotes)
                replacements.append((value.start, value.end, written, name))
        text = self.text
        for start, end, written, _ in sorted(replacements, reverse=True):
            text = text[:start] + written + text[end:]
        return text, [name for *_, name in replacements]

    # --- reading ------------------------------------------------------------------------------

    def _read(self) -> None:
        try:
            document = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            self.problems.append(self._syntax_problem(error))
            return
        self._locations = locate(self.text)
        for key in document:
            if key != TABLE:
                self._shape_problem(
                    (key,),
                    f"unknown key {key!r}",
                    f"a file of saved queries has only [{TABLE}.NAME] tables",
                    at_key=True,
                )
        tables = document.get(TABLE)
        if tables is None or tables == {}:
            self.problems.append(
                self._problem(
                    0,
                    0,
                    FILE_SHAPE,
                    "no saved queries",
                    f'add a table such as [{TABLE}.inbound] with query = "direction:inbound"',
                )
            )
        elif not isinstance(tables, dict):
            self._shape_problem((TABLE,), f"{TABLE!r} must be a table of named queries")
        else:
            for name, entry in tables.items():
                self._read_query(name, entry)
        self.problems.sort(key=_place)

    def _read_query(self, name: str, entry: Any) -> None:
        """Report every problem of one query's table; keep the query if it can be compiled
        (its query, tz and region are good, whatever else is wrong in the table)."""
        path = (TABLE, name)
        if not isinstance(entry, dict):
            self._shape_problem(path, f"saved query {name!r} must be a table with a query")
            return
        usable = True
        for key, value in entry.items():
            if key not in KEYS:
                close = difflib.get_close_matches(key, KEYS, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(KEYS)}"
                message = f"unknown key {key!r} in {name!r}"
                self._shape_problem((*path, key), message, hint, name, at_key=True)
            elif not isinstance(value, str):
                self._shape_problem((*path, key), f"{key!r} must be a string", query=name)
                usable = usable and key == "description"
            elif key in _CHECKS:
                try:
                    entry[key] = _CHECKS[key](value)
                except ValueError as error:
                    self._shape_problem((*path, key), str(error), query=name)
                    usable = False
        if "query" not in entry:
            self._shape_problem(path, f"saved query {name!r} has no query", query=name)
        elif usable:
            options = {key: entry.get(key, default) for key, default in _DEFAULTS.items()}
            if not isinstance(options["description"], str):
                options["description"] = ""
            self.queries[name] = SavedQuery(name=name, query=entry["query"], **options)

    def _query_string(self, name: str) -> StringValue:
        string = self._locations.values[(TABLE, name, "query")].string
        assert string is not None, "a saved query is a string"
        return string

    # --- problems -----------------------------------------------------------------------------

    def _shape_problem(
        self,
        path: tuple[str, ...],
        message: str,
        hint: str | None = None,
        query: str | None = None,
        *,
        at_key: bool = False,
    ) -> None:
        """A problem in the file's shape, at the value of `path` (or at its key, or the header
        of its table)."""
        value = None if at_key else self._locations.values.get(path)
        start, end = (value.start, value.end) if value else self._locations.keys.get(path, (0, 0))
        self.problems.append(self._problem(start, end, FILE_SHAPE, message, hint, query))

    def _syntax_problem(self, error: tomllib.TOMLDecodeError) -> Problem:
        # tomllib puts the position only in its message: "... (at line 3, column 7)".
        message = str(error)
        where = re.search(r" \(at line (\d+), column (\d+)\)$", message)
        at = len(self.text)
        if where:
            message = message[: where.start()]
            line, column = int(where.group(1)), int(where.group(2))
            line_start = 0
            for _ in range(line - 1):
                line_start = self.text.index("\n", line_start) + 1
            at = line_start + column - 1
        message = message.removesuffix(" (at end of document)")
        return self._problem(at, at, TOML_SYNTAX, message[:1].lower() + message[1:])

    def _problem(
        self,
        start: int,
        end: int,
        code: str,
        message: str,
        hint: str | None = None,
        query: str | None = None,
    ) -> Problem:
        line_start = self.text.rfind("\n", 0, start) + 1
        offset = len(self.text[:start].encode())
        return Problem(
            path=self.path,
            line=self.text.count("\n", 0, start) + 1,
            column=start - line_start + 1,
            offset=offset,
            end_offset=offset + len(self.text[start:end].encode()),
            code=code,
            message=message,
            hint=hint,
            query=query,
            excerpt=tuple(excerpt_lines(self.text, Span(start, end))),
        )
