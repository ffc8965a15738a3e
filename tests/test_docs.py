"""The user documentation says what the code does: every checked example in docs/ is run here.

Conventions for checked examples in the Markdown files (fenced blocks, by info string):

- ```` ```query ```` (docs/language.md): one query per line, alone (it must compile), or followed by
  ` => {JSON body}` (it compiles to exactly that body) or ` => error: code[, code]` (it fails
  with diagnostics of exactly those codes). Options after the info word set the compile options:
  ```` ```query tz=Europe/Paris region=GB now=2024-03-10T12:00:00Z ````. Without `now=`, relative
  dates count back from `NOW` below.
- ```` ```format ```` (docs/language.md): `QUERY => CANONICAL`: `format(QUERY) == CANONICAL`, and
  the canonical text formats to itself.
- ```` ```decompile ```` (docs/language.md): `{JSON body} => QUERY`: `decompile(body) == QUERY`, and
  QUERY compiles back to the body.
- ```` ```console ```` (any docs/*.md): `$ querylang ...` (or `$ echo '...' | querylang ... -`) runs
  `querylang.cli.main`; the lines up to the next `$` are its stdout then stderr, and an optional
  last line `[exit N]` its exit code (0 when absent).
- ```` ```pycon ```` (any docs/*.md): run as a doctest, in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from harness import run_python

import querylang
from querylang import QueryError, compile, default_schema, format
from querylang.cli import _parser as cli_parser
from querylang.cli import main as cli_main
from querylang.errors import ErrorCode
from querylang.reference import REGENERATE, render_field_reference
from querylang.schema import Field

DOCS = Path(__file__).resolve().parent.parent / "docs"
NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
"""The instant relative dates in the docs count back from: Friday 2024-03-15, 12:00 UTC."""


@dataclass(frozen=True)
class Block:
    """One fenced code block: its info string's first word, the options after it, its lines."""

    path: Path
    line: int
    kind: str
    options: dict[str, str]
    lines: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: Path, kind: str) -> list[Block]:
    """The fenced blocks of `path` whose info string starts with `kind`."""
    found = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = re.match(r"^(`{3,})\s*(\S*)(.*)$", lines[index])
        if fence is None:
            index += 1
            continue
        ticks, info_kind, rest = fence.groups()
        start = index
        index += 1
        body = []
        while index < len(lines) and lines[index].strip() != ticks:
            body.append(lines[index])
            index += 1
        index += 1
        if info_kind == kind:
            options = dict(option.split("=", 1) for option in rest.split())
            found.append(Block(path, start + 1, kind, options, tuple(body)))
    return found


def markdown_files() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def read_text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


# --- (a) the generated field reference is current ---------------------------------------------


def test_field_reference_is_current() -> None:
    expected = render_field_reference(default_schema())
    current = (DOCS / "fields.md").read_text(encoding="utf-8")
    assert current == expected, (
        f"docs/fields.md is stale: run `{REGENERATE}` from the repository root"
    )


# --- (b) the schema's own examples compile ----------------------------------------------------

SCHEMA_EXAMPLES = [example for field in default_schema().fields for example in field.examples]


@pytest.mark.parametrize("query", SCHEMA_EXAMPLES, ids=SCHEMA_EXAMPLES)
def test_schema_example_compiles(query: str) -> None:
    body = compile(query, now=NOW).to_body()
    assert body, f"{query!r} compiles to an empty body"


def test_every_field_has_examples() -> None:
    assert all(field.examples for field in default_schema().fields)


# --- (c) the language guide's examples --------------------------------------------------------


@dataclass(frozen=True)
class Example:
    block: Block
    text: str
    expected: str | None

    @property
    def id(self) -> str:
        return self.text


def examples(kind: str, name: str = "language.md") -> list[Example]:
    found = []
    for block in blocks(DOCS / name, kind):
        for line in block.lines:
            if not line.strip():
                continue
            text, arrow, expected = line.partition(" => ")
            found.append(Example(block, text.rstrip(), expected.strip() if arrow else None))
    return found


QUERY_EXAMPLES = examples("query")
FORMAT_EXAMPLES = examples("format")
DECOMPILE_EXAMPLES = examples("decompile")


def test_guide_has_checked_examples() -> None:
    # A guard against a broken fence convention silently checking nothing.
    assert len(QUERY_EXAMPLES) > 100
    assert len(FORMAT_EXAMPLES) > 5
    assert len(DECOMPILE_EXAMPLES) > 2


