"""The public API surface: `querylang.__all__`, lazy imports, docstrings, and `QueryError`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from harness import run_python

import querylang
from querylang import Diagnostic, ErrorCode, QueryError, Span

HEAVY = ("lark", "pydantic", "phonenumbers")


def run_code(code: str, cwd: Path) -> Any:
    """Run `code` in a fresh interpreter on this checkout; return its output, read as JSON."""
    run = run_python(["-c", textwrap.dedent(code)], cwd=cwd)
    assert run.code == 0, run.err
    return json.loads(run.out)


# ---------------------------------------------------------------------------------------------
# __all__, dir(), __getattr__


def test_all_is_sorted_and_unique() -> None:
    assert querylang.__all__ == sorted(set(querylang.__all__))


@pytest.mark.parametrize("name", querylang.__all__)
def test_every_name_in_all_resolves(name: str) -> None:
    value = getattr(querylang, name)
    assert value is not None


def test_dir_lists_every_public_name() -> None:
    assert set(querylang.__all__) <= set(dir(querylang))


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = querylang.no_such_name
    assert not hasattr(querylang, "no_such_name")


def test_from_import_of_unknown_name_raises_import_error() -> None:
    with pytest.raises(ImportError):
        from querylang import no_such_name  # type: ignore[attr-defined]  # noqa: F401


# Each name alone, in an interpreter where nothing else of querylang has been imported yet.
_RESOLVE_ALONE = """
    import importlib, json, sys
    seen = {}
    for name in NAMES:
        for module in [m for m in sys.modules if m == "querylang" or m.startswith("querylang.")]:
            del sys.modules[module]
        value = getattr(importlib.import_module("querylang"), name)
        seen[name] = [type(value).__name__, getattr(value, "__name__", None)]
    print(json.dumps(seen))
"""

# Every name after the stages have all run once (so every submodule is imported).
_RESOLVE_AFTER_USE = """
    import json
    import querylang
    querylang.compile("dir:in duration:>=5s")
    querylang.decompile({"direction": "OUTBOUND"})
    seen = {}
    for name in NAMES:
        value = getattr(querylang, name)
        seen[name] = [type(value).__name__, getattr(value, "__name__", None)]
    print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def resolved_alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    code = _RESOLVE_ALONE.replace("NAMES", repr(querylang.__all__))
    return run_code(code, tmp_path_factory.mktemp("alone"))


