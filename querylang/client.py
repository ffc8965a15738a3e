"""Client: a query -> the Search Calls API over HTTP (httpx) -> pages of call records.

Stage: transport, after `compile`. Input: a query, as text (compiled here, with the same options
as `querylang.compile`) or as a `SearchCallsRequest`. Output: `SearchPage`s of `Call` records, or
an iterator over every matching call, page after page. `CallsClient` blocks, `AsyncCallsClient`
awaits; their methods have the same names and arguments.

Exceptions (a query that does not compile raises `QueryError` before anything is sent):

    SearchAPIError              a search failed; `.status`, `.request_id`
    ├── AuthenticationError     401, 403: the key is missing, wrong or not allowed
    ├── InvalidRequestError     400, 422: the server refused the request; `.descriptions`
    ├── RateLimitError          429, still after the retries; `.retry_after`
    ├── ServerError             5xx, still after the retries
    └── TransportError          no HTTP answer: the connection failed or timed out

429, 5xx and connection failures are retried with exponential backoff and jitter (`Backoff`),
waiting what the server asks for when it says (`X-RateLimit-Remaining-Interval-Milliseconds`,
`Retry-After`), at most `max_retries` times and `Backoff.budget` seconds per request. A read
timeout is not retried: the server may still be searching. The API key is sent in the
`X-WHIPPY-KEY` header of each request and shown nowhere else (reprs, errors, logs).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from querylang.compiler import compile as compile_query
from querylang.request import SearchCallsRequest

DEFAULT_BASE_URL = "https://api.whippy.co/v1"
DEFAULT_PATH = "/calls/search"
API_KEY_ENV = "WHIPPY_API_KEY"
API_KEY_HEADER = "X-WHIPPY-KEY"
REQUEST_ID_HEADER = "X-Request-Id"
WAIT_HEADER = "X-RateLimit-Remaining-Interval-Milliseconds"
MIN_TIMEOUT_MS, MAX_TIMEOUT_MS = 15_000, 120_000
READ_MARGIN = 5.0
"""Seconds the HTTP read timeout adds to the search's own `timeout_ms`."""

_log = logging.getLogger("querylang.client")

# --- the response ------------------------------------------------------------------------------


class _Open(BaseModel):
    # The record shape is partly inferred: unknown fields are kept, missing ones are None.
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class CallAnalysis(_Open):
    """What the platform concluded about a call (`metadata.analysis`)."""

    call_completion_rating: str | None = None
    voicemail: bool | None = None


class CallMetadata(_Open):
    """A call's `metadata`: its duration and the AI agent that handled it."""

    duration: int | None = None
    """Milliseconds; None while the call is in progress."""
    agent_id: str | None = None
    agent_version_id: str | None = None
    analysis: CallAnalysis | None = None


class Call(_Open):
    """One call record as the API returns it.

    The known fields are typed; unknown ones are kept (`model_extra`), missing ones are None.
    Identifiers are strings as the API spells them. The properties reach into `metadata`.

    >>> call = Call.model_validate({"id": "c1", "from": "+14155550100", "new_field": 1,
    ...                             "metadata": {"duration": 5000}})
    >>> call.from_, call.duration, call.model_extra
    ('+14155550100', 5000, {'new_field': 1})
    """

    id: str | None = None
    type: str | None = None
    direction: str | None = None
    mode: str | None = None
    delivery_status: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    language: str | None = None
    body: str | None = None
    """The transcript."""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    conversation_id: str | None = None
    contact_id: str | None = None
    channel_id: str | None = None
    user_id: str | None = None
    metadata: CallMetadata | None = None

    @property
    def duration(self) -> int | None:
        """`metadata.duration`: milliseconds, None while in progress."""
        return self.metadata.duration if self.metadata else None

    @property
    def agent_id(self) -> str | None:
        return self.metadata.agent_id if self.metadata else None

    @property
    def agent_version_id(self) -> str | None:
        return self.metadata.agent_version_id if self.metadata else None

    @property
    def call_completion_rating(self) -> str | None:
        analysis = self.metadata.analysis if self.metadata else None
        return analysis.call_completion_rating if analysis else None

    @property
    def voicemail(self) -> bool | None:
        analysis = self.metadata.analysis if self.metadata else None
        return analysis.voicemail if analysis else None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON data, with the fields it came with (unknown ones included)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class SearchPage(_Open):
    """One page of results: `data`, the calls on it, and `total`, the count of every match."""

    data: list[Call]
    total: int


