"""The journey map: stages, channels, touchpoints, transitions and personas.

A :class:`JourneyMap` is an immutable pydantic value. Edits build a new map
(``model_copy(update=...)`` or the helpers in :mod:`journeymap.editing`), so a map
that fails validation never replaces a good one. The JSON document form carries a
``schema_version`` so that files written today can be read by later releases.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from journeymap.errors import UserInputError
from journeymap.json_input import load_json

__all__ = [
    "DEFAULT_STAGES",
    "SCHEMA_VERSION",
    "Channel",
    "ChannelKind",
    "ContextCarry",
    "JourneyMap",
    "Persona",
    "Stage",
    "Touchpoint",
    "Transition",
    "map_from_json",
    "map_to_json",
    "validation_error_to_user_error",
]

SCHEMA_VERSION: Literal[1] = 1
DEFAULT_STAGES = ("Awareness", "Consideration", "Purchase", "Onboarding/Service", "Loyalty")

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=5000)]


class ChannelKind(StrEnum):
    DIGITAL = "digital"
    PHYSICAL = "physical"
    ASSISTED = "assisted"
    MESSAGING = "messaging"


class ContextCarry(StrEnum):
    """Whether the customer's data and history travel with a transition."""

    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Stage(_Part):
    """A phase of the journey; stages are ordered by their position in the map."""

    id: Id
    name: Name


class Channel(_Part):
    """An interface a customer uses, run by an owner team."""

    id: Id
    name: Name
    kind: ChannelKind = ChannelKind.DIGITAL
    owner_team: Name = "Unassigned"


class Persona(_Part):
    id: Id
    name: Name
    description: Text = ""
    goals: tuple[Name, ...] = ()


class Touchpoint(_Part):
    """One moment inside a channel, in one stage."""

    id: Id
    name: Name
    channel: Id
    stage: Id
    owner: Name | None = Field(default=None, description="owner team; the channel's team when empty")
    description: Text = ""
    emotion: int = Field(default=0, ge=-2, le=2)
    pain_points: tuple[Name, ...] = ()
    requires_identification: bool = False
    is_final: bool = Field(default=False, description="a designated end of the journey (not a dead end)")


class Transition(_Part):
    """A designed directed edge between two touchpoints."""

    source: Id
    target: Id
    context_carry: ContextCarry = ContextCarry.FULL
    note: Text = ""


class JourneyMap(_Part):
    """A designed journey, validated as a whole.

    Examples
    --------
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"),),
    ...     touchpoints=(Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),),
    ... )
    >>> m.touchpoint("cart").name
    'Cart'
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    name: Name
    description: Text = ""
    stages: tuple[Stage, ...] = ()
    channels: tuple[Channel, ...] = ()
    touchpoints: tuple[Touchpoint, ...] = ()
    transitions: tuple[Transition, ...] = ()
    personas: tuple[Persona, ...] = ()

    @model_validator(mode="after")
    def _check_references(self) -> JourneyMap:
        for label, ids in (
            ("stages", [s.id for s in self.stages]),
            ("channels", [c.id for c in self.channels]),
            ("touchpoints", [t.id for t in self.touchpoints]),
            ("personas", [p.id for p in self.personas]),
        ):
            seen: set[str] = set()
            for index, item_id in enumerate(ids):
                if item_id in seen:
                    raise ValueError(f"{label}[{index}].id: '{item_id}' is used twice; ids must be unique")
                seen.add(item_id)
        stage_ids = {s.id for s in self.stages}
        channel_ids = {c.id for c in self.channels}
        for index, tp in enumerate(self.touchpoints):
            if tp.channel not in channel_ids:
                raise ValueError(f"touchpoints[{index}].channel: unknown channel '{tp.channel}' on '{tp.name}'")
            if tp.stage not in stage_ids:
                raise ValueError(f"touchpoints[{index}].stage: unknown stage '{tp.stage}' on '{tp.name}'")
        tp_ids = {t.id for t in self.touchpoints}
        pairs: set[tuple[str, str]] = set()
        for index, tr in enumerate(self.transitions):
            for end in ("source", "target"):
                value = getattr(tr, end)
                if value not in tp_ids:
                    raise ValueError(f"transitions[{index}].{end}: unknown touchpoint '{value}'")
            if (tr.source, tr.target) in pairs:
                raise ValueError(f"transitions[{index}]: '{tr.source}' -> '{tr.target}' appears twice")
            pairs.add((tr.source, tr.target))
        return self

    # Look-ups: small maps (hundreds of parts), so linear scans keep the value simple.
    def touchpoint(self, touchpoint_id: str) -> Touchpoint:
        return _find(self.touchpoints, touchpoint_id, "touchpoint")

    def channel(self, channel_id: str) -> Channel:
        return _find(self.channels, channel_id, "channel")

    def stage(self, stage_id: str) -> Stage:
        return _find(self.stages, stage_id, "stage")

    def owner_of(self, touchpoint: Touchpoint) -> str:
        """The team owning a touchpoint: its own owner, else its channel's team."""
        return touchpoint.owner or self.channel(touchpoint.channel).owner_team


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_P = TypeVar("_P", bound=_HasId)


def _find(items: tuple[_P, ...], item_id: str, label: str) -> _P:
    for item in items:
        if item.id == item_id:
            return item
    raise KeyError(f"no {label} with id '{item_id}'")


def map_to_json(journey_map: JourneyMap) -> str:
    """The map as a versioned JSON document (UTF-8 text, stable key order)."""
    return journey_map.model_dump_json(indent=2)


def map_from_json(text: str | bytes, *, source: str = "map JSON") -> JourneyMap:
    """Read a JSON document written by :func:`map_to_json`.

    Raises :class:`UserInputError` naming the field and problem for broken or
    foreign documents; nothing is returned in that case.

    Examples
    --------
    >>> map_from_json('{"schema_version": 1, "name": "Empty"}').name
    'Empty'
    >>> map_from_json('{"schema_version": 1}', source="a.json")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: a.json, field 'name': Field required. ...
    """
    data = load_json(text, source=source, hint="Export the map again from Journeymap, or fix the JSON syntax.")
    if not isinstance(data, dict) or "schema_version" not in data:
        raise UserInputError(
            "is not a Journeymap map document (no 'schema_version' field)",
            source=source,
            hint="Choose a file exported with 'Export JSON'.",
        )
    if data["schema_version"] != SCHEMA_VERSION:
        raise UserInputError(
            f"has schema_version {data['schema_version']!r}; this version of Journeymap reads {SCHEMA_VERSION}",
            source=source,
            location="field 'schema_version'",
            hint="Export the map again with a matching Journeymap version.",
        )
    try:
        return JourneyMap.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_user_error(exc, source=source) from None


def validation_error_to_user_error(exc: ValidationError, *, source: str) -> UserInputError:
    """The first problem of a pydantic error, as a message naming the field."""
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first["loc"]) or "document"
    message = first["msg"].removeprefix("Value error, ")
    if path == "document" and ":" in message:
        # Whole-map validators name the field themselves: "transitions[3].target: unknown ..."
        path, message = (part.strip() for part in message.split(":", 1))
    more = len(exc.errors()) - 1
    hint = "Fix that field and import again." + (f" ({more} more problem(s) after this one.)" if more else "")
    return UserInputError(message, source=source, location=f"field '{path}'", hint=hint)
