"""Sample: deterministic synthetic call records, for the reference server's demo and the tests.

Stage: data, beside the pipeline. Input: a count, a seed and the instant "now". Output: call
records shaped as the API returns them (api-contract.md, "A call record"): plain JSON-ready dicts.

The same `(count, seed, now)` gives the same records. The mix is meant to look like an
organisation's traffic: a few AI agents (each with versions) on a few channels, a few hundred
contacts, mostly inbound calls, durations from seconds to half an hour, creation times over the
90 days before `now`, a few calls still in progress (no duration, no rating yet), some voicemail.

    >>> from datetime import datetime, UTC
    >>> calls = list(sample_calls(3, now=datetime(2024, 3, 15, 12, tzinfo=UTC)))
    >>> [call["direction"] for call in calls]
    ['INBOUND', 'INBOUND', 'OUTBOUND']
    >>> sorted(calls[0]["metadata"])
    ['agent_id', 'agent_version_id', 'analysis', 'duration']
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DAYS = 90
"""Calls are spread over this many days before `now`."""

_LANGUAGES = (("en-US", 70), ("en", 10), ("es", 15), ("fr", 5))
_RATINGS = (("Complete", 60), ("Partial", 25), ("Incomplete", 15))
_AREA_CODES = ("212", "206", "312", "415", "512", "617", "702", "808")
_SNIPPETS = (
    "Hi, I'd like to reschedule my appointment.",
    "Calling about the invoice from last month.",
    "Can you confirm my order has shipped?",
    "I need to update the address on my account.",
    "Is the clinic open on Saturday?",
    "Following up on the quote you sent.",
)


def _spell(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    values = [value for value, _ in choices]
    return rng.choices(values, weights=[weight for _, weight in choices])[0]


@dataclass(frozen=True)
class _World:
    """The organisation the calls belong to: who can call whom, through which agent."""

    agents: tuple[tuple[str, tuple[str, ...]], ...]
    channels: tuple[tuple[str, str], ...]
    contacts: tuple[tuple[str, str], ...]
    users: tuple[str, ...]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _world(rng: random.Random) -> _World:
    agents = tuple(
        (_uuid(rng), tuple(_uuid(rng) for _ in range(rng.randint(1, 3)))) for _ in range(6)
    )
    channels = tuple(
        (_uuid(rng), f"+1{area}55501{index:02d}") for index, area in enumerate(_AREA_CODES[:4])
    )
    contacts = tuple(
        (_uuid(rng), f"+1{rng.choice(_AREA_CODES)}555{rng.randint(0, 9999):04d}")
        for _ in range(400)
    )
    users = tuple(_uuid(rng) for _ in range(5))
    return _World(agents, channels, contacts, users)


def sample_calls(
    count: int, *, seed: int = 0, now: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Generate `count` synthetic call records, one at a time (nothing is accumulated).

    Args:
        count: how many calls.
        seed: another seed gives another organisation and other calls.
        now: the latest possible creation time (timezone-aware); the current time by default.

    Returns:
        An iterator of call records (dicts), in no particular order.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    rng = random.Random(seed)
    world = _world(rng)
    for _ in range(count):
        yield _call(rng, world, now)


def _call(rng: random.Random, world: _World, now: datetime) -> dict[str, Any]:
    call_id = _uuid(rng)
    created = now - timedelta(microseconds=rng.randrange(1, DAYS * 86_400 * 1_000_000))
    direction = "INBOUND" if rng.random() < 0.65 else "OUTBOUND"
    contact_id, contact_number = rng.choice(world.contacts)
    channel_index = rng.randrange(len(world.channels))
    channel_id, channel_number = world.channels[channel_index]
    by_ai = rng.random() < 0.8
    in_progress = created > now - timedelta(minutes=30) or rng.random() < 0.01
    voicemail = direction == "OUTBOUND" and not in_progress and rng.random() < 0.25
    duration: int | None = None
    if not in_progress:
        # Roughly log-normal around a minute and a half; voicemails are short.
        seconds = rng.lognormvariate(4.5, 0.9) if not voicemail else rng.uniform(8, 40)
        duration = min(int(seconds * 1000), 30 * 60 * 1000)
    agent_id = agent_version_id = None
    if by_ai:
        agent_id, versions = world.agents[(channel_index + rng.randrange(2)) % len(world.agents)]
        agent_version_id = rng.choice(versions)
    if in_progress:
        status = "call_in_progress"
    elif by_ai and rng.random() < 0.4:
        status = "call_completed.agent_hangup"
    else:
        status = "call_completed"
    analysis: dict[str, Any] = {"voicemail": voicemail}
    if by_ai and not in_progress and not voicemail:
        analysis["call_completion_rating"] = _weighted(rng, _RATINGS)
    caller, callee = (
        (contact_number, channel_number)
        if direction == "INBOUND"
        else (channel_number, contact_number)
    )
    ended = created + timedelta(milliseconds=duration or 0, seconds=rng.randint(1, 5))
    return {
        "id": call_id,
        "type": "call",
        "direction": direction,
        "mode": "ai" if by_ai else None,
        "delivery_status": status,
        "from": caller,
        "to": callee,
        "language": _weighted(rng, _LANGUAGES),
        "body": rng.choice(_SNIPPETS),
        "created_at": _spell(created),
        "updated_at": _spell(ended),
        "conversation_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{contact_id}/{channel_id}")),
        "contact_id": contact_id,
        "channel_id": channel_id,
        "user_id": None if by_ai else rng.choice(world.users),
        "metadata": {
            "duration": duration,
            "agent_id": agent_id,
            "agent_version_id": agent_version_id,
            "analysis": analysis,
        },
    }
