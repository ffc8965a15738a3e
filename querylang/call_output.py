"""Call output: call records -> a table, JSON, NDJSON or CSV, as `querylang search` prints them.

Shared by the commands that print calls (`search`, `run`) and by the shell. Records are written
as they come (a table waits for the end, to align its columns). A column is a query field name or
alias (`rating`), a record key (`body`), or a dotted path into the record
(`metadata.analysis.sentiment`). Only the standard library is imported here, so that the command
line can name the formats and default columns in its help without loading anything else.
"""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from querylang.client import Call

OUTPUTS = ("table", "json", "ndjson", "csv")
DEFAULT_COLUMNS = ("created_at", "direction", "from", "to", "duration", "delivery_status", "id")

# Columns that are not a top-level key of the record; anything else is a key, or a dotted path.
_COLUMN_PATHS = {
    "duration": ("metadata", "duration"),
    "agent_id": ("metadata", "agent_id"),
    "agent_version_id": ("metadata", "agent_version_id"),
    "call_completion_rating": ("metadata", "analysis", "call_completion_rating"),
    "voicemail": ("metadata", "analysis", "voicemail"),
}
# Query fields whose column has another name.
_FIELD_COLUMNS = {
    "after": "created_at",
    "before": "created_at",
    "created": "created_at",
    "min_duration": "duration",
    "max_duration": "duration",
}
_DURATION_PATH = ("metadata", "duration")


def column_path(name: str) -> tuple[str, ...]:
    """Where a column's value sits in a record: a query field name or alias (`rating`), a record
    key (`body`), or a dotted path (`metadata.analysis.sentiment`)."""
    from querylang.schema import default_schema

    field = default_schema().field(name)
    if field is not None:
        name = _FIELD_COLUMNS.get(field.name, field.name)
    return _COLUMN_PATHS.get(name, tuple(name.split(".")))


class Progress:
    """A one-line progress bar, redrawn in place (only ever drawn on a terminal)."""

    def __init__(self, stream: IO[str], width: int = 30) -> None:
        self.stream = stream
        self.width = width

    def show(self, done: int, total: int) -> None:
        filled = self.width if total <= 0 else min(self.width, self.width * done // total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} calls")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


class CallWriter:
    """Prints calls as they come: JSON and NDJSON records (all fields, or the columns named),
    CSV and table rows (the columns). A table is written at the end, to align its columns."""

    def __init__(self, output: str, names: list[str] | None, stream: IO[str]) -> None:
        self.output = output
        self.stream = stream
        self.names = (
            names
            if names is not None
            else (None if output in ("json", "ndjson") else list(DEFAULT_COLUMNS))
        )
        self.paths = [column_path(name) for name in self.names or ()]
        self.count = 0
        self.rows: list[list[str]] = []
        if output == "csv":
            import csv

            self.csv = csv.writer(stream, lineterminator="\n")
            self.csv.writerow(self.names or ())

    def write(self, calls: list[Call]) -> None:
        for call in calls:
            record = call.to_dict()
            if self.output in ("json", "ndjson"):
                if self.names is not None:
                    record = {
                        n: _reach(record, p) for n, p in zip(self.names, self.paths, strict=True)
                    }
                text = json.dumps(record, ensure_ascii=False)
                if self.output == "json":
                    text = ("[\n" if self.count == 0 else ",\n") + text
                self.stream.write(text + ("\n" if self.output == "ndjson" else ""))
            elif self.output == "csv":
                self.csv.writerow([_plain(_reach(record, path)) for path in self.paths])
            else:
                self.rows.append([_cell(_reach(record, path), path) for path in self.paths])
            self.count += 1

    def finish(self) -> None:
        if self.output == "json":
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.output == "table":
            header = [name.upper() for name in self.names or ()]
            rows = [header, *self.rows]
            widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
            for row in rows:
                cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                self.stream.write("  ".join(cells).rstrip() + "\n")


def _reach(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        record = record.get(key) if isinstance(record, dict) else None
    return record


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _cell(value: Any, path: tuple[str, ...]) -> str:
    """A value as a table shows it: durations spelled (`1m30s`), instants to the second."""
    if path == _DURATION_PATH and isinstance(value, int) and not isinstance(value, bool):
        from querylang.values import spell_duration

        return spell_duration(value)
    text = _plain(value)
    if isinstance(value, str) and len(text) > 20 and text[10:11] == "T" and text.endswith("Z"):
        return text[:19] + "Z"
    return text