def compile_example(example: Example) -> dict[str, object]:
    """The body of the example's query, compiled with its block's options."""
    options = example.block.options
    unknown = set(options) - {"now", "tz", "region"}
    assert not unknown, f"{example.block.where}: unknown block options {unknown}"
    now = datetime.fromisoformat(options["now"]) if "now" in options else NOW
    tz, region = options.get("tz", "UTC"), options.get("region", "US")
    return compile(example.text, now=now, tz=tz, region=region).to_body()


@pytest.mark.parametrize("example", QUERY_EXAMPLES, ids=[e.id for e in QUERY_EXAMPLES])
def test_query_example(example: Example) -> None:
    where = example.block.where
    expected = example.expected
    if expected is not None and expected.startswith("error:"):
        codes = {code.strip() for code in expected.removeprefix("error:").split(",")}
        with pytest.raises(QueryError) as caught:
            compile_example(example)
        found = {str(d.code) for d in caught.value.diagnostics}
        assert found == codes, f"{where}: {example.text!r} fails with {found}:\n{caught.value}"
        return
    try:
        body = compile_example(example)
    except QueryError as error:
        pytest.fail(f"{where}: {example.text!r} does not compile:\n{error}")
    if expected is not None:
        assert body == json.loads(expected), f"{where}: {example.text!r} compiles to {body}"


@pytest.mark.parametrize("field", default_schema().fields, ids=lambda field: field.name)
def test_guide_covers_every_field(field: Field) -> None:
    # The guide's field table and examples are written by hand: they must follow the schema.
    rows: dict[str, str] = {}
    for line in read_text("language.md").splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows.setdefault(cells[0], cells[1])
    aliases = ", ".join(f"`{alias}`" for alias in field.aliases)
    assert rows.get(f"`{field.name}`") == aliases, f"docs/language.md field table: {field.name}"
    for name in (field.name, *field.aliases):
        assert any(
            re.match(rf"-?{re.escape(name)}:", example.text, flags=re.IGNORECASE)
            for example in QUERY_EXAMPLES
            if example.expected is None or not example.expected.startswith("error:")
        ), f"docs/language.md has no compiling example of {name}:"


@pytest.mark.parametrize("example", FORMAT_EXAMPLES, ids=[e.id for e in FORMAT_EXAMPLES])
def test_format_example(example: Example) -> None:
    assert example.expected is not None, f"{example.block.where}: write QUERY => CANONICAL"
    region = example.block.options.get("region", "US")
    assert format(example.text, region=region) == example.expected
    assert format(example.expected, region=region) == example.expected


@pytest.mark.parametrize("example", DECOMPILE_EXAMPLES, ids=[e.id for e in DECOMPILE_EXAMPLES])
def test_decompile_example(example: Example) -> None:
    assert example.expected is not None, f"{example.block.where}: write {{BODY}} => QUERY"
    body = json.loads(example.text)
    assert querylang.decompile(body) == example.expected
    assert compile(example.expected).to_body() == body


# --- console sessions and Python sessions in every page ---------------------------------------


@dataclass(frozen=True)
class Session:
    block: Block
    command: str
    output: str
    exit_code: int

    @property
    def id(self) -> str:
        return f"{self.block.where} $ {self.command}"


def sessions() -> list[Session]:
    found = []
    for path in markdown_files():
        for block in blocks(path, "console"):
            command: str | None = None
            output: list[str] = []
            for line in [*block.lines, "$ "]:
                if not line.startswith("$ "):
                    output.append(line)
                    continue
                if command is not None:
                    exit_code = 0
                    if output and (status := re.fullmatch(r"\[exit (\d+)\]", output[-1])):
                        exit_code = int(status.group(1))
                        output.pop()
                    found.append(Session(block, command, "\n".join(output), exit_code))
                command, output = line[2:], []
    return found


SESSIONS = sessions()


def run_cli(command: str) -> tuple[list[str], str]:
    """The argv and stdin of a documented command line."""
    words = shlex.split(command)
    stdin = ""
    if "|" in words:
        bar = words.index("|")
        feeder, words = words[:bar], words[bar + 1 :]
        assert feeder[0] == "echo", f"only `echo ... |` is supported: {command}"
        stdin = " ".join(feeder[1:]) + "\n"
    assert words[0] == "querylang", f"not a querylang command: {command}"
    return words[1:], stdin


