"""The reference server: its HTTP contract (raw httpx on loopback), its SQLite store, the SQL
compiler behind it, and the synthetic sample data."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from querylang import SearchCallsRequest, compile
from querylang.sample import DAYS, sample_calls
from querylang.server import CallStore, Faults, ReferenceServer, ServerConfig, running
from querylang.sql import POSTGRES, SQLITE, compile_where, epoch_microseconds, key_rules

KEY = "server-test-key-31415"
NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
COUNT = 300


CALLS = list(sample_calls(COUNT, seed=2, now=NOW))  # served by the `server` fixture


@pytest.fixture(scope="module")
def http(server: ReferenceServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"X-WHIPPY-KEY": KEY}) as client:
        yield client


def post(http: httpx.Client, body: Any = None, **params: Any) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return http.post("/calls/search", params=params, content=content)


def error_body(status: int, *descriptions: str) -> dict[str, Any]:
    return {"errors": [{"description": text} for text in descriptions], "status": status}


# ---------------------------------------------------------------------------------------------
# The HTTP contract


def test_search_answers_data_and_total_newest_first(http: httpx.Client) -> None:
    response = post(http, {"direction": "OUTBOUND"}, limit=10, offset=5, timeout=15000)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert len(response.headers["X-Request-Id"]) == 32
    result = response.json()
    assert set(result) == {"data", "total"}
    outbound = [c for c in sample_calls(COUNT, seed=2, now=NOW) if c["direction"] == "OUTBOUND"]
    outbound.sort(key=lambda call: (call["created_at"], call["id"]), reverse=True)
    assert result["total"] == len(outbound)
    assert result["data"] == outbound[5:15]  # records come back exactly as stored


def test_empty_body_and_default_parameters(http: httpx.Client) -> None:
    result = post(http).json()
    assert result["total"] == COUNT
    assert len(result["data"]) == 50
    assert post(http, {}, offset=COUNT).json() == {"data": [], "total": COUNT}


@pytest.mark.parametrize(
    ("params", "descriptions"),
    [
        ({"limit": 0}, ["limit must be between 1 and 500, not 0"]),
        ({"limit": 501}, ["limit must be between 1 and 500, not 501"]),
        ({"limit": "ten"}, ["limit must be an integer, not 'ten'"]),
        ({"offset": -1}, ["offset must be 0 or more, not -1"]),
        ({"timeout": 14999}, ["timeout must be between 15000 and 120000 ms, not 14999"]),
        (
            {"timeout": 120001, "limit": 0},
            [
                "limit must be between 1 and 500, not 0",
                "timeout must be between 15000 and 120000 ms, not 120001",
            ],
        ),
    ],
    ids=str,
)
def test_bad_query_parameters_are_400(
    http: httpx.Client, params: dict[str, Any], descriptions: list[str]
) -> None:
    response = post(http, {}, **params)
    assert response.status_code == 400
    assert response.json() == error_body(400, *descriptions)


@pytest.mark.parametrize(
    ("body", "descriptions"),
    [
        ({"dirction": "INBOUND"}, ["dirction: Extra inputs are not permitted"]),
        ({"min_duration": "5s"}, ["min_duration: Input should be a valid integer"]),
        (
            {"agent_id": ["not-a-uuid"], "voicemail": "yes"},
            ["voicemail: Input should be a valid boolean", "agent_id", "agent_id"],
        ),
        ({"after": "2024-01-01T00:00:00"}, ["after: Input should have timezone info"]),
        ([1, 2], ["Input should be a valid dictionary or instance of SearchCallsRequest"]),
    ],
    ids=json.dumps,
)
def test_invalid_bodies_are_422_with_every_problem(
    http: httpx.Client, body: Any, descriptions: list[str]
) -> None:
    response = post(http, body)
    assert response.status_code == 422
    answer = response.json()
    assert set(answer) == {"errors", "status"}
    assert answer["status"] == 422
    found = [error["description"] for error in answer["errors"]]
    assert len(found) == len(descriptions)
    for text, start in zip(found, descriptions, strict=True):
        assert text.startswith(start)


def test_body_that_is_not_json_is_400(http: httpx.Client) -> None:
    response = http.post("/calls/search", content=b"{direction: INBOUND")
    assert response.status_code == 400
    assert response.json() == error_body(400, "the body is not valid JSON")


@pytest.mark.parametrize("key", [None, "wrong", KEY.upper()])
def test_wrong_key_is_401(server: ReferenceServer, key: str | None) -> None:
    headers = {} if key is None else {"X-WHIPPY-KEY": key}
    response = httpx.post(f"{server.base_url}/calls/search", headers=headers, json={})
    assert response.status_code == 401
    assert response.json() == error_body(401, "invalid or missing API key (X-WHIPPY-KEY)")


def test_wrong_path_and_method(http: httpx.Client) -> None:
    missing = http.post("/contacts/search", json={})
    assert (missing.status_code, missing.json()) == (
        404,
        error_body(404, "no such endpoint: /v1/contacts/search"),
    )
    wrong_method = http.get("/calls/search")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"


def test_compiled_queries_filter(http: httpx.Client) -> None:
    calls = list(sample_calls(COUNT, seed=2, now=NOW))
    agent = next(c["metadata"]["agent_id"] for c in calls if c["metadata"]["agent_id"])
    body = compile(f"agent:{agent.upper()} -dir:in duration:>=30s", now=NOW).to_body()
    expected = {
        c["id"]
        for c in calls
        if c["metadata"]["agent_id"] == agent
        and c["direction"] == "OUTBOUND"
        and (c["metadata"]["duration"] or -1) >= 30_000
    }
    result = post(http, body, limit=500).json()
    assert {call["id"] for call in result["data"]} == expected
    assert result["total"] == len(expected) > 0


def test_concurrent_requests(http: httpx.Client, server: ReferenceServer) -> None:
    results: list[int] = []

    def search() -> None:
        with httpx.Client(base_url=server.base_url, headers={"X-WHIPPY-KEY": KEY}) as own:
            for _ in range(5):
                results.append(post(own, {"direction": ["INBOUND", "OUTBOUND"]}).json()["total"])

    threads = [threading.Thread(target=search) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [COUNT] * 30


def test_injected_faults_are_deterministic() -> None:
    faults = Faults(rate_limited=0.3, server_errors=0.2, wait_ms=250, seed=11)

    def statuses() -> list[int]:
        with running(config=ServerConfig(faults=faults)) as server, httpx.Client() as client:
            url = f"{server.base_url}/calls/search"
            answers = [client.post(url, json={}) for _ in range(40)]
        for answer in answers:
            if answer.status_code == 429:
                assert answer.headers["X-RateLimit-Remaining-Interval-Milliseconds"] == "250"
        return [answer.status_code for answer in answers]

    first = statuses()
    assert first == statuses()
    assert {200, 429, 500} == set(first)


def test_server_without_a_key_accepts_any_request() -> None:
    with running() as server:
        response = httpx.post(f"{server.base_url}/calls/search", json={})
    assert response.json() == {"data": [], "total": 0}


# ---------------------------------------------------------------------------------------------
# The store


def test_store_keeps_records_whole_and_tolerates_missing_fields(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    store = CallStore(path)
    odd = {"id": "x-1", "created_at": "2024-03-01T10:00:00+02:00", "sentiment": {"score": 1}}
    full = next(sample_calls(1, now=NOW))
    assert store.insert([odd, full]) == 2
    store.close()
    reopened = CallStore(path)  # a file database keeps its calls
    records, total = reopened.search(SearchCallsRequest(), limit=10, offset=0)
    assert total == 2
    assert sorted(map(json.loads, records), key=lambda r: r["id"]) == sorted(
        [odd, full], key=lambda r: r["id"]
    )
    records, total = reopened.search(SearchCallsRequest(direction="INBOUND"), limit=10, offset=0)
    assert total == (full["direction"] == "INBOUND")
    reopened.close()


def test_store_needs_an_id_and_a_time() -> None:
    with pytest.raises(ValueError, match="id and a created_at"):
        CallStore().insert([{"id": "a"}])


def test_store_reads_instants_with_offsets_exactly() -> None:
    store = CallStore()
    store.insert(
        [
            {"id": "a", "created_at": "2024-03-01T00:59:59.999999+01:00"},
            {"id": "b", "created_at": "2024-03-01T00:00:00Z"},
        ]
    )
    after = SearchCallsRequest(after=datetime(2024, 3, 1, tzinfo=UTC))
    assert store.search(after, limit=5, offset=0)[1] == 1
    before = SearchCallsRequest(before=datetime(2024, 3, 1, tzinfo=UTC))
    assert json.loads(store.search(before, limit=5, offset=0)[0][0])["id"] == "a"


def test_store_has_an_index_per_filter_column() -> None:
    store = CallStore()
    indexed = {row[0] for row in store._db.execute("SELECT name FROM pragma_index_list('calls')")}
    for rule in key_rules():
        assert f"calls_{rule.column}" in indexed


# ---------------------------------------------------------------------------------------------
# The SQL compiler


def test_every_body_key_has_a_rule() -> None:
    keys = {rule.key for rule in key_rules()}
    body_keys = {field.alias or name for name, field in SearchCallsRequest.model_fields.items()}
    assert keys == body_keys


def test_where_for_every_key() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    request = SearchCallsRequest.model_validate(
        {
            "after": "2024-01-01T00:00:00Z",
            "before": "2024-01-02T00:00:00Z",
            "from": ["+14155550100", "+14155550101"],
            "to": "+14155550102",
            "direction": "INBOUND",
            "delivery_status": ["a", "b"],
            "mode": "ai",
            "language": "en-US",
            "call_completion_rating": ["Complete", "Partial"],
            "voicemail": False,
            "min_duration": 5000,
            "max_duration": 60000,
            "agent_id": "3f0c2b7e-8a41-4c7a-9d2e-1b5f6a7c8d90",
        }
    )
    where = compile_where(request)
    assert where.sql == (
        '"created_at" >= ? AND "created_at" < ? AND "from" IN (?, ?) AND "to" = ? '
        'AND "direction" = ? AND "delivery_status" IN (?, ?) AND "mode" = ? AND "language" = ? '
        'AND "call_completion_rating" IN (?, ?) AND "voicemail" = ? AND "duration" >= ? '
        'AND "duration" <= ? AND "agent_id" = ?'
    )
    micros = epoch_microseconds(moment)
    assert where.params == (
        micros,
        micros + 86_400_000_000,
        "+14155550100",
        "+14155550101",
        "+14155550102",
        "INBOUND",
        "a",
        "b",
        "ai",
        "en-US",
        "Complete",
        "Partial",
        0,
        5000,
        60000,
        "3f0c2b7e-8a41-4c7a-9d2e-1b5f6a7c8d90",
    )
    assert compile_where(SearchCallsRequest()).sql == "1 = 1"


def test_postgres_dialect() -> None:
    request = SearchCallsRequest(mode=["ai", "x"], voicemail=True, min_duration=0)
    where = compile_where(request, dialect=POSTGRES)
    assert where.sql == '"mode" = ANY(%s) AND "voicemail" = %s AND "duration" >= %s'
    assert where.params == (["ai", "x"], True, 0)


def test_values_never_reach_the_sql_text() -> None:
    hostile = "x'); DROP TABLE calls; --"
    where = compile_where(SearchCallsRequest(mode=hostile, delivery_status=[hostile, '"']))
    assert hostile not in where.sql
    store = CallStore()
    store.insert([{"id": "a", "created_at": "2024-01-01T00:00:00Z", "mode": hostile}])
    assert store.search(SearchCallsRequest(mode=hostile), limit=1, offset=0)[1] == 1
    assert store.count() == 1


def test_epoch_microseconds() -> None:
    assert epoch_microseconds(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert epoch_microseconds(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1
    assert SQLITE.value(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)) == 1_000_000


def test_sqlite_dialect_runs_on_sqlite() -> None:
    db = sqlite3.connect(":memory:")
    where = compile_where(SearchCallsRequest(**{"from": ["+14155550100", "+14155550101"]}))
    db.execute('CREATE TABLE calls ("from" TEXT)')
    db.executemany("INSERT INTO calls VALUES (?)", [("+14155550100",), ("+1999",)])
    assert db.execute(f"SELECT COUNT(*) FROM calls WHERE {where.sql}", where.params).fetchone() == (
        1,
    )


# ---------------------------------------------------------------------------------------------
# Sample data


def test_sample_is_deterministic_and_realistic() -> None:
    calls = list(sample_calls(2_000, seed=5, now=NOW))
    assert calls == list(sample_calls(2_000, seed=5, now=NOW))
    assert calls != list(sample_calls(2_000, seed=6, now=NOW))
    assert len({call["id"] for call in calls}) == 2_000
    times = [datetime.fromisoformat(call["created_at"]) for call in calls]
    assert NOW - timedelta(days=DAYS) <= min(times) and max(times) < NOW
    share = {
        key: sum(1 for call in calls if test(call)) / len(calls)
        for key, test in {
            "inbound": lambda c: c["direction"] == "INBOUND",
            "ai": lambda c: c["mode"] == "ai",
            "voicemail": lambda c: c["metadata"]["analysis"]["voicemail"],
            "in progress": lambda c: c["metadata"]["duration"] is None,
            "rated": lambda c: "call_completion_rating" in c["metadata"]["analysis"],
        }.items()
    }
    assert 0.55 < share["inbound"] < 0.75
    assert 0.7 < share["ai"] < 0.9
    assert 0.03 < share["voicemail"] < 0.2
    assert 0.001 < share["in progress"] < 0.05
    assert 0.5 < share["rated"] < 0.8
    durations = sorted(c["metadata"]["duration"] for c in calls if c["metadata"]["duration"])
    assert 20_000 < durations[len(durations) // 2] < 200_000
    assert durations[-1] <= 30 * 60 * 1000
    # The query language accepts every value the sample uses.
    numbers = sorted({call["from"] for call in calls} | {call["to"] for call in calls})
    languages = sorted({call["language"] for call in calls})
    body = compile(f"from:({', '.join(numbers)}) lang:({', '.join(languages)})").to_body()
    assert (body["from"], body["language"]) == (numbers, languages)


def test_sample_count_must_not_be_negative() -> None:
    with pytest.raises(ValueError):
        list(sample_calls(-1))
