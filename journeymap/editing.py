"""Edit operations on a journey map: each returns a new, validated map or raises UserInputError.

A :class:`~journeymap.model.JourneyMap` is immutable, so an edit that fails leaves the map
as it was: there is no half-changed state to repair. Ids are stable: renaming a stage,
channel, touchpoint or persona never changes its id, and :func:`new_id` makes ids for new
parts from their names.

:func:`apply_table_edit` takes the rows of a table editor (one part of the map at a time)
and reports the first problem by table, row (counted from 1, as shown) and column.

Examples
--------
>>> from journeymap.model import Channel, Touchpoint
>>> m = JourneyMap(name="Tiny", channels=(Channel(id="web", name="Website"),))
>>> m = add_stage(m, "Purchase")
>>> m = upsert_touchpoint(m, Touchpoint(id="cart", name="Cart", channel="web", stage="purchase"))
>>> [s.id for s in m.stages], [t.id for t in m.touchpoints]
(['purchase'], ['cart'])
>>> delete_stage(m, "purchase")
Traceback (most recent call last):
...
journeymap.errors.UserInputError: stage 'Purchase': cannot be deleted while 1 touchpoint uses it: 'Cart' (cart). ...
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from journeymap.errors import UserInputError
from journeymap.model import (
    Channel,
    ChannelKind,
    ContextCarry,
    JourneyMap,
    Persona,
    Stage,
    Touchpoint,
    Transition,
    validation_error_to_user_error,
)

__all__ = [
    "TABLE_COLUMNS",
    "TablePart",
    "add_stage",
    "apply_table_edit",
    "delete_channel",
    "delete_persona",
    "delete_stage",
    "delete_touchpoint",
    "delete_transition",
    "move_stage",
    "new_id",
    "rename_stage",
    "table_rows",
    "transitions_using",
    "upsert_channel",
    "upsert_persona",
    "upsert_touchpoint",
    "upsert_transition",
]

TablePart = Literal["stages", "channels", "touchpoints", "transitions", "personas"]

TABLE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "stages": ("id", "name"),
    "channels": ("id", "name", "kind", "owner_team"),
    "touchpoints": (
        "id",
        "name",
        "channel",
        "stage",
        "owner",
        "description",
        "emotion",
        "pain_points",
        "requires_identification",
        "is_final",
    ),
    "transitions": ("source", "target", "context_carry", "note"),
    "personas": ("id", "name", "description", "goals"),
}
"""The columns :func:`apply_table_edit` reads for each part; other keys in a row are ignored."""

_SLUG_MAX = 60
_LIST_MAX = 8
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_TRUE = frozenset({"true", "yes", "y", "1", "x", "✓"})
_FALSE = frozenset({"false", "no", "n", "0", ""})
_UNCHANGED = "Nothing was changed."
_PART_HINT = "Use one of: stages, channels, touchpoints, transitions, personas."

_P = TypeVar("_P", bound=BaseModel)

# Unicode White_Space, which the model's strip_whitespace removes; str.strip() also removes U+001C-U+001F,
# so a value read here would differ from the same value validated by the model.
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))


def _strip(text: str) -> str:
    return text.strip(_WHITESPACE)


# --- ids ----------------------------------------------------------------------------------------


def new_id(name: str, existing: Iterable[str]) -> str:
    """A kebab-case id made from a name, unique among ``existing`` (``-2``, ``-3``... when taken).

    Markup tags are dropped, accents folded to ASCII and anything else that is not a letter
    or digit becomes a hyphen; a name with nothing left gives ``"item"``.

    Examples
    --------
    >>> new_id("Pick-up Desk (Store)", [])
    'pick-up-desk-store'
    >>> new_id("Café crème", ["cafe-creme", "cafe-creme-2"])
    'cafe-creme-3'
    >>> new_id("<img src=x onerror=alert(1)>", [])
    'item'
    >>> new_id("   ", ["item"])
    'item-2'
    """
    text = html.unescape(_TAG.sub(" ", name))
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", folded.lower()).strip("-")[:_SLUG_MAX].rstrip("-") or "item"
    taken = set(existing)
    if slug not in taken:
        return slug
    number = 2
    while f"{slug}-{number}" in taken:
        number += 1
    return f"{slug}-{number}"


# --- shared helpers -----------------------------------------------------------------------------


def _rebuild(m: JourneyMap, *, source: str | None = None, **parts: Any) -> JourneyMap:
    """A new map with some parts replaced, validated as a whole."""
    data = {field: getattr(m, field) for field in JourneyMap.model_fields}
    data.update(parts)
    try:
        return JourneyMap.model_validate(data)
    except ValidationError as exc:
        error = validation_error_to_user_error(exc, source=source or "journey map")
        raise UserInputError(error.problem, source=error.source, location=error.location, hint=_UNCHANGED) from None


def _make(cls: type[_P], where: str, /, **fields: Any) -> _P:
    """A part built from user values; a field problem names the part and field."""
    try:
        return cls(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "value"
        raise UserInputError(
            first["msg"].removeprefix("Value error, "),
            location=f"{where}, field '{field}'",
            hint=f"Fix the {field.replace('_', ' ')}. {_UNCHANGED}",
        ) from None


def _listing(items: Sequence[str], limit: int = _LIST_MAX) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _uses(count: int) -> str:
    return "uses" if count == 1 else "use"


def _tp_label(tp: Touchpoint) -> str:
    return f"'{tp.name}' ({tp.id})"


def _transition_label(tr: Transition, names: Mapping[str, str]) -> str:
    return f"'{names.get(tr.source, tr.source)}' → '{names.get(tr.target, tr.target)}'"


def _position(items: Sequence[Any], item_id: str, label: str) -> int:
    for i, item in enumerate(items):
        if item.id == item_id:
            return i
    raise UserInputError(
        f"there is no {label} with id '{item_id}'",
        hint=f"It may have been deleted meanwhile; reload the map. {_UNCHANGED}",
    )


def _upserted(items: tuple[_P, ...], item: _P, same: Callable[[_P], bool]) -> tuple[_P, ...]:
    """Items with ``item`` replacing the first one ``same`` matches (in place), else appended."""
    for i, existing in enumerate(items):
        if same(existing):
            return (*items[:i], item, *items[i + 1 :])
    return (*items, item)


def _required_name(name: str, label: str) -> str:
    if not isinstance(name, str) or not _strip(name):
        raise UserInputError("the name is empty", location=label, hint=f"Type a name. {_UNCHANGED}")
    return _strip(name)


# --- stages -------------------------------------------------------------------------------------


def add_stage(m: JourneyMap, name: str, *, position: int | None = None) -> JourneyMap:
    """A new stage named ``name``, at ``position`` (0 = first) or last.

    Examples
    --------
    >>> m = add_stage(add_stage(JourneyMap(name="M"), "Purchase"), "Awareness", position=0)
    >>> [(s.id, s.name) for s in m.stages]
    [('awareness', 'Awareness'), ('purchase', 'Purchase')]
    """
    name = _required_name(name, "new stage")
    count = len(m.stages)
    if position is None:
        position = count
    if not 0 <= position <= count:
        raise UserInputError(
            f"position {position} is outside the stages (0 to {count})",
            location="new stage",
            hint=f"Choose a position from 0 (first) to {count} (last). {_UNCHANGED}",
        )
    stage = _make(Stage, "new stage", id=new_id(name, (s.id for s in m.stages)), name=name)
    return _rebuild(m, stages=(*m.stages[:position], stage, *m.stages[position:]))


def rename_stage(m: JourneyMap, stage_id: str, name: str) -> JourneyMap:
    """The map with one stage renamed; its id stays the same.

    Examples
    --------
    >>> from journeymap.model import Stage
    >>> m = rename_stage(JourneyMap(name="M", stages=(Stage(id="buy", name="Buy"),)), "buy", "Purchase")
    >>> m.stages
    (Stage(id='buy', name='Purchase'),)
    """
    index = _position(m.stages, stage_id, "stage")
    name = _required_name(name, f"stage '{m.stages[index].name}'")
    stage = _make(Stage, f"stage '{m.stages[index].name}'", id=stage_id, name=name)
    return _rebuild(m, stages=(*m.stages[:index], stage, *m.stages[index + 1 :]))


def _refuse_while_used(m: JourneyMap, part: Literal["stage", "channel"], item_id: str, name: str) -> None:
    """Refuse deleting a stage or channel that touchpoints still use, naming them."""
    users = [_tp_label(tp) for tp in m.touchpoints if getattr(tp, part) == item_id]
    if users:
        raise UserInputError(
            f"cannot be deleted while {_plural(len(users), 'touchpoint')} {_uses(len(users))} it: {_listing(users)}",
            location=f"{part} '{name}'",
            hint=f"Move those touchpoints to another {part} or delete them first. {_UNCHANGED}",
        )


def delete_stage(m: JourneyMap, stage_id: str) -> JourneyMap:
    """The map without a stage; refused while touchpoints are in it (they are named).

    Examples
    --------
    >>> from journeymap.model import Stage
    >>> delete_stage(JourneyMap(name="M", stages=(Stage(id="buy", name="Buy"),)), "buy").stages
    ()
    """
    index = _position(m.stages, stage_id, "stage")
    _refuse_while_used(m, "stage", stage_id, m.stages[index].name)
    return _rebuild(m, stages=(*m.stages[:index], *m.stages[index + 1 :]))


def move_stage(m: JourneyMap, stage_id: str, offset: int) -> JourneyMap:
    """The map with a stage moved ``offset`` places (negative = earlier), stopping at either end.

    Examples
    --------
    >>> from journeymap.model import Stage
    >>> m = JourneyMap(name="M", stages=(Stage(id="a", name="A"), Stage(id="b", name="B"), Stage(id="c", name="C")))
    >>> [s.id for s in move_stage(m, "c", -1).stages], [s.id for s in move_stage(m, "a", 10).stages]
    (['a', 'c', 'b'], ['b', 'c', 'a'])
    """
    index = _position(m.stages, stage_id, "stage")
    rest = [s for s in m.stages if s.id != stage_id]
    target = min(max(index + offset, 0), len(rest))
    rest.insert(target, m.stages[index])
    return _rebuild(m, stages=tuple(rest))


# --- channels -----------------------------------------------------------------------------------


def upsert_channel(m: JourneyMap, channel: Channel) -> JourneyMap:
    """The map with ``channel`` replacing the channel with its id (in place), or added last.

    Examples
    --------
    >>> from journeymap.model import Channel
    >>> m = upsert_channel(JourneyMap(name="M"), Channel(id="web", name="Website"))
    >>> upsert_channel(m, Channel(id="web", name="Web shop")).channels[0].name
    'Web shop'
    """
    return _rebuild(m, channels=_upserted(m.channels, channel, lambda c: c.id == channel.id))


def delete_channel(m: JourneyMap, channel_id: str) -> JourneyMap:
    """The map without a channel; refused while touchpoints belong to it (they are named).

    Examples
    --------
    >>> from journeymap.model import Channel
    >>> delete_channel(JourneyMap(name="M", channels=(Channel(id="web", name="Website"),)), "web").channels
    ()
    """
    index = _position(m.channels, channel_id, "channel")
    _refuse_while_used(m, "channel", channel_id, m.channels[index].name)
    return _rebuild(m, channels=(*m.channels[:index], *m.channels[index + 1 :]))


# --- touchpoints and transitions ----------------------------------------------------------------


def _choices(items: Iterable[Stage | Channel]) -> str:
    return _listing([f"'{item.name}' ({item.id})" for item in items]) or "none yet: add one first"


def upsert_touchpoint(m: JourneyMap, tp: Touchpoint) -> JourneyMap:
    """The map with ``tp`` replacing the touchpoint with its id (in place), or added last.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> m = JourneyMap(name="M", stages=(Stage(id="buy", name="Buy"),), channels=(Channel(id="web", name="Web"),))
    >>> upsert_touchpoint(m, Touchpoint(id="cart", name="Cart", channel="fax", stage="buy"))
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: touchpoint 'Cart', field 'channel': unknown channel 'fax'. Choose one of: ...
    """
    where = f"touchpoint '{tp.name}'"
    if tp.channel not in {c.id for c in m.channels}:
        raise UserInputError(
            f"unknown channel '{tp.channel}'",
            location=f"{where}, field 'channel'",
            hint=f"Choose one of: {_choices(m.channels)}. {_UNCHANGED}",
        )
    if tp.stage not in {s.id for s in m.stages}:
        raise UserInputError(
            f"unknown stage '{tp.stage}'",
            location=f"{where}, field 'stage'",
            hint=f"Choose one of: {_choices(m.stages)}. {_UNCHANGED}",
        )
    return _rebuild(m, touchpoints=_upserted(m.touchpoints, tp, lambda t: t.id == tp.id))


def transitions_using(m: JourneyMap, touchpoint_id: str) -> list[Transition]:
    """Transitions from or to a touchpoint, in map order.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="M",
    ...     stages=(Stage(id="buy", name="Buy"),),
    ...     channels=(Channel(id="web", name="Web"),),
    ...     touchpoints=tuple(Touchpoint(id=i, name=i, channel="web", stage="buy") for i in "abc"),
    ...     transitions=(Transition(source="a", target="b"), Transition(source="b", target="c")),
    ... )
    >>> [(t.source, t.target) for t in transitions_using(m, "c")]
    [('b', 'c')]
    """
    return [tr for tr in m.transitions if touchpoint_id in (tr.source, tr.target)]


def delete_touchpoint(m: JourneyMap, touchpoint_id: str) -> JourneyMap:
    """The map without a touchpoint and without every transition from or to it.

    Ask the user to confirm first, showing :func:`transitions_using`.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="M",
    ...     stages=(Stage(id="buy", name="Buy"),),
    ...     channels=(Channel(id="web", name="Web"),),
    ...     touchpoints=tuple(Touchpoint(id=i, name=i, channel="web", stage="buy") for i in "ab"),
    ...     transitions=(Transition(source="a", target="b"),),
    ... )
    >>> after = delete_touchpoint(m, "b")
    >>> [t.id for t in after.touchpoints], after.transitions
    (['a'], ())
    """
    index = _position(m.touchpoints, touchpoint_id, "touchpoint")
    return _rebuild(
        m,
        touchpoints=(*m.touchpoints[:index], *m.touchpoints[index + 1 :]),
        transitions=tuple(tr for tr in m.transitions if touchpoint_id not in (tr.source, tr.target)),
    )


def upsert_transition(m: JourneyMap, tr: Transition) -> JourneyMap:
    """The map with ``tr`` replacing the transition between the same two touchpoints, or added last.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="M",
    ...     stages=(Stage(id="buy", name="Buy"),),
    ...     channels=(Channel(id="web", name="Web"),),
    ...     touchpoints=tuple(Touchpoint(id=i, name=i, channel="web", stage="buy") for i in "ab"),
    ... )
    >>> m = upsert_transition(m, Transition(source="a", target="b"))
    >>> upsert_transition(m, Transition(source="a", target="b", context_carry="none")).transitions[0].context_carry
    <ContextCarry.NONE: 'none'>
    """
    ids = {t.id for t in m.touchpoints}
    for end in ("source", "target"):
        value = getattr(tr, end)
        if value not in ids:
            raise UserInputError(
                f"unknown touchpoint '{value}'",
                location=f"transition '{tr.source}' → '{tr.target}', field '{end}'",
                hint=f"Choose an existing touchpoint or add it first. {_UNCHANGED}",
            )
    same = (tr.source, tr.target)
    return _rebuild(m, transitions=_upserted(m.transitions, tr, lambda t: (t.source, t.target) == same))


def delete_transition(m: JourneyMap, source: str, target: str) -> JourneyMap:
    """The map without the transition ``source`` → ``target``.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="M",
    ...     stages=(Stage(id="buy", name="Buy"),),
    ...     channels=(Channel(id="web", name="Web"),),
    ...     touchpoints=tuple(Touchpoint(id=i, name=i, channel="web", stage="buy") for i in "ab"),
    ...     transitions=(Transition(source="a", target="b"),),
    ... )
    >>> delete_transition(m, "a", "b").transitions
    ()
    """
    kept = tuple(tr for tr in m.transitions if (tr.source, tr.target) != (source, target))
    if len(kept) == len(m.transitions):
        raise UserInputError(
            f"there is no transition '{source}' → '{target}'",
            hint=f"It may have been deleted meanwhile; reload the map. {_UNCHANGED}",
        )
    return _rebuild(m, transitions=kept)


# --- personas -----------------------------------------------------------------------------------


def upsert_persona(m: JourneyMap, p: Persona) -> JourneyMap:
    """The map with ``p`` replacing the persona with its id (in place), or added last.

    Examples
    --------
    >>> from journeymap.model import Persona
    >>> upsert_persona(JourneyMap(name="M"), Persona(id="parent", name="Busy parent")).personas[0].name
    'Busy parent'
    """
    return _rebuild(m, personas=_upserted(m.personas, p, lambda q: q.id == p.id))


def delete_persona(m: JourneyMap, persona_id: str) -> JourneyMap:
    """The map without a persona.

    Examples
    --------
    >>> from journeymap.model import Persona
    >>> delete_persona(JourneyMap(name="M", personas=(Persona(id="p", name="P"),)), "p").personas
    ()
    """
    index = _position(m.personas, persona_id, "persona")
    return _rebuild(m, personas=(*m.personas[:index], *m.personas[index + 1 :]))


# --- table edits --------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    # pandas.NA and NaT (a table editor's empty cells), without importing pandas here.
    return type(value).__name__ in {"NAType", "NaTType"}


class _Row:
    """One table row, read cell by cell; problems name the table, row and column."""

    def __init__(self, part: TablePart, number: int, data: Mapping[str, Any]) -> None:
        self.part = part
        self.number = number
        self.data = data

    def error(self, column: str, problem: str, hint: str) -> UserInputError:
        return UserInputError(
            problem,
            source=f"{self.part} table",
            location=f"row {self.number}, column '{column}'",
            hint=f"{hint} {_UNCHANGED}",
        )

    def is_blank(self) -> bool:
        # A row the editor added and the user never filled: unticked boxes and a 0 emotion count as empty.
        return all(
            _is_missing(value) or value in ("", False, 0, (), []) or not self.text(column)
            for column in TABLE_COLUMNS[self.part]
            for value in (self.raw(column),)
        )

    def raw(self, column: str) -> Any:
        return self.data.get(column)

    def text(self, column: str, *, strip: bool = True) -> str:
        value = self.raw(column)
        if _is_missing(value):
            return ""
        if isinstance(value, list | tuple):
            return "; ".join(_strip(str(v)) for v in value if not _is_missing(v) and _strip(str(v)))
        return _strip(str(value)) if strip else str(value)

    def name(self) -> str:
        name = self.text("name")
        if not name:
            raise self.error("name", "the name is empty", "Give every row a name, or delete the row.")
        return name

    def flag(self, column: str) -> bool:
        value = self.raw(column)
        if isinstance(value, bool):
            return value
        text = self.text(column).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise self.error(column, f"'{self.text(column)}' is not yes or no", "Tick the box or leave it empty.")

    def items(self, column: str) -> tuple[str, ...]:
        value = self.raw(column)
        if isinstance(value, list | tuple):
            parts = [str(v) for v in value if not _is_missing(v)]
        else:
            parts = self.text(column).split(";")
        return tuple(_strip(p) for p in parts if _strip(p))

    def choice(self, column: str, allowed: Sequence[str], default: str) -> str:
        text = self.text(column).lower()
        if not text:
            return default
        if text not in allowed:
            raise self.error(
                column, f"'{self.text(column)}' is not one of {', '.join(allowed)}", "Pick one of the listed values."
            )
        return text

    def emotion(self) -> int:
        value = self.raw("emotion")
        text = self.text("emotion")
        if not text:
            return 0
        try:
            number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number != int(number):
            raise self.error("emotion", f"'{text}' is not a whole number", "Use a whole number from -2 to 2.")
        if not -2 <= number <= 2:
            raise self.error(
                "emotion",
                f"{int(number)} is out of range",
                "Use a whole number from -2 (very negative) to 2 (very positive).",
            )
        return int(number)

    def reference(self, column: str, items: Sequence[Stage | Channel | Touchpoint], label: str) -> str:
        """An id of ``items`` given by id, or by a name no other item shares."""
        text = self.text(column)
        if not text:
            raise self.error(column, f"no {label} is given", f"Choose a {label} for every row.")
        if any(item.id == text for item in items):
            return text
        named = [item.id for item in items if item.name == text]
        if len(named) == 1:
            return named[0]
        listing = _listing([f"'{item.name}' ({item.id})" for item in items]) or "none yet: add one first"
        problem = f"'{text}' names {len(named)} {label}s" if named else f"unknown {label} '{text}'"
        raise self.error(column, problem, f"Choose one of: {listing}.")

    def make(self, cls: type[_P], **fields: Any) -> _P:
        try:
            return cls(**fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            column = str(first["loc"][0]) if first["loc"] else "name"
            raise self.error(column, first["msg"].removeprefix("Value error, "), "Fix that cell.") from None


def _rows(part: TablePart, rows: Sequence[Mapping[str, Any]]) -> list[_Row]:
    read = [_Row(part, number, data) for number, data in enumerate(rows, start=1)]
    return [row for row in read if not row.is_blank()]


def _assign_ids(rows: list[_Row]) -> list[str]:
    """Each row's id: its own (unique) or, when empty, a new one from its name."""
    first_row: dict[str, int] = {}
    for row in rows:
        given = row.text("id")
        if given:
            if given in first_row:
                raise row.error(
                    "id",
                    f"id '{given}' is already used in row {first_row[given]}",
                    "Ids must be unique: clear the cell to get a new id.",
                )
            first_row[given] = row.number
    taken = set(first_row)
    ids: list[str] = []
    for row in rows:
        given = row.text("id")
        if not given:
            given = new_id(row.name(), taken)
            taken.add(given)
        ids.append(given)
    return ids


