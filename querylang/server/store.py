"""Store: call records in SQLite, searched with the SQL that `querylang.sql` compiles.

Stage: storage, behind the reference server. Input: call records (dicts shaped as the API
returns them) to insert; a `SearchCallsRequest` with `limit` and `offset` to search. Output: one
page of records as JSON text, newest first, and the count of every match.

Each record is kept whole as JSON (returned as it came, unknown fields included) beside the
columns the body filters on, each indexed. One connection serves every thread, behind a lock:
SQLite writes one at a time anyway, and an in-memory database exists only on its connection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from querylang.request import SearchCallsRequest
from querylang.sql import SQLITE, TABLE, compile_where, epoch_microseconds, key_rules


@dataclass(frozen=True, slots=True)
class Column:
    """A filter column: its SQL type, and where its value sits in a record."""

    name: str
    sql_type: str
    path: tuple[str, ...]


COLUMNS = (
    Column("created_at", "INTEGER NOT NULL", ("created_at",)),
    Column("from", "TEXT", ("from",)),
    Column("to", "TEXT", ("to",)),
    Column("direction", "TEXT", ("direction",)),
    Column("delivery_status", "TEXT", ("delivery_status",)),
    Column("mode", "TEXT", ("mode",)),
    Column("language", "TEXT", ("language",)),
    Column("call_completion_rating", "TEXT", ("metadata", "analysis", "call_completion_rating")),
    Column("voicemail", "INTEGER", ("metadata", "analysis", "voicemail")),
    Column("duration", "INTEGER", ("metadata", "duration")),
    Column("agent_id", "TEXT", ("metadata", "agent_id")),
    Column("agent_version_id", "TEXT", ("metadata", "agent_version_id")),
    Column("contact_id", "TEXT", ("contact_id",)),
    Column("conversation_id", "TEXT", ("conversation_id",)),
    Column("channel_id", "TEXT", ("channel_id",)),
)
_UUID_COLUMNS = frozenset(
    {"agent_id", "agent_version_id", "contact_id", "conversation_id", "channel_id"}
)


def _reach(record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _instant(text: Any) -> int:
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return epoch_microseconds(moment)


def _column_value(column: Column, record: Mapping[str, Any]) -> Any:
    value = _reach(record, column.path)
    if value is None:
        return None
    if column.name == "created_at":
        return _instant(value)
    if column.name in _UUID_COLUMNS:
        try:
            return str(UUID(str(value)))  # the body's spelling: lower case, hyphenated
        except ValueError:
            return str(value)
    return SQLITE.value(value)


class CallStore:
    """Call records in an SQLite database (a file, or memory by default).

    >>> store = CallStore()
    >>> store.insert([{"id": "c1", "direction": "INBOUND", "created_at": "2024-03-01T10:00:00Z"}])
    1
    >>> store.search(SearchCallsRequest(direction="INBOUND"), limit=10, offset=0)[1]
    1
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        missing = {rule.column for rule in key_rules()} - {column.name for column in COLUMNS}
        assert not missing, f"the calls table has no column for {missing}"
        quote = SQLITE.quote
        columns = ", ".join(f"{quote(c.name)} {c.sql_type}" for c in COLUMNS)
        with self._lock, self._db:
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} "
                f"(id TEXT PRIMARY KEY, {columns}, record TEXT NOT NULL)"
            )
            for column in COLUMNS:
                self._db.execute(
                    f"CREATE INDEX IF NOT EXISTS {TABLE}_{column.name} "
                    f"ON {TABLE} ({quote(column.name)})"
                )
            # Newest first, ties broken by id, so that pages do not overlap.
            self._db.execute(
                f"CREATE INDEX IF NOT EXISTS {TABLE}_newest ON {TABLE} (created_at DESC, id DESC)"
            )

    def insert(self, records: Iterable[Mapping[str, Any]], *, batch: int = 1_000) -> int:
        """Add records (replacing any with the same `id`); return how many were written.

        Each needs an `id` and a `created_at`; the rest may be missing.
        """
        names = ", ".join(SQLITE.quote(c.name) for c in COLUMNS)
        marks = ", ".join("?" for _ in range(len(COLUMNS) + 2))
        sql = f"INSERT OR REPLACE INTO {TABLE} (id, {names}, record) VALUES ({marks})"
        written = 0
        rows: list[tuple[Any, ...]] = []
        for record in records:
            if record.get("id") is None or record.get("created_at") is None:
                raise ValueError("a call record needs an id and a created_at")
            values = [_column_value(column, record) for column in COLUMNS]
            rows.append((str(record["id"]), *values, json.dumps(record, ensure_ascii=False)))
            if len(rows) >= batch:
                written += self._write(sql, rows)
                rows = []
        return written + self._write(sql, rows)

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        with self._lock, self._db:
            self._db.executemany(sql, rows)
        return len(rows)

    def search(
        self, request: SearchCallsRequest, *, limit: int, offset: int
    ) -> tuple[list[str], int]:
        """One page of the records matching `request` (as JSON texts, newest first), and the
        count of all of them."""
        where = compile_where(request, dialect=SQLITE)
        with self._lock:
            rows = self._db.execute(
                f"SELECT record FROM {TABLE} WHERE {where.sql} "
                "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (*where.params, limit, offset),
            ).fetchall()
            (total,) = self._db.execute(
                f"SELECT COUNT(*) FROM {TABLE} WHERE {where.sql}", where.params
            ).fetchone()
        return [record for (record,) in rows], int(total)

    def count(self) -> int:
        """How many records the store holds."""
        with self._lock:
            (total,) = self._db.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()
        return int(total)

    def close(self) -> None:
        with self._lock:
            self._db.close()
