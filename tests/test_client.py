"""The Search Calls client: request building and retry timing with `httpx.MockTransport`, then
the same client over real HTTP against the reference server on loopback.

No test sleeps for timing: the clients take the `sleep` they wait with and the `Backoff` jitter,
so the tests record and assert the waits they compute.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import querylang
from querylang import (
    AsyncCallsClient,
    AuthenticationError,
    Backoff,
    Call,
    CallsClient,
    InvalidRequestError,
    QueryError,
    RateLimitError,
    SearchAPIError,
    SearchCallsRequest,
    SearchPage,
    ServerError,
    TransportError,
)
from querylang.sample import sample_calls
from querylang.server import Faults, ReferenceServer, running

KEY = "sk-test-7f3a9c1e5b2d4a60"
NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
SAMPLE = 1_200
NO_JITTER = Backoff(jitter=lambda: 0.5)

Handler = Callable[[httpx.Request], httpx.Response]


def page(ids: list[str], total: int) -> dict[str, Any]:
    return {"data": [{"id": call_id} for call_id in ids], "total": total}


def mock_client(handler: Handler, **options: Any) -> tuple[CallsClient, list[float]]:
    """A client whose requests `handler` answers; the list collects the waits it sleeps."""
    waits: list[float] = []
    options.setdefault("backoff", NO_JITTER)
    client = CallsClient(KEY, transport=httpx.MockTransport(handler), sleep=waits.append, **options)
    return client, waits


def answers(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving `responses` in turn (raising the exceptions); and the requests seen."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses[min(len(seen), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def ok(total: int = 0) -> httpx.Response:
    return httpx.Response(200, json={"data": [], "total": total})


def error(status: int, *descriptions: str, **headers: str) -> httpx.Response:
    body = {"errors": [{"description": text} for text in descriptions], "status": status}
    return httpx.Response(status, json=body, headers=headers)


# ---------------------------------------------------------------------------------------------
# Request building


def test_request_carries_body_parameters_and_key() -> None:
    handler, seen = answers(ok(7))
    client, _ = mock_client(handler, base_url="https://api.example.test/v1/", path="calls/search")
    result = client.search("dir:in duration:>=5s", limit=25, offset=50, timeout_ms=20_000)
    assert result == SearchPage(data=[], total=7)
    [request] = seen
    assert request.method == "POST"
    assert request.url.copy_with(query=None) == "https://api.example.test/v1/calls/search"
    assert dict(request.url.params) == {"limit": "25", "offset": "50", "timeout": "20000"}
    assert request.headers["X-WHIPPY-KEY"] == KEY
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"direction": "INBOUND", "min_duration": 5000}


@pytest.mark.parametrize("timeout_ms", [15_000, 30_000, 120_000])
def test_read_timeout_outlasts_the_search_timeout(timeout_ms: int) -> None:
    handler, seen = answers(ok())
    client, _ = mock_client(handler)
    client.search("", timeout_ms=timeout_ms)
    assert seen[0].extensions["timeout"]["read"] > timeout_ms / 1000


def test_defaults() -> None:
    handler, seen = answers(ok())
    client, _ = mock_client(handler)
    client.search("")
    assert str(seen[0].url) == (
        "https://api.whippy.co/v1/calls/search?limit=50&offset=0&timeout=30000"
    )
    assert json.loads(seen[0].content) == {}


def test_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    handler, seen = answers(ok())
    monkeypatch.setenv("WHIPPY_API_KEY", "from-env")
    CallsClient(transport=httpx.MockTransport(handler)).search("")
    monkeypatch.delenv("WHIPPY_API_KEY")
    CallsClient(transport=httpx.MockTransport(handler)).search("")
    assert seen[0].headers["X-WHIPPY-KEY"] == "from-env"
    assert "X-WHIPPY-KEY" not in seen[1].headers


def test_compile_options_and_requests() -> None:
    handler, seen = answers(ok())
    client, _ = mock_client(handler)
    client.search("created:today from:4155550100", now=NOW, tz="Europe/Paris", region="US")
    request = SearchCallsRequest(mode=["ai", "x"], voicemail=False)
    client.search(request)
    assert json.loads(seen[0].content) == {
        "after": "2024-03-14T23:00:00Z",
        "before": "2024-03-15T23:00:00Z",
        "from": "+14155550100",
    }
    assert json.loads(seen[1].content) == {"mode": ["ai", "x"], "voicemail": False}


@pytest.mark.parametrize(
    "options",
    [
        {"limit": 0},
        {"offset": -1},
        {"timeout_ms": 14_999},
        {"timeout_ms": 120_001},
    ],
    ids=str,
)
def test_page_options_are_checked_before_sending(options: dict[str, int]) -> None:
    handler, seen = answers(ok())
    client, _ = mock_client(handler)
    with pytest.raises(ValueError, match=next(iter(options)).removesuffix("_ms")):
        client.search("dir:in", **options)
    assert seen == []


def test_bad_query_raises_query_error_before_sending() -> None:
    handler, seen = answers(ok())
    client, _ = mock_client(handler)
    with pytest.raises(QueryError):
        client.search("dir:up")
    with pytest.raises(QueryError):
        list(client.iter_calls("agent:x"))
    assert seen == []


@pytest.mark.parametrize("options", [{"page_size": 0}, {"max_items": -1}], ids=str)
def test_paging_options_are_checked(options: dict[str, int]) -> None:
    handler, seen = answers(ok())
    client, _ = mock_client(handler)
    with pytest.raises(ValueError):
        list(client.iter_calls("", **options))
    assert seen == []


def test_max_retries_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        CallsClient(max_retries=-1)


# ---------------------------------------------------------------------------------------------
# Responses and errors


def test_call_model_keeps_unknown_fields_and_tolerates_missing_ones() -> None:
    record = {
        "id": "c1",
        "from": "+14155550100",
        "created_at": "2024-03-01T10:00:00.5Z",
        "sentiment": "positive",
        "metadata": {"duration": 61_000, "analysis": {"voicemail": True, "score": 0.9}},
    }
    call = Call.model_validate(record)
    assert call.from_ == "+14155550100"
    assert call.created_at == datetime(2024, 3, 1, 10, 0, 0, 500_000, tzinfo=UTC)
    assert (call.duration, call.voicemail, call.call_completion_rating) == (61_000, True, None)
    assert call.model_extra == {"sentiment": "positive"}
    assert call.to_dict() == {**record, "created_at": "2024-03-01T10:00:00.500000Z"}
    empty = Call.model_validate({})
    assert (empty.id, empty.duration, empty.agent_id, empty.voicemail) == (None,) * 4
    result = SearchPage.model_validate({"data": [record], "total": 1, "cursor": None})
    assert result.data[0].id == "c1"
    assert result.model_extra == {"cursor": None}


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, SearchAPIError),
        (422, InvalidRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_error_statuses(status: int, kind: type[SearchAPIError]) -> None:
    response = error(status, "first problem", "second problem", **{"X-Request-Id": "req-9"})
    handler, _ = answers(response)
    client, _ = mock_client(handler, max_retries=0)
    with pytest.raises(kind) as caught:
        client.search("")
    assert type(caught.value) is kind
    assert caught.value.status == status
    assert caught.value.request_id == "req-9"
    assert caught.value.message == "first problem; second problem"
    assert str(caught.value) == f"HTTP {status}: first problem; second problem (request id req-9)"
    if isinstance(caught.value, InvalidRequestError):
        assert caught.value.descriptions == ("first problem", "second problem")


def test_error_without_a_body_uses_the_reason() -> None:
    handler, _ = answers(httpx.Response(502, text="<html>bad gateway</html>"))
    client, _ = mock_client(handler, max_retries=0)
    with pytest.raises(ServerError, match="HTTP 502: Bad Gateway"):
        client.search("")


@pytest.mark.parametrize(
    "content",
    [b"not json", b'{"data": "x", "total": 1}', b'{"data": []}', b"[]"],
    ids=bytes.decode,
)
def test_malformed_answer_is_an_api_error(content: bytes) -> None:
    handler, seen = answers(httpx.Response(200, content=content))
    client, _ = mock_client(handler)
    with pytest.raises(SearchAPIError, match="not a page of calls") as caught:
        client.search("")
    assert type(caught.value) is SearchAPIError
    assert len(seen) == 1  # not retried


# ---------------------------------------------------------------------------------------------
# Retry timing


def test_backoff_is_exponential_with_equal_jitter() -> None:
    low = Backoff(base=0.5, cap=4.0, jitter=lambda: 0.0)
    high = Backoff(base=0.5, cap=4.0, jitter=lambda: 0.999)
    assert [low.wait(n, None) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert [round(high.wait(n, None), 3) for n in range(6)] == [
        0.5,
        1.0,
        1.999,
        3.998,
        3.998,
        3.998,
    ]


def test_backoff_reads_the_server_wait() -> None:
    clock = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
    backoff = Backoff(jitter=lambda: 0.5, clock=lambda: clock)
    date = format_datetime(clock + timedelta(seconds=7), usegmt=True)
    cases = {
        (("X-RateLimit-Remaining-Interval-Milliseconds", "1500"),): 1.5,
        (("Retry-After", "2"),): 2.0,
        (("Retry-After", date),): 7.0,
        (("Retry-After", "3"), ("X-RateLimit-Remaining-Interval-Milliseconds", "250")): 3.0,
        (("Retry-After", "-5"),): 0.0,
        (("Retry-After", "soon"),): 0.375,  # unreadable: the backoff's own wait
    }
    for headers, wait in cases.items():
        assert backoff.wait(0, httpx.Headers(list(headers))) == wait, headers


def test_server_errors_are_retried_with_backoff() -> None:
    handler, seen = answers(error(500), error(503), ok(3))
    client, waits = mock_client(handler)
    assert client.search("").total == 3
    assert len(seen) == 3
    assert waits == [0.375, 0.75]  # retry n waits between half and all of 0.5 * 2**n


def test_rate_limit_waits_what_the_server_asks() -> None:
    asked = {"X-RateLimit-Remaining-Interval-Milliseconds": "1200"}
    handler, seen = answers(error(429, **asked), error(429, **{"Retry-After": "2"}), ok())
    client, waits = mock_client(handler)
    client.search("")
    assert waits == [1.2, 2.0]
    assert len(seen) == 3


def test_retries_are_bounded_in_count() -> None:
    handler, seen = answers(error(503, "busy", **{"X-Request-Id": "r-last"}))
    client, waits = mock_client(handler, max_retries=2)
    with pytest.raises(ServerError) as caught:
        client.search("")
    assert len(seen) == 3
    assert waits == [0.375, 0.75]
    assert caught.value.request_id == "r-last"


def test_retries_are_bounded_in_total_wait() -> None:
    asked = {"X-RateLimit-Remaining-Interval-Milliseconds": "800"}
    handler, seen = answers(error(429, "slow down", **asked))
    client, waits = mock_client(handler, max_retries=10, backoff=Backoff(budget=2.0))
    with pytest.raises(RateLimitError) as caught:
        client.search("")
    assert waits == [0.8, 0.8]  # a third wait would pass the 2 s budget
    assert len(seen) == 3
    assert caught.value.retry_after == 0.8


def test_connection_errors_are_retried() -> None:
    handler, seen = answers(httpx.ConnectError("refused"), httpx.ReadError("reset"), ok(1))
    client, waits = mock_client(handler)
    assert client.search("").total == 1
    assert len(seen) == 3
    assert waits == [0.375, 0.75]


def test_read_timeout_is_not_retried() -> None:
    handler, seen = answers(httpx.ReadTimeout("slow"), ok())
    client, waits = mock_client(handler)
    with pytest.raises(TransportError, match="timed out") as caught:
        client.search("")
    assert (len(seen), waits, caught.value.status) == (1, [], None)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_client_errors_are_not_retried() -> None:
    handler, seen = answers(error(422, "bad"), ok())
    client, waits = mock_client(handler)
    with pytest.raises(InvalidRequestError):
        client.search("")
    assert (len(seen), waits) == (1, [])


def test_async_client_retries_with_the_same_waits() -> None:
    handler, seen = answers(error(500), error(429, **{"Retry-After": "1"}), ok(2))
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async def run() -> SearchPage:
        async with AsyncCallsClient(
            KEY, transport=httpx.MockTransport(handler), sleep=record, backoff=NO_JITTER
        ) as client:
            return await client.search("dir:in", limit=5)

    assert asyncio.run(run()).total == 2
    assert waits == [0.375, 1.0]
    assert seen[0].headers["X-WHIPPY-KEY"] == KEY
    assert dict(seen[0].url.params) == {"limit": "5", "offset": "0", "timeout": "30000"}


# ---------------------------------------------------------------------------------------------
# Paging (mocked): offsets, the stop rules, no repeats


def pages_handler(pages: list[dict[str, Any]]) -> tuple[Handler, list[httpx.Request]]:
    return answers(*(httpx.Response(200, json=p) for p in pages))


def test_paging_skips_calls_shifted_by_an_insert() -> None:
    # After the first page, one call is inserted at the top: the second page starts with c3 again.
    handler, seen = pages_handler(
        [page(["c1", "c2", "c3"], 7), page(["c3", "c4", "c5"], 8), page(["c6", "c7"], 8)]
    )
    client, _ = mock_client(handler)
    ids = [call.id for call in client.iter_calls("", page_size=3)]
    assert ids == ["c1", "c2", "c3", "c4", "c5", "c6", "c7"]
    assert [r.url.params["offset"] for r in seen] == ["0", "3", "6"]
    assert all(r.url.params["limit"] == "3" for r in seen)


class ShiftingServer:
    """A mock server over a list of records, served with `offset` and `limit`, that inserts
    records between requests (`inserts[n]`: (position, how many) after request n)."""

    def __init__(self, records: list[dict[str, Any]], inserts: dict[int, tuple[int, int]]):
        self.records = list(records)
        self.inserts = inserts
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        answer = {"data": self.records[offset : offset + limit], "total": len(self.records)}
        position, count = self.inserts.get(self.requests, (0, 0))
        # Newer than any record before them, newest first among themselves.
        minute = 10**6 * (self.requests + 1)
        new = [record(f"new-{self.requests}-{i}", minute - i) for i in range(count)]
        self.records[position:position] = new
        self.requests += 1
        return httpx.Response(200, json=answer)


def record(call_id: str, minute: int) -> dict[str, Any]:
    return {"id": call_id, "created_at": (NOW + timedelta(minutes=minute)).isoformat()}


@settings(max_examples=100)
@given(
    size=st.integers(0, 60),
    page_size=st.integers(8, 12),  # the order is learnt from a page of eight or more
    bursts=st.dictionaries(st.integers(0, 12), st.integers(1, 30)),
)
def test_paging_newest_first_survives_any_burst_of_inserts(
    size: int, page_size: int, bursts: dict[int, int]
) -> None:
    # Newest first, ties on created_at broken by id: inserts land on top, in any number.
    records = sorted(
        (record(f"c{i:02}", i // 3) for i in range(size)),
        key=lambda r: (r["created_at"], r["id"]),
        reverse=True,
    )
    server = ShiftingServer(records, {n: (0, count) for n, count in bursts.items()})
    client, _ = mock_client(server)
    ids = [call.id for call in client.iter_calls("", page_size=page_size)]
    assert ids == [r["id"] for r in records]


@settings(max_examples=100)
@given(data=st.data(), size=st.integers(0, 40), page_size=st.integers(1, 7))
def test_paging_in_any_order_survives_a_page_of_inserts(
    data: st.DataObject, size: int, page_size: int
) -> None:
    # No order at all: up to a page of inserts between two requests, ahead of the offset
    # (where they shift the pages) or anywhere.
    records = data.draw(st.permutations([record(f"c{i:02}", i) for i in range(size)]))
    inserts = {
        n: (
            data.draw(st.integers(0, page_size * (n + 1) + 5)),
            data.draw(st.integers(1, page_size)),
        )
        for n in data.draw(st.sets(st.integers(0, 12)))
    }
    server = ShiftingServer(records, inserts)
    client, _ = mock_client(server)
    ids = [call.id for call in client.iter_calls("", page_size=page_size)]
    assert len(ids) == len(set(ids))
    assert {r["id"] for r in records} <= set(ids)


@pytest.mark.parametrize(
    ("second", "total"),
    [
        ([("x", 0), ("y", 99)], 10),  # out of order within the page
        ([("x", 99), ("y", 0)], 10),  # a newer call at the head, and no insert to explain it
        ([("x", 99), ("y", 98), ("z", 0)], 11),  # two newer calls, one insert
    ],
)
def test_paging_out_of_order_drops_nothing(second: list[tuple[str, int]], total: int) -> None:
    # The first page is newest first; the second is not, so no call of it is taken for one
    # already yielded.
    first = [record(f"c{i}", 50 - i) for i in range(8)]
    handler, _ = pages_handler(
        [
            {"data": first, "total": total},
            {"data": [record(call_id, minute) for call_id, minute in second], "total": total},
        ]
    )
    client, _ = mock_client(handler)
    ids = [call.id for call in client.iter_calls("", page_size=8)]
    assert ids == [f"c{i}" for i in range(8)] + [call_id for call_id, _ in second]


def test_paging_stops_at_an_empty_page() -> None:
    handler, seen = pages_handler([page(["a", "b"], 10), page([], 10)])
    client, _ = mock_client(handler)
    assert [c.id for c in client.iter_calls("", page_size=2)] == ["a", "b"]
    assert len(seen) == 2


def test_paging_follows_short_pages_until_the_total() -> None:
    # A server that caps `limit` below the page size: offsets follow what came back.
    handler, seen = pages_handler([page(["a", "b"], 5), page(["c", "d"], 5), page(["e"], 5)])
    client, _ = mock_client(handler)
    assert [c.id for c in client.iter_calls("", page_size=10)] == ["a", "b", "c", "d", "e"]
    assert [r.url.params["offset"] for r in seen] == ["0", "2", "4"]


def test_paging_stops_at_max_items() -> None:
    handler, seen = pages_handler([page(["a", "b", "c"], 9), page(["d", "e", "f"], 9)])
    client, _ = mock_client(handler)
    assert [c.id for c in client.iter_calls("", page_size=3, max_items=4)] == ["a", "b", "c", "d"]
    assert [r.url.params["limit"] for r in seen] == ["3", "1"]  # no more than is wanted
    assert list(client.iter_calls("", max_items=0)) == []
    assert len(seen) == 2


def test_paging_compiles_relative_dates_once() -> None:
    handler, seen = pages_handler([page(["a"], 2), page(["b"], 2)])
    client, _ = mock_client(handler)
    list(client.iter_calls("after:-1h", page_size=1))
    assert len({r.content for r in seen}) == 1


def test_async_paging() -> None:
    handler, seen = pages_handler([page(["a", "b"], 3), page(["b", "c"], 5), page(["d"], 5)])

    async def run() -> list[str | None]:
        async with AsyncCallsClient(transport=httpx.MockTransport(handler)) as client:
            return [call.id async for call in client.iter_calls("", page_size=2)]

    assert asyncio.run(run()) == ["a", "b", "c", "d"]
    assert [r.url.params["offset"] for r in seen] == ["0", "2", "4"]


# ---------------------------------------------------------------------------------------------
# Over real HTTP: the reference server on loopback


CALLS = list(sample_calls(SAMPLE, seed=1, now=NOW))  # served by the `server` fixture


@pytest.fixture
def live(server: ReferenceServer) -> Iterator[ReferenceServer]:
    """The shared server, with its faults reset after the test."""
    yield server
    server.config.faults = Faults()
    server.reseed()


def live_client(server: ReferenceServer, **options: Any) -> tuple[CallsClient, list[float]]:
    waits: list[float] = []
    options.setdefault("sleep", waits.append)
    options.setdefault("api_key", KEY)
    return CallsClient(base_url=server.base_url, **options), waits


def test_live_search_newest_first(live: ReferenceServer) -> None:
    client, _ = live_client(live)
    with client:
        result = client.search("dir:in rating:complete", limit=20)
    assert result.total == sum(
        1
        for call in sample_calls(SAMPLE, seed=1, now=NOW)
        if call["direction"] == "INBOUND"
        and call["metadata"]["analysis"].get("call_completion_rating") == "Complete"
    )
    assert len(result.data) == 20
    times = [call.created_at for call in result.data]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    assert all(
        c.direction == "INBOUND" and c.call_completion_rating == "Complete" for c in result.data
    )


def test_live_paging_across_pages(live: ReferenceServer) -> None:
    client, _ = live_client(live)
    before = live.requests
    with client:
        calls = list(client.iter_calls("", page_size=100))
        whole = client.search("", limit=500)
    assert live.requests - before == 13
    ids = [call.id for call in calls]
    assert len(ids) == len(set(ids)) == SAMPLE
    assert ids[:500] == [call.id for call in whole.data]
    times = [call.created_at for call in calls]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]


def test_live_async_matches_sync(live: ReferenceServer) -> None:
    query = "duration:1m..5m -voicemail:true"

    async def run() -> list[str | None]:
        async with AsyncCallsClient(KEY, base_url=live.base_url) as client:
            first = await client.search(query, limit=1)
            ids = [call.id async for call in client.iter_calls(query, page_size=70)]
            assert len(ids) == first.total
            return ids

    client, _ = live_client(live)
    with client:
        assert asyncio.run(run()) == [call.id for call in client.iter_calls(query, page_size=500)]


def test_live_wrong_key(live: ReferenceServer) -> None:
    for key in ("wrong", None):
        client = CallsClient(key, base_url=live.base_url)
        with client, pytest.raises(AuthenticationError) as caught:
            client.search("")
        assert caught.value.status == 401
        assert "API key" in caught.value.message
        assert caught.value.request_id


def test_live_invalid_requests(live: ReferenceServer) -> None:
    client, _ = live_client(live)
    with pytest.raises(InvalidRequestError) as caught:
        client.search("", limit=501)
    assert caught.value.status == 400
    assert caught.value.descriptions == ("limit must be between 1 and 500, not 501",)
    # A body the model would refuse: only a hand-built request can carry one.
    bad = SearchCallsRequest.model_construct(min_duration=-1)
    with client, pytest.raises(InvalidRequestError) as caught:
        client.search(bad)
    assert caught.value.status == 422
    assert caught.value.descriptions == (
        "min_duration: Input should be greater than or equal to 0",
    )


def test_live_rate_limit_retries_wait_what_the_server_asks(live: ReferenceServer) -> None:
    live.config.faults = Faults(rate_limited=1.0, wait_ms=40)
    client, waits = live_client(live, max_retries=3)
    before = live.requests
    with client, pytest.raises(RateLimitError) as caught:
        client.search("dir:in")
    assert live.requests - before == 4
    assert waits == [0.04, 0.04, 0.04]
    assert caught.value.retry_after == 0.04


def test_live_server_errors_exhaust_retries(live: ReferenceServer) -> None:
    live.config.faults = Faults(server_errors=1.0)
    client, waits = live_client(live, max_retries=2, backoff=NO_JITTER)
    with client, pytest.raises(ServerError) as caught:
        client.search("")
    assert caught.value.status == 500
    assert waits == [0.375, 0.75]


def test_live_paging_survives_injected_faults(live: ReferenceServer) -> None:
    live.config.faults = Faults(rate_limited=0.25, server_errors=0.15, wait_ms=30, seed=7)
    live.reseed()
    client, waits = live_client(live, max_retries=10, backoff=NO_JITTER)
    before = live.requests
    with client:
        ids = [call.id for call in client.iter_calls("", page_size=200)]
    assert len(set(ids)) == len(ids) == SAMPLE
    requests = live.requests - before
    assert len(waits) == requests - 6 > 0  # one wait per failed request; 6 pages succeeded
    backoff_waits = {NO_JITTER.wait(n, None) for n in range(10)}
    assert 0.03 in waits  # a 429's asked wait, honoured
    assert set(waits) <= backoff_waits | {0.03}


def test_live_timeout(live: ReferenceServer) -> None:
    live.config.faults = Faults(latency=0.5)
    client, waits = live_client(live, http_timeout=0.1)
    with client, pytest.raises(TransportError, match="timed out"):
        client.search("")
    assert waits == []


def test_live_connection_refused() -> None:
    # A port that was free a moment ago: nothing listens there now.
    with running() as server:
        base_url = server.base_url
    client = CallsClient(base_url=base_url, sleep=lambda _: None, max_retries=2)
    with client, pytest.raises(TransportError, match="failed") as caught:
        client.search("")
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_live_key_never_leaks(
    live: ReferenceServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    live.config.faults = Faults(rate_limited=0.5, server_errors=0.2, wait_ms=1, seed=3)
    live.reseed()
    seen: list[str] = []
    secrets = [KEY, "sk-wrong-0a1b2c3d4e5f"]
    for key in secrets:
        client, _ = live_client(live, api_key=key, max_retries=1)
        seen += [repr(client), str(client)]
        with client:
            for query in ("dir:in", "dir:up"):
                try:
                    list(client.iter_calls(query, page_size=400))
                except (SearchAPIError, QueryError) as failure:
                    seen += [str(failure), repr(failure), repr(failure.__cause__)]
                    seen += [repr(vars(failure))]
    async_client = AsyncCallsClient(KEY, base_url=live.base_url)
    seen.append(repr(async_client))
    asyncio.run(async_client.aclose())
    captured = capsys.readouterr()
    text = "\n".join([*seen, captured.out, captured.err, caplog.text])
    assert "retrying POST" in caplog.text  # the logs were captured
    assert "401" in text
    for secret in secrets:
        assert secret not in text
    assert "'***'" in repr(client)


def test_public_names_are_exported() -> None:
    for name in ("CallsClient", "AsyncCallsClient", "SearchPage", "Call", "SearchAPIError"):
        assert name in querylang.__all__
