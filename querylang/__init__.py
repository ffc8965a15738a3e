"""querylang: a filter query language for call records, compiled to the Search Calls API body.

    >>> import querylang
    >>> querylang.compile("direction:inbound duration:5s..60s").to_body()
    {'direction': 'INBOUND', 'min_duration': 5000, 'max_duration': 60000}

The stages, each its own module: `parser` (text -> syntax tree), `check` (-> typed query),
`compiler` (-> `SearchCallsRequest`), `format` (-> canonical text, and body -> text), `client`
(-> the Search Calls API over HTTP: `CallsClient`, `AsyncCallsClient`). `querylang.server` is a
local reference server of that API; `saved` reads files of saved queries (`load_queries`).
Names are imported on first use, so that `import querylang` (and `querylang --help`) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from querylang.checker import check
    from querylang.client import (
        AsyncCallsClient,
        AuthenticationError,
        Backoff,
        Call,
        CallsClient,
        InvalidRequestError,
        RateLimitError,
        SearchAPIError,
        SearchPage,
        ServerError,
        TransportError,
    )
    from querylang.compiler import compile, compile_body
    from querylang.completion import Completion, CompletionKind, complete
    from querylang.diagnostics import diagnose
    from querylang.errors import Diagnostic, ErrorCode, QueryError, Span
    from querylang.explanation import Explanation, explain
    from querylang.field_schema import schema_json
    from querylang.formatter import decompile, format
    from querylang.highlight import Token, TokenKind, tokens
    from querylang.limits import Limits
    from querylang.parser import parse
    from querylang.request import SearchCallsRequest
    from querylang.saved import ConfigError, SavedQuery, load_queries
    from querylang.schema import Schema, default_schema

__all__ = [
    "AsyncCallsClient",
    "AuthenticationError",
    "Backoff",
    "Call",
    "CallsClient",
    "Completion",
    "CompletionKind",
    "ConfigError",
    "Diagnostic",
    "ErrorCode",
    "Explanation",
    "InvalidRequestError",
    "Limits",
    "QueryError",
    "RateLimitError",
    "SavedQuery",
    "Schema",
    "SearchAPIError",
    "SearchCallsRequest",
    "SearchPage",
    "ServerError",
    "Span",
    "Token",
    "TokenKind",
    "TransportError",
    "check",
    "compile",
    "compile_body",
    "complete",
    "decompile",
    "default_schema",
    "diagnose",
    "explain",
    "format",
    "load_queries",
    "parse",
    "schema_json",
    "tokens",
]

_HOMES = {
    "AsyncCallsClient": "querylang.client",
    "AuthenticationError": "querylang.client",
    "Backoff": "querylang.client",
    "Call": "querylang.client",
    "CallsClient": "querylang.client",
    "Completion": "querylang.completion",
    "CompletionKind": "querylang.completion",
    "ConfigError": "querylang.saved",
    "Diagnostic": "querylang.errors",
    "ErrorCode": "querylang.errors",
    "Explanation": "querylang.explanation",
    "InvalidRequestError": "querylang.client",
    "Limits": "querylang.limits",
    "QueryError": "querylang.errors",
    "RateLimitError": "querylang.client",
    "SavedQuery": "querylang.saved",
    "Schema": "querylang.schema",
    "SearchAPIError": "querylang.client",
    "SearchCallsRequest": "querylang.request",
    "SearchPage": "querylang.client",
    "ServerError": "querylang.client",
    "Span": "querylang.errors",
    "Token": "querylang.highlight",
    "TokenKind": "querylang.highlight",
    "TransportError": "querylang.client",
    "check": "querylang.checker",
    "compile": "querylang.compiler",
    "compile_body": "querylang.compiler",
    "complete": "querylang.completion",
    "decompile": "querylang.formatter",
    "default_schema": "querylang.schema",
    "diagnose": "querylang.diagnostics",
    "explain": "querylang.explanation",
    "format": "querylang.formatter",
    "load_queries": "querylang.saved",
    "parse": "querylang.parser",
    "schema_json": "querylang.field_schema",
    "tokens": "querylang.highlight",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'querylang' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
