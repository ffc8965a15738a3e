"""A yardstick: a minimal hand-written compiler for the corpus's query shapes, in pure Python.

It does the same work as `querylang.compile(text).to_body()` on a valid query, and nothing more:
one regular expression per term, a recursive-descent parser for AND / OR / NOT / `-` and
parentheses, the same value readers (`querylang.values`: phones, uuids, durations, dates; reusing
them keeps the value work identical, so the gap measures the framework around it), and a
lowering that ANDs one clause per field. It has no error reporting worth the name, no spans, no
canonical form, no set algebra beyond what valid corpus queries need and no pydantic model:
the floor that querylang's pipeline is compared against, never a second implementation.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from querylang.schema import INTERVAL_TYPES, TZ_OPTION, Field, ValueType, default_schema
from querylang.values import TimeValue, read_value, resolve_time

_VALUE = r'"(?:[^"\\]|\\.)*"|(?:[^\s()",.<>]|\.(?!\.))(?:[^\s()",.]|\.(?!\.))*'
_TOKEN = re.compile(
    rf"""\s*(?:
      (?P<field>[^\s()",:\-][^\s()",:]*):
        (?:\((?P<list>(?:[^()"]|"(?:[^"\\]|\\.)*")*)\)
          |(?P<cmp>>=|<=|>|<)?(?P<low>{_VALUE})?(?P<range>\.\.)?(?P<high>{_VALUE})?)
      |(?P<op>AND|OR|NOT)(?=[\s(])
      |(?P<punct>[()-])
    )""",
    re.VERBOSE,
)
_ITEM = re.compile(rf"\s*({_VALUE})\s*(?:,|$)")
_ESCAPE = re.compile(r'\\(["\\])')

# A term: (field, op, raw values); a node: ("term", term) | ("not", node) | ("and"|"or", [nodes]).
Term = tuple[Field | None, str, list[str | None]]
Node = tuple[str, Any]


def _unquote(raw: str | None) -> str | None:
    if raw is None or not raw.startswith('"'):
        return raw
    return _ESCAPE.sub(r"\1", raw[1:-1])


@cache
def _fields() -> dict[str, Field]:
    return {name.lower(): f for f in default_schema().fields for name in (f.name, *f.aliases)}


@cache
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def tokenize(text: str) -> list[tuple[str, Any]]:
    """The tokens: ("term", Term), ("op", "AND"|"OR"|"NOT"), or ("punct", "(" | ")" | "-")."""
    tokens: list[tuple[str, Any]] = []
    position, end = 0, len(text.rstrip())
    fields = _fields()
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read {text[position:]!r}")
        position = match.end()
        if (name := match["field"]) is not None:
            field = None if name.lower() == TZ_OPTION else fields[name.lower()]
            if match["list"] is not None:
                values = [_unquote(m[1]) for m in _ITEM.finditer(match["list"])]
                tokens.append(("term", (field, ":", values)))
            elif match["range"]:
                values = [_unquote(match["low"]), _unquote(match["high"])]
                tokens.append(("term", (field, "..", values)))
            else:
                tokens.append(("term", (field, match["cmp"] or ":", [_unquote(match["low"])])))
        elif match["op"] is not None:
            tokens.append(("op", match["op"]))
        else:
            tokens.append(("punct", match["punct"]))
    return tokens


class _Parser:
    """Recursive descent: or := and (OR and)*; and := unary (AND? unary)*; unary := NOT unary |
    - unary | ( or ) | term."""

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.peek() == ("op", "OR"):
            self.take()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else ("or", operands)

    def and_expr(self) -> Node:
        operands = [self.unary()]
        while (token := self.peek()) is not None and token not in (("op", "OR"), ("punct", ")")):
            if token == ("op", "AND"):
                self.take()
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else ("and", operands)

    def unary(self) -> Node:
        kind, value = self.take()
        if kind == "term":
            return ("term", value)
        if value in ("NOT", "-"):
            return ("not", self.unary())
        if value == "(":
            inner = self.or_expr()
            if self.take() != ("punct", ")"):
                raise ValueError("expected ')'")
            return inner
        raise ValueError(f"unexpected {value!r}")


def parse(text: str) -> Node | None:
    """The tree of a query; `None` if it is empty."""
    tokens = tokenize(text)
    if not tokens:
        return None
    parser = _Parser(tokens)
    tree = parser.or_expr()
    if parser.position != len(tokens):
        raise ValueError("unexpected tokens at the end")
    return tree


# --- lowering ---------------------------------------------------------------------------------

_BOUNDS = {
    ValueType.TIME: ("after", "before"),
    ValueType.DURATION: ("min_duration", "max_duration"),
}
_ORDER = [
    "after",
    "before",
    "from",
    "to",
    "direction",
    "delivery_status",
    "mode",
    "language",
    "call_completion_rating",
    "voicemail",
    "min_duration",
    "max_duration",
    "agent_id",
    "agent_version_id",
    "contact_id",
    "conversation_id",
    "channel_id",
]
Interval = tuple[Any, Any]


def _spell(moment: Any) -> Any:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    return moment


class _Lowering:
    def __init__(self, now: datetime, zone: tzinfo, region: str) -> None:
        self.now = now
        self.zone = zone
        self.region = region

    def point(self, field: Field, raw: str | None) -> Interval | None:
        if raw is None:
            return None
        value = read_value(raw, field, region=self.region)
        if field.type is ValueType.DURATION:
            assert isinstance(value, int)
            return value, value + 1
        assert isinstance(value, TimeValue)
        return resolve_time(value, now=self.now, zone=self.zone)

    def interval(self, term: Term) -> Interval:
        field, op, raws = term
        assert field is not None
        if op == "..":
            low, high = (self.point(field, raw) for raw in raws)
            return (low[0] if low else None, high[1] if high else None)
        (start, end) = self.point(field, raws[0]) or (None, None)
        if op == ":" and field.implies:
            op = field.implies
        return {
            ":": (start, end),
            ">=": (start, None),
            ">": (end, None),
            "<": (None, start),
            "<=": (None, end),
        }[op]

    def values(self, term: Term) -> list[Any]:
        field, _, raws = term
        assert field is not None
        return [read_value(raw, field, region=self.region) for raw in raws if raw is not None]


def _clauses(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node[0] == "and":
        return [clause for operand in node[1] for clause in _clauses(operand)]
    return [node]


def _terms(node: Node) -> list[Term]:
    if node[0] == "term":
        return [node[1]]
    if node[0] == "not":
        return _terms(node[1])
    return [term for operand in node[1] for term in _terms(operand)]


def compile_body(text: str, *, now: datetime, tz: str = "UTC", region: str = "US") -> Any:
    """The request body of a valid corpus query, as `querylang.compile(...).to_body()` gives it."""
    clauses = _clauses(parse(text))
    for clause in clauses:
        if clause[0] == "term" and clause[1][0] is None:  # tz:
            tz = clause[1][2][0]
    lowering = _Lowering(now, _zone(tz), region)
    intervals: dict[ValueType, Interval] = {}
    sets: dict[str, list[Any]] = {}
    fields: dict[str, Field] = {}
    for clause in clauses:
        negated = clause[0] == "not"
        inner = clause[1] if negated else clause
        terms = _terms(inner)
        field = terms[0][0]
        if field is None:
            continue
        if field.type in INTERVAL_TYPES:
            if inner[0] != "term":
                raise NotImplementedError("the yardstick ANDs single interval terms only")
            low, high = lowering.interval(inner[1])
            if negated:
                low, high = (high, None) if low is None else (None, low)
            old_low, old_high = intervals.get(field.type, (None, None))
            intervals[field.type] = (
                low if old_low is None else old_low if low is None else max(low, old_low),
                high if old_high is None else old_high if high is None else min(high, old_high),
            )
            continue
        # A term, or an OR of terms on one field: the union of their values, in order.
        allowed = list(dict.fromkeys(v for term in terms for v in lowering.values(term)))
        if negated:
            universe: list[Any] = (
                [value.name for value in field.values]
                if field.type is ValueType.ENUM
                else [True, False]
            )
            allowed = [value for value in universe if value not in allowed]
        if field.name in sets:
            allowed = [value for value in sets[field.name] if value in allowed]
        sets[field.name] = allowed
        fields[field.name] = field
    body: dict[str, Any] = {}
    for value_type, (low, high) in intervals.items():
        lower, upper = _BOUNDS[value_type]
        if value_type is ValueType.DURATION and high is not None:
            high -= 1
        if low is not None:
            body[lower] = _spell(low)
        if high is not None:
            body[upper] = _spell(high)
    for name, allowed in sets.items():
        field = fields[name]
        if field.type is ValueType.ENUM:
            allowed = [field.enum_value(value).api for value in allowed]  # type: ignore[union-attr]
        body[field.api[0]] = allowed[0] if len(allowed) == 1 else allowed
    return {key: body[key] for key in _ORDER if key in body}


def pipeline(text: str, *, now: datetime) -> str:
    """Text to JSON body, as `json.dumps(querylang.compile(text).to_body())`."""
    return json.dumps(compile_body(text, now=now))
