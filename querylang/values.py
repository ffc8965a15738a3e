"""Values: reading the text of one value into its typed form, and spelling it canonically.

`check` calls `read_value` for every value of a term; `format` and `decompile` call `spell_value`
to write it back. Both are driven by the field's `ValueType`, so each type is decided once, here.
Time values stay symbolic (a date, a local or absolute date-time, or a relative form): they become
instants only when the compiler resolves them against `now` and the query's time zone.
"""

from __future__ import annotations

import difflib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, assert_never
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from querylang.errors import ErrorCode
from querylang.schema import Field, ValueType

if TYPE_CHECKING:
    import phonenumbers


class ValueProblem(Exception):
    """Why a value could not be read; `check` turns it into a diagnostic at the value's span."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        hint: str | None = None,
        suggestions: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.suggestions = suggestions


# --- time -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Day:
    """A calendar date: the whole day, in the query's time zone."""

    day: date


@dataclass(frozen=True, slots=True)
class DateTime:
    """A date-time; without an offset (`moment.tzinfo is None`) it is in the query's time zone."""

    moment: datetime


@dataclass(frozen=True, slots=True)
class DaysAgo:
    """`today` (0) or `yesterday` (1): a whole day, relative to when the query is compiled."""

    days: int


@dataclass(frozen=True, slots=True)
class Ago:
    """`now` (amount 0) or `-7d` / `now-7d`: an instant this long before the query is compiled."""

    amount: int
    unit: str


TimeValue = Day | DateTime | DaysAgo | Ago
TypedValue = str | bool | int | TimeValue
"""A value as `check` leaves it: enum values by canonical name, phones in E.164, uuids in lower
case, durations in whole milliseconds, booleans as `bool`, times as a `TimeValue`."""

RELATIVE_DAYS = {"today": 0, "yesterday": 1}
AGO_PATTERN = re.compile(r"(?:now)?-(\d{1,9})(s|min|m|h|d|w)", re.IGNORECASE)
AGO_UNITS = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
DATE_TIME_PATTERN = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[Zz]|[+-]\d{2}:\d{2})?"
)
_TIME_HINT = (
    "use YYYY-MM-DD, an ISO 8601 date-time, now, today, yesterday, or -7d / -36h / -90m / -2w"
)


def read_time(text: str) -> TimeValue:
    lowered = text.lower()
    if lowered == "now":
        return Ago(0, "s")
    if lowered in RELATIVE_DAYS:
        return DaysAgo(RELATIVE_DAYS[lowered])
    if ago := AGO_PATTERN.fullmatch(text):
        amount = int(ago.group(1))
        # -0m is now: one value, one spelling, so that duplicates are seen as such.
        return Ago(amount, ago.group(2).lower() if amount else "s")
    try:
        if DATE_PATTERN.fullmatch(text):
            return Day(date.fromisoformat(text))
        if DATE_TIME_PATTERN.fullmatch(text):
            return DateTime(datetime.fromisoformat(text.upper().replace(" ", "T")))
    except ValueError as error:
        raise _invalid(f"{text!r} is not a real date: {error}", _TIME_HINT) from None
    raise ValueProblem(ErrorCode.INVALID_VALUE, f"{text!r} is not a date or time", _TIME_HINT)


