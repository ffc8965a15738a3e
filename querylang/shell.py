"""Shell: lines typed at a terminal -> bodies, explanations or calls, printed (`querylang shell`).

A front end like `cli`, built on the search-box toolkit: on every keystroke `tokens` colours the
line, `complete` offers what may come next and `diagnose` fills the bottom toolbar. On Enter, a
meta command runs (`\\help`, `\\fields`, `\\explain QUERY`, `\\quit`), or the query is compiled
and its body printed, or searched when an API is configured (a base URL, or `WHIPPY_API_KEY`).

prompt_toolkit is the optional `shell` extra: it is imported here and nowhere else, and `cli`
imports this module only for the `shell` command.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, assert_never

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.buffer import CompletionState
from prompt_toolkit.completion import CompleteEvent, Completer
from prompt_toolkit.completion import Completion as PromptCompletion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.formatted_text.utils import split_lines
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.output import Output
from prompt_toolkit.styles import Style

from querylang.compiler import compile as compile_query
from querylang.completion import complete
from querylang.diagnostics import diagnose
from querylang.errors import QueryError
from querylang.explanation import explain
from querylang.highlight import tokens

if TYPE_CHECKING:
    from querylang.client import CallsClient
    from querylang.request import SearchCallsRequest

PROMPT = "querylang> "
SEARCH_LIMIT = 20
"""Calls printed per search: the first page only, a shell is for trying queries."""


class Command(StrEnum):
    """A meta command: a line that starts with a backslash."""

    HELP = "\\help"
    FIELDS = "\\fields"
    EXPLAIN = "\\explain"
    QUIT = "\\quit"

    @classmethod
    def named(cls, word: str) -> Command | None:
        """The command a word names (`\\q` is `\\quit`), or None."""
        return _ALIASES.get(word) or next((c for c in cls if c.value == word), None)


_ALIASES = {"\\?": Command.HELP, "\\q": Command.QUIT}
_USAGE = {
    Command.HELP: ("\\help", "list the commands and keys (also \\?)"),
    Command.FIELDS: ("\\fields", "list the fields a query can filter on"),
    Command.EXPLAIN: ("\\explain QUERY", "say what QUERY searches for, and each body key's source"),
    Command.QUIT: ("\\quit", "leave the shell (also \\q, or Ctrl-D on an empty line)"),
}
_KEYS = (
    ("Tab", "complete: the best candidate, then the next ones"),
    ("Shift-Tab", "the previous candidate"),
    ("Up, Down", "move in the menu, or in the history"),
    ("Ctrl-R", "search the history"),
    ("Right", "take the greyed suggestion from the history"),
    ("Enter", "run the line"),
    ("Ctrl-C", "clear the line (or stop a search)"),
    ("Ctrl-D", "leave, on an empty line"),
)
_COMMAND = re.compile(r"\s*(\\\S*)\s*")

STYLE = Style.from_dict(
    {
        "prompt": "bold",
        "meta": "ansimagenta bold",
        "query.field": "ansicyan",
        "query.option": "ansicyan italic",
        "query.value": "ansigreen",
        "query.string": "ansiyellow",
        "query.number": "ansiblue",
        "query.duration": "ansiblue",
        "query.date": "ansiblue",
        "query.keyword": "ansiblue bold",
        "query.operator": "ansimagenta bold",
        "query.paren": "bold",
        "query.range": "bold",
        "query.comparison": "bold",
        "query.error": "ansired",
        # After the kind in a fragment's style (see `fragments`), so its colour wins.
        "query.problem": "ansired underline",
        "toolbar.ok": "ansigreen",
        "toolbar.problem": "ansired",
    }
)


def history_path() -> Path:
    """Where the history is kept by default: `$XDG_STATE_HOME/querylang/history`, or
    `~/.local/state/querylang/history` (the XDG default) without the variable."""
    state = os.environ.get("XDG_STATE_HOME", "")
    # The XDG spec says a relative path in the variable is invalid and is to be ignored.
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "querylang" / "history"


def run_shell(
    *,
    history: Path | None,
    tz: str,
    region: str,
    now: datetime | None,
    base_url: str | None,
    input: Input | None = None,
    output: Output | None = None,
) -> int:
    """Run the interactive prompt until `\\quit` or Ctrl-D, and return the exit code (0).

    Args:
        history: the history file; `history_path()` by default. Its directory is created.
        tz, region, now: the options of `compile`, for every query typed.
        base_url: the API to search; with it, or with `WHIPPY_API_KEY` set, Enter runs the
            search (`https://api.whippy.co/v1` without a URL), else it prints the body.
        input, output: prompt_toolkit's terminal, for tests (`create_pipe_input()`,
            `DummyOutput()`); the process's own by default.

    Results are printed on standard output, between prompts.

    Raises:
        ValueError: a bad option (naive `now`, unknown `tz` or `region`), before the prompt.
    """
    diagnose("", now=now, tz=tz, region=region)  # checks the options, as it is documented to
    client: CallsClient | None = None
    if base_url is not None or os.environ.get("WHIPPY_API_KEY"):
        from querylang.client import DEFAULT_BASE_URL, CallsClient

        client = CallsClient(base_url=base_url or DEFAULT_BASE_URL)
    shell = _Shell(tz=tz, region=region, now=now, client=client, out=sys.stdout)
    session: PromptSession[str] = PromptSession(
        PROMPT,
        lexer=QueryLexer(),
        completer=QueryCompleter(),
        complete_while_typing=True,
        auto_suggest=AutoSuggestFromHistory(),
        bottom_toolbar=lambda: shell.toolbar(get_app().current_buffer.text),
        history=_history(history, shell.out),
        key_bindings=_bindings(),
        style=STYLE,
        include_default_pygments_style=False,
        multiline=False,
        input=input,
        output=output,
    )
    try:
        while True:
            try:
                line = session.prompt()
            except KeyboardInterrupt:
                continue  # Ctrl-C: the line is dropped, a fresh prompt comes
            except EOFError:
                return 0
            if not shell.run(line):
                return 0
    finally:
        if client is not None:
            client.close()


def _history(path: Path | None, out: IO[str]) -> History:
    path = history_path() if path is None else path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as error:
        print(f"querylang shell: history not kept: {error}", file=out)
        return InMemoryHistory()
    return FileHistory(path)


def _bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("tab")
    def _(event: KeyPressEvent) -> None:
        # As pgcli: the first Tab takes the best candidate at once (computed here, not in the
        # background, so that it is the candidate for the text as it is now), the next ones go
        # down the menu.
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.completions:
            buffer.complete_next()
            return
        found = list(
            buffer.completer.get_completions(
                buffer.document, CompleteEvent(completion_requested=True)
            )
        )
        if found:
            buffer.complete_state = CompletionState(buffer.document, found)
            buffer.complete_next()

    return bindings


# --- completion and colouring ------------------------------------------------------------------


def query_start(line: str) -> int | None:
    """Where the query starts in a line: 0 for a plain query, after the command for
    `\\explain QUERY`, None for a line that holds no query (another meta command).

    >>> query_start("dir:in"), query_start("\\\\explain dir:in"), query_start("\\\\help")
    (0, 9, None)
    """
    command = _COMMAND.match(line)
    if not line.lstrip().startswith("\\") or command is None:
        return 0
    explaining = Command.named(command.group(1)) is Command.EXPLAIN
    return command.end() if explaining and command.end() > command.end(1) else None


class QueryCompleter(Completer):
    """prompt_toolkit completion from `querylang.complete`: each candidate replaces the part of
    the word already typed (`start_position`), shows its label, and its detail as the meta.

    In a meta command line, the command names are completed, then the query after `\\explain`.
    """

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[PromptCompletion]:
        text, cursor = document.text, document.cursor_position
        command = _COMMAND.match(text)
        if text.lstrip().startswith("\\") and command and cursor <= command.end(1):
            typed, rest = text[command.start(1) : cursor], text[cursor : command.end(1)]
            for name in Command:
                if name.startswith(typed) and name.endswith(rest):
                    insert = name[: len(name) - len(rest)]
                    doc = _USAGE[name][1]
                    yield PromptCompletion(
                        insert, -len(typed), display=name.value, display_meta=doc
                    )
            return
        start = query_start(text)
        if start is None or cursor < start:
            return
        query, at = text[start:], cursor - start
        for candidate in complete(query, at):
            insert = candidate.insert
            # prompt_toolkit replaces only text before the caret: with the caret inside a word,
            # offer the candidates that end with the rest of the word, less that rest.
            rest = query[at : candidate.end]
            if rest:
                if not insert.endswith(rest):
                    continue
                insert = insert[: len(insert) - len(rest)]
            yield PromptCompletion(
                insert,
                start_position=candidate.start - at,
                display=candidate.label,
                display_meta=candidate.detail,
            )


def fragments(line: str) -> StyleAndTextTuples:
    """The line cut into (style, text) pieces from `querylang.tokens`: `class:query.<kind>`, and
    `class:query.problem` on a token with a diagnostic. The pieces give the line back.

    >>> fragments("dir:inx")[2]
    ('class:query.value class:query.problem', 'inx')
    """
    start = query_start(line)
    if start is None:
        known = Command.named(line.split()[0]) is not None
        return [("class:meta" if known else "class:meta class:query.problem", line)]
    pieces: StyleAndTextTuples = [("class:meta", line[:start])] if start else []
    for token in tokens(line[start:]):
        style = f"class:query.{token.kind}"
        if token.code is not None:
            style += " class:query.problem"
        pieces.append((style, token.text))
    return pieces


class QueryLexer(Lexer):
    """prompt_toolkit colouring from `querylang.tokens` (see `fragments`)."""

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = list(split_lines(fragments(document.text)))

        def line(number: int) -> StyleAndTextTuples:
            return lines[number] if number < len(lines) else []

        return line


# --- the shell ---------------------------------------------------------------------------------


class _Shell:
    """What the shell shows and does, apart from the terminal: the toolbar, and each line."""

    def __init__(
        self,
        *,
        tz: str,
        region: str,
        now: datetime | None,
        client: CallsClient | None,
        out: IO[str],
    ) -> None:
        self.tz, self.region, self.now = tz, region, now
        self.client = client
        self.out = out

    def toolbar(self, line: str) -> StyleAndTextTuples:
        """The bottom toolbar for the line being typed: its first problem, or what Enter does."""
        start = query_start(line)
        if not line.strip():
            action = "searches" if self.client else "prints the body"
            return [("", f" Tab completes, Enter {action}, \\help lists commands, Ctrl-D quits")]
        if start is None:
            word = line.split()[0]
            command = Command.named(word)
            if command is None:
                return [("class:toolbar.problem", f" unknown command {word}; \\help lists them")]
            return [("", " {}: {}".format(*_USAGE[command]))]
        query = line[start:]
        if not query.strip():
            return [("", " \\explain QUERY: say what QUERY searches for")]
        problems = diagnose(query, now=self.now, tz=self.tz, region=self.region)
        if problems:
            first = problems[0]
            text = f" {first.code}: {first.message}"
            if first.hint:
                text += f" ({first.hint})"
            if len(problems) > 1:
                text += f" [+{len(problems) - 1} more]"
            return [("class:toolbar.problem", text)]
        try:
            keys = len(self._compile(query).to_body())
        except QueryError:  # diagnose says it compiles; this is only belt and braces
            return [("class:toolbar.problem", " does not compile")]
        action = "explains it" if start else "searches" if self.client else "prints the body"
        return [
            ("class:toolbar.ok", f" ok: {keys} body key{'' if keys == 1 else 's'}; Enter {action}")
        ]

    def run(self, line: str) -> bool:
        """Run one line; False when it asks to leave. Never raises (but KeyboardInterrupt is
        turned into a message)."""
        try:
            return self._run(line.strip())
        except KeyboardInterrupt:
            self._print("cancelled")
        except Exception as error:  # a shell must outlive any bug: say it, and go on
            self._print(f"querylang shell: internal error: {type(error).__name__}: {error}")
        return True

    def _run(self, line: str) -> bool:
        if not line:
            return True
        if not line.startswith("\\"):
            self._query(line)
            return True
        word, *rest = line.split(maxsplit=1)
        argument = rest[0] if rest else ""
        match Command.named(word):
            case None:
                self._print(f"unknown command {word}; \\help lists the commands")
            case Command.QUIT:
                return False
            case Command.HELP:
                self._help()
            case Command.FIELDS:
                from querylang.field_schema import fields_table

                self._print(fields_table())
            case Command.EXPLAIN if argument:
                self._explain(argument)
            case Command.EXPLAIN:
                self._print("usage: \\explain QUERY")
            case unknown:
                assert_never(unknown)
        return True

    def _compile(self, query: str) -> SearchCallsRequest:
        return compile_query(query, now=self.now, tz=self.tz, region=self.region)

    def _query(self, query: str) -> None:
        try:
            request = self._compile(query)
        except QueryError as error:
            self._print(str(error))
            return
        if self.client is None:
            self._print(json.dumps(request.to_body(), indent=2, ensure_ascii=False))
        else:
            self._search(self.client, request)

    def _search(self, client: CallsClient, request: SearchCallsRequest) -> None:
        # The CLI's table writer, so that `search` and the shell print calls alike.
        from querylang.call_output import CallWriter
        from querylang.client import AuthenticationError, SearchAPIError

        try:
            page = client.search(request, limit=SEARCH_LIMIT)
        except SearchAPIError as error:
            self._print(f"error: {error}")
            if isinstance(error, AuthenticationError):
                self._print("hint: set the API key in the WHIPPY_API_KEY variable")
            return
        if page.data:
            writer = CallWriter("table", None, self.out)
            writer.write(page.data)
            writer.finish()
        self._print(f"{len(page.data)} of {page.total} calls")

    def _explain(self, query: str) -> None:
        try:
            explanation = explain(query, now=self.now, tz=self.tz, region=self.region)
        except QueryError as error:
            self._print(str(error))
            return
        self._print(str(explanation))

    def _help(self) -> None:
        mode = (
            "runs the search (first 20 calls)" if self.client else "prints the request body (JSON)"
        )
        lines = [f"Type a query; Enter {mode}. The bottom line shows what is wrong with it."]
        lines += ["", "Commands:", *_columns(_USAGE.values()), "", "Keys:", *_columns(_KEYS)]
        self._print("\n".join(lines))

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _columns(rows: Iterable[tuple[str, str]]) -> list[str]:
    rows = list(rows)
    width = max(len(name) for name, _ in rows)
    return [f"  {name:<{width}}  {doc}" for name, doc in rows]
