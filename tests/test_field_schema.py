"""`querylang fields [--json]` and `querylang.schema_json()`: the schema as JSON Schema, as a table.

The laws: the output is a valid draft 2020-12 JSON Schema; its properties are exactly the fields;
the metadata names every alias, enum value and example; the value of every one-term example
validates against its property, junk does not, and comparisons, ranges and arrays validate only on
the fields that take them; values of every shape the query accepts for the open-spelled types
(times, durations, phones, languages, text) validate too.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import value_text

import querylang
from querylang.cli import main as cli_main
from querylang.field_schema import METADATA_KEY, fields_table, schema_json
from querylang.parser import parse
from querylang.schema import Field, Schema, ValueType, default_schema
from querylang.syntax import And, Comparison, Not, Or, Range, Term, Value, ValueList

SCHEMA = default_schema()
FIELDS = SCHEMA.fields
JSON = schema_json()
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def by_name(field: Field) -> str:
    return field.name


def validator(field: Field) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(JSON["properties"][field.name], format_checker=FORMATS)


def valid(field: Field, value: Any) -> bool:
    return validator(field).is_valid(value)


def json_value(term: Term) -> Any:
    """A term's value as the JSON filters write it: the text after `field:`, a list as an array."""
    match term.value:
        case Value(text):
            return text
        case ValueList(items):
            return [item.text for item in items]
        case Comparison(comparator, Value(text)):
            return f"{comparator}{text}"
        case Range(low, high):
            return f"{low.text if low else ''}..{high.text if high else ''}"


def one_term_examples() -> list[tuple[Field, str, Term]]:
    """Every schema example that is a single term (no negation, no AND/OR), with its field."""
    found = []
    for field in FIELDS:
        for example in field.examples:
            tree = parse(example)
            if isinstance(tree, Term):
                found.append((field, example, tree))
    return found


ONE_TERM = one_term_examples()
PLAIN = [(field, example, term) for field, example, term in ONE_TERM if type(term.value) is Value]


# --- the whole --------------------------------------------------------------------------------


