"""The benchmark corpus: realistic queries, each written in querylang and in Lucene syntax.

Every query is assembled from term templates, one template per body dimension (time, duration,
each phone, enum, text, language, boolean and uuid field), so that it always compiles: no field is
constrained twice, no OR crosses fields, and no open set is negated. A template holds the same
filter in both syntaxes. The Lucene side is what a Lucene user would type against an index with
the API's fields: ranges in brackets (`[a TO b]`, `{` for an exclusive end), `(a OR b)` lists,
Elasticsearch date math (`now-7d`, `now/d`), durations in milliseconds, and quotes or backslashes
where Lucene reserves a character (`+` at the start of a phone, `:` in a time, `/`, `{`).

The corpus is generated from a fixed seed, so it is the same in every run:
`python -m bench.corpus` prints it side by side.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

SIZE = 240
"""Queries in the corpus."""
SEED = 6
TYPICAL = "direction:inbound duration:5s..60s after:-7d"
"""A typical query, the one the start-up measurement compiles."""
# How many terms a query has: mostly a few, as typed by people; a long tail up to 12.
TERM_WEIGHTS = {1: 10, 2: 16, 3: 16, 4: 14, 5: 10, 6: 8, 7: 6, 8: 5, 9: 4, 10: 4, 11: 3, 12: 4}


@dataclass(frozen=True, slots=True)
class Pair:
    """One query in both syntaxes, and how many terms (`field:value` and `tz:`) it has."""

    querylang: str
    lucene: str
    terms: int


@dataclass(frozen=True, slots=True)
class _Part:
    querylang: str
    lucene: str
    terms: int = 1


_Template = Callable[[random.Random], _Part]


def _fixed(querylang: str, lucene: str | None = None, terms: int = 1) -> _Template:
    part = _Part(querylang, querylang if lucene is None else lucene, terms)
    return lambda rng: part


# --- time: after / before / created, and the tz: option ---------------------------------------

_TIME: list[_Template] = [
    _fixed("after:-7d", "created:[now-7d TO *]"),
    _fixed("since:yesterday", "created:[now-1d/d TO *]"),
    _fixed("before:2024-02-01", "created:[* TO 2024-02-01}"),
    _fixed("until:today", "created:[* TO now/d}"),
    _fixed("created:2024-01-15", "created:2024-01-15"),
    _fixed("created:>=-30d", "created:[now-30d TO *]"),
    _fixed("created:2024-01-01..2024-01-31", "created:[2024-01-01 TO 2024-01-31]"),
    _fixed("date:yesterday", "created:[now-1d/d TO now/d}"),
    _fixed("created:today", "created:[now/d TO now+1d/d}"),
    _fixed(
        "after:2024-01-15T09:30:00Z before:2024-01-16T09:30:00Z",
        r"created:[2024-01-15T09\:30\:00Z TO 2024-01-16T09\:30\:00Z}",
        2,
    ),
    _fixed("created:2024-03-01T08:00:00+01:00..", r"created:[2024-03-01T08\:00\:00+01\:00 TO *]"),
    _fixed("after:-36h before:-1h", "created:[now-36h TO now-1h}", 2),
    _fixed("created:..2024-02-29", "created:[* TO 2024-02-29]"),
    _fixed("created:>2024-01-01", "created:{2024-01-01 TO *]"),
    _fixed("created:<=2024-02-01", "created:[* TO 2024-02-01]"),
    _fixed("created:now-90m..", "created:[now-90m TO *]"),
    _fixed("after:-2w", "created:[now-2w TO *]"),
    _fixed("since:2023-12-01 until:2024-01-01", "created:[2023-12-01 TO 2024-01-01}", 2),
    _fixed("created:-7d..now", "created:[now-7d TO now]"),
    _fixed('created:"2024-02-10 14:00"..', 'created:["2024-02-10 14:00" TO *]'),
    _fixed(
        "created:2024-02-10T14:00..2024-02-10T18:00",
        r"created:[2024-02-10T14\:00 TO 2024-02-10T18\:00]",
    ),
    _fixed("created:>=2024-01-01 created:<2024-02-01", "created:[2024-01-01 TO 2024-02-01}", 2),
]
_TZ: list[_Template] = [
    _fixed("tz:Europe/Paris", 'tz:"Europe/Paris"'),
    _fixed("tz:America/New_York", 'tz:"America/New_York"'),
    _fixed("tz:UTC"),
]

# --- duration: duration / min_duration / max_duration (Lucene: milliseconds) -------------------

_DURATION: list[_Template] = [
    _fixed("duration:5s..60s", "duration:[5000 TO 60000]"),
    _fixed("duration:>=5s", "duration:[5000 TO *]"),
    _fixed("duration:>5s", "duration:{5000 TO *]"),
    _fixed("duration:<60s", "duration:[* TO 60000}"),
    _fixed("duration:<=1m30s", "duration:[* TO 90000]"),
    _fixed("duration:30s", "duration:30000"),
    _fixed("duration:..2m", "duration:[* TO 120000]"),
    _fixed("duration:1.5s..", "duration:[1500 TO *]"),
    _fixed("min_duration:5000", "duration:[5000 TO *]"),
    _fixed("max_duration:2min", "duration:[* TO 120000]"),
    _fixed("min_duration:10s max_duration:1h", "duration:[10000 TO 3600000]", 2),
    _fixed("-duration:<5s", "-duration:[* TO 5000}"),
    _fixed("duration:1h30m..2h", "duration:[5400000 TO 7200000]"),
    _fixed("duration:>=250ms", "duration:[250 TO *]"),
    _fixed("NOT duration:>10m", "NOT duration:{600000 TO *]"),
]

# --- phones (Lucene: a leading + must be quoted) -----------------------------------------------


def _phones(name: str, alias: str) -> list[_Template]:
    def e164(rng: random.Random) -> _Part:
        number = f"+1415555{rng.randrange(10_000):04d}"
        field = rng.choice((name, alias))
        return _Part(f"{field}:{number}", f'{field}:"{number}"')

    def listed(rng: random.Random) -> _Part:
        numbers = [f"+1212555{rng.randrange(10_000):04d}" for _ in range(rng.randint(2, 4))]
        quoted = [f'"{number}"' for number in numbers]
        return _Part(f"{name}:({', '.join(numbers)})", f"{name}:({' OR '.join(quoted)})")

    return [
        e164,
        listed,
        _fixed(f'{alias}:"+1 (415) 555-0100"'),
        _fixed(f'{name}:"(212) 555-0142"'),
        _fixed(f'{name}:"415-555-0100"'),
        _fixed(f"{name}:+442079460958", f'{name}:"+442079460958"'),
        _fixed(f'{alias}:"+33 1 42 68 53 00"'),
    ]


# --- enums, text, language, boolean -----------------------------------------------------------

_DIRECTION: list[_Template] = [
    _fixed("direction:inbound"),
    _fixed("dir:out"),
    _fixed("-direction:inbound"),
    _fixed("dir:(in, out)", "dir:(in OR out)"),
    _fixed("(dir:in OR dir:out)"),
    _fixed("NOT direction:outbound"),
    _fixed("dir:IN"),
    _fixed("direction:outbound"),
]
_STATUS: list[_Template] = [
    _fixed("delivery_status:call_completed"),
    _fixed(
        "status:(call_in_progress, call_completed.agent_hangup)",
        "status:(call_in_progress OR call_completed.agent_hangup)",
    ),
    _fixed('status:"call_completed.agent_hangup"'),
    _fixed("(status:call_completed OR status:call_in_progress)"),
    _fixed("status:call_in_progress"),
]
_MODE: list[_Template] = [
    _fixed("mode:ai"),
    _fixed("mode:(ai, human)", "mode:(ai OR human)"),
    _fixed('mode:"ai"'),
    _fixed("(mode:ai OR mode:human)"),
    _fixed("mode:human"),
]
_LANGUAGE: list[_Template] = [
    _fixed("language:en-US"),
    _fixed("lang:(en, es)", "lang:(en OR es)"),
    _fixed("lang:fr"),
    _fixed("language:en_gb"),
    _fixed("lang:pt-BR"),
    _fixed("lang:(en-us, en-GB, fr-CA)", "lang:(en-us OR en-GB OR fr-CA)"),
]
_RATING: list[_Template] = [
    _fixed("call_completion_rating:complete"),
    _fixed("rating:(complete, partial)", "rating:(complete OR partial)"),
    _fixed("-rating:incomplete"),
    _fixed("rating:Partial"),
    _fixed("NOT rating:complete"),
]
_VOICEMAIL: list[_Template] = [
    _fixed("voicemail:true"),
    _fixed("voicemail:no"),
    _fixed("-voicemail:true"),
    _fixed("voicemail:1"),
    _fixed("voicemail:FALSE"),
    _fixed("voicemail:yes"),
]

# --- uuids ------------------------------------------------------------------------------------


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def _uuids(name: str, alias: str) -> list[_Template]:
    def one(spell: Callable[[str], str], lucene: Callable[[str], str] | None = None) -> _Template:
        def make(rng: random.Random) -> _Part:
            value = _uuid(rng)
            field = rng.choice((name, alias))
            written = spell(value)
            return _Part(f"{field}:{written}", f"{field}:{(lucene or spell)(value)}")

        return make

    def listed(rng: random.Random) -> _Part:
        values = [_uuid(rng) for _ in range(rng.randint(2, 3))]
        return _Part(f"{alias}:({', '.join(values)})", f"{alias}:({' OR '.join(values)})")

    def either(rng: random.Random) -> _Part:
        first, second = _uuid(rng), _uuid(rng)
        text = f"({name}:{first} OR {name}:{second})"
        return _Part(text, text)

    return [
        one(str),
        one(str),
        one(str.upper),
        one(lambda u: u.replace("-", "")),
        one(lambda u: "{" + u.upper() + "}", lambda u: '"{' + u.upper() + '}"'),
        one(lambda u: f'"{u}"'),
        one(lambda u: f"urn:uuid:{u}", lambda u: rf"urn\:uuid\:{u}"),
        listed,
        either,
    ]


_DIMENSIONS: dict[str, list[_Template]] = {
    "time": _TIME,
    "duration": _DURATION,
    "from": _phones("from", "caller"),
    "to": _phones("to", "callee"),
    "direction": _DIRECTION,
    "delivery_status": _STATUS,
    "mode": _MODE,
    "language": _LANGUAGE,
    "call_completion_rating": _RATING,
    "voicemail": _VOICEMAIL,
    "agent_id": _uuids("agent_id", "agent"),
    "agent_version_id": _uuids("agent_version_id", "agent_version"),
    "contact_id": _uuids("contact_id", "contact"),
    "conversation_id": _uuids("conversation_id", "conversation"),
    "channel_id": _uuids("channel_id", "channel"),
}
# Dimensions people filter on most come up most.
_DIMENSION_WEIGHTS = {
    "time": 9,
    "duration": 6,
    "direction": 6,
    "from": 4,
    "to": 4,
    "agent_id": 4,
    "delivery_status": 3,
    "call_completion_rating": 3,
    "mode": 2,
    "language": 2,
    "voicemail": 2,
    "contact_id": 2,
    "conversation_id": 1,
    "agent_version_id": 1,
    "channel_id": 1,
}


def _query(rng: random.Random, wanted: int) -> Pair:
    parts: list[_Part] = []
    count = 0
    names = list(_DIMENSIONS)
    while count < wanted and names:
        weights = [_DIMENSION_WEIGHTS[name] for name in names]
        name = rng.choices(names, weights)[0]
        names.remove(name)
        templates = [t for t in _DIMENSIONS[name] if t(random.Random(0)).terms <= wanted - count]
        part = rng.choice(templates)(rng)
        parts.append(part)
        count += part.terms
        if name == "time" and count < wanted and rng.random() < 0.25:
            parts.append(rng.choice(_TZ)(rng))
            count += 1
    rng.shuffle(parts)
    joiner = " AND " if rng.random() < 0.15 else " "
    return Pair(
        joiner.join(part.querylang for part in parts),
        joiner.join(part.lucene for part in parts),
        count,
    )


@cache
def corpus() -> tuple[Pair, ...]:
    """The corpus: `SIZE` queries of 1 to 12 terms, the same in every run."""
    rng = random.Random(SEED)
    counts = list(TERM_WEIGHTS)
    weights = list(TERM_WEIGHTS.values())
    # Every length from 1 to 12 at least once, then lengths drawn with the weights.
    wanted = counts + rng.choices(counts, weights, k=SIZE - len(counts))
    rng.shuffle(wanted)
    return tuple(_query(rng, n) for n in wanted)


def querylang_queries() -> list[str]:
    return [pair.querylang for pair in corpus()]


def lucene_queries() -> list[str]:
    return [pair.lucene for pair in corpus()]


if __name__ == "__main__":
    for pair in corpus():
        print(f"{pair.terms:>2}  {pair.querylang}\n    {pair.lucene}")
