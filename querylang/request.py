"""The Search Calls request body, as a pydantic model that mirrors the API exactly.

`compile` returns a `SearchCallsRequest`; `to_body()` gives the JSON-ready dict. The model also
validates bodies given to `decompile` and bodies received by the reference server. The compiler
builds the body itself (`compile_body`, for callers that need no model and so no pydantic), and
a test holds the two equal.
Enum values are plain strings here because their sets live in the schema data, not in code.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from querylang.values import spell_instant

Instant = Annotated[
    AwareDatetime, PlainSerializer(spell_instant, return_type=str, when_used="json")
]
"""An RFC 3339 instant; serialised in UTC as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`."""
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{1,14}$")]
"""A phone number in E.164."""
Text = Annotated[str, StringConstraints(min_length=1)]
Milliseconds = Annotated[StrictInt, Field(ge=0)]

# "One or many": the API takes a single value or a non-empty array for these fields.
Phones = Phone | Annotated[list[Phone], Field(min_length=1)]
Texts = Text | Annotated[list[Text], Field(min_length=1)]
Uuids = UUID | Annotated[list[UUID], Field(min_length=1)]


class SearchCallsRequest(BaseModel):
    """The body of `POST /calls/search`: every field optional, fields ANDed, a field's values ORed.

    >>> SearchCallsRequest(direction="INBOUND", min_duration=5000).to_body()
    {'direction': 'INBOUND', 'min_duration': 5000}
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    after: Instant | None = None
    before: Instant | None = None
    from_: Phones | None = Field(default=None, alias="from")
    to: Phones | None = None
    direction: Texts | None = None
    delivery_status: Texts | None = None
    mode: Texts | None = None
    language: Texts | None = None
    call_completion_rating: Texts | None = None
    voicemail: StrictBool | None = None
    min_duration: Milliseconds | None = None
    max_duration: Milliseconds | None = None
    agent_id: Uuids | None = None
    agent_version_id: Uuids | None = None
    contact_id: Uuids | None = None
    conversation_id: Uuids | None = None
    channel_id: Uuids | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON-ready body: API key names (`from`), unset fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
