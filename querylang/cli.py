"""The `querylang` command: compile and format queries from the shell.

Exit codes: 0 success, 1 a bad query (diagnostics on stderr), 2 a usage error. Only the standard
library is imported at start-up, so that `querylang --help` answers at once; the compiler (Lark,
pydantic) is imported by the commands that need it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from querylang.errors import QueryError

EXIT_OK, EXIT_QUERY_ERROR, EXIT_USAGE = 0, 1, 2

_EXAMPLES = """\
examples:
  querylang compile 'direction:inbound duration:5s..60s after:-7d'
  querylang compile --tz Europe/Paris --now 2024-03-01T12:00:00Z 'created:yesterday'
  echo 'dir:IN agent:(A, B)' | querylang format -
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="querylang",
        description="Compile call-record filter queries into Search Calls request bodies.",
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

    compile_command = commands.add_parser(
        "compile", help="print the request body of a query as JSON"
    )
    add_query_options(compile_command)
    compile_command.set_defaults(command_parser=compile_command)
    compile_command.add_argument(
        "--now",
        metavar="ISO",
        help="the instant relative dates count back from, with an offset (default: now)",
    )
    compile_command.add_argument(
        "--tz",
        default="UTC",
        metavar="NAME",
        help="IANA time zone for dates, unless the query sets tz: (default: UTC)",
    )
    format_command = commands.add_parser("format", help="print a query in canonical form")
    add_query_options(format_command)
    format_command.set_defaults(command_parser=format_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code (argparse exits with 2 on a usage error)."""
    args = _parser().parse_args(argv)
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
        if args.command == "compile":
            from querylang.compiler import compile as compile_query
            from querylang.compiler import time_zone

            try:
                time_zone(args.tz)
            except ValueError as error:
                usage_error(f"--tz: {error}")
            now = _instant(usage_error, args.now)
            body = compile_query(text, now=now, tz=args.tz, region=region).to_body()
            print(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            from querylang.formatter import format as format_query

            print(format_query(text, region=region))
    except QueryError as error:
        _report(error, args.errors)
        return EXIT_QUERY_ERROR
    return EXIT_OK


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


if __name__ == "__main__":
    sys.exit(main())
