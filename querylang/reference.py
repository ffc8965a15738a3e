"""Reference: schema -> the Markdown field reference (`docs/fields.md`).

Stage: documentation, beside the compiler rather than in it. Input: a `Schema` (the shipped
`schema.json` by default). Output: Markdown text, a table of every field followed by a section per
field. The page is generated so that it cannot drift from the data the compiler reads; a test
compares `docs/fields.md` with `render_field_reference(default_schema())`.

    python -m querylang.reference              # rewrite docs/fields.md
    python -m querylang.reference --check      # exit 1 if docs/fields.md is stale

Only the schema is imported (not the parser), so this runs without Lark.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from querylang.schema import TZ_OPTION, Field, Schema, ValueType, default_schema

DEFAULT_PATH = "docs/fields.md"
REGENERATE = "python -m querylang.reference"

_HEADER = f"""\
<!-- Generated from querylang/schema.json by `{REGENERATE}`. Do not edit by hand. -->

# Field reference

Every field a query can filter on, read from the schema data (`querylang/schema.json`). The
[language guide](language.md) explains the syntax and what each kind of value means; the
[error reference](errors.md) explains the diagnostics.

Field names and aliases match in any case. Every field takes `field:value` and a list
`field:(a, b)` (any of the values). Only fields marked *ordered* take comparisons
(`>`, `>=`, `<`, `<=`) and ranges (`a..b`, `a..`, `..b`); on any other field they are
`unsupported`.
"""

_TYPE_WORDS = {
    ValueType.TIME: "date or date-time",
    ValueType.DURATION: "duration with a unit",
    ValueType.PHONE: "phone number",
    ValueType.ENUM: "one of a closed set",
    ValueType.TEXT: "text (open set)",
    ValueType.LANGUAGE: "language code (open set)",
    ValueType.BOOLEAN: "boolean",
    ValueType.UUID: "UUID",
}

_TYPE_NOTES = {
    ValueType.TIME: (
        "Dates (`2024-01-31`), ISO 8601 date-times (`2024-01-31T09:30:00Z`, with or without "
        "an offset), `now`, `today`, `yesterday`, and offsets back from now (`-7d`, `now-36h`)."
    ),
    ValueType.DURATION: (
        "A number with a unit (`ms`, `s`, `m` or `min`, `h`), compounds (`1m30s`) and decimals "
        "(`1.5s`) that come to whole milliseconds."
    ),
    ValueType.PHONE: (
        "Any spelling of a number (quote it if it has spaces or parentheses); sent in E.164. "
        "A number without a country code is read in the default region (`US` unless the "
        "caller sets `region`)."
    ),
    ValueType.ENUM: "Matched in any case, by name or alias; sent in the API's spelling.",
    ValueType.TEXT: "Passed through exactly as written (case included).",
    ValueType.LANGUAGE: "A BCP 47 code; case is normalised (`en-us` is sent as `en-US`).",
    ValueType.BOOLEAN: "`true`/`false`, `yes`/`no`, `1`/`0`, in any case.",
    ValueType.UUID: (
        "Any standard spelling (upper case, no hyphens, braces, `urn:uuid:`); sent lower-case "
        "and hyphenated."
    ),
}


def render_field_reference(schema: Schema) -> str:
    """The Markdown field reference for `schema`.

    Args:
        schema: the fields to describe, in their canonical order.

    Returns:
        Markdown text ending in one newline: a summary table, one section per field, and a note
        on the `tz:` option.

    >>> from querylang.schema import default_schema
    >>> text = render_field_reference(default_schema())
    >>> text.splitlines()[2]
    '# Field reference'
    >>> "| [`direction`](#direction) | `dir` |" in text
    True
    """
    parts = [_HEADER, _table(schema), *(_section(field) for field in schema.fields), _tz_note()]
    return "\n".join(parts)


def _table(schema: Schema) -> str:
    rows = [
        "| field | aliases | value | operators | API body | one or many |",
        "|---|---|---|---|---|---|",
    ]
    for field in schema.fields:
        cells = [
            f"[`{field.name}`](#{field.name})",
            _codes(field.aliases) or "",
            _value_words(field),
            _operators(field),
            _codes(field.api),
            _cardinality(field),
        ]
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "## Fields\n\n" + "\n".join(rows) + "\n"


def _section(field: Field) -> str:
    lines = [f"## `{field.name}`", ""]
    facts = []
    if field.aliases:
        facts.append(f"Aliases: {_codes(field.aliases)}.")
    facts.append(f"Value: {_value_words(field)}.")
    facts.append(f"Operators: {_operators(field)}.")
    facts.append(f"API body: {_codes(field.api)} ({_cardinality(field)}).")
    lines.extend([" ".join(facts), "", field.doc, "", _TYPE_NOTES[field.type]])
    if field.bare_number_unit:
        lines[-1] += (
            f" A bare whole number is read as {field.bare_number_unit}, as in the API: "
            f"`{field.name}:5000`."
        )
    if field.values:
        lines.extend(["", "| value | API spelling | aliases | meaning |", "|---|---|---|---|"])
        for value in field.values:
            cells = [f"`{value.name}`", f"`{value.api}`", _codes(value.aliases), value.doc]
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        lines.extend(["", _complement_note(field)])
    if field.known_values:
        lines.extend(
            [
                "",
                f"Known values (the set is open: any other value is sent as written): "
                f"{_codes(field.known_values)}.",
            ]
        )
    if field.examples:
        lines.extend(["", "Examples:", "", "```text", *field.examples, "```"])
    return "\n".join(lines) + "\n"


def _tz_note() -> str:
    return (
        f"## `{TZ_OPTION}:` (an option, not a field)\n\n"
        f"`{TZ_OPTION}:NAME` sets the IANA time zone in which the query's dates, local "
        f"date-times, `today` and `yesterday` are read (`{TZ_OPTION}:Europe/Paris`), overriding "
        f"the compile option. It may appear at most once, at the top level of the query. The "
        f"name `{TZ_OPTION}` is reserved: no field or alias may use it.\n"
    )


def _value_words(field: Field) -> str:
    if field.type is ValueType.ENUM:
        return " / ".join(f"`{value.name}`" for value in field.values)
    words = _TYPE_WORDS[field.type]
    if field.bare_number_unit:
        words += f", or a whole number of {field.bare_number_unit}"
    return words


def _operators(field: Field) -> str:
    if field.ordered:
        return "`:`, lists, `>` `>=` `<` `<=`, ranges `a..b` `a..` `..b` (*ordered*)"
    if field.implies:
        return f"`:`, lists; `{field.name}:v` means `{field.implies}v`"
    return "`:`, lists"


def _cardinality(field: Field) -> str:
    if len(field.api) > 1:
        return "a lower and an upper bound"
    return "one or many" if field.many else "one"


def _complement_note(field: Field) -> str:
    first, *others = field.values
    example = f"-{field.name}:{first.name}"
    rest = ", ".join(f"`{value.api}`" for value in others)
    return (
        f"A closed set: a negation is sent as the values it leaves, in this order "
        f"(`{example}` sends {rest})."
    )


def _codes(items: Sequence[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: Sequence[str] | None = None) -> int:
    """Write the field reference, or with `--check` report whether it is stale.

    Returns:
        0 when written or up to date, 1 when `--check` finds the file missing or stale.
    """
    parser = argparse.ArgumentParser(
        prog="python -m querylang.reference",
        description="Generate the Markdown field reference from the schema.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        default=DEFAULT_PATH,
        help=f"the file to write, relative to the current directory (default: {DEFAULT_PATH})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the file differs from what would be generated",
    )
    args = parser.parse_args(argv)
    path = Path(args.path)
    expected = render_field_reference(default_schema())
    if args.check:
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != expected:
            command = REGENERATE if args.path == DEFAULT_PATH else f"{REGENERATE} {path}"
            print(f"{path} is stale; regenerate it with: {command}", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(expected, encoding="utf-8", newline="\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
