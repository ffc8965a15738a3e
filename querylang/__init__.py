"""querylang: a filter query language for call records, compiled to the Search Calls API body.

    >>> import querylang
    >>> querylang.compile("direction:inbound duration:5s..60s").to_body()
    {'direction': 'INBOUND', 'min_duration': 5000, 'max_duration': 60000}

The stages, each its own module: `parser` (text -> syntax tree), `check` (-> typed query),
`compiler` (-> `SearchCallsRequest`), `format` (-> canonical text, and body -> text).
Names are imported on first use, so that `import querylang` (and `querylang --help`) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from querylang.checker import check
    from querylang.compiler import compile
    from querylang.errors import Diagnostic, ErrorCode, QueryError, Span
    from querylang.formatter import decompile, format
    from querylang.limits import Limits
    from querylang.parser import parse
    from querylang.request import SearchCallsRequest
    from querylang.schema import Schema, default_schema

__all__ = [
    "Diagnostic",
    "ErrorCode",
    "Limits",
    "QueryError",
    "Schema",
    "SearchCallsRequest",
    "Span",
    "check",
    "compile",
    "decompile",
    "default_schema",
    "format",
    "parse",
]

_HOMES = {
    "Diagnostic": "querylang.errors",
    "ErrorCode": "querylang.errors",
    "Limits": "querylang.limits",
    "QueryError": "querylang.errors",
    "Schema": "querylang.schema",
    "SearchCallsRequest": "querylang.request",
    "Span": "querylang.errors",
    "check": "querylang.checker",
    "compile": "querylang.compiler",
    "decompile": "querylang.formatter",
    "default_schema": "querylang.schema",
    "format": "querylang.formatter",
    "parse": "querylang.parser",
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
