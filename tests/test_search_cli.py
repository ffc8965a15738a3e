"""`querylang search` and `querylang serve`: in-process through `querylang.cli.main` against the
reference server on loopback, and `serve` as a real child process."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from harness import Run, checkout_env, run_python

from querylang.cli import main
from querylang.sample import sample_calls
from querylang.server import CallStore, ReferenceServer, running

KEY = "cli-secret-key-2718281828"
NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
COUNT = 230
CALLS = list(sample_calls(COUNT, seed=4, now=NOW))
NEWEST_FIRST = sorted(CALLS, key=lambda call: (call["created_at"], call["id"]), reverse=True)


@pytest.fixture
def search(
    server: ReferenceServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Run `querylang search --base-url URL ARGS`; `tty` makes stdout and stderr terminals."""
    monkeypatch.setenv("WHIPPY_API_KEY", KEY)

    def run(args: Sequence[str], *, tty: bool = False, key: str | None = KEY) -> Run:
        if key is None:
            monkeypatch.delenv("WHIPPY_API_KEY", raising=False)
        else:
            monkeypatch.setenv("WHIPPY_API_KEY", key)
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
        monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
        try:
            code = main(["search", "--base-url", server.base_url, *args])
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["id"] for record in records]


def test_json_when_piped(search: Any) -> None:
    run = search(["--limit", "5", "dir:in"])
    assert (run.code, run.err) == (0, "")
    inbound = [call for call in NEWEST_FIRST if call["direction"] == "INBOUND"]
    assert json.loads(run.out) == inbound[:5]  # whole records, as the server sent them


def test_all_follows_pages(search: Any, server: ReferenceServer) -> None:
    before = server.requests
    run = search(["--all", "--limit", "50", "--output", "ndjson", ""])
    assert run.code == 0
    assert ids([json.loads(line) for line in run.out.splitlines()]) == ids(NEWEST_FIRST)
    assert server.requests - before == 5
    assert run.err == ""  # no progress bar: stderr is not a terminal


def test_progress_bar_only_on_a_terminal(search: Any) -> None:
    run = search(["--all", "--limit", "100", "--output", "json", "dir:in"], tty=True)
    assert run.code == 0
    inbound = [call for call in NEWEST_FIRST if call["direction"] == "INBOUND"]
    assert f"] 100/{len(inbound)} calls" in run.err
    assert run.err.endswith("\r\x1b[K")
    assert ids(json.loads(run.out)) == ids(inbound)


def test_table_on_a_terminal(search: Any) -> None:
    run = search(["--limit", "3", "dir:out rating:complete"], tty=True)
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[0].split() == [
        "CREATED_AT",
        "DIRECTION",
        "FROM",
        "TO",
        "DURATION",
        "DELIVERY_STATUS",
        "ID",
    ]
    assert len(lines) == 4
    expected = [
        call
        for call in NEWEST_FIRST
        if call["direction"] == "OUTBOUND"
        and call["metadata"]["analysis"].get("call_completion_rating") == "Complete"
    ]
    first = lines[1].split()
    assert first[0] == expected[0]["created_at"][:19] + "Z"
    assert first[-1] == expected[0]["id"]
    assert first[4].endswith(("s", "ms"))  # durations spelled like the language, 1m30s
    assert f"3 of {len(expected)} calls; --all prints every one" in run.err


def test_columns_with_field_names_aliases_and_paths(search: Any) -> None:
    columns = "id,rating,agent,duration,metadata.analysis.voicemail,status"
    run = search(["--limit", "4", "--columns", columns, "--output", "ndjson", "--", "-dir:in"])
    assert run.code == 0
    outbound = [call for call in NEWEST_FIRST if call["direction"] == "OUTBOUND"][:4]
    assert [json.loads(line) for line in run.out.splitlines()] == [
        {
            "id": call["id"],
            "rating": call["metadata"]["analysis"].get("call_completion_rating"),
            "agent": call["metadata"]["agent_id"],
            "duration": call["metadata"]["duration"],
            "metadata.analysis.voicemail": call["metadata"]["analysis"]["voicemail"],
            "status": call["delivery_status"],
        }
        for call in outbound
    ]


def test_csv(search: Any) -> None:
    run = search(["--limit", "100", "--all", "--output", "csv", "--columns", "id,voicemail", ""])
    rows = list(csv.reader(io.StringIO(run.out)))
    assert rows[0] == ["id", "voicemail"]
    assert rows[1:] == [
        [call["id"], "true" if call["metadata"]["analysis"]["voicemail"] else "false"]
        for call in NEWEST_FIRST
    ]


