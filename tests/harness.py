"""What several test files share: running the command, a child interpreter on this checkout, and
the reference server on loopback. The fixtures built on them are in conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from querylang.server import CallStore, ReferenceServer, ServerConfig, running

REPO = Path(__file__).resolve().parents[1]


class Run(NamedTuple):
    """How a run of the command ended: its exit code and what it printed."""

    code: int
    out: str
    err: str


def checkout_env(**variables: str) -> dict[str, str]:
    """The environment for a child interpreter that imports querylang from this checkout."""
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), **variables}


def run_python(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Run:
    """Run `python ARGS` in a child interpreter that imports querylang from this checkout."""
    result = subprocess.run(
        [sys.executable, *args],
        input=stdin,
        cwd=cwd,
        env=env or checkout_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    return Run(result.returncode, result.stdout, result.stderr)


@contextmanager
def serving(calls: Iterable[dict[str, Any]], api_key: str | None) -> Iterator[ReferenceServer]:
    """The reference server on a free loopback port, holding `calls`."""
    store = CallStore()
    store.insert(calls)
    with running(store, config=ServerConfig(api_key=api_key)) as server:
        yield server
    # The store stays open: a handler still sleeping out an injected latency may yet read it.
