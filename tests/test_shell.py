"""`querylang shell`: typed at in a real pseudo-terminal, driven in-process through prompt_toolkit's
pipe input, and its completer, lexer and toolbar on their own."""

from __future__ import annotations

import codecs
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from harness import checkout_env

pytest.importorskip("prompt_toolkit")

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import to_plain_text
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from querylang.sample import sample_calls
from querylang.server import ReferenceServer
from querylang.shell import (
    QueryCompleter,
    QueryLexer,
    _Shell,
    fragments,
    history_path,
    query_start,
    run_shell,
)

NOW = "2024-03-01T12:00:00Z"
NOW_AT = datetime(2024, 3, 1, 12, tzinfo=UTC)
DEADLINE = 30.0
"""Seconds to wait for an expected output: generous, for a loaded CI machine; met in < 1 s."""

# ---------------------------------------------------------------------------------------------
# in a pseudo-terminal: the command as a user runs it

# CSI (colours, cursor moves, modes), OSC (titles), and the two-byte escapes (keypad modes).
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r"
)


_CURSOR_POSITION_REQUEST = "\x1b[6n"


class Terminal:
    """A child process on a pseudo-terminal: keys are written to it, and its screen output is read
    (escapes stripped) until an expected text shows, or a deadline passes.

    It answers the cursor-position requests prompt_toolkit makes, as a terminal does: the shell
    draws its bottom toolbar only once it knows how many rows are left below the prompt. No screen
    is emulated, so the answer is always the top-left corner: every row is free.
    """

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 30, cols: int = 120):
        import fcntl
        import pty
        import struct
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.raw = ""
        self.read_up_to = 0  # in the stripped text: what `expect` has already matched
        self.answered_up_to = 0  # in the raw text: the requests for the cursor answered
        self.closed = False

    @property
    def text(self) -> str:
        return _ANSI.sub("", self.raw)

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], max(timeout, 0))
        if not ready:
            return
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every process holding the terminal has gone
            chunk = b""
        if not chunk:
            self.closed = True
        self.raw += self.decoder.decode(chunk)
        while (request := self.raw.find(_CURSOR_POSITION_REQUEST, self.answered_up_to)) >= 0:
            self.answered_up_to = request + len(_CURSOR_POSITION_REQUEST)
            self.send("\x1b[1;1R")

    def expect(self, wanted: str) -> str:
        """Read until `wanted` is printed after the last match; return the text up to it."""
        deadline = time.monotonic() + DEADLINE
        while (found := self.text.find(wanted, self.read_up_to)) < 0:
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(
                    f"{wanted!r} not printed; after the last match came:\n"
                    f"{self.text[self.read_up_to :]}"
                )
            self._read(deadline - time.monotonic())
        seen = self.text[self.read_up_to : found + len(wanted)]
        self.read_up_to = found + len(wanted)
        return seen

    def wait(self) -> int:
        """Read to the end of the output, and return the exit code."""
        deadline = time.monotonic() + DEADLINE
        while not self.closed and time.monotonic() < deadline:
            self._read(deadline - time.monotonic())
        return self.process.wait(timeout=max(deadline - time.monotonic(), 1))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Any]:
    """Start `querylang shell` on a pseudo-terminal, with its history in tmp_path/history."""
    if sys.platform == "win32":
        pytest.skip("no pseudo-terminals on Windows")
    started: list[Terminal] = []

    def start() -> Terminal:
        env = checkout_env(TERM="xterm")
        env.pop("WHIPPY_API_KEY", None)  # compile, do not search
        env.pop("PROMPT_TOOLKIT_NO_CPR", None)  # the toolbar needs the answers
        argv = [sys.executable, "-m", "querylang.cli", "shell"]
        argv += ["--history", str(tmp_path / "history"), "--now", NOW]
        started.append(Terminal(argv, env))
        started[-1].expect("querylang>")  # the terminal is in raw mode from here on
        return started[-1]

    yield start
    for each in started:
        each.close()


def test_session_completes_and_prints_the_body(terminal: Any, tmp_path: Path) -> None:
    shell = terminal()
    # Each Tab takes the best candidate for the text typed so far, at once: `dir` ->
    # `direction:`, then `direction:in` -> `direction:inbound`. Keys are handled in order.
    shell.send("dir")
    shell.send("\t")
    shell.send("in")
    # The bottom toolbar says `direction:in` compiles. (Its first "ok" is written whole: the
    # toolbar before it had another style. Later ones may be drawn as a diff, a few cells only.)
    shell.expect("ok: 1 body key")
    shell.send("\t")
    shell.send("\r")
    printed = shell.expect('"direction": "INBOUND"\n}')
    assert '{\n  "direction": "INBOUND"\n}' in printed
    shell.expect("querylang>")
    shell.send("\\quit\r")
    assert shell.wait() == 0
    assert "+direction:inbound\n" in (tmp_path / "history").read_text()