def test_is_a_draft_2020_12_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(JSON)
    assert JSON["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert JSON["type"] == "object"
    assert JSON["additionalProperties"] is False
    assert JSON["title"] and JSON["description"]


def plain(data: Any) -> bool:
    """Whether `data` is made of JSON's own types only (no str or int subclass such as an enum)."""
    if type(data) is dict:
        return all(type(key) is str and plain(value) for key, value in data.items())
    if type(data) is list:
        return all(map(plain, data))
    return data is None or type(data) in (str, int, bool)


def test_is_plain_json_in_a_fixed_order() -> None:
    assert plain(JSON)
    text = json.dumps(JSON)
    assert json.loads(text) == JSON
    assert json.dumps(schema_json()) == text


def test_properties_are_exactly_the_fields_in_schema_order() -> None:
    assert list(JSON["properties"]) == [field.name for field in FIELDS]


def test_unknown_fields_and_aliases_are_rejected() -> None:
    check = jsonschema.Draft202012Validator(JSON)
    assert check.is_valid({})
    assert not check.is_valid({"no_such_field": "x"})
    for alias in (alias for field in FIELDS for alias in field.aliases):
        assert not check.is_valid({alias: "x"}), alias


def test_python_api_exports_it() -> None:
    assert querylang.schema_json() == JSON
    assert "schema_json" in querylang.__all__


def test_another_schema() -> None:
    data = SCHEMA.to_dict()
    data["fields"] = [f for f in data["fields"] if f["name"] in ("direction", "mode")]
    small = Schema.from_dict(data)
    assert list(schema_json(small)["properties"]) == ["direction", "mode"]
    assert "voicemail" not in fields_table(small)


def test_language_metadata() -> None:
    meta = JSON[METADATA_KEY]
    assert list(meta["options"]) == ["tz"]
    assert meta["operators"]["comparison"] == [">", ">=", "<", "<="]
    assert meta["relative_times"]["words"] == ["now", "today", "yesterday"]
    units = {unit["unit"]: unit["milliseconds"] for unit in meta["duration_units"]}
    assert units["s"] == 1_000 and units["ms"] == 1
    offsets = meta["relative_times"]["offsets"]
    assert {unit["unit"] for unit in offsets["units"]} >= {"s", "m", "h", "d", "w"}
    assert jsonschema.Draft202012Validator({"pattern": offsets["pattern"]}).is_valid("-7d")


def test_boolean_operators_mean_what_they_say() -> None:
    # Each usage, its letters replaced by real terms, parses to the node its operator names.
    a, b, c = "dir:in", "mode:ai", "voicemail:true"
    nodes = {"AND": And, "OR": Or, "NOT": Not, "-": Not, "( )": Or}
    operators = JSON[METADATA_KEY]["operators"]["boolean"]
    assert [operator["operator"] for operator in operators] == list(nodes)
    for operator in operators:
        text = operator["usage"].replace("A", a).replace("B", b).replace("C", c)
        tree = parse(text)
        if operator["operator"] == "( )":
            assert isinstance(tree, And) and isinstance(tree.operands[0], Or), text
        else:
            assert isinstance(tree, nodes[operator["operator"]]), text


# --- per field --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", FIELDS, ids=by_name)
def test_metadata_names_the_field(field: Field) -> None:
    prop = JSON["properties"][field.name]
    meta = prop[METADATA_KEY]
    assert prop["description"].startswith(field.doc)
    assert meta["type"] == field.type
    assert meta["aliases"] == list(field.aliases)
    assert meta["api"] == list(field.api)
    assert meta["many"] is field.many
    assert meta["ordered"] is field.ordered
    assert meta["implies"] == field.implies
    assert meta["examples"] == list(field.examples)
    assert meta.get("known_values", []) == list(field.known_values)
    assert ("units" in meta) == (field.type is ValueType.DURATION)
    assert meta.get("bare_number_unit") == field.bare_number_unit


@pytest.mark.parametrize("field", FIELDS, ids=by_name)
def test_operators(field: Field) -> None:
    operators = JSON["properties"][field.name][METADATA_KEY]["operators"]
    assert operators[0] == ":"
    comparisons = {">", ">=", "<", "<=", ".."}
    if field.ordered:
        assert comparisons <= set(operators)
    else:
        assert not comparisons & set(operators)


@pytest.mark.parametrize("field", [f for f in FIELDS if f.values], ids=by_name)
def test_enum_values(field: Field) -> None:
    meta = JSON["properties"][field.name][METADATA_KEY]
    assert meta["values"] == [
        {"name": v.name, "api": v.api, "aliases": list(v.aliases), "doc": v.doc}
        for v in field.values
    ]
    for value in field.values:
        for spelling in (value.name, *value.aliases):
            assert valid(field, spelling), spelling
        assert not valid(field, value.api) or value.api == value.name
        assert not valid(field, value.name + "x")


@pytest.mark.parametrize(
    ("field", "example"), [(f, e) for f, e, _ in ONE_TERM], ids=[e for _, e, _ in ONE_TERM]
)
def test_property_examples_are_the_one_term_examples(field: Field, example: str) -> None:
    term = parse(example)
    assert isinstance(term, Term)
    value = json_value(term)
    examples = JSON["properties"][field.name]["examples"]
    assert value in examples or (isinstance(value, list) and not field.many)


@pytest.mark.parametrize("field", FIELDS, ids=by_name)
def test_property_examples_validate(field: Field) -> None:
    for example in JSON["properties"][field.name].get("examples", []):
        assert valid(field, example), example


@pytest.mark.parametrize(
    ("field", "term"), [(f, t) for f, _, t in PLAIN], ids=[e for _, e, _ in PLAIN]
)
def test_plain_example_value_validates(field: Field, term: Term) -> None:
    # The brief's law: `field:value` with no comparator, its value valid against the property.
    value = json_value(term)
    assert valid(field, value)
    assert valid(field, [value]) is field.many
    shaped = [f">={value}", f"<{value}", f"{value}..{value}", f"{value}..", f"..{value}"]
    if field.ordered:
        assert all(valid(field, text) for text in shaped)
    elif field.type not in (ValueType.TEXT, ValueType.PHONE):  # text (and a phone's dots) as is
        assert not any(valid(field, text) for text in shaped)


@pytest.mark.parametrize(
    ("field", "term"), [(f, t) for f, _, t in ONE_TERM], ids=[e for _, e, _ in ONE_TERM]
)
def test_one_term_example_value_validates(field: Field, term: Term) -> None:
    assert valid(field, json_value(term))


@pytest.mark.parametrize("field", [f for f in FIELDS if f.type is not ValueType.TEXT], ids=by_name)
@pytest.mark.parametrize("junk", ["sideways", "", "@@", "5 s", ">=", "..", "a..b..c"])
def test_junk_is_invalid(field: Field, junk: str) -> None:
    assert not valid(field, junk)


@pytest.mark.parametrize("field", FIELDS, ids=by_name)
def test_empty_and_non_string_values_are_invalid(field: Field) -> None:
    assert not valid(field, "")
    assert not valid(field, None)
    assert not valid(field, [])
    assert not valid(field, {"a": 1})


@pytest.mark.parametrize("field", [f for f in FIELDS if f.type is ValueType.DURATION], ids=by_name)
def test_durations(field: Field) -> None:
    for text in ("30s", "1m30s", "1.5s", "1H30M", "2min", "250ms", "1h1m1s1ms"):
        assert valid(field, text), text
    for text in ("30s1m", "1m1min", "s", "1.5", "-5s", "5sec"):
        assert not valid(field, text), text
    assert valid(field, "5000") is (field.bare_number_unit is not None)
    assert valid(field, 5000) is (field.bare_number_unit is not None)


@pytest.mark.parametrize("field", [f for f in FIELDS if f.type is ValueType.TIME], ids=by_name)
def test_times(field: Field) -> None:
    for text in ("2024-01-31", "2024-01-31T09:30", "2024-01-31t09:30:00.5+01:00", "-36H", "Now-7d"):
        assert valid(field, text), text
    for text in ("2024-02-30", "2024-1-31", "7d", "tomorrow", "-7y"):
        assert not valid(field, text), text


@pytest.mark.parametrize("field", [f for f in FIELDS if f.type is ValueType.BOOLEAN], ids=by_name)
def test_booleans(field: Field) -> None:
    for value in (True, False, "true", "no", "1"):
        assert valid(field, value)
    assert not valid(field, "maybe")
    assert not valid(field, 1)


@pytest.mark.parametrize("field", [f for f in FIELDS if f.type is ValueType.UUID], ids=by_name)
def test_uuids(field: Field) -> None:
    assert valid(field, "3F0C2B7E-8A41-4C7A-9D2E-1B5F6A7C8D90")
    assert not valid(field, "3f0c2b7e8a414c7a9d2e1b5f6a7c8d90")  # the query takes it; JSON not
    assert not valid(field, "3f0c2b7e-8a41-4c7a-9d2e-1b5f6a7c8d9")


OPEN_SPELLED = [
    field
    for field in FIELDS
    if field.type
    in (ValueType.TIME, ValueType.DURATION, ValueType.PHONE, ValueType.TEXT, ValueType.LANGUAGE)
]


@pytest.mark.parametrize("field", OPEN_SPELLED, ids=by_name)
@given(data=st.data())
def test_every_query_spelling_validates(field: Field, data: st.DataObject) -> None:
    # For these types the JSON Schema takes every spelling the query does (any case included).
    text = data.draw(value_text(field))
    assert valid(field, text), text


# --- the command line -------------------------------------------------------------------------


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["fields", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(schema_json()))


def test_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["fields"]) == 0
    out = capsys.readouterr().out
    assert out == fields_table() + "\n"
    rows = {line.split()[0]: line for line in out.splitlines()[1 : len(FIELDS) + 1]}
    assert list(rows) == [field.name for field in FIELDS]
    for field in FIELDS:
        for alias in field.aliases:
            assert alias in rows[field.name].split(), alias


def test_table_fits_100_columns() -> None:
    assert max(map(len, fields_table().splitlines())) <= 100
    narrow = fields_table(width=80)
    assert all(len(line) <= 100 for line in narrow.splitlines())
    assert "..." in narrow


@pytest.mark.parametrize("field", [f for f in FIELDS if f.values], ids=by_name)
def test_table_lists_enum_values(field: Field) -> None:
    row = next(line for line in fields_table().splitlines() if line.startswith(field.name + " "))
    for value in field.values:
        assert value.name in row