def _refuse_removal(part: str, removed: Sequence[str], hint: str) -> None:
    if removed:
        raise UserInputError(
            f"{_listing(removed)} cannot be removed: {'it is' if len(removed) == 1 else 'they are'} still in use",
            source=f"{part} table",
            hint=f"{hint} {_UNCHANGED}",
        )


def _stages_from(m: JourneyMap, rows: list[_Row]) -> tuple[Stage, ...]:
    ids = _assign_ids(rows)
    stages = tuple(row.make(Stage, id=i, name=row.name()) for row, i in zip(rows, ids, strict=True))
    kept = set(ids)
    removed = [
        f"stage '{s.name}' (used by {_listing([_tp_label(tp) for tp in m.touchpoints if tp.stage == s.id])})"
        for s in m.stages
        if s.id not in kept and any(tp.stage == s.id for tp in m.touchpoints)
    ]
    _refuse_removal("stages", removed, "Move those touchpoints to another stage first, or put the row back.")
    return stages


def _channels_from(m: JourneyMap, rows: list[_Row]) -> tuple[Channel, ...]:
    ids = _assign_ids(rows)
    kinds = [k.value for k in ChannelKind]
    channels = tuple(
        row.make(
            Channel,
            id=i,
            name=row.name(),
            kind=row.choice("kind", kinds, ChannelKind.DIGITAL.value),
            owner_team=row.text("owner_team") or "Unassigned",
        )
        for row, i in zip(rows, ids, strict=True)
    )
    kept = set(ids)
    removed = [
        f"channel '{c.name}' (used by {_listing([_tp_label(tp) for tp in m.touchpoints if tp.channel == c.id])})"
        for c in m.channels
        if c.id not in kept and any(tp.channel == c.id for tp in m.touchpoints)
    ]
    _refuse_removal("channels", removed, "Move those touchpoints to another channel first, or put the row back.")
    return channels