def test_session_survives_a_bad_query(terminal: Any) -> None:
    shell = terminal()
    shell.send("direction:inbund\r")
    printed = shell.expect("hint: one of: inbound, outbound")
    assert "invalid_value: 'inbund' is not a direction" in printed
    assert "  direction:inbund\n            ^^^^^^\n" in printed
    shell.expect("querylang>")
    shell.send("dir:out duration:>5m\r")
    shell.expect('"direction": "OUTBOUND",\n  "min_duration": 300001\n}')
    shell.expect("querylang>")
    shell.send("\x04")  # Ctrl-D on an empty line
    assert shell.wait() == 0


def test_session_help(terminal: Any) -> None:
    shell = terminal()
    shell.send("\\help\r")
    printed = shell.expect("leave, on an empty line")  # the last line of the help
    assert "\\explain QUERY" in printed
    assert "\\fields" in printed
    shell.expect("querylang>")
    shell.send("\\q\r")
    assert shell.wait() == 0


# ---------------------------------------------------------------------------------------------
# in-process: prompt_toolkit's pipe input, nothing drawn


@pytest.fixture
def session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Type `keys` into `run_shell` (which must leave at their end); return (exit code, output)."""
    monkeypatch.delenv("WHIPPY_API_KEY", raising=False)
    default = tmp_path / "history"

    def run(keys: str, *, base_url: str | None = None, history: Path | None = default) -> Any:
        """`history=None` is the default place."""
        with create_pipe_input() as pipe:
            pipe.send_text(keys)
            code = run_shell(
                history=history,
                tz="UTC",
                region="US",
                now=NOW_AT,
                base_url=base_url,
                input=pipe,
                output=DummyOutput(),
            )
        return code, capsys.readouterr().out

    return run


def test_tab_takes_the_best_candidate_then_the_next(session: Any, tmp_path: Path) -> None:
    # `dur` Tab: `duration:`; `5` Tab: `5h`, the first unit. `dir` Tab Tab: `direction:`, `dir:`.
    code, out = session("dur\t5\t\rdir\t\tout\r\\q\r")
    assert code == 0
    assert '"min_duration": 18000000' in out
    assert '"direction": "OUTBOUND"' in out
    history = (tmp_path / "history").read_text()
    assert "+duration:5h\n" in history
    assert "+dir:out\n" in history


def test_explain(session: Any) -> None:
    code, out = session("\\explain dir:in after:-7d\r\\explain\r\\explain dir:\r\\q\r")
    assert code == 0
    assert out.splitlines()[:3] == [
        "Inbound calls created since 23 Feb 2024 12:00 UTC.",
        '  after      "2024-02-23T12:00:00Z"  (2024-02-23T12:00:00+00:00 in UTC)  <- after:-7d',
        '  direction  "INBOUND"  <- dir:in',
    ]
    assert "usage: \\explain QUERY" in out
    assert "syntax: expected a value after 'dir:'" in out


def test_fields(session: Any) -> None:
    field_schema = pytest.importorskip("querylang.field_schema")
    code, out = session("\\fields\r\\quit\r")
    assert code == 0
    assert out == field_schema.fields_table() + "\n"


def test_unknown_command_and_blank_lines(session: Any) -> None:
    code, out = session("\r   \r\\frobnicate now\r\\q\r")
    assert code == 0
    assert out == "unknown command \\frobnicate; \\help lists the commands\n"


def test_ctrl_c_drops_the_line(session: Any) -> None:
    code, out = session("dir:in\x03dir:out\r\x04")
    assert code == 0
    assert "OUTBOUND" in out
    assert "INBOUND" not in out


def test_eof_leaves(session: Any) -> None:
    assert session("\x04") == (0, "")


@pytest.mark.parametrize(
    "options",
    [{"tz": "Mars/Olympus"}, {"region": "ZZ"}, {"now": datetime(2024, 3, 1)}],
    ids=["tz", "region", "naive now"],
)
def test_bad_options_fail_before_the_prompt(options: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"tz": "UTC", "region": "US", "now": None, **options}
    with pytest.raises(ValueError):
        run_shell(history=None, base_url=None, output=DummyOutput(), **arguments)


def test_default_history(session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert history_path() == tmp_path / "state" / "querylang" / "history"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    session("dir:in\r\x04", history=None)
    assert "+dir:in\n" in (tmp_path / "state" / "querylang" / "history").read_text()
    monkeypatch.setenv("XDG_STATE_HOME", "relative/path")  # invalid, says the XDG spec
    assert history_path() == tmp_path / "home" / ".local" / "state" / "querylang" / "history"


def test_history_that_cannot_be_kept(session: Any, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    code, out = session("dir:in\r\x04", history=tmp_path / "file" / "history")
    assert code == 0
    assert out.startswith("querylang shell: history not kept: ")
    assert '"direction": "INBOUND"' in out


KEY = "shell-secret-key-1414213562"
CALLS = list(sample_calls(100, seed=7, now=NOW_AT))


def test_search(session: Any, server: ReferenceServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHIPPY_API_KEY", KEY)
    code, out = session("dir:in\rdir:in AND dir:out\r\\q\r", base_url=server.base_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["CREATED_AT", "DIRECTION", "FROM"]
    inbound = sum(call["direction"] == "INBOUND" for call in CALLS)
    assert inbound > 20
    assert [line.split()[1] for line in lines[1:21]] == ["INBOUND"] * 20
    assert lines[21] == f"20 of {inbound} calls"
    assert "contradiction" in out  # the second query: an error, then the shell goes on


def test_search_error_keeps_the_shell(session: Any, server: ReferenceServer) -> None:
    code, out = session("dir:in\rdir:out\r\\q\r", base_url=server.base_url)  # no key
    assert code == 0
    assert out.count("error: HTTP 401") == 2
    assert "hint: set the API key in the WHIPPY_API_KEY variable" in out


# ---------------------------------------------------------------------------------------------
# the parts


def completions(text: str, cursor: int | None = None) -> list[tuple[str, int, str, str]]:
    document = Document(text, len(text) if cursor is None else cursor)
    return [
        (c.text, c.start_position, c.display_text, c.display_meta_text)
        for c in QueryCompleter().get_completions(document, CompleteEvent())
    ]


def test_completer_maps_the_span() -> None:
    assert completions("dir") == [
        ("direction:", -3, "direction", "Whether the call came in or went out."),
        ("dir:", -3, "dir", "alias of direction: Whether the call came in or went out."),
    ]
    assert completions("dir:in mode:") == [("ai", 0, "ai", completions("mode:")[0][3])]
    assert completions('to:"+1') == []  # inside a quoted value


def test_completer_inside_a_word() -> None:
    # The caret after `dir` in `direction:in`: prompt_toolkit cannot replace what follows the
    # caret, so only a candidate ending with it is offered, less that end: here a no-op.
    assert completions("direction:in", 3) == [("dir", -3, "direction", completions("dir")[0][3])]


def test_completer_meta_commands() -> None:
    assert [c[0] for c in completions("\\")] == ["\\help", "\\fields", "\\explain", "\\quit"]
    assert completions("\\ex") == [
        ("\\explain", -3, "\\explain", "say what QUERY searches for, and each body key's source")
    ]
    assert [c[:2] for c in completions("\\explain dir")] == [("direction:", -3), ("dir:", -3)]
    # Inside the command word, as inside a field name: only what keeps the rest of the word.
    assert completions("\\explain dir", 4) == [
        ("\\exp", -4, "\\explain", completions("\\ex")[0][3])
    ]
    assert completions("\\help ") == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        'dir:inx -mode:"a b" hello',
        "(dir:in OR\nmode:ai)",
        "\\explain  dir:in",
        "\\help me",
        "\\x",
    ],
)
def test_lexer_covers_the_text(text: str) -> None:
    assert to_plain_text(fragments(text)) == text
    line = QueryLexer().lex_document(Document(text))
    assert "\n".join(to_plain_text(line(n)) for n in range(text.count("\n") + 1)) == text


def test_lexer_styles() -> None:
    assert fragments("dir:inx") == [
        ("class:query.field", "dir"),
        ("class:query.colon", ":"),
        ("class:query.value class:query.problem", "inx"),
    ]
    assert fragments("\\explain dir:in")[:2] == [
        ("class:meta", "\\explain "),
        ("class:query.field", "dir"),
    ]
    assert fragments("\\help") == [("class:meta", "\\help")]
    assert fragments("\\nope") == [("class:meta class:query.problem", "\\nope")]


def test_query_start() -> None:
    assert [query_start(t) for t in ("dir:in", " \\explain  q", "\\explain", "\\q", "\\e q")] == [
        0,
        11,
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("", " Tab completes, Enter prints the body, \\help lists commands, Ctrl-D quits"),
        ("dir:in duration:5s..1m", " ok: 3 body keys; Enter prints the body"),
        ("dir:in", " ok: 1 body key; Enter prints the body"),
        ("\\explain dir:in", " ok: 1 body key; Enter explains it"),
        ("\\explain ", " \\explain QUERY: say what QUERY searches for"),
        ("\\q", " \\quit: leave the shell (also \\q, or Ctrl-D on an empty line)"),
        ("\\nope", " unknown command \\nope; \\help lists them"),
        (
            "direction:inbund AND (mode:",
            " invalid_value: 'inbund' is not a direction (one of: inbound, outbound) [+2 more]",
        ),
        ("after:-7x", None),
    ],
)
def test_toolbar(line: str, shown: str | None) -> None:
    shell = _Shell(tz="UTC", region="US", now=NOW_AT, client=None, out=sys.stdout)
    text = to_plain_text(shell.toolbar(line))
    if shown is None:
        assert text.startswith(" invalid_value: ")
    else:
        assert text == shown