@pytest.mark.parametrize("session", SESSIONS, ids=[s.id for s in SESSIONS])
def test_console_session(
    session: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, stdin = run_cli(session.command)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps usage lines to the terminal width
    try:
        exit_code = cli_main(argv)
    except SystemExit as stop:
        exit_code = stop.code if isinstance(stop.code, int) else 1
    captured = capsys.readouterr()
    output = (captured.out + captured.err).rstrip("\n")
    assert output == session.output, f"{session.block.where}: output of `{session.command}`"
    assert exit_code == session.exit_code, f"{session.block.where}: exit code"


PYCON = [block for path in markdown_files() for block in blocks(path, "pycon")]


# Each session runs in a fresh interpreter, as a reader's would: imports made by other tests (and
# the lazy attributes of the `querylang` package they resolve) must not change what it prints.
_RUN_DOCTEST = """
import doctest, sys
text, name, path, line = sys.stdin.read(), *sys.argv[1:4]
test = doctest.DocTestParser().get_doctest(text, {}, name, path, int(line))
runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""


@pytest.mark.parametrize("block", PYCON, ids=[b.where for b in PYCON])
def test_python_session(block: Block) -> None:
    text = "\n".join(block.lines) + "\n"
    run = run_python(
        ["-c", _RUN_DOCTEST, block.where, str(block.path), str(block.line)], stdin=text
    )
    assert run.code == 0, run.out + run.err


# --- (d) every error code is documented, and only those ---------------------------------------


def error_sections() -> dict[str, str]:
    """The sections of docs/errors.md headed by a code in backticks, e.g. ## `syntax`."""
    text = read_text("errors.md")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    sections = {}
    for part in parts:
        heading, _, body = part.partition("\n")
        if code := re.fullmatch(r"`([a-z_]+)`", heading.strip()):
            sections[code.group(1)] = body
    return sections


def test_every_error_code_is_documented() -> None:
    documented = set(error_sections())
    codes = {str(code) for code in ErrorCode}
    assert codes - documented == set(), "codes missing from docs/errors.md"
    assert documented - codes == set(), "docs/errors.md documents codes that do not exist"


def test_error_json_example() -> None:
    # The pretty-printed JSON in docs/errors.md is what to_dict() gives for its query.
    [block] = blocks(DOCS / "errors.md", "json")
    shown = json.loads("\n".join(block.lines))
    with pytest.raises(QueryError) as caught:
        compile(shown["query"], now=NOW)
    assert caught.value.to_dict() == shown


@pytest.mark.parametrize("code", [str(code) for code in ErrorCode])
def test_error_code_has_a_checked_example(code: str) -> None:
    # The example's rendering is checked by test_console_session or test_python_session.
    section = error_sections()[code]
    assert re.search(rf"^{code}: ", section, flags=re.MULTILINE), f"no rendered {code} example"
    assert "```console" in section or "```pycon" in section


# --- (e) every command and option of the CLI is documented ------------------------------------


def cli_commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def cli_sections() -> dict[str, str]:
    text = read_text("cli.md")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {part.partition("\n")[0].strip(): part for part in parts}


def test_cli_has_commands() -> None:
    # Guards the parametrised test below against finding no command at all.
    assert {"compile", "format"} <= set(cli_commands())


@pytest.mark.parametrize("command", sorted(cli_commands()))
def test_cli_command_is_documented(command: str) -> None:
    sections = cli_sections()
    heading = f"`querylang {command}`"
    assert heading in sections, f"docs/cli.md needs a section ## {heading}"
    section = sections[heading]
    for action in cli_commands()[command]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            for option in action.option_strings:
                assert f"`{option}" in section, f"{option} of {command} is not documented"
        else:
            assert f"`{action.metavar}`" in section, f"{action.metavar} is not documented"
        for choice in action.choices or ():
            assert f"`{choice}`" in section, f"{choice} of {command} is not documented"


def test_cli_help_and_exit_codes_are_documented() -> None:
    text = read_text("cli.md")
    assert "`--help`" in text
    for code in ("0", "1", "2"):
        assert re.search(rf"^\| `{code}` \|", text, flags=re.MULTILINE), f"exit code {code}"