# --- errors ------------------------------------------------------------------------------------


class SearchAPIError(Exception):
    """A search failed after its query compiled: the base of the client's errors.

    `status` is the HTTP status (None without an answer), `request_id` the server's request id
    if it sent one, `message` what went wrong (the server's own words when it gave some).
    """

    def __init__(
        self, message: str, *, status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        text = self.message if self.status is None else f"HTTP {self.status}: {self.message}"
        return text if self.request_id is None else f"{text} (request id {self.request_id})"


class AuthenticationError(SearchAPIError):
    """401 or 403: the API key is missing, wrong, or not allowed to search calls."""


class InvalidRequestError(SearchAPIError):
    """400 or 422: the server refused the request; `descriptions` are its `errors[].description`."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        descriptions: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.descriptions = descriptions


class RateLimitError(SearchAPIError):
    """429, still after the retries; `retry_after` is the wait the server asked for, seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.retry_after = retry_after


class ServerError(SearchAPIError):
    """A 5xx answer, still after the retries."""


class TransportError(SearchAPIError):
    """No HTTP answer: the connection failed, broke, or timed out."""


# --- retries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """How long to wait before each retry of one request.

    The server's wait, when a response gives one (`X-RateLimit-Remaining-Interval-Milliseconds`
    or `Retry-After`, the longer of the two); otherwise exponential with equal jitter: retry `n`
    (from 0) waits between half and all of `min(cap, base * 2**n)` seconds. Retrying stops when
    the next wait would take the request's total past `budget` seconds.

    >>> backoff = Backoff(base=0.5, cap=4.0, jitter=lambda: 1.0)
    >>> [backoff.wait(n, None) for n in range(5)]
    [0.5, 1.0, 2.0, 4.0, 4.0]
    >>> backoff.wait(0, httpx.Headers({"X-RateLimit-Remaining-Interval-Milliseconds": "250"}))
    0.25
    """

    base: float = 0.5
    cap: float = 8.0
    budget: float = 30.0
    jitter: Callable[[], float] = field(default=random.random, repr=False)
    """A number in [0, 1); injectable, so that tests know the waits."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)
    """The current time, to read a `Retry-After` date."""

    def wait(self, retry: int, headers: httpx.Headers | None) -> float:
        """Seconds to wait before retry number `retry` (from 0), given the failed response's
        headers (None when there was no response)."""
        asked = self.asked(headers)
        if asked is not None:
            return asked
        ceiling = min(self.cap, self.base * 2.0**retry)
        return ceiling / 2 + ceiling / 2 * self.jitter()

    def asked(self, headers: httpx.Headers | None) -> float | None:
        """The wait the server asked for in `headers`, in seconds, if any."""
        if headers is None:
            return None
        waits = [
            wait
            for wait in (
                _interval_seconds(headers.get(WAIT_HEADER)),
                _retry_after_seconds(headers.get("Retry-After"), self.clock),
            )
            if wait is not None
        ]
        return max(0.0, *waits) if waits else None


def _interval_seconds(text: str | None) -> float | None:
    """`X-RateLimit-Remaining-Interval-Milliseconds`, in seconds."""
    try:
        return None if text is None else float(text) / 1000
    except ValueError:
        return None


def _retry_after_seconds(text: str | None, clock: Callable[[], datetime]) -> float | None:
    """`Retry-After`: seconds, or an HTTP date."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return (parsedate_to_datetime(text) - clock()).total_seconds()
    except (TypeError, ValueError):
        return None


_RETRIED_TRANSPORT_ERRORS = (httpx.NetworkError, httpx.ConnectTimeout, httpx.RemoteProtocolError)
_RETRIED_STATUSES = frozenset({429}) | frozenset(range(500, 600))


# --- what both clients share -------------------------------------------------------------------


class _Secret:
    """The API key: its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


