"""TOML source positions: where each key and value of a document sits in its text.

`tomllib` reads values but forgets where they were. Saved-query files need the positions back:
`querylang check` reports a problem inside a query string at the file's line and column, and
`--fix` replaces one string and leaves every other character alone. `locate` walks a document
that `tomllib` has already accepted (so it trusts the syntax and never reports errors) and
returns, per key path, the span of each value and of each key or table header; for a string
value, also the index in the document of every character of its decoded text, through escapes,
line-ending backslashes and multi-line delimiters. `literal` writes a string back as TOML.

Key paths are tuples of keys, with an array's element index where there is one:
`[[a]]` then `b = ["x"]` gives `("a", 0, "b", 0)` for `"x"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

KeyPath = tuple[str | int, ...]
Quotes = Literal['"', "'", '"""', "'''"]


@dataclass(frozen=True, slots=True)
class StringValue:
    """A string value as written: its delimiters and where each decoded character came from."""

    value: str
    quotes: Quotes
    offsets: tuple[int, ...]
    """`offsets[i]` is the document index where character `i` of `value` is written; one more
    entry, for `len(value)`, is where the closing delimiter starts."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The document span `[start, end)` of the decoded text's span `[start, end)`."""
        return self.offsets[start], self.offsets[end]


@dataclass(frozen=True, slots=True)
class Value:
    """One value: its span in the document (delimiters included), and its text if a string."""

    start: int
    end: int
    string: StringValue | None = None


@dataclass(slots=True)
class Locations:
    """The spans of a document's values and keys, by key path."""

    values: dict[KeyPath, Value] = field(default_factory=dict)
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    """The span of the key that names each path, or of the header that opens a table (for a
    table never named itself, the first key or header inside it)."""


def locate(document: str) -> Locations:
    """The positions of every key and value in `document`, which must be valid TOML."""
    return _Walker(document).walk()


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}#\r\n]*")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
_HEX_DIGITS = {"u": 4, "U": 8}
# TOML 1.1 adds `\e` and `\xHH`, for a tomllib that reads them.
_ESCAPES["e"] = "\x1b"
_HEX_DIGITS["x"] = 2