def test_compile_options_apply(search: Any) -> None:
    day = NEWEST_FIRST[0]["created_at"][:10]
    run = search(["--tz", "Asia/Tokyo", "--output", "ndjson", "--limit", "500", f"created:{day}"])
    tokyo = [
        call
        for call in NEWEST_FIRST
        if datetime.fromisoformat(call["created_at"]).astimezone(ZoneInfo("Asia/Tokyo")).date()
        == date.fromisoformat(day)
    ]
    assert tokyo
    assert ids([json.loads(line) for line in run.out.splitlines()]) == ids(tokyo)


def test_empty_result(search: Any) -> None:
    run = search(["agent:00000000-0000-4000-8000-000000000000"])
    assert (run.code, run.out) == (0, "[]\n")
    assert search(["--output", "table", "agent:00000000-0000-4000-8000-000000000000"]).out == (
        "CREATED_AT  DIRECTION  FROM  TO  DURATION  DELIVERY_STATUS  ID\n"
    )


def test_query_error_exits_1_before_any_request(search: Any, server: ReferenceServer) -> None:
    before = server.requests
    run = search(["--errors", "json", "dir:up"])
    assert (run.code, run.out) == (1, "")
    assert json.loads(run.err)["diagnostics"][0]["code"] == "invalid_value"
    assert server.requests == before


def test_api_error_exits_3_with_the_servers_message(search: Any) -> None:
    run = search(["dir:in"], key="not-the-key")
    assert (run.code, run.out) == (3, "")
    assert run.err.startswith(
        "querylang search: error: HTTP 401: invalid or missing API key (X-WHIPPY-KEY)"
    )
    assert "WHIPPY_API_KEY" in run.err
    assert "not-the-key" not in run.err
    run = search(["--limit", "501", "dir:in"])
    assert run.code == 3
    assert "limit must be between 1 and 500, not 501" in run.err


def test_key_never_printed(search: Any) -> None:
    outputs = [
        search(args, tty=tty)
        for args in (["--all", "--limit", "100", ""], ["--output", "csv", "dir:in"], ["x:y"])
        for tty in (False, True)
    ]
    for run in outputs:
        assert KEY not in run.out + run.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "0", "dir:in"], "--limit"),
        (["--limit", "x", "dir:in"], "--limit"),
        (["--output", "xml", "dir:in"], "--output"),
        (["--columns", " , ", "dir:in"], "--columns"),
        (["--now", "2024-03-01", "dir:in"], "--now"),
        (["--tz", "Mars/Base", "dir:in"], "--tz"),
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2(search: Any, args: list[str], message: str) -> None:
    run = search(args)
    assert run.code == 2
    assert message in run.err
    assert "usage: querylang search" in run.err


def test_unreachable_server_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    with running() as server:
        base_url = server.base_url
    from querylang import client

    original = client.CallsClient.__init__

    def no_waiting(self: client.CallsClient, *args: Any, **options: Any) -> None:
        original(self, *args, **{**options, "sleep": lambda _: None})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(client.CallsClient, "__init__", no_waiting)
        code = main(["search", "--base-url", base_url, "dir:in"])
    assert code == 3
    assert "the request failed" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# --help imports nothing heavy; `serve` as a child process


def test_help_imports_no_dependency() -> None:
    probe = textwrap.dedent(
        """
        import json, sys
        from querylang.cli import main
        calls = (["search", "--help"], ["serve", "--help"], ["search"], ["serve", "--port", "x"])
        for args in calls:
            try:
                main(args)
            except SystemExit:
                pass
        heavy = ("lark", "pydantic", "httpx", "phonenumbers", "sqlite3")
        print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.__stderr__)
        """
    )
    run = run_python(["-c", probe], timeout=60)
    assert json.loads(run.err.splitlines()[-1]) == []


def test_serve_runs_until_interrupted(tmp_path: Path) -> None:
    database = tmp_path / "calls.db"
    command = [
        sys.executable,
        "-m",
        "querylang",
        "serve",
        "--port",
        "0",
        "--sample",
        "120",
        "--db",
        str(database),
        "--api-key",
        KEY,
    ]
    env = checkout_env(WHIPPY_API_KEY=KEY)
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert child.stderr is not None
        banner = child.stderr.readline()
        assert "serving 120 calls at http://127.0.0.1:" in banner
        base_url = banner.split(" at ")[1].split()[0]
        search = run_python(
            ["-m", "querylang", "search", "--base-url", base_url, "--all", ""], env=env, timeout=60
        )
        assert search.code == 0, search.err
        assert len(json.loads(search.out)) == 120
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=10) == 0
        log = child.stderr.read()
        assert '"POST /v1/calls/search?limit=50&offset=100&timeout=30000 HTTP/1.1" 200' in log
        assert KEY not in banner + log
    finally:
        if child.poll() is None:
            child.kill()
    assert CallStore(database).count() == 120


def test_serve_port_in_use(server: ReferenceServer, capsys: pytest.CaptureFixture[str]) -> None:
    port = server.server_address[1]
    with pytest.raises(SystemExit) as stop:
        main(["serve", "--port", str(port)])
    assert stop.value.code == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err