def resolve_time(value: TimeValue, *, now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants (UTC) where a time value starts and ends: a day spans 24 local hours (or 23,
    or 25), a date-time is a point (start == end).

    Raises:
        ValueProblem: for a value whose start or end falls outside years 1 to 9999 in UTC.
    """
    try:
        match value:
            case Day(day):
                return _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
            case DaysAgo(days):
                day = now.astimezone(zone).date() - timedelta(days=days)
                return _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
            case DateTime(moment):
                local = moment if moment.tzinfo else moment.replace(tzinfo=zone, fold=0)
                instant = local.astimezone(UTC)
                return instant, instant
            case Ago(amount, unit):
                instant = now.astimezone(UTC) - amount * AGO_UNITS[unit]
                return instant, instant
            case _:
                assert_never(value)
    except OverflowError:
        raise _invalid(
            f"{spell_time(value)} is beyond the range of dates (years 1 to 9999 in UTC)"
        ) from None


def _midnight(day: date, zone: tzinfo) -> datetime:
    # fold=0 takes the offset in force before a daylight-saving change, in a gap and an overlap.
    return datetime(day.year, day.month, day.day, tzinfo=zone, fold=0).astimezone(UTC)


def spell_time(value: TimeValue) -> str:
    match value:
        case Day(day):
            return day.isoformat()
        case DaysAgo(days):
            return "today" if days == 0 else "yesterday"
        case DateTime(moment):
            return spell_datetime(moment)
        case Ago(amount, unit):
            return "now" if amount == 0 else f"-{amount}{'m' if unit == 'min' else unit}"
        case _:
            assert_never(value)


def spell_datetime(moment: datetime) -> str:
    """ISO 8601 with seconds, the fraction only when there is one (no trailing zeros), and `Z`
    for UTC."""
    text = moment.replace(microsecond=0, tzinfo=None).isoformat()
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    offset = moment.utcoffset()
    if offset is None:
        return text
    if not offset:
        return text + "Z"
    return text + moment.isoformat()[-6:]


def spell_instant(moment: datetime) -> str:
    """The API's spelling of an instant: RFC 3339 in UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`.

    Raises:
        ValueError: there is none of that name (a folder of the tz database, such as `Europe`,
            is no time zone either).
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None


# --- duration ---------------------------------------------------------------------------------

DURATION_UNITS = {"h": 3_600_000, "m": 60_000, "min": 60_000, "s": 1_000, "ms": 1}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|min|h|m|s)", re.IGNORECASE)
NUMBER_PATTERN = re.compile(r"\d+(?:\.\d+)?")
_DURATION_HINT = "write a number with a unit: ms, s, m (or min), h; e.g. 90s, 1m30s, 1.5s"


def read_duration(text: str, *, bare_number_unit: str | None) -> int:
    if NUMBER_PATTERN.fullmatch(text):
        if bare_number_unit is None:
            raise _missing_unit(text)
        if not text.isdigit():
            raise ValueProblem(
                ErrorCode.INVALID_VALUE,
                f"{text!r}: a bare number here is whole {bare_number_unit}",
                _DURATION_HINT,
            )
        return int(text) * DURATION_UNITS[bare_number_unit]
    total = Decimal(0)
    position = 0
    last_unit_size = None
    for part in _DURATION_PART.finditer(text):
        unit_size = DURATION_UNITS[part.group(2).lower()]
        if part.start() != position or (last_unit_size is not None and unit_size >= last_unit_size):
            break
        total += Decimal(part.group(1)) * unit_size
        position, last_unit_size = part.end(), unit_size
    if position != len(text) or not text:
        raise ValueProblem(ErrorCode.INVALID_VALUE, f"{text!r} is not a duration", _DURATION_HINT)
    if total != total.to_integral_value():
        raise ValueProblem(
            ErrorCode.INVALID_VALUE,
            f"{text!r} is not a whole number of milliseconds",
            "durations are counted in whole milliseconds: 1.5s is fine, 1.0005s is not",
        )
    return int(total)


def _missing_unit(number: str) -> ValueProblem:
    return ValueProblem(
        ErrorCode.MISSING_UNIT,
        f"the duration {number!r} has no unit",
        _DURATION_HINT,
        tuple(f"{number}{unit}" for unit in ("s", "m", "ms", "h")),
    )


