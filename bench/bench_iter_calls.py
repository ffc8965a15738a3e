"""Benchmark: `CallsClient.iter_calls` over the local reference server's sample calls.

Starts `querylang serve --sample N` in a child process (so that the server's memory is not
counted), then pages through every call with `iter_calls` and reports calls per second (best of
`--repeat` runs) and the client's peak traced memory (tracemalloc) as the number of calls read
grows, streaming and, for contrast, keeping every call in a list.

    python bench/bench_iter_calls.py                       # 10,000 calls, pages of 500
    python bench/bench_iter_calls.py --count 50000 --page-size 250
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from querylang.client import CallsClient  # noqa: E402


@contextmanager
def serve(count: int) -> Iterator[str]:
    """A reference server with `count` sample calls, in a child process; yields its base URL."""
    command = [sys.executable, "-m", "querylang", "serve", "--port", "0", "--sample", str(count)]
    child = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stderr is not None
        banner = child.stderr.readline()
        found = re.search(r"http://\S+", banner)
        if found is None:
            raise RuntimeError(f"the server did not start: {banner!r}")
        # The server logs every request on stderr: read it all, or it stalls on a full pipe.
        threading.Thread(target=child.stderr.read, daemon=True).start()
        yield found.group(0)
    finally:
        child.terminate()
        child.wait(timeout=10)


def peak_memory(work: Callable[[], object]) -> int:
    """The peak of memory allocated (and traced) while `work` runs, in bytes."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="sample calls (10000)")
    parser.add_argument("--page-size", type=int, default=500, help="calls per request (500)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs, best kept (5)")
    args = parser.parse_args()

    with serve(args.count) as base_url, CallsClient(base_url=base_url) as client:

        def stream(limit: int | None = None) -> int:
            return sum(1 for _ in client.iter_calls("", page_size=args.page_size, max_items=limit))

        assert stream() == args.count, "the server does not hold the sample"
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            stream()
            timings.append(time.perf_counter() - start)
        best = min(timings)
        pages = -(-args.count // args.page_size)
        print(f"iter_calls: {args.count} calls, pages of {args.page_size} ({pages} requests)")
        print(
            f"  {args.count / best:,.0f} calls/s (best of {args.repeat}: {best * 1000:.0f} ms; "
            f"median {sorted(timings)[len(timings) // 2] * 1000:.0f} ms)"
        )
        print("  peak traced memory of the client, by calls read:")
        print("    calls    streaming    kept in a list")
        for fraction in (0.1, 0.25, 0.5, 1.0):
            limit = int(args.count * fraction)
            streaming = peak_memory(lambda limit=limit: stream(limit))  # type: ignore[misc]
            kept = peak_memory(
                lambda limit=limit: list(  # type: ignore[misc]
                    client.iter_calls("", page_size=args.page_size, max_items=limit)
                )
            )
            print(f"    {limit:>6}  {streaming / 2**20:8.1f} MiB  {kept / 2**20:10.1f} MiB")


if __name__ == "__main__":
    main()
