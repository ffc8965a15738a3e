"""App: the reference Search Calls server, over real HTTP, on the standard library's server.

Stage: the other end of the client. Input: HTTP requests as the API takes them
(api-contract.md): `POST /v1/calls/search?limit=&offset=&timeout=` with the `X-WHIPPY-KEY` header
and a JSON body. Output: `{"data": [...], "total": n}`, newest first, or the documented error body
`{"errors": [{"description": ...}], "status": n}`.

The body is validated with the same `SearchCallsRequest` model the compiler produces (422 with one
description per problem); query parameters are checked as the API documents them (400). For the
client's tests, `Faults` makes a fraction of requests fail with 429 or 500, or all of them slow.
`http.server.ThreadingHTTPServer` (a thread per connection, HTTP/1.1 keep-alive) is the stack:
nothing to install, and a reference server needs correctness, not throughput (docs/server.md).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from querylang.request import SearchCallsRequest
from querylang.server.store import CallStore

API_PATH = "/v1/calls/search"
KEY_HEADER = "X-WHIPPY-KEY"
WAIT_HEADER = "X-RateLimit-Remaining-Interval-Milliseconds"
DEFAULT_LIMIT, DEFAULT_OFFSET, DEFAULT_TIMEOUT = 50, 0, 30_000
MIN_TIMEOUT, MAX_TIMEOUT = 15_000, 120_000

_log = logging.getLogger("querylang.server")


@dataclass
class Faults:
    """Failures to inject, for testing clients: each request is refused with 429 with
    probability `rate_limited`, else with 500 with probability `server_errors`, after `latency`
    seconds. A 429 asks for a wait of `wait_ms` (`X-RateLimit-Remaining-Interval-Milliseconds`).
    The draws come from a generator seeded with `seed`, so one sequence of requests fails the
    same way every time."""

    rate_limited: float = 0.0
    server_errors: float = 0.0
    latency: float = 0.0
    wait_ms: int = 100
    seed: int = 0


@dataclass
class ServerConfig:
    """What the server accepts: the path, the API key (None: any request, with a key or not),
    the largest `limit`, and the faults to inject."""

    path: str = API_PATH
    api_key: str | None = field(default=None, repr=False)
    max_limit: int = 500
    faults: Faults = field(default_factory=Faults)


class _Refusal(Exception):
    def __init__(self, status: int, *descriptions: str, headers: dict[str, str] | None = None):
        super().__init__(descriptions)
        self.status = status
        self.descriptions = descriptions
        self.headers = headers or {}


class ReferenceServer(ThreadingHTTPServer):
    """An HTTP server that answers Search Calls requests from a `CallStore`.

    `config` (and its `faults`) may be changed while it runs; `requests` counts the requests
    it has answered, `base_url` is the URL a client takes (`http://host:port/v1`).
    """

    daemon_threads = True
    # Idle keep-alive connections must not hold up a shutdown.
    block_on_close = False

    def __init__(
        self,
        store: CallStore,
        config: ServerConfig | None = None,
        address: tuple[str, int] = ("127.0.0.1", 0),
    ) -> None:
        super().__init__(address, _Handler)
        self.store = store
        self.config = config or ServerConfig()
        self.requests = 0
        self._lock = threading.Lock()
        self._random = random.Random(self.config.faults.seed)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a timeout, a closed pool) is routine, not a server fault.
        _log.debug("connection from %s ended abruptly", client_address, exc_info=True)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        prefix = self.config.path.rsplit("/calls/search", 1)[0]
        return f"http://{host}:{port}{prefix}"

    def reseed(self) -> None:
        """Restart the fault draws from `config.faults.seed`."""
        with self._lock:
            self._random = random.Random(self.config.faults.seed)

    def count_request(self) -> float:
        """Count a request; return a draw in [0, 1) for fault injection."""
        with self._lock:
            self.requests += 1
            return self._random.random()

    def answer(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, bytes]:
        """The status and body for one request (raising `_Refusal` for an error answer)."""
        config = self.config
        url = urlsplit(target)
        if url.path.rstrip("/") != config.path.rstrip("/"):
            raise _Refusal(404, f"no such endpoint: {url.path}")
        if method != "POST":
            raise _Refusal(
                405, f"{method} is not allowed here: use POST", headers={"Allow": "POST"}
            )
        draw = self.count_request()
        faults = config.faults
        if faults.latency:
            time.sleep(faults.latency)
        if config.api_key is not None and headers.get(KEY_HEADER) != config.api_key:
            raise _Refusal(401, "invalid or missing API key (X-WHIPPY-KEY)")
        if draw < faults.rate_limited:
            raise _Refusal(
                429,
                "too many requests: slow down",
                headers={WAIT_HEADER: str(faults.wait_ms)},
            )
        if draw < faults.rate_limited + faults.server_errors:
            raise _Refusal(500, "internal server error (injected)")
        limit, offset = _parameters(parse_qs(url.query, keep_blank_values=True), config.max_limit)
        request = _request(body)
        records, total = self.store.search(request, limit=limit, offset=offset)
        return 200, b'{"data":[' + ",".join(records).encode() + b'],"total":' + str(
            total
        ).encode() + b"}"


def _integer(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        return int(values[-1])
    except ValueError:
        raise _Refusal(400, f"{name} must be an integer, not {values[-1]!r}") from None


def _parameters(query: dict[str, list[str]], max_limit: int) -> tuple[int, int]:
    limit = _integer(query, "limit", DEFAULT_LIMIT)
    offset = _integer(query, "offset", DEFAULT_OFFSET)
    timeout = _integer(query, "timeout", DEFAULT_TIMEOUT)
    problems = []
    if not 1 <= limit <= max_limit:
        problems.append(f"limit must be between 1 and {max_limit}, not {limit}")
    if offset < 0:
        problems.append(f"offset must be 0 or more, not {offset}")
    if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
        problems.append(
            f"timeout must be between {MIN_TIMEOUT} and {MAX_TIMEOUT} ms, not {timeout}"
        )
    if problems:
        raise _Refusal(400, *problems)
    return limit, offset


def _request(body: bytes) -> SearchCallsRequest:
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError:
        raise _Refusal(400, "the body is not valid JSON") from None
    try:
        return SearchCallsRequest.model_validate(data)
    except ValidationError as error:
        descriptions = []
        for problem in error.errors(include_url=False):
            where = ".".join(str(part) for part in problem["loc"])
            descriptions.append(f"{where}: {problem['msg']}" if where else problem["msg"])
        raise _Refusal(422, *descriptions) from None


class _Handler(BaseHTTPRequestHandler):
    server: ReferenceServer
    protocol_version = "HTTP/1.1"
    server_version = "querylang-reference"
    timeout = 60  # seconds an idle keep-alive connection is kept
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK hold the body back some 40 ms.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        request_id = uuid.uuid4().hex
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers: dict[str, str] = {}
        try:
            status, payload = self.server.answer(method, self.path, self.headers, body)
        except _Refusal as refusal:
            status = refusal.status
            headers = refusal.headers
            errors = [{"description": text} for text in refusal.descriptions]
            payload = json.dumps({"errors": errors, "status": status}).encode()
        except Exception:
            _log.exception("request %s failed", request_id)
            status = 500
            payload = json.dumps(
                {"errors": [{"description": "internal server error"}], "status": 500}
            ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Request-Id", request_id)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # The request line and status only: never a header (the key travels in one).
        _log.info("%s %s", self.address_string(), format % args)


@contextmanager
def running(
    store: CallStore | None = None,
    *,
    config: ServerConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[ReferenceServer]:
    """Run a reference server in a background thread for the duration of a `with` block.

    Args:
        store: the calls to serve; an empty in-memory store by default.
        config: path, API key, faults.
        host, port: where to listen; port 0 takes a free port.

    Yields:
        The running server; `base_url` is the client's `base_url`.

    >>> from querylang.client import CallsClient
    >>> with running() as server, CallsClient(base_url=server.base_url) as client:
    ...     client.search("dir:in").total
    0
    """
    server = ReferenceServer(store or CallStore(), config, (host, port))
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="querylang-server", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