def _touchpoints_from(m: JourneyMap, rows: list[_Row]) -> tuple[Touchpoint, ...]:
    ids = _assign_ids(rows)
    touchpoints = tuple(
        row.make(
            Touchpoint,
            id=i,
            name=row.name(),
            channel=row.reference("channel", m.channels, "channel"),
            stage=row.reference("stage", m.stages, "stage"),
            owner=row.text("owner") or None,
            description=row.text("description", strip=False),
            emotion=row.emotion(),
            pain_points=row.items("pain_points"),
            requires_identification=row.flag("requires_identification"),
            is_final=row.flag("is_final"),
        )
        for row, i in zip(rows, ids, strict=True)
    )
    kept = set(ids)
    names = {tp.id: tp.name for tp in m.touchpoints}
    removed = [
        f"touchpoint {_tp_label(tp)} (transitions "
        f"{_listing([_transition_label(tr, names) for tr in transitions_using(m, tp.id)])})"
        for tp in m.touchpoints
        if tp.id not in kept and transitions_using(m, tp.id)
    ]
    _refuse_removal(
        "touchpoints",
        removed,
        "Put the row back, then use 'Delete touchpoint', which asks to confirm and removes it with its transitions.",
    )
    return touchpoints


def _transitions_from(m: JourneyMap, rows: list[_Row]) -> tuple[Transition, ...]:
    carries = [c.value for c in ContextCarry]
    first_row: dict[tuple[str, str], int] = {}
    transitions: list[Transition] = []
    for row in rows:
        source = row.reference("source", m.touchpoints, "touchpoint")
        target = row.reference("target", m.touchpoints, "touchpoint")
        if (source, target) in first_row:
            raise row.error(
                "target",
                f"the transition '{source}' → '{target}' is already in row {first_row[source, target]}",
                "Keep one row per pair of touchpoints.",
            )
        first_row[source, target] = row.number
        transitions.append(
            row.make(
                Transition,
                source=source,
                target=target,
                context_carry=row.choice("context_carry", carries, ContextCarry.FULL.value),
                note=row.text("note", strip=False),
            )
        )
    return tuple(transitions)


