"""Schema: the filter fields, declared once as data (`schema.json`), and how to look them up.

Every other stage reads it: `check` to name and type values, `compiler` to place them in the body,
`format` to order and spell them, the docs generator and the test strategies to cover every field.
A wrong or missing enum value is fixed by editing the JSON (or loading another file with
`Schema.load`), not the code.

The classes are frozen dataclasses, not pydantic models, so that compiling a query does not
import pydantic (about 80 ms of a fresh `querylang compile`). pydantic validates every schema
read from outside (`Schema.load`, `Schema.from_dict`); the shipped file is read directly by
`default_schema`, and a test holds that reading equal to pydantic's.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import TypeAdapter

# A query option rather than a field: `tz:Europe/Paris` sets the time zone of the whole query.
TZ_OPTION = "tz"


class ValueType(StrEnum):
    """How a field's values are read and what they compile to."""

    TIME = "time"
    DURATION = "duration"
    PHONE = "phone"
    ENUM = "enum"
    TEXT = "text"
    LANGUAGE = "language"
    BOOLEAN = "boolean"
    UUID = "uuid"


# Fields whose values lie on a line: all fields of one such type form one interval in the body.
INTERVAL_TYPES = frozenset({ValueType.TIME, ValueType.DURATION})

Implied = Literal[">=", "<", "<="]


# Read by pydantic when it validates these dataclasses: a key the schema does not know is an error.
_PYDANTIC_CONFIG = {"extra": "forbid"}


@dataclass(frozen=True, kw_only=True)
class EnumValue:
    """One value of a closed set: its query spelling, its API spelling, and other spellings."""

    __pydantic_config__ = _PYDANTIC_CONFIG

    name: str
    api: str
    aliases: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True, kw_only=True)
class Field:
    """One filter field of the query language."""

    __pydantic_config__ = _PYDANTIC_CONFIG

    name: str
    aliases: tuple[str, ...] = ()
    type: ValueType
    api: tuple[str, ...]
    """The body keys it sets; `created` and `duration` set a lower and an upper bound."""
    many: bool = False
    """Whether the API takes an array of values for it."""
    ordered: bool = False
    """Whether comparisons (`>`, `>=`, `<`, `<=`) and ranges (`a..b`) are allowed."""
    implies: Implied | None = None
    """For a one-sided field (`after`, `max_duration`): the comparison its plain value means."""
    bare_number_unit: str | None = None
    """For a duration field: the unit of a bare number (`ms`); without one, a unit is required."""
    values: tuple[EnumValue, ...] = ()
    """For an enum field: the closed set of values, in the order a complement lists them."""
    known_values: tuple[str, ...] = ()
    """For an open field: values worth suggesting, not a limit on what is accepted."""
    doc: str
    examples: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.type is ValueType.ENUM) != bool(self.values):
            raise ValueError(f"{self.name}: enum fields, and only they, list values")
        if self.type in INTERVAL_TYPES:
            if self.ordered == (self.implies is not None):
                raise ValueError(f"{self.name}: an interval field is ordered or implies a bound")
            if len(self.api) != (2 if self.ordered else 1):
                raise ValueError(f"{self.name}: an ordered interval field sets two keys, else one")
        elif self.ordered or self.implies:
            raise ValueError(f"{self.name}: only time and duration fields have an order")
        if self.bare_number_unit is not None and self.type is not ValueType.DURATION:
            raise ValueError(f"{self.name}: bare_number_unit is for durations")

    def enum_value(self, text: str) -> EnumValue | None:
        """The enum value spelled `text` (any case, or an alias), if any."""
        return self._enum_lookup.get(text.lower())

    def enum_by_api(self, api: str) -> EnumValue | None:
        """The enum value whose API spelling is `api`, if any."""
        return next((value for value in self.values if value.api == api), None)

    @cached_property
    def _enum_lookup(self) -> dict[str, EnumValue]:
        lookup = {}
        for value in self.values:
            for spelling in (value.name, *value.aliases):
                lookup[spelling.lower()] = value
        return lookup