def spell_duration(milliseconds: int) -> str:
    """The compact compound form: `1h30m`, `1m30s`, `1s500ms`, `0s`."""
    if milliseconds == 0:
        return "0s"
    parts = []
    remainder = milliseconds
    for unit in ("h", "m", "s", "ms"):
        count, remainder = divmod(remainder, DURATION_UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


# --- the other types --------------------------------------------------------------------------

BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_UUID = re.compile(
    r"(?:urn:uuid:)?(\{)?[0-9a-f]{8}(-?)[0-9a-f]{4}\2[0-9a-f]{4}\2[0-9a-f]{4}\2[0-9a-f]{12}(?(1)\})",
    re.IGNORECASE,
)
LANGUAGE_PATTERN = re.compile(
    r"(?P<language>[a-z]{2,3})(?:[-_](?P<script>[a-z]{4}))?(?:[-_](?P<region>[a-z]{2}|\d{3}))?",
    re.IGNORECASE,
)


def read_enum(text: str, field: Field) -> str:
    value = field.enum_value(text)
    if value is not None:
        return value.name
    spellings = {s: v.name for v in field.values for s in (v.name, *v.aliases)}
    close = difflib.get_close_matches(text.lower(), list(spellings), n=3, cutoff=0.5)
    suggestions = tuple(dict.fromkeys(spellings[match] for match in close))
    raise _invalid(
        f"{text!r} is not a {field.name}",
        "one of: " + ", ".join(v.name for v in field.values),
        suggestions or tuple(v.name for v in field.values),
    )


def read_boolean(text: str) -> bool:
    if (value := BOOLEANS.get(text.lower())) is not None:
        return value
    raise _invalid(
        f"{text!r} is not a boolean", "use true or false (or yes/no, 1/0)", ("true", "false")
    )


def read_uuid(text: str) -> str:
    if not _UUID.fullmatch(text):
        raise _invalid(
            f"{text!r} is not a UUID",
            "a UUID is 32 hexadecimal digits, usually grouped 8-4-4-4-12 with hyphens",
        )
    return str(uuid.UUID(text.lower()))  # uuid.UUID knows only a lower-case urn:uuid: prefix


def read_language(text: str) -> str:
    match = LANGUAGE_PATTERN.fullmatch(text)
    if match is None:
        raise _invalid(f"{text!r} is not a language code", "use a code such as en, es or en-US")
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts)


def phone_region(region: str) -> str:
    """The region code, upper-cased, for reading phone numbers without a country code.

    Raises:
        ValueError: libphonenumber knows no such region.
    """
    import phonenumbers

    code = region.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}: use an ISO 3166 code such as US or GB")
    return code


def read_phone(text: str, *, region: str) -> str:
    import phonenumbers  # imported here: its metadata is large and only phone fields need it

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        reason = _phone_reason(error)
        raise _invalid(f"{text!r} is not a phone number: {reason}", _PHONE_HINT) from None
    if number.extension:
        raise _invalid(
            f"{text!r} has an extension, which call records do not carry",
            "search for the number without its extension",
        )
    if not phonenumbers.is_possible_number(number):
        raise _invalid(f"{text!r} cannot be a valid phone number (wrong length)", _PHONE_HINT)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(e164) > _E164_MAX_LENGTH:
        raise _invalid(f"{text!r} is longer than E.164 allows (15 digits)", _PHONE_HINT)
    return e164


_E164_MAX_LENGTH = 16  # "+" and at most 15 digits


_PHONE_HINT = 'write it in E.164 (+14155550100), or quote a spelling with spaces: "+1 415 555 0100"'


def _phone_reason(error: phonenumbers.NumberParseException) -> str:
    return str(error).split(") ", 1)[-1].rstrip(".").lower()


def _invalid(
    message: str, hint: str | None = None, suggestions: tuple[str, ...] = ()
) -> ValueProblem:
    return ValueProblem(ErrorCode.INVALID_VALUE, message, hint, suggestions)


def read_value(text: str, field: Field, *, region: str) -> TypedValue:
    """Read one value of `field`.

    Raises:
        ValueProblem: the value is not one of the field's type.
    """
    if not text:
        raise _invalid(f'{field.name}:"" has an empty value', "give a value, or remove the term")
    match field.type:
        case ValueType.TIME:
            return read_time(text)
        case ValueType.DURATION:
            return read_duration(text, bare_number_unit=field.bare_number_unit)
        case ValueType.PHONE:
            return read_phone(text, region=region)
        case ValueType.ENUM:
            return read_enum(text, field)
        case ValueType.TEXT:
            return text
        case ValueType.LANGUAGE:
            return read_language(text)
        case ValueType.BOOLEAN:
            return read_boolean(text)
        case ValueType.UUID:
            return read_uuid(text)
        case _:
            assert_never(field.type)


def spell_value(value: TypedValue, field: Field) -> str:
    """The canonical spelling of a typed value of `field`, unquoted (the formatter quotes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return spell_duration(value)
    if isinstance(value, str):
        return value
    return spell_time(value)