def _personas_from(m: JourneyMap, rows: list[_Row]) -> tuple[Persona, ...]:
    ids = _assign_ids(rows)
    return tuple(
        row.make(
            Persona, id=i, name=row.name(), description=row.text("description", strip=False), goals=row.items("goals")
        )
        for row, i in zip(rows, ids, strict=True)
    )


def table_rows(m: JourneyMap, part: TablePart) -> list[dict[str, Any]]:
    """One part of the map as table rows, in the shape :func:`apply_table_edit` reads back.

    Lists (pain points, goals) are ``"; "``-joined text, an unset owner is ``""``; feeding the
    rows back unchanged gives the same map (unless a pain point or goal itself holds a ``;``,
    which the table then reads as two).

    Examples
    --------
    >>> from journeymap.model import Persona
    >>> m = JourneyMap(name="M", personas=(Persona(id="p", name="Parent", goals=("Fast", "Cheap")),))
    >>> table_rows(m, "personas")
    [{'id': 'p', 'name': 'Parent', 'description': '', 'goals': 'Fast; Cheap'}]
    """
    if part not in TABLE_COLUMNS:
        raise UserInputError(f"'{part}' is not a part of the map", source="table editor", hint=_PART_HINT)
    rows: list[dict[str, Any]] = []
    for item in getattr(m, part):
        data = item.model_dump(mode="json")
        row: dict[str, Any] = {}
        for column in TABLE_COLUMNS[part]:
            value = data.get(column)
            if isinstance(value, list):
                value = "; ".join(value)
            elif value is None:
                value = ""
            row[column] = value
        rows.append(row)
    return rows


