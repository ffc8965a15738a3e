"""The schema's two readings: the shipped file read directly (no pydantic, for start-up), and any
schema validated by pydantic (`Schema.load`, `Schema.from_dict`). They must agree, and the
validation must refuse every inconsistent schema."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from querylang.schema import Schema, default_schema

SHIPPED = resources.files("querylang").joinpath("schema.json")


def shipped_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SHIPPED.read_text(encoding="utf-8"))
    return data


def field_data(data: dict[str, Any], name: str) -> dict[str, Any]:
    field: dict[str, Any] = next(f for f in data["fields"] if f["name"] == name)
    return field


def test_the_direct_reading_of_the_shipped_file_is_pydantics() -> None:
    validated = Schema.from_dict(shipped_data())
    assert validated == default_schema()
    # Equal dataclasses could still hold lists where tuples belong: hashing finds them.
    assert hash(validated) == hash(default_schema())


def test_load_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text(default_schema().to_json(), encoding="utf-8")
    assert Schema.load(path) == default_schema()


def test_to_dict_is_plain_json_that_from_dict_reads_back() -> None:
    data = default_schema().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert Schema.from_dict(data) == default_schema()


def edit(change: str) -> dict[str, Any]:
    """The shipped schema data with one change, named by `change`."""
    data = copy.deepcopy(shipped_data())
    direction, duration, after = (field_data(data, n) for n in ("direction", "duration", "after"))
    match change:
        case "unknown key":
            direction["colour"] = "blue"
        case "wrong type":
            direction["many"] = "sometimes"
        case "unknown value type":
            direction["type"] = "colour"
        case "enum without values":
            direction["values"] = []
        case "values on a non-enum":
            direction["type"] = "text"
        case "ordered and implying":
            duration["implies"] = ">="
        case "ordered with one key":
            duration["api"] = ["min_duration"]
        case "order on text":
            field_data(data, "mode")["ordered"] = True
        case "bare unit on a time":
            after["bare_number_unit"] = "ms"
        case "name used twice":
            field_data(data, "mode")["aliases"] = ["dir"]
        case "reserved name":
            field_data(data, "mode")["aliases"] = ["TZ"]
        case "interval keys not shared":
            after["api"] = ["since"]
        case _:
            raise AssertionError(change)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown key", "colour"),
        ("wrong type", "many"),
        ("unknown value type", "type"),
        ("enum without values", "enum fields, and only they, list values"),
        ("values on a non-enum", "enum fields, and only they, list values"),
        ("ordered and implying", "ordered or implies a bound"),
        ("ordered with one key", "sets two keys, else one"),
        ("order on text", "only time and duration fields have an order"),
        ("bare unit on a time", "bare_number_unit is for durations"),
        ("name used twice", "the name 'dir' is used twice"),
        ("reserved name", "the name 'TZ' is used twice (or is reserved)"),
        ("interval keys not shared", "must share one lower and one upper key"),
    ],
)
def test_an_inconsistent_schema_is_refused(change: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Schema.from_dict(edit(change))