class _Walker:
    def __init__(self, document: str) -> None:
        self.text = document
        self.at = 0
        self.found = Locations()
        # The element index each array of tables has reached, by its resolved path.
        self.arrays: dict[KeyPath, int] = {}

    def walk(self) -> Locations:
        table: KeyPath = ()
        while True:
            self.skip_blank_lines()
            if self.at >= len(self.text):
                return self.found
            if self.text[self.at] == "[":
                table = self.header()
            else:
                self.key_value(table)

    # --- layout -------------------------------------------------------------------------------

    def skip_spaces(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \t":
            self.at += 1

    def skip_blank_lines(self) -> None:
        """Spaces, newlines and comments."""
        while self.at < len(self.text):
            char = self.text[self.at]
            if char in " \t\r\n":
                self.at += 1
            elif char == "#":
                newline = self.text.find("\n", self.at)
                self.at = len(self.text) if newline == -1 else newline + 1
            else:
                return

    # --- keys and tables ----------------------------------------------------------------------

    def header(self) -> KeyPath:
        """`[a.b]` or `[[a.b]]`: the path of the table it opens."""
        start = self.at
        is_array = self.text.startswith("[[", self.at)
        self.at += 2 if is_array else 1
        key, _ = self.key()
        self.skip_spaces()
        self.at += 2 if is_array else 1
        if is_array:
            path = (*self.resolve(key[:-1]), key[-1])
            self.arrays[path] = index = self.arrays.get(path, -1) + 1
            table: KeyPath = (*path, index)
        else:
            table = self.resolve(key)
        self.name(table, (start, self.at))
        return table

    def name(self, path: KeyPath, span: tuple[int, int]) -> None:
        """Record where `path` is named; tables it creates on the way (`a` and `a.b` for
        `[a.b.c]`) are named there too, unless they were named before."""
        self.found.keys[path] = span
        for end in range(1, len(path)):
            self.found.keys.setdefault(path[:end], span)

    def resolve(self, key: tuple[str, ...]) -> KeyPath:
        """A header's key with the current element index after each array of tables in it."""
        path: KeyPath = ()
        for part in key:
            path = (*path, part)
            if path in self.arrays:
                path = (*path, self.arrays[path])
        return path

    def key(self) -> tuple[tuple[str, ...], int]:
        """A dotted key (bare, "basic" and 'literal' parts), and where its last part ends."""
        parts = []
        while True:
            self.skip_spaces()
            char = self.text[self.at]
            if char in "\"'":
                parts.append(self.string().value)
            else:
                match = _BARE_KEY.match(self.text, self.at)
                assert match is not None, "locate() is given valid TOML"
                parts.append(match.group())
                self.at = match.end()
            end = self.at
            self.skip_spaces()
            if self.text.startswith(".", self.at):
                self.at += 1
            else:
                return tuple(parts), end

    def key_value(self, table: KeyPath) -> None:
        self.skip_spaces()
        start = self.at
        key, end = self.key()
        path = (*table, *key)
        self.name(path, (start, end))
        self.skip_spaces()
        self.at += 1  # "="
        self.skip_spaces()
        self.value(path)

    # --- values -------------------------------------------------------------------------------

    def value(self, path: KeyPath) -> None:
        start = self.at
        char = self.text[start]
        string = None
        if char in "\"'":
            string = self.string()
        elif char == "[":
            self.array(path)
        elif char == "{":
            self.inline_table(path)
        else:
            match = _SCALAR.match(self.text, start)
            assert match is not None  # the pattern matches the empty string
            self.at = start + len(match.group().rstrip(" \t"))
        self.found.values[path] = Value(start, self.at, string)

    def array(self, path: KeyPath) -> None:
        self.at += 1
        index = 0
        while True:
            self.skip_blank_lines()
            if self.text[self.at] == "]":
                self.at += 1
                return
            self.value((*path, index))
            index += 1
            self.skip_blank_lines()
            if self.text[self.at] == ",":
                self.at += 1

    def inline_table(self, path: KeyPath) -> None:
        self.at += 1
        while True:
            self.skip_spaces()
            if self.text[self.at] == "}":
                self.at += 1
                return
            self.key_value(path)
            self.skip_spaces()
            if self.text[self.at] == ",":
                self.at += 1

    def string(self) -> StringValue:
        text = self.text
        quote = text[self.at]
        multiline = text.startswith(quote * 3, self.at)
        quotes: Quotes = quote * 3 if multiline else quote  # type: ignore[assignment]
        self.at += len(quotes)
        if multiline:  # a newline right after the opening delimiter is not part of the value
            if text.startswith("\r\n", self.at):
                self.at += 2
            elif text.startswith("\n", self.at):
                self.at += 1
        chars: list[str] = []
        offsets: list[int] = []
        while True:
            at = self.at
            char = text[at]
            if char == quote and text.startswith(quotes, at):
                # Up to two more quote characters before the closing delimiter are content.
                run = len(quotes)
                while multiline and run < 5 and text.startswith(quote, at + run):
                    run += 1
                extra = run - len(quotes)
                chars.extend(quote * extra)
                offsets.extend(range(at, at + extra))
                offsets.append(at + extra)
                self.at = at + run
                return StringValue("".join(chars), quotes, tuple(offsets))
            if char == "\\" and quote == '"':
                decoded = self.escape(multiline)
                if decoded:
                    chars.append(decoded)
                    offsets.append(at)
                continue
            if char == "\r" and text.startswith("\r\n", at):
                char = "\n"  # tomllib reads a CRLF in a multi-line string as one newline
                self.at += 1
            chars.append(char)
            offsets.append(at)
            self.at += 1

    def escape(self, multiline: bool) -> str:
        """The character a backslash escape stands for; "" for a line-ending backslash."""
        text = self.text
        letter = text[self.at + 1]
        if letter in _HEX_DIGITS:
            digits = _HEX_DIGITS[letter]
            self.at += 2 + digits
            return chr(int(text[self.at - digits : self.at], 16))
        if letter in _ESCAPES:
            self.at += 2
            return _ESCAPES[letter]
        assert multiline, "only a multi-line string has a line-ending backslash"
        self.at += 1
        while text[self.at] in " \t\r\n":
            self.at += 1
        return ""


def literal(value: str, quotes: Quotes = '"') -> str:
    """`value` written as a TOML string, with the delimiters asked for if they can hold it.

    A literal string ('…' or '''…''') cannot escape anything, so a value it cannot hold is
    written as a basic string ("…" or \"\"\"…\"\"\"); a single-line delimiter cannot hold a newline.

    >>> literal("dir:in", "'")
    "'dir:in'"
    >>> literal("it's", "'")
    '"it\\'s"'
    >>> print(literal('mode:"a b"'))
    "mode:\\"a b\\""
    """
    multiline = len(quotes) == 3
    if "\n" in value and not multiline:
        quotes = '"""'
        multiline = True
    if quotes[0] == "'" and _fits_literal(value, multiline):
        return quotes + ("\n" if multiline and value.startswith("\n") else "") + value + quotes
    body = "".join(_escaped(char, multiline) for char in value)
    if multiline:
        # A newline right after the opening delimiter would be dropped; keep a leading one.
        return '"""' + ("\\n" + body[1:] if value.startswith("\n") else body) + '"""'
    return '"' + body + '"'


def _fits_literal(value: str, multiline: bool) -> bool:
    allowed_controls = "\t\n" if multiline else "\t"
    if any(_is_control(char) and char not in allowed_controls for char in value):
        return False
    return "'''" not in value and not value.endswith("'") if multiline else "'" not in value


def _escaped(char: str, multiline: bool) -> str:
    if char in '"\\':
        return "\\" + char
    if char == "\n" and multiline:
        return char
    if char == "\t":
        return char
    if _is_control(char):
        named = {"\b": "\\b", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
        return named.get(char, f"\\u{ord(char):04X}")
    return char


def _is_control(char: str) -> bool:
    return char < " " or char == "\x7f"