_READERS: Mapping[TablePart, Callable[[JourneyMap, list[_Row]], tuple[BaseModel, ...]]] = {
    "stages": _stages_from,
    "channels": _channels_from,
    "touchpoints": _touchpoints_from,
    "transitions": _transitions_from,
    "personas": _personas_from,
}


def apply_table_edit(m: JourneyMap, part: TablePart, rows: Sequence[Mapping[str, Any]]) -> JourneyMap:
    """The map with one part replaced by the rows of a table editor, in row order.

    Rows hold the :data:`TABLE_COLUMNS` of the part (other keys are ignored; missing or empty
    cells take the field's default). A row with an empty ``id`` is new and gets an id from
    its name. ``channel``, ``stage``, ``source`` and ``target`` accept an id or a name only
    one item has. ``pain_points`` and ``goals`` are a list or a ``"; "``-separated string.
    Entirely empty rows are skipped; rows are counted from 1 in messages.

    Removing a row is refused while other parts use it: stages and channels that hold
    touchpoints, touchpoints that have transitions (:func:`delete_touchpoint` removes a
    touchpoint together with its transitions).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage
    >>> m = JourneyMap(name="M", stages=(Stage(id="buy", name="Buy"),), channels=(Channel(id="web", name="Website"),))
    >>> rows = [{"id": "", "name": "Cart", "channel": "Website", "stage": "buy", "pain_points": "Slow; Fees"}]
    >>> tp = apply_table_edit(m, "touchpoints", rows).touchpoints[0]
    >>> tp.id, tp.channel, tp.pain_points
    ('cart', 'web', ('Slow', 'Fees'))
    >>> apply_table_edit(m, "touchpoints", [{"name": "Cart", "channel": "web", "stage": "buy", "emotion": 5}])
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: touchpoints table, row 1, column 'emotion': 5 is out of range. ...
    """
    if part not in _READERS:
        raise UserInputError(
            f"'{part}' is not a part of the map",
            source="table editor",
            hint=_PART_HINT,
        )
    items = _READERS[part](m, _rows(part, rows))
    return _rebuild(m, source=f"{part} table", **{part: items})
