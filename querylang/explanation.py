"""Explain: query text -> what the search will do, in data and in one English sentence.

The query is compiled as `compile` does, keeping for each body key the terms that decided it
(`compiler.lower`). Relative dates are shown resolved, in the query's time zone and in UTC, so a
user sees what `-7d` or `yesterday` means right now.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from querylang.checker import check
from querylang.compiler import lower
from querylang.errors import Span
from querylang.limits import stack_guard
from querylang.parser import parse
from querylang.schema import default_schema
from querylang.values import time_zone


@dataclass(frozen=True, slots=True)
class Instant:
    """A bound of the creation time, in the query's time zone and in UTC."""

    local: str
    utc: str


@dataclass(frozen=True, slots=True)
class BodyField:
    """One key of the body: its value, the terms behind it, and a time bound resolved."""

    key: str
    value: Any
    sources: tuple[Span, ...]
    instant: Instant | None = None

    def to_dict(self, text: str) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "sources": [
                {"start": s.start, "end": s.end, "text": text[s.start : s.end]}
                for s in self.sources
            ],
            "instant": None
            if self.instant is None
            else {
                "local": self.instant.local,
                "utc": self.instant.utc,
            },
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """What a query does: the body, each of its keys explained, and a sentence."""

    query: str
    time_zone: str
    body: dict[str, Any]
    fields: tuple[BodyField, ...]
    sentence: str

    def __str__(self) -> str:
        """The sentence, then each body key: its value, the instant it means in the query's
        time zone, and the terms of the query behind it (as `querylang explain` prints it)."""
        lines = [self.sentence]
        width = max((len(field.key) for field in self.fields), default=0)
        for field in self.fields:
            line = f"  {field.key:<{width}}  {json.dumps(field.value, ensure_ascii=False)}"
            if field.instant is not None:
                line += f"  ({field.instant.local} in {self.time_zone})"
            sources = ", ".join(self.query[s.start : s.end] for s in field.sources)
            lines.append(f"{line}  <- {sources}" if sources else line)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "query": self.query,
            "time_zone": self.time_zone,
            "body": self.body,
            "fields": [field.to_dict(self.query) for field in self.fields],
            "sentence": self.sentence,
        }


def explain(
    text: str, *, now: datetime | None = None, tz: str = "UTC", region: str = "US"
) -> Explanation:
    """Explain what a query will search for.

    Args:
        text, now, tz, region: as for `compile`.

    Raises:
        QueryError, ValueError: as `compile` does.

    >>> from datetime import UTC, datetime
    >>> explain("dir:in duration:5s..60s after:2024-01-01").sentence
    'Inbound calls lasting 5 s to 1 min, created since 1 Jan 2024 00:00 UTC.'
    """
    time_zone(tz)
    with stack_guard(text):
        query = check(parse(text), text, region=region)
        lowered = lower(query, text, now=now, tz=tz)
    body = lowered.body
    fields = tuple(
        BodyField(key, value, lowered.sources.get(key, ()), _instant(key, value, lowered.zone))
        for key, value in body.items()
    )
    return Explanation(text, str(lowered.zone), body, fields, _sentence(body, lowered.zone))


def _instant(key: str, value: Any, zone: tzinfo) -> Instant | None:
    if key not in ("after", "before"):
        return None
    moment = datetime.fromisoformat(value)
    return Instant(moment.astimezone(zone).isoformat(), value)


# --- the sentence -----------------------------------------------------------------------------
# The English lives here: a field added to the schema without a phrase reads "with <field> ...".
_PHRASES = {
    "from": "from {}",
    "to": "to {}",
    "delivery_status": "with delivery status {}",
    "mode": "in mode {}",
    "language": "in language {}",
    "call_completion_rating": "rated {}",
    "agent_id": "handled by agent {}",
    "agent_version_id": "on agent version {}",
    "contact_id": "with contact {}",
    "conversation_id": "in conversation {}",
    "channel_id": "on channel {}",
}
_UUID_SHOWN = 4


def _sentence(body: dict[str, Any], zone: tzinfo) -> str:
    schema = default_schema()
    subject = "Calls"
    parts: list[str] = []
    for field in schema.fields:
        key = field.api[0]
        if key not in body or len(field.api) != 1 or field.implies:
            continue
        values = body[key] if isinstance(body[key], list) else [body[key]]
        if field.values:
            values = [_enum_name(field.name, value) for value in values]
        if key == "direction":
            subject = _either(values).capitalize() + " calls"
        elif key == "voicemail":
            parts.append("that reached voicemail" if body[key] else "that did not reach voicemail")
        else:
            shown = [f"{v[:_UUID_SHOWN]}…" if field.type == "uuid" else str(v) for v in values]
            parts.append(_PHRASES.get(key, f"with {field.name} {{}}").format(_either(shown)))
    parts.extend(_duration_phrase(body))
    parts.extend(_time_phrase(body, zone))
    text = subject
    if parts:
        text += " " + parts[0] + "".join(f", {part}" for part in parts[1:])
    return text + "."


def _enum_name(field_name: str, api_value: str) -> str:
    field = default_schema().field(field_name)
    value = field.enum_by_api(api_value) if field else None
    return value.name if value else api_value


def _either(values: Sequence[str]) -> str:
    if len(values) == 1:
        return values[0]
    return ", ".join(values[:-1]) + " or " + values[-1]


def _duration_phrase(body: dict[str, Any]) -> list[str]:
    low: int | None = body.get("min_duration")
    high: int | None = body.get("max_duration")
    if low is not None and high is not None:
        if low == high:
            return [f"lasting {_duration(low)}"]
        return [f"lasting {_duration(low)} to {_duration(high)}"]
    if low is not None:
        return [f"lasting at least {_duration(low)}"]
    if high is not None:
        return [f"lasting at most {_duration(high)}"]
    return []


def _duration(milliseconds: int) -> str:
    parts = []
    for size, unit in ((3_600_000, "h"), (60_000, "min"), (1_000, "s"), (1, "ms")):
        count, milliseconds = divmod(milliseconds, size)
        if count:
            parts.append(f"{count} {unit}")
    return " ".join(parts) or "0 s"


def _time_phrase(body: dict[str, Any], zone: tzinfo) -> list[str]:
    after, before = body.get("after"), body.get("before")
    if after and before:
        return [f"created since {_moment(after, zone)} and before {_moment(before, zone)}"]
    if after:
        return [f"created since {_moment(after, zone)}"]
    if before:
        return [f"created before {_moment(before, zone)}"]
    return []


def _moment(value: str, zone: tzinfo) -> str:
    local = datetime.fromisoformat(value).astimezone(zone)
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname()}"