@dataclass(frozen=True, kw_only=True)
class Schema:
    """The fields of the language, in their canonical order."""

    __pydantic_config__ = _PYDANTIC_CONFIG

    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        seen: set[str] = {TZ_OPTION}
        for field in self.fields:
            for name in (field.name, *field.aliases):
                if name.lower() in seen:
                    raise ValueError(f"the name {name!r} is used twice (or is reserved)")
                seen.add(name.lower())
        interval_keys: dict[ValueType, set[str]] = {}
        for field in self.fields:
            if field.type in INTERVAL_TYPES:
                interval_keys.setdefault(field.type, set()).update(field.api)
        for value_type, keys in interval_keys.items():
            if len(keys) != 2:
                raise ValueError(f"the {value_type} fields must share one lower and one upper key")

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        """Read a schema from a JSON file shaped like `schema.json`.

        Raises:
            pydantic.ValidationError: the file is not a valid schema.
        """
        return _adapter().validate_json(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def from_dict(cls, data: Any) -> Schema:
        """A schema from plain JSON data shaped like `schema.json` (what `to_dict` gives).

        Raises:
            pydantic.ValidationError: the data is not a valid schema.
        """
        return _adapter().validate_python(data)

    def to_dict(self) -> dict[str, Any]:
        """The schema as plain JSON data, which `Schema.from_dict` reads back."""
        data: dict[str, Any] = _adapter().dump_python(self, mode="json")
        return data

    def to_json(self) -> str:
        """The schema as JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def field(self, name: str) -> Field | None:
        """The field called `name` or one of its aliases, in any case."""
        return self._by_name.get(name.lower())

    def index(self, field: Field) -> int:
        """The field's position in the canonical order."""
        return self._index[field.name]

    def suggest_fields(self, name: str) -> tuple[str, ...]:
        """Canonical names of the fields whose name or alias is close to `name`."""
        matches = difflib.get_close_matches(name.lower(), list(self._by_name), n=3, cutoff=0.8)
        return tuple(dict.fromkeys(self._by_name[match].name for match in matches))

    def interval_keys(self, value_type: ValueType) -> tuple[Field, Field]:
        """The one-sided fields that carry an interval's lower and upper bound in the body."""
        return self._interval_keys[value_type]

    @cached_property
    def _interval_keys(self) -> dict[ValueType, tuple[Field, Field]]:
        backwards = self.fields[::-1]  # so that the first field of a type is the one kept
        lower = {f.type: f for f in backwards if f.implies == ">="}
        upper = {f.type: f for f in backwards if f.implies in ("<", "<=")}
        return {value_type: (lower[value_type], upper[value_type]) for value_type in lower}

    @cached_property
    def body_keys(self) -> tuple[str, ...]:
        """Every body key a field sets, in the order of the fields (which is the API's)."""
        return tuple(dict.fromkeys(key for field in self.fields for key in field.api))

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {name.lower(): f for f in self.fields for name in (f.name, *f.aliases)}

    @cached_property
    def _index(self) -> dict[str, int]:
        return {field.name: position for position, field in enumerate(self.fields)}


@cache
def default_schema() -> Schema:
    """The schema shipped with querylang (`querylang/schema.json`)."""
    text = resources.files("querylang").joinpath("schema.json").read_text(encoding="utf-8")
    return Schema(fields=tuple(_shipped_field(data) for data in json.loads(text)["fields"]))


def _shipped_field(data: dict[str, Any]) -> Field:
    """A field of the shipped file, read without pydantic: the JSON arrays become tuples, the type
    its enum. The consistency checks still run (`__post_init__`); types are not checked here but
    by a test, which holds this reading equal to `Schema.load`'s."""
    values = tuple(EnumValue(**_tuples(value)) for value in data.get("values", ()))
    return Field(**{**_tuples(data), "type": ValueType(data["type"]), "values": values})


def _tuples(data: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}


@cache
def _adapter() -> TypeAdapter[Schema]:
    from pydantic import TypeAdapter  # imported here: compiling with the shipped schema needs none

    return TypeAdapter(Schema)
