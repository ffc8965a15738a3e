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
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from querylang.client import SearchPage
    from querylang.errors import QueryError
    from querylang.explanation import Explanation

from querylang.call_output import DEFAULT_COLUMNS, OUTPUTS

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

    def add_now_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--now",
            metavar="ISO",
            help="the instant relative dates count back from, with an offset (default: now)",
        )

    def add_time_options(command: argparse.ArgumentParser) -> None:
        add_now_option(command)
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

    def add_search_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--limit",
            type=_positive,
            default=50,
            metavar="N",
            help="calls per request; without --all, the one page printed (default: 50)",
        )
        command.add_argument(
            "--all", action="store_true", help="follow the pages and print every matching call"
        )
        command.add_argument(
            "--output",
            choices=OUTPUTS,
            help="table, json, ndjson or csv (default: table on a terminal, json otherwise)",
        )
        command.add_argument(
            "--columns",
            metavar="A,B",
            help=f"the fields to print, comma-separated (default: {','.join(DEFAULT_COLUMNS)})",
        )
        command.add_argument(
            "--base-url",
            metavar="URL",
            help="the API's base URL (default: https://api.whippy.co/v1); key: WHIPPY_API_KEY",
        )

    search_command = commands.add_parser(
        "search", help="run a query against the Search Calls API and print the calls"
    )
    add_query_options(search_command)
    search_command.set_defaults(command_parser=search_command)
    add_time_options(search_command)
    add_search_options(search_command)

    check_command = commands.add_parser(
        "check", help="check the saved queries of TOML files; --fix rewrites them canonically"
    )
    check_command.set_defaults(command_parser=check_command)
    check_command.add_argument("files", nargs="+", metavar="FILE", help="TOML files of queries")
    check_command.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (path:line:col: code: message) or json (default: text)",
    )
    check_command.add_argument(
        "--fix",
        action="store_true",
        help="rewrite each valid query in its canonical form, in place, and nothing else",
    )
    add_now_option(check_command)

    run_command = commands.add_parser(
        "run", help="run a saved query against the Search Calls API and print the calls"
    )
    run_command.set_defaults(command_parser=run_command)
    run_command.add_argument("name", metavar="NAME", help="the saved query's name")
    run_command.add_argument(
        "--config",
        metavar="FILE",
        help="the TOML file of saved queries (default: ./querylang.toml, else "
        "$XDG_CONFIG_HOME/querylang/queries.toml, ~/.config by default)",
    )
    add_now_option(run_command)
    add_search_options(run_command)

    fields_command = commands.add_parser(
        "fields", help="list the fields a query can filter on (--json: JSON Schema and metadata)"
    )
    fields_command.set_defaults(command_parser=fields_command)
    fields_command.add_argument(
        "--json",
        action="store_true",
        help="print the JSON Schema of the filters, with the language's metadata",
    )

    shell_command = commands.add_parser(
        "shell", help="an interactive prompt with completion, colours and live diagnostics"
    )
    shell_command.set_defaults(command_parser=shell_command)
    shell_command.add_argument(
        "--history",
        metavar="FILE",
        help="where to keep the input history "
        "(default: $XDG_STATE_HOME/querylang/history, ~/.local/state by default)",
    )
    shell_command.add_argument(
        "--region",
        default="US",
        metavar="CC",
        help="phone region for numbers without a country code (default: US)",
    )
    add_time_options(shell_command)
    shell_command.add_argument(
        "--base-url",
        metavar="URL",
        help="search this API on Enter (the key is WHIPPY_API_KEY; with only the key set, the "
        "default API); without either, Enter prints the body",
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
    handler = _COMMANDS.get(args.command, _query_command)
    return handler(args)


def _query_command(args: argparse.Namespace) -> int:
    """compile, explain, format and search: one query from the command line or stdin."""
    text = sys.stdin.read().rstrip("\r\n") if args.query == "-" else args.query
    # Imported only now: `--help` and usage errors must not pay for Lark and pydantic.
    from querylang.errors import QueryError

    region = _region(args)
    try:
        if args.command == "format":
            from querylang.formatter import format as format_query

            print(format_query(text, region=region))
            return EXIT_OK
        tz, now = _time_zone(args), _instant(args.command_parser.error, args.now)
        if args.command == "explain":
            from querylang.explanation import explain

            _print_explanation(explain(text, now=now, tz=tz, region=region), args.json)
            return EXIT_OK
        if args.command == "search":
            from querylang.compiler import compile as compile_query

            return _search(args, compile_query(text, now=now, tz=tz, region=region))
        # The body without the pydantic model: `compile` needs no pydantic (see compile_body).
        from querylang.compiler import compile_body

        body = compile_body(text, now=now, tz=tz, region=region)
        print(json.dumps(body, indent=2, ensure_ascii=False))
    except QueryError as error:
        _report(error, args.errors)
        return EXIT_QUERY_ERROR
    return EXIT_OK


def _region(args: argparse.Namespace) -> str:
    """The --region option, checked (a usage error if libphonenumber does not know it)."""
    from querylang.values import phone_region

    usage_error: Callable[[str], NoReturn] = args.command_parser.error
    try:
        return phone_region(args.region)
    except ValueError as error:
        usage_error(f"--region: {error}")


def _time_zone(args: argparse.Namespace) -> str:
    """The --tz option, checked (a usage error if it is no IANA time zone)."""
    from querylang.values import time_zone

    usage_error: Callable[[str], NoReturn] = args.command_parser.error
    try:
        time_zone(args.tz)
    except ValueError as error:
        usage_error(f"--tz: {error}")
    return str(args.tz)


def _fields(args: argparse.Namespace) -> int:
    from querylang.field_schema import fields_table, schema_json

    print(json.dumps(schema_json(), indent=2, ensure_ascii=False) if args.json else fields_table())
    return EXIT_OK


def _shell(args: argparse.Namespace) -> int:
    region, tz = _region(args), _time_zone(args)
    now = _instant(args.command_parser.error, args.now)
    try:
        from querylang.shell import run_shell
    except ImportError as error:  # prompt_toolkit is the optional `shell` extra
        print(f"querylang shell: {error}", file=sys.stderr)
        print("hint: pip install 'querylang[shell]'", file=sys.stderr)
        return EXIT_USAGE
    from pathlib import Path

    history = Path(args.history) if args.history else None
    return run_shell(history=history, tz=tz, region=region, now=now, base_url=args.base_url)


def _check(args: argparse.Namespace) -> int:
    """Check files of saved queries; with --fix, rewrite their valid queries canonically."""
    from querylang.saved import check_file

    now = _instant(args.command_parser.error, args.now)
    reports = [check_file(path, now=now, fix=args.fix) for path in args.files]
    if args.format == "json":
        print(json.dumps({"files": [r.to_dict() for r in reports]}, indent=2, ensure_ascii=False))
    else:
        for report in reports:
            for problem in report.problems:
                print(problem)
            if report.rewritten:
                print(f"{report.path}: rewrote {', '.join(report.rewritten)}", file=sys.stderr)
    return EXIT_QUERY_ERROR if any(report.problems for report in reports) else EXIT_OK


def _run(args: argparse.Namespace) -> int:
    """Run a saved query: compile it with its own options, then search as `search` does."""
    from querylang.errors import QueryError
    from querylang.saved import QueryFile, default_config_paths

    usage_error: Callable[[str], NoReturn] = args.command_parser.error
    candidates = default_config_paths()
    path = args.config or next((p for p in candidates if p.is_file()), None)
    if path is None:
        places = " or ".join(str(candidate) for candidate in candidates)
        usage_error(f"no file of saved queries: pass --config FILE or create {places}")
    try:
        source = QueryFile.read(path)
    except OSError as error:
        usage_error(f"--config: cannot read {str(path)!r}: {error.strerror}")
    # Problems in other queries' tables do not stop this one.
    problems = [p for p in source.problems if p.query in (None, args.name)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return EXIT_QUERY_ERROR
    saved = source.queries.get(args.name)
    if saved is None:
        import difflib

        close = difflib.get_close_matches(args.name, source.queries, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        usage_error(f"no saved query {args.name!r} in {str(path)!r}{hint}")
    try:
        request = saved.compile(now=_instant(usage_error, args.now))
    except QueryError as error:
        for problem in source.problems_in(saved.name, error):
            print(problem, file=sys.stderr)
        return EXIT_QUERY_ERROR
    return _search(args, request)


def _print_explanation(explanation: Explanation, as_json: bool) -> None:
    if as_json:
        print(json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(explanation)


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


def _search(args: argparse.Namespace, request: Any) -> int:
    from querylang.call_output import CallWriter, Progress
    from querylang.client import DEFAULT_BASE_URL, AuthenticationError, CallsClient, SearchAPIError

    names = None
    if args.columns is not None:
        names = [name.strip() for name in args.columns.split(",") if name.strip()]
        if not names:
            args.command_parser.error("--columns: name at least one column")
    output = args.output or ("table" if sys.stdout.isatty() else "json")
    writer = CallWriter(output, names, sys.stdout)
    progress = Progress(sys.stderr) if args.all and sys.stderr.isatty() else None
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
        print(f"querylang {args.command}: error: {error}", file=sys.stderr)
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


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": _check,
    "fields": _fields,
    "run": _run,
    "serve": _serve,
    "shell": _shell,
}

if __name__ == "__main__":
    sys.exit(main())
