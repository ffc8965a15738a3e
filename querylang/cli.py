"""The `querylang` command: compile, format and search queries, and serve sample calls.

Exit codes: 0 success, 1 a bad query (diagnostics on stderr), 2 a usage error, 3 an API error
(`search`). Only the standard library is imported at start-up, so that `querylang --help` answers
at once; the compiler (Lark, pydantic) and the client (httpx) are imported by the commands that
need them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from querylang.client import Call, SearchPage
    from querylang.errors import QueryError
    from querylang.explanation import Explanation

EXIT_OK, EXIT_QUERY_ERROR, EXIT_USAGE, EXIT_API_ERROR = 0, 1, 2, 3

_EXAMPLES = """\
examples:
  querylang compile 'direction:inbound duration:5s..60s after:-7d'
  querylang compile --tz Europe/Paris --now 2024-03-01T12:00:00Z 'created:yesterday'
  querylang explain --now 2024-03-10T12:00:00Z 'dir:in duration:5s..60s created:yesterday'
  echo 'dir:IN agent:(A, B)' | querylang format -
  querylang serve --sample 10000
  querylang search --base-url http://127.0.0.1:8000/v1 'dir:in duration:>5m after:-7d'
"""

OUTPUTS = ("table", "json", "ndjson", "csv")
DEFAULT_COLUMNS = ("created_at", "direction", "from", "to", "duration", "delivery_status", "id")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="querylang",
        description="Compile call-record filter queries into Search Calls bodies, and run them.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_query_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("query", metavar="QUERY", help="the query, or - to read it from stdin")
        command.add_argument(
            "--region",
            default="US",
            metavar="CC",
            help="phone region for numbers without a country code (default: US)",
        )
        command.add_argument(
            "--errors",
            choices=("text", "json"),
            default="text",
            help="how to print diagnostics on stderr (default: text)",
        )

    def add_time_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--now",
            metavar="ISO",
            help="the instant relative dates count back from, with an offset (default: now)",
        )
        command.add_argument(
            "--tz",
            default="UTC",
            metavar="NAME",
            help="IANA time zone for dates, unless the query sets tz: (default: UTC)",
        )

    compile_command = commands.add_parser(
        "compile", help="print the request body of a query as JSON"
    )
    add_query_options(compile_command)
    compile_command.set_defaults(command_parser=compile_command)
    add_time_options(compile_command)
    explain_command = commands.add_parser(
        "explain", help="say what a query searches for: a sentence, and each body field's source"
    )
    add_query_options(explain_command)
    explain_command.set_defaults(command_parser=explain_command)
    add_time_options(explain_command)
    explain_command.add_argument(
        "--json", action="store_true", help="print the explanation as JSON data"
    )
    format_command = commands.add_parser("format", help="print a query in canonical form")
    add_query_options(format_command)
    format_command.set_defaults(command_parser=format_command)

    search_command = commands.add_parser(
        "search", help="run a query against the Search Calls API and print the calls"
    )
    add_query_options(search_command)
    search_command.set_defaults(command_parser=search_command)
    add_time_options(search_command)
    search_command.add_argument(
        "--limit",
        type=_positive,
        default=50,
        metavar="N",
        help="calls per request; without --all, the one page printed (default: 50)",
    )
    search_command.add_argument(
        "--all", action="store_true", help="follow the pages and print every matching call"
    )
    search_command.add_argument(
        "--output",
        choices=OUTPUTS,
        help="table, json, ndjson or csv (default: table on a terminal, json otherwise)",
    )
    search_command.add_argument(
        "--columns",
        metavar="A,B",
        help=f"the fields to print, comma-separated (default: {','.join(DEFAULT_COLUMNS)})",
    )
    search_command.add_argument(
        "--base-url",
        metavar="URL",
        help="the API's base URL (default: https://api.whippy.co/v1); the key is WHIPPY_API_KEY",
    )

    serve_command = commands.add_parser(
        "serve", help="run the local reference server of the Search Calls API"
    )
    serve_command.set_defaults(command_parser=serve_command)
    serve_command.add_argument(
        "--db", metavar="PATH", help="the SQLite database file (default: in memory)"
    )
    serve_command.add_argument(
        "--sample",
        type=_non_negative,
        default=0,
        metavar="N",
        help="add N synthetic calls from the last 90 days first (default: 0)",
    )
    serve_command.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)"
    )
    serve_command.add_argument(
        "--port",
        type=_non_negative,
        default=8000,
        help="the port, 0 for any free one (default: 8000)",
    )
    serve_command.add_argument(
        "--api-key",
        metavar="KEY",
        help="require this X-WHIPPY-KEY (default: accept any request)",
    )
    serve_command.add_argument(
        "--rate-limited",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="answer this fraction of requests with 429 (default: 0)",
    )
    serve_command.add_argument(
        "--server-errors",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="answer this fraction of requests with 500 (default: 0)",
    )
    serve_command.add_argument(
        "--latency",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait this long before each answer (default: 0)",
    )
    return parser


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not 1 or more")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _seconds(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 1")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code (argparse exits with 2 on a usage error)."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    text = sys.stdin.read().rstrip("\r\n") if args.query == "-" else args.query
    # Imported only now: `--help` and usage errors must not pay for Lark and pydantic.
    from querylang.errors import QueryError
    from querylang.values import phone_region

    usage_error = args.command_parser.error
    try:
        region = phone_region(args.region)
    except ValueError as error:
        usage_error(f"--region: {error}")
    try:
        if args.command in ("compile", "search", "explain"):
            from querylang.compiler import compile as compile_query
            from querylang.values import time_zone

            try:
                time_zone(args.tz)
            except ValueError as error:
                usage_error(f"--tz: {error}")
            now = _instant(usage_error, args.now)
            if args.command == "explain":
                from querylang.explanation import explain

                _print_explanation(explain(text, now=now, tz=args.tz, region=region), args.json)
                return EXIT_OK
            request = compile_query(text, now=now, tz=args.tz, region=region)
            if args.command == "search":
                return _search(args, request)
            print(json.dumps(request.to_body(), indent=2, ensure_ascii=False))
        else:
            from querylang.formatter import format as format_query

            print(format_query(text, region=region))
    except QueryError as error:
        _report(error, args.errors)
        return EXIT_QUERY_ERROR
    return EXIT_OK


def _print_explanation(explanation: Explanation, as_json: bool) -> None:
    if as_json:
        print(json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False))
        return
    print(explanation.sentence)
    width = max((len(field.key) for field in explanation.fields), default=0)
    for field in explanation.fields:
        line = f"  {field.key:<{width}}  {json.dumps(field.value, ensure_ascii=False)}"
        if field.instant is not None:
            line += f"  ({field.instant.local} in {explanation.time_zone})"
        sources = ", ".join(explanation.query[s.start : s.end] for s in field.sources)
        print(f"{line}  <- {sources}" if sources else line)


def _instant(usage_error: Callable[[str], NoReturn], text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        usage_error(f"--now: {text!r} is not an ISO 8601 date-time")
    if moment.tzinfo is None:
        usage_error(f"--now: {text!r} needs an offset, such as Z or +02:00")
    return moment


def _report(error: QueryError, style: str) -> None:
    if style == "json":
        print(json.dumps(error.to_dict(), ensure_ascii=False), file=sys.stderr)
    else:
        print(error, file=sys.stderr)


# --- search ------------------------------------------------------------------------------------

# Columns that are not a top-level key of the record; anything else is a key, or a dotted path.
_COLUMN_PATHS = {
    "duration": ("metadata", "duration"),
    "agent_id": ("metadata", "agent_id"),
    "agent_version_id": ("metadata", "agent_version_id"),
    "call_completion_rating": ("metadata", "analysis", "call_completion_rating"),
    "voicemail": ("metadata", "analysis", "voicemail"),
}
# Query fields whose column has another name.
_FIELD_COLUMNS = {
    "after": "created_at",
    "before": "created_at",
    "created": "created_at",
    "min_duration": "duration",
    "max_duration": "duration",
}
_DURATION_PATH = ("metadata", "duration")


def _column_path(name: str) -> tuple[str, ...]:
    """Where a column's value sits in a record: a query field name or alias (`rating`), a record
    key (`body`), or a dotted path (`metadata.analysis.sentiment`)."""
    from querylang.schema import default_schema

    field = default_schema().field(name)
    if field is not None:
        name = _FIELD_COLUMNS.get(field.name, field.name)
    return _COLUMN_PATHS.get(name, tuple(name.split(".")))


def _search(args: argparse.Namespace, request: Any) -> int:
    from querylang.client import DEFAULT_BASE_URL, AuthenticationError, CallsClient, SearchAPIError

    names = None
    if args.columns is not None:
        names = [name.strip() for name in args.columns.split(",") if name.strip()]
        if not names:
            args.command_parser.error("--columns: name at least one column")
    output = args.output or ("table" if sys.stdout.isatty() else "json")
    writer = _Writer(output, names, sys.stdout)
    progress = _Progress(sys.stderr) if args.all and sys.stderr.isatty() else None
    shown = total = 0
    try:
        with CallsClient(base_url=args.base_url or DEFAULT_BASE_URL) as client:
            pages: Any = (
                client.iter_pages(request, page_size=args.limit)
                if args.all
                else [client.search(request, limit=args.limit)]
            )
            page: SearchPage
            for page in pages:
                writer.write(page.data)
                shown, total = shown + len(page.data), page.total
                if progress:
                    progress.show(shown, total)
    except SearchAPIError as error:
        if progress:
            progress.clear()
        print(f"querylang search: error: {error}", file=sys.stderr)
        if isinstance(error, AuthenticationError):
            print("hint: set the API key in the WHIPPY_API_KEY variable", file=sys.stderr)
        return EXIT_API_ERROR
    if progress:
        progress.clear()
    try:
        writer.finish()
        sys.stdout.flush()
    except BrokenPipeError:
        pass  # `querylang search ... | head`: the reader has what it wanted
    if not args.all and shown < total and sys.stderr.isatty():
        print(f"{shown} of {total} calls; --all prints every one", file=sys.stderr)
    return EXIT_OK


class _Progress:
    """A one-line progress bar, redrawn in place (only ever drawn on a terminal)."""

    def __init__(self, stream: IO[str], width: int = 30) -> None:
        self.stream = stream
        self.width = width

    def show(self, done: int, total: int) -> None:
        filled = self.width if total <= 0 else min(self.width, self.width * done // total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} calls")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


class _Writer:
    """Prints calls as they come: JSON and NDJSON records (all fields, or the columns named),
    CSV and table rows (the columns). A table is written at the end, to align its columns."""

    def __init__(self, output: str, names: list[str] | None, stream: IO[str]) -> None:
        self.output = output
        self.stream = stream
        self.names = (
            names
            if names is not None
            else (None if output in ("json", "ndjson") else list(DEFAULT_COLUMNS))
        )
        self.paths = [_column_path(name) for name in self.names or ()]
        self.count = 0
        self.rows: list[list[str]] = []
        if output == "csv":
            import csv

            self.csv = csv.writer(stream, lineterminator="\n")
            self.csv.writerow(self.names or ())

    def write(self, calls: list[Call]) -> None:
        for call in calls:
            record = call.to_dict()
            if self.output in ("json", "ndjson"):
                if self.names is not None:
                    record = {
                        n: _reach(record, p) for n, p in zip(self.names, self.paths, strict=True)
                    }
                text = json.dumps(record, ensure_ascii=False)
                if self.output == "json":
                    text = ("[\n" if self.count == 0 else ",\n") + text
                self.stream.write(text + ("\n" if self.output == "ndjson" else ""))
            elif self.output == "csv":
                self.csv.writerow([_plain(_reach(record, path)) for path in self.paths])
            else:
                self.rows.append([_cell(_reach(record, path), path) for path in self.paths])
            self.count += 1

    def finish(self) -> None:
        if self.output == "json":
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.output == "table":
            header = [name.upper() for name in self.names or ()]
            rows = [header, *self.rows]
            widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
            for row in rows:
                cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                self.stream.write("  ".join(cells).rstrip() + "\n")


def _reach(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        record = record.get(key) if isinstance(record, dict) else None
    return record


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _cell(value: Any, path: tuple[str, ...]) -> str:
    """A value as a table shows it: durations spelled (`1m30s`), instants to the second."""
    if path == _DURATION_PATH and isinstance(value, int) and not isinstance(value, bool):
        from querylang.values import spell_duration

        return spell_duration(value)
    text = _plain(value)
    if isinstance(value, str) and len(text) > 20 and text[10:11] == "T" and text.endswith("Z"):
        return text[:19] + "Z"
    return text


# --- serve -------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import logging
    import sqlite3

    from querylang.sample import sample_calls
    from querylang.server import CallStore, Faults, ReferenceServer, ServerConfig

    try:
        store = CallStore(args.db or ":memory:")
    except sqlite3.Error as error:
        args.command_parser.error(f"--db: cannot open {args.db!r}: {error}")
    if args.sample:
        store.insert(sample_calls(args.sample))
    faults = Faults(
        rate_limited=args.rate_limited, server_errors=args.server_errors, latency=args.latency
    )
    config = ServerConfig(api_key=args.api_key, faults=faults)
    try:
        server = ReferenceServer(store, config, (args.host, args.port))
    except OSError as error:
        args.command_parser.error(f"cannot listen on {args.host}:{args.port}: {error}")
    log = logging.getLogger("querylang.server")
    log.setLevel(logging.INFO)
    log.addHandler(logging.StreamHandler(sys.stderr))
    print(
        f"serving {store.count()} calls at {server.base_url} (POST {config.path}); Ctrl-C to stop",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
