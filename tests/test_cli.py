"""The `querylang` command: in-process through `querylang.cli.main`, and as a real subprocess."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from harness import Run, run_python

import querylang

NOW = "2024-03-01T12:00:00Z"


def compile_error(query: str) -> querylang.QueryError:
    with pytest.raises(querylang.QueryError) as caught:
        querylang.compile(query)
    return caught.value


# ---------------------------------------------------------------------------------------------
# compile


@pytest.mark.parametrize(
    ("argv", "body"),
    [
        pytest.param(
            ["direction:inbound duration:5s..60s"],
            {"direction": "INBOUND", "min_duration": 5000, "max_duration": 60000},
            id="direction:inbound duration:5s..60s",
        ),
        pytest.param(
            ["--now", NOW, "after:-7d"],
            {"after": "2024-02-23T12:00:00Z"},
            id="--now Z after:-7d",
        ),
        pytest.param(
            ["--now", "2024-03-01T12:00:00+02:00", "after:-1d"],
            {"after": "2024-02-29T10:00:00Z"},
            id="--now +02:00 after:-1d",
        ),
        pytest.param(
            ["--tz", "Europe/Paris", "--now", NOW, "created:yesterday"],
            # 2024 is a leap year; Paris is at +01:00 in winter.
            {"after": "2024-02-28T23:00:00Z", "before": "2024-02-29T23:00:00Z"},
            id="--tz Europe/Paris created:yesterday",
        ),
        pytest.param(
            ["--tz", "Europe/Paris", "created:2024-03-01"],
            {"after": "2024-02-29T23:00:00Z", "before": "2024-03-01T23:00:00Z"},
            id="--tz Europe/Paris created:2024-03-01",
        ),
        pytest.param(
            ["from:4155550100"],
            {"from": "+14155550100"},
            id="default region US from:4155550100",
        ),
        pytest.param(
            ["--region", "GB", "from:02079460000"],
            {"from": "+442079460000"},
            id="--region GB from:02079460000",
        ),
        pytest.param([""], {}, id="empty query"),
    ],
)
def test_compile_prints_the_body(cli: Any, argv: list[str], body: dict[str, Any]) -> None:
    run = cli(["compile", *argv])
    assert run == Run(0, run.out, "")
    assert json.loads(run.out) == body
    assert run.out.endswith("}\n")


def test_compile_matches_the_library(cli: Any) -> None:
    query = "dir:in agent:9a1b3c5d-7e9f-4a2b-8c4d-6e8f0a2b4c6d voicemail:no mode:(ai, human)"
    run = cli(["compile", query])
    assert run.code == 0
    assert json.loads(run.out) == querylang.compile(query).to_body()


@pytest.mark.parametrize(
    "stdin",
    ["dir:in mode:ai", "dir:in mode:ai\n", "dir:in mode:ai\r\n", "dir:in\nmode:ai\n"],
    ids=repr,
)
def test_compile_reads_the_query_from_stdin(cli: Any, stdin: str) -> None:
    run = cli(["compile", "-"], stdin=stdin)
    assert run.code == 0, run.err
    assert json.loads(run.out) == {"direction": "INBOUND", "mode": "ai"}


# ---------------------------------------------------------------------------------------------
# format


@pytest.mark.parametrize(
    ("argv", "canonical"),
    [
        pytest.param(
            ["dir:IN  AND mode:ai"], "direction:inbound mode:ai", id="dir:IN  AND mode:ai"
        ),
        pytest.param(
            ["dir:in OR dir:out"], "direction:(inbound, outbound)", id="dir:in OR dir:out"
        ),
        pytest.param(
            ["--region", "GB", "from:02079460000"],
            "from:+442079460000",
            id="--region GB from:02079460000",
        ),
        # A query need not compile to be formatted.
        pytest.param(["duration:<0ms"], "duration:<0s", id="duration:<0ms"),
    ],
)
def test_format_prints_the_canonical_query(cli: Any, argv: list[str], canonical: str) -> None:
    assert cli(["format", *argv]) == Run(0, canonical + "\n", "")


def test_format_reads_the_query_from_stdin(cli: Any) -> None:
    assert cli(["format", "-"], stdin="dir:IN agent:(9A1B3C5D7E9F4A2B8C4D6E8F0A2B4C6D)\n") == Run(
        0, "direction:inbound agent_id:9a1b3c5d-7e9f-4a2b-8c4d-6e8f0a2b4c6d\n", ""
    )


def test_explain_json_matches_the_library(cli: Any) -> None:
    query = "dir:in duration:5s..60s created:yesterday tz:Europe/Paris"
    now = "2024-03-10T12:00:00Z"
    run = cli(["explain", "--json", "--now", now, query])
    assert run == Run(0, run.out, "")
    expected = querylang.explain(query, now=datetime.fromisoformat(now)).to_dict()
    assert json.loads(run.out) == expected


def test_explain_refuses_what_compile_refuses(cli: Any) -> None:
    run = cli(["explain", "--errors", "json", "dir:in OR mode:ai"])
    assert (run.code, run.out) == (1, "")
    assert [d["code"] for d in json.loads(run.err)["diagnostics"]] == ["unsupported"]


# ---------------------------------------------------------------------------------------------
# Bad queries: exit 1, diagnostics on stderr, nothing on stdout


@pytest.mark.parametrize("command", ["compile", "format"])
@pytest.mark.parametrize("query", ["agent:x dir:up", "dirction:in", "mode:", "foo bar"])
def test_bad_query_exits_1_with_the_rendered_diagnostics(
    cli: Any, command: str, query: str
) -> None:
    assert cli([command, query]) == Run(1, "", str(compile_error(query)) + "\n")


def test_query_that_formats_but_does_not_compile(cli: Any) -> None:
    run = cli(["compile", "duration:<0ms"])
    assert run == Run(1, "", run.err)
    assert run.err.startswith("contradiction: ")
    assert "  ^^^^^^^^^^^^^\n" in run.err


def test_bad_query_from_stdin_is_rendered_without_the_newline(cli: Any) -> None:
    assert cli(["compile", "-"], stdin="dir:up\n") == Run(
        1, "", str(compile_error("dir:up")) + "\n"
    )


@pytest.mark.parametrize("command", ["compile", "format"])
def test_errors_json_prints_machine_readable_diagnostics(cli: Any, command: str) -> None:
    run = cli([command, "--errors", "json", "agent:x dir:up"])
    assert (run.code, run.out) == (1, "")
    assert run.err.count("\n") == 1  # one JSON document on one line
    report = json.loads(run.err)
    assert report["query"] == "agent:x dir:up"
    assert [(d["code"], d["start"], d["end"]) for d in report["diagnostics"]] == [
        ("invalid_value", 6, 7),
        ("invalid_value", 12, 14),
    ]
    assert report == compile_error("agent:x dir:up").to_dict()


def test_errors_json_keeps_non_ascii_text(cli: Any) -> None:
    run = cli(["compile", "--errors", "json", "dir:énorme"])
    assert run.code == 1
    assert "énorme" in run.err
    assert json.loads(run.err)["query"] == "dir:énorme"


# ---------------------------------------------------------------------------------------------
# Usage errors: exit 2, a message on stderr, nothing on stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param([], "required: COMMAND", id="no command"),
        pytest.param(["frob", "dir:in"], "invalid choice: 'frob'", id="unknown command"),
        pytest.param(["compile"], "required: QUERY", id="compile without query"),
        pytest.param(["format"], "required: QUERY", id="format without query"),
        pytest.param(["compile", "dir:in", "mode:ai"], "unrecognized arguments", id="two queries"),
        pytest.param(["compile", "--now", "yesterday", "dir:in"], "ISO 8601", id="bad --now"),
        pytest.param(
            ["compile", "--now", "2024-03-01T12:00:00", "dir:in"],
            "needs an offset",
            id="naive --now",
        ),
        pytest.param(
            ["compile", "--tz", "Mars/Olympus", "dir:in"], "Mars/Olympus", id="unknown --tz"
        ),
        pytest.param(["compile", "--region", "USA", "dir:in"], "USA", id="compile --region USA"),
        pytest.param(["compile", "--region", "1", "dir:in"], "'1'", id="compile --region 1"),
        pytest.param(
            ["compile", "--errors", "xml", "dir:in"], "invalid choice: 'xml'", id="bad --errors"
        ),
        pytest.param(
            ["format", "--now", NOW, "dir:in"], "unrecognized arguments", id="format --now"
        ),
    ],
)
def test_usage_error_exits_2(cli: Any, argv: list[str], message: str) -> None:
    run = cli(argv)
    assert (run.code, run.out) == (2, "")
    assert "usage: querylang" in run.err
    assert message in run.err


def test_format_rejects_a_malformed_region(cli: Any) -> None:
    run = cli(["format", "--region", "USA", "from:4155550100"])
    assert (run.code, run.out) == (2, "")


def test_lower_case_region_is_understood(cli: Any) -> None:
    run = cli(["compile", "--region", "gb", "from:02079460000"])
    assert run == Run(0, '{\n  "from": "+442079460000"\n}\n', "")


def test_unknown_region_is_a_usage_error(cli: Any) -> None:
    run = cli(["compile", "--region", "ZZ", "from:02079460000"])
    assert (run.code, run.out) == (2, "")


@pytest.mark.parametrize(
    "argv", [["--help"], ["compile", "--help"], ["format", "--help"]], ids=" ".join
)
def test_help_exits_0(cli: Any, argv: list[str]) -> None:
    run = cli(argv)
    assert (run.code, run.err) == (0, "")
    assert run.out.startswith("usage: querylang")


# ---------------------------------------------------------------------------------------------
# As a real process: `python -m querylang`


def run_module(args: Sequence[str], cwd: Path, stdin: str | None = None) -> Run:
    return run_python(["-m", "querylang", *args], cwd=cwd, stdin=stdin)


def test_subprocess_compile(tmp_path: Path) -> None:
    run = run_module(
        ["compile", "--tz", "Europe/Paris", "--now", NOW, "dir:in duration:>=5s created:yesterday"],
        tmp_path,
    )
    assert (run.code, run.err) == (0, "")
    assert json.loads(run.out) == {
        "after": "2024-02-28T23:00:00Z",
        "before": "2024-02-29T23:00:00Z",
        "direction": "INBOUND",
        "min_duration": 5000,
    }


def test_subprocess_format_from_stdin(tmp_path: Path) -> None:
    run = run_module(["format", "-"], tmp_path, stdin="dir:IN  AND mode:ai\n")
    assert run == Run(0, "direction:inbound mode:ai\n", "")


def test_subprocess_bad_query(tmp_path: Path) -> None:
    run = run_module(["compile", "--errors", "json", "dirction:in"], tmp_path)
    assert (run.code, run.out) == (1, "")
    [diagnostic] = json.loads(run.err)["diagnostics"]
    assert (diagnostic["code"], diagnostic["start"], diagnostic["end"]) == ("unknown_field", 0, 8)


def test_subprocess_usage_error(tmp_path: Path) -> None:
    run = run_module(["compile", "--tz", "Nowhere/Special", "dir:in"], tmp_path)
    assert (run.code, run.out) == (2, "")
    assert "Nowhere/Special" in run.err


# `python -m querylang ARGS` in-process, reporting its exit code and which dependencies it imported
# to a file, so that nothing the command prints can get in the way.
_IMPORTS_PROBE = """
    import json, runpy, sys
    report, *args = sys.argv[1:]
    sys.argv = ["querylang", *args]
    try:
        runpy.run_module("querylang", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit:
        code = exit.code
    heavy = sorted(m for m in ("lark", "pydantic", "phonenumbers") if m in sys.modules)
    with open(report, "w") as file:
        json.dump({"code": code, "heavy": heavy}, file)
"""


def probe_imports(args: Sequence[str], tmp_path: Path) -> tuple[dict[str, Any], Run]:
    report = tmp_path / "report.json"
    run = run_python(["-c", textwrap.dedent(_IMPORTS_PROBE), str(report), *args], cwd=tmp_path)
    assert report.exists(), run
    return json.loads(report.read_text()), run


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(["--help"], 0, id="--help"),
        pytest.param(["compile", "--help"], 0, id="compile --help"),
        pytest.param(["format", "--help"], 0, id="format --help"),
        pytest.param(["frob"], 2, id="unknown command"),
        pytest.param(["compile"], 2, id="missing query"),
    ],
)
def test_help_and_usage_errors_do_not_import_dependencies(
    args: list[str], code: int, tmp_path: Path
) -> None:
    report, run = probe_imports(args, tmp_path)
    assert report == {"code": code, "heavy": []}
    assert "usage: querylang" in (run.out if code == 0 else run.err)


def test_the_probe_sees_dependencies_when_a_command_runs(tmp_path: Path) -> None:
    report, run = probe_imports(["compile", "dir:in after:2024-01-01"], tmp_path)
    assert report["code"] == 0
    assert "lark" in report["heavy"]
    assert json.loads(run.out) == {"direction": "INBOUND", "after": "2024-01-01T00:00:00Z"}


# pydantic is the largest import (about 80 ms): the commands that only print a body or check a
# query build the body without it.
@pytest.mark.parametrize(
    ("args", "saved", "code"),
    [
        pytest.param(["compile", "dir:in after:2024-01-01"], None, 0, id="compile"),
        pytest.param(["check", "queries.toml"], "dir:in after:-7d", 0, id="check"),
        pytest.param(["check", "queries.toml"], "dir:sideways", 1, id="check, a problem"),
    ],
)
def test_compile_and_check_do_not_import_pydantic(
    args: list[str], saved: str | None, code: int, tmp_path: Path
) -> None:
    if saved is not None:
        (tmp_path / "queries.toml").write_text(f'[queries.a]\nquery = "{saved}"\n')
    report, _ = probe_imports(args, tmp_path)
    assert report["code"] == code
    assert "pydantic" not in report["heavy"]