def to_request(
    query: str | SearchCallsRequest,
    *,
    now: datetime | None = None,
    tz: str = "UTC",
    region: str = "US",
) -> SearchCallsRequest:
    """A query as a request body: text is compiled (raising `QueryError`), a request is kept."""
    if isinstance(query, SearchCallsRequest):
        return query
    return compile_query(query, now=now, tz=tz, region=region)


def _check_page(limit: int, offset: int, timeout_ms: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be >= 1, not {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0, not {offset}")
    if not MIN_TIMEOUT_MS <= timeout_ms <= MAX_TIMEOUT_MS:
        raise ValueError(
            f"timeout_ms must be between {MIN_TIMEOUT_MS} and {MAX_TIMEOUT_MS}, not {timeout_ms}"
        )


class _Settings:
    """A client's configuration, and the request building and answer reading both clients do."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str,
        path: str,
        max_retries: int,
        backoff: Backoff | None,
        http_timeout: float | httpx.Timeout | None,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, not {max_retries}")
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        self.api_key = _Secret(key) if key else None
        self.url = base_url.rstrip("/") + "/" + path.lstrip("/")
        self.base_url = base_url
        self.path = path
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()
        self.http_timeout = http_timeout

    def describe(self, name: str) -> str:
        key = "'***'" if self.api_key else "None"
        return f"{name}(base_url={self.base_url!r}, path={self.path!r}, api_key={key})"

    def build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        body: dict[str, Any],
        limit: int,
        offset: int,
        timeout_ms: int,
    ) -> httpx.Request:
        headers = {"Accept": "application/json"}
        if self.api_key is not None:
            headers[API_KEY_HEADER] = self.api_key.reveal()
        timeout = self.http_timeout
        if timeout is None:
            # The server may search for up to timeout_ms: the read must outlast it.
            timeout = httpx.Timeout(30.0, connect=10.0, read=timeout_ms / 1000 + READ_MARGIN)
        return http.build_request(
            "POST",
            self.url,
            params={"limit": limit, "offset": offset, "timeout": timeout_ms},
            json=body,
            headers=headers,
            timeout=timeout,
        )

    def retry_wait(
        self, retry: int, waited: float, failure: SearchAPIError, response: httpx.Response | None
    ) -> float | None:
        """Seconds to wait before retrying, or None to give up with `failure`."""
        if retry >= self.max_retries:
            return None
        if isinstance(failure, TransportError):
            if not isinstance(failure.__cause__, _RETRIED_TRANSPORT_ERRORS):
                return None
        elif failure.status not in _RETRIED_STATUSES:
            return None
        wait = self.backoff.wait(retry, response.headers if response is not None else None)
        if waited + wait > self.backoff.budget:
            return None
        _log.info(
            "retrying POST %s in %.3f s (retry %d of %d): %s",
            self.url,
            wait,
            retry + 1,
            self.max_retries,
            failure,
        )
        return wait

    def read(self, response: httpx.Response) -> SearchPage:
        """The page in a 2xx answer; any other answer as its `SearchAPIError`."""
        if not response.is_success:
            raise self.failure(response)
        try:
            return SearchPage.model_validate_json(response.content)
        except ValidationError as error:
            raise SearchAPIError(
                f"the server's answer is not a page of calls: {error.error_count()} problems, "
                f"first: {error.errors()[0]['msg']}",
                status=response.status_code,
                request_id=response.headers.get(REQUEST_ID_HEADER),
            ) from None

    @staticmethod
    def failure(response: httpx.Response) -> SearchAPIError:
        status = response.status_code
        request_id = response.headers.get(REQUEST_ID_HEADER)
        descriptions = _descriptions(response)
        message = "; ".join(descriptions) or response.reason_phrase or "request failed"
        if status in (401, 403):
            return AuthenticationError(message, status=status, request_id=request_id)
        if status in (400, 422):
            return InvalidRequestError(
                message, status=status, request_id=request_id, descriptions=descriptions
            )
        if status == 429:
            retry_after = Backoff().asked(response.headers)
            return RateLimitError(
                message, status=status, request_id=request_id, retry_after=retry_after
            )
        if status >= 500:
            return ServerError(message, status=status, request_id=request_id)
        return SearchAPIError(message, status=status, request_id=request_id)

    @staticmethod
    def transport_failure(error: httpx.TransportError) -> TransportError:
        kind = "timed out" if isinstance(error, httpx.TimeoutException) else "failed"
        detail = str(error) or type(error).__name__
        return TransportError(f"the request {kind}: {detail}")


def _descriptions(response: httpx.Response) -> tuple[str, ...]:
    """The `errors[].description` of an error body (`{"errors": [...], "status": n}`)."""
    try:
        data = response.json()
    except ValueError:
        return ()
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return ()
    return tuple(
        str(error["description"])
        for error in errors
        if isinstance(error, dict) and error.get("description") is not None
    )


class _Pager:
    """Offset paging without repeats, in memory that does not grow with the number of calls.

    A call inserted while paging, ahead of the offset, shifts the later pages by one: the next
    page begins with the last call already yielded. Two rules recognise such repeats:
    - the ids of the last `page_size` calls received are kept: any repeat among them is skipped,
      whatever the order of the results (enough for up to a page of inserts between requests,
      as the calls a shift brings back are those last received);
    - once a page of `ORDER_EVIDENCE` or more calls has come back newest first (`created_at`,
      then `id`, descending: the reference server's order), the calls at the head of a page
      that sort before the last one yielded are repeats, however many were inserted. The real
      API's order is not documented, so this rule is used only once seen on a page too long to
      be sorted by chance, and dropped for good at a page out of that order, or when more
      repeats are claimed than inserts can explain (the growth of `total` since the first page).
    """

    ORDER_EVIDENCE = 8

    def __init__(self, page_size: int, max_items: int | None) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, not {page_size}")
        if max_items is not None and max_items < 0:
            raise ValueError(f"max_items must be >= 0, not {max_items}")
        self.page_size = page_size
        self.max_items = max_items
        self.offset = 0
        self.count = 0
        self.done = max_items == 0
        self.recent: deque[str] = deque()
        self.recent_ids: dict[str, int] = {}  # how often each id is in `recent`
        self.newest_first: bool | None = None  # None: not known yet
        self.last: tuple[datetime, str] | None = None
        self.first_total: int | None = None
        self.skipped = 0

    def limit(self) -> int:
        """The next request's `limit`: a page, or what is left of `max_items` if less."""
        if self.max_items is None:
            return self.page_size
        return max(1, min(self.page_size, self.max_items - self.count))

    def take(self, page: SearchPage) -> SearchPage:
        """The page without calls already yielded (and cut at `max_items`); moves on."""
        self.offset += len(page.data)
        if not page.data or self.offset >= page.total:
            self.done = True
        if self.first_total is None:
            self.first_total = page.total
        self._learn_order(page.data)
        head = self._repeats_by_order(page.data, page.total - self.first_total)
        fresh = []
        for index, call in enumerate(page.data):
            repeat = index < head or (call.id is not None and call.id in self.recent_ids)
            self._remember(call)
            if repeat:
                self.skipped += 1
                continue
            self.last = _order_key(call)
            fresh.append(call)
            if self.max_items is not None and self.count + len(fresh) >= self.max_items:
                self.done = True
                break
        self.count += len(fresh)
        return page.model_copy(update={"data": fresh})

    def _learn_order(self, calls: list[Call]) -> None:
        if self.newest_first is False:
            return
        keys = [_order_key(call) for call in calls]
        known = [key for key in keys if key is not None]
        if len(known) < len(keys) or any(a < b for a, b in itertools.pairwise(known)):
            self.newest_first = False
        elif len(keys) >= self.ORDER_EVIDENCE:
            self.newest_first = True

    def _repeats_by_order(self, calls: list[Call], growth: int) -> int:
        """How many calls at the head of a newest-first page sort before the last one yielded
        (or are that one)."""
        if not self.newest_first or self.last is None:
            return 0
        head = 0
        for call in calls:
            key = _order_key(call)
            if key is None or key < self.last:  # the last one yielded is a repeat too
                break
            head += 1
        if head > growth - self.skipped:  # not explained by inserts: the order is another
            self.newest_first = False
            return 0
        return head

    def _remember(self, call: Call) -> None:
        """Keep the id among those of the last `page_size` calls received (repeats included:
        a call received again is among the last received again)."""
        if call.id is None:
            return
        if len(self.recent) == self.page_size:
            oldest = self.recent.popleft()
            self.recent_ids[oldest] -= 1
            if not self.recent_ids[oldest]:
                del self.recent_ids[oldest]
        self.recent.append(call.id)
        self.recent_ids[call.id] = self.recent_ids.get(call.id, 0) + 1


def _order_key(call: Call) -> tuple[datetime, str] | None:
    """Where a call sorts in the reference server's order (compared descending); None when it
    cannot be placed (no id, or no time or one without an offset, which do not compare)."""
    if call.id is None or call.created_at is None or call.created_at.tzinfo is None:
        return None
    return call.created_at, call.id


# --- the clients -------------------------------------------------------------------------------


class CallsClient:
    """A blocking client of the Search Calls API, with one connection pool.

    Args:
        api_key: the organisation's API key; `WHIPPY_API_KEY` from the environment by default.
            Without one, requests go without the header (the reference server may not need it).
        base_url: the API's base URL.
        path: the search path under it.
        max_retries: how many times one request is retried (429, 5xx, connection failures).
        backoff: the waits between retries.
        transport: an httpx transport (e.g. `httpx.MockTransport` in tests).
        sleep: how to wait between retries; `time.sleep` by default.
        http_timeout: the HTTP timeouts in seconds, instead of ones derived from each search's
            `timeout_ms` (its read timeout is `timeout_ms` plus five seconds).

    Use it as a context manager, or call `close()`::

        with CallsClient(base_url="http://127.0.0.1:8000/v1") as client:
            for call in client.iter_calls("dir:in after:-7d"):
                print(call.id, call.duration)
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        path: str = DEFAULT_PATH,
        max_retries: int = 3,
        backoff: Backoff | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        http_timeout: float | httpx.Timeout | None = None,
    ) -> None:
        self._settings = _Settings(api_key, base_url, path, max_retries, backoff, http_timeout)
        self._sleep = sleep
        self._http = httpx.Client(transport=transport)

    def __repr__(self) -> str:
        return self._settings.describe(type(self).__name__)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def search(
        self,
        query: str | SearchCallsRequest,
        *,
        limit: int = 50,
        offset: int = 0,
        timeout_ms: int = 30_000,
        now: datetime | None = None,
        tz: str = "UTC",
        region: str = "US",
    ) -> SearchPage:
        """Run one search and return one page.

        Args:
            query: query text (compiled with `now`, `tz` and `region`) or a request.
            limit: at most this many calls (>= 1).
            offset: skip this many matches first (>= 0).
            timeout_ms: how long the server may search, 15000 to 120000 milliseconds.
            now, tz, region: the options of `querylang.compile`.

        Returns:
            The page: `data` (the calls) and `total` (every match).

        Raises:
            QueryError: the query text does not compile (nothing is sent).
            ValueError: `limit`, `offset` or `timeout_ms` is out of range (nothing is sent).
            SearchAPIError: the search failed (one of its subclasses).
        """
        _check_page(limit, offset, timeout_ms)
        body = to_request(query, now=now, tz=tz, region=region).to_body()
        return self._search(body, limit, offset, timeout_ms)

    def iter_pages(
        self,
        query: str | SearchCallsRequest,
        *,
        page_size: int = 100,
        max_items: int | None = None,
        timeout_ms: int = 30_000,
        now: datetime | None = None,
        tz: str = "UTC",
        region: str = "US",
    ) -> Iterator[SearchPage]:
        """The pages of a search, fetched one at a time with `offset` until `total` is reached
        (or a page comes back empty); a call already seen is left out of later pages.

        The query is compiled once, so relative dates mean the same on every page. Arguments
        as for `search`; `max_items` stops after that many calls.
        """
        _check_page(page_size, 0, timeout_ms)
        pager = _Pager(page_size, max_items)
        body = to_request(query, now=now, tz=tz, region=region).to_body()
        while not pager.done:
            yield pager.take(self._search(body, pager.limit(), pager.offset, timeout_ms))

    def iter_calls(
        self,
        query: str | SearchCallsRequest,
        *,
        page_size: int = 100,
        max_items: int | None = None,
        timeout_ms: int = 30_000,
        now: datetime | None = None,
        tz: str = "UTC",
        region: str = "US",
    ) -> Iterator[Call]:
        """Every call matching the query, page after page, each call once.

        Only the current page is held in memory. Arguments as for `iter_pages`.
        """
        for page in self.iter_pages(
            query,
            page_size=page_size,
            max_items=max_items,
            timeout_ms=timeout_ms,
            now=now,
            tz=tz,
            region=region,
        ):
            yield from page.data

    def _search(self, body: dict[str, Any], limit: int, offset: int, timeout_ms: int) -> SearchPage:
        settings = self._settings
        request = settings.build(self._http, body, limit, offset, timeout_ms)
        waited = 0.0
        retry = 0
        while True:
            response = None
            try:
                response = self._http.send(request)
                return settings.read(response)
            except httpx.TransportError as error:
                failure: SearchAPIError = settings.transport_failure(error)
                failure.__cause__ = error
            except SearchAPIError as error:
                failure = error
            wait = settings.retry_wait(retry, waited, failure, response)
            if wait is None:
                raise failure
            self._sleep(wait)
            waited += wait
            retry += 1


class AsyncCallsClient:
    """The asynchronous twin of `CallsClient`: same arguments, same methods, awaited.

    `iter_pages` and `iter_calls` are async iterators (`async for`); `sleep` is awaited
    (`asyncio.sleep` by default) and `transport` is an `httpx.AsyncBaseTransport`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        path: str = DEFAULT_PATH,
        max_retries: int = 3,
        backoff: Backoff | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        http_timeout: float | httpx.Timeout | None = None,
    ) -> None:
        self._settings = _Settings(api_key, base_url, path, max_retries, backoff, http_timeout)
        self._sleep = sleep
        self._http = httpx.AsyncClient(transport=transport)

    def __repr__(self) -> str:
        return self._settings.describe(type(self).__name__)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def search(
        self,
        query: str | SearchCallsRequest,
        *,
        limit: int = 50,
        offset: int = 0,
        timeout_ms: int = 30_000,
        now: datetime | None = None,
        tz: str = "UTC",
        region: str = "US",
    ) -> SearchPage:
        """Run one search and return one page; see `CallsClient.search`."""
        _check_page(limit, offset, timeout_ms)
        body = to_request(query, now=now, tz=tz, region=region).to_body()
        return await self._search(body, limit, offset, timeout_ms)

    async def iter_pages(
        self,
        query: str | SearchCallsRequest,
        *,
        page_size: int = 100,
        max_items: int | None = None,
        timeout_ms: int = 30_000,
        now: datetime | None = None,
        tz: str = "UTC",
        region: str = "US",
    ) -> AsyncIterator[SearchPage]:
        """The pages of a search; see `CallsClient.iter_pages`."""
        _check_page(page_size, 0, timeout_ms)
        pager = _Pager(page_size, max_items)
        body = to_request(query, now=now, tz=tz, region=region).to_body()
        while not pager.done:
            yield pager.take(await self._search(body, pager.limit(), pager.offset, timeout_ms))

    async def iter_calls(
        self,
        query: str | SearchCallsRequest,
        *,
        page_size: int = 100,
        max_items: int | None = None,
        timeout_ms: int = 30_000,
        now: datetime | None = None,
        tz: str = "UTC",
        region: str = "US",
    ) -> AsyncIterator[Call]:
        """Every call matching the query, each once; see `CallsClient.iter_calls`."""
        async for page in self.iter_pages(
            query,
            page_size=page_size,
            max_items=max_items,
            timeout_ms=timeout_ms,
            now=now,
            tz=tz,
            region=region,
        ):
            for call in page.data:
                yield call

    async def _search(
        self, body: dict[str, Any], limit: int, offset: int, timeout_ms: int
    ) -> SearchPage:
        settings = self._settings
        request = settings.build(self._http, body, limit, offset, timeout_ms)
        waited = 0.0
        retry = 0
        while True:
            response = None
            try:
                response = await self._http.send(request)
                return settings.read(response)
            except httpx.TransportError as error:
                failure: SearchAPIError = settings.transport_failure(error)
                failure.__cause__ = error
            except SearchAPIError as error:
                failure = error
            wait = settings.retry_wait(retry, waited, failure, response)
            if wait is None:
                raise failure
            await self._sleep(wait)
            waited += wait
            retry += 1