@pytest.fixture(scope="module")
def resolved_after_use(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    code = _RESOLVE_AFTER_USE.replace("NAMES", repr(querylang.__all__))
    return run_code(code, tmp_path_factory.mktemp("after_use"))


@pytest.mark.parametrize("name", querylang.__all__)
def test_name_resolves_to_its_object_in_a_fresh_interpreter(
    name: str, resolved_alone: dict[str, list[str]]
) -> None:
    type_name, value_name = resolved_alone[name]
    assert type_name != "module"
    assert value_name == name


# A public name must not be the name of a submodule: importing the submodule (as the stages do)
# would bind the module over the lazily loaded name.
@pytest.mark.parametrize("name", querylang.__all__)
def test_name_resolves_to_its_object_after_every_stage_ran(
    name: str, resolved_after_use: dict[str, list[str]]
) -> None:
    type_name, value_name = resolved_after_use[name]
    assert type_name != "module"
    assert value_name == name


def test_star_import_gives_the_functions(tmp_path: Path) -> None:
    code = """
        import json
        from querylang import *
        print(json.dumps(format("dir:IN  AND mode:ai") if callable(format) else None))
    """
    assert run_code(code, tmp_path) == "direction:inbound mode:ai"


@pytest.mark.parametrize("name", querylang.__all__)
def test_every_public_name_has_its_own_docstring(name: str) -> None:
    value = getattr(querylang, name)
    # A class's own docstring, not one inherited (pydantic.BaseModel, ValueError) or generated
    # by @dataclass ("Span(start: int, end: int)").
    doc = vars(value).get("__doc__") if isinstance(value, type) else value.__doc__
    assert doc, f"{name} has no docstring"
    assert not doc.startswith(f"{name}("), f"{name} has only the generated dataclass docstring"


# ---------------------------------------------------------------------------------------------
# Lazy imports


def test_import_querylang_imports_no_dependency(tmp_path: Path) -> None:
    code = f"""
        import json, sys
        import querylang
        print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
    """
    assert run_code(code, tmp_path) == []


def test_errors_and_limits_import_no_dependency(tmp_path: Path) -> None:
    code = f"""
        import json, sys
        import querylang
        querylang.QueryError, querylang.Diagnostic, querylang.ErrorCode, querylang.Span
        querylang.Limits
        print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
    """
    assert run_code(code, tmp_path) == []


def test_compile_imports_the_parser(tmp_path: Path) -> None:
    # The check above means something only if the heavy modules do get imported on use.
    code = """
        import json, sys
        import querylang
        querylang.compile("dir:in")
        print(json.dumps(sorted(m for m in ("lark", "pydantic") if m in sys.modules)))
    """
    assert run_code(code, tmp_path) == ["lark", "pydantic"]


# ---------------------------------------------------------------------------------------------
# QueryError


def test_query_error_is_a_value_error() -> None:
    assert issubclass(QueryError, ValueError)
    with pytest.raises(ValueError):
        querylang.compile("dirction:inbound")


def test_query_error_renders_a_caret_line_under_each_span() -> None:
    with pytest.raises(QueryError) as caught:
        querylang.compile("agent:x dir:up")
    assert str(caught.value) == (
        "invalid_value: 'x' is not a UUID\n"
        "  agent:x dir:up\n"
        "        ^\n"
        "  hint: a UUID is 32 hexadecimal digits, usually grouped 8-4-4-4-12 with hyphens\n"
        "invalid_value: 'up' is not a direction\n"
        "  agent:x dir:up\n"
        "              ^^\n"
        "  hint: one of: inbound, outbound"
    )


def test_query_error_sorts_diagnostics_and_marks_an_empty_span_with_one_caret() -> None:
    later = Diagnostic(ErrorCode.SYNTAX, "expected a value", Span(9, 9))
    earlier = Diagnostic(ErrorCode.UNKNOWN_FIELD, "unknown field 'dirx'", Span(0, 4), hint="dir?")
    error = QueryError("dirx:in a:", [later, earlier])
    assert error.diagnostics == (earlier, later)
    assert str(error) == (
        "unknown_field: unknown field 'dirx'\n"
        "  dirx:in a:\n"
        "  ^^^^\n"
        "  hint: dir?\n"
        "syntax: expected a value\n"
        "  dirx:in a:\n"
        "           ^"
    )


def test_query_error_to_dict() -> None:
    with pytest.raises(QueryError) as caught:
        querylang.compile("dirction:in durtion:5s")
    data = caught.value.to_dict()
    assert data == {
        "query": "dirction:in durtion:5s",
        "diagnostics": [
            {
                "code": "unknown_field",
                "message": "unknown field 'dirction'",
                "start": 0,
                "end": 8,
                "hint": "did you mean 'direction'?",
                "suggestions": ["direction"],
            },
            {
                "code": "unknown_field",
                "message": "unknown field 'durtion'",
                "start": 12,
                "end": 19,
                "hint": "did you mean 'duration'?",
                "suggestions": ["duration"],
            },
        ],
    }
    assert json.loads(json.dumps(data)) == data  # plain JSON data


def test_query_error_to_dict_without_hint() -> None:
    error = QueryError("mode:", [Diagnostic(ErrorCode.SYNTAX, "expected a value", Span(5, 5))])
    assert error.to_dict() == {
        "query": "mode:",
        "diagnostics": [
            {
                "code": "syntax",
                "message": "expected a value",
                "start": 5,
                "end": 5,
                "hint": None,
                "suggestions": [],
            }
        ],
    }


def test_query_error_needs_a_diagnostic() -> None:
    with pytest.raises(ValueError, match="at least one diagnostic"):
        QueryError("x", [])
