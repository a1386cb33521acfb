"""Small helpers shared by the analysis modules: channel kinds, labels and code decoding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import polars as pl

from journeymap.events.goals import final_touchpoints
from journeymap.events.log import EventLog
from journeymap.events.settings import OverlaySettings
from journeymap.model import ChannelKind, JourneyMap

__all__ = [
    "ASSISTED_NAME_HINTS",
    "CONTACT_GAP",
    "assisted_channel_codes",
    "channel_label",
    "with_contact_flags",
    "decode",
    "format_duration",
    "format_share",
    "goal_phrase",
    "goal_touchpoints",
    "touchpoint_label",
]

# Channels missing from the map are taken as assisted when their id names a person-to-person channel.
ASSISTED_NAME_HINTS = ("call", "phone", "contact", "chat", "agent", "support", "helpdesk", "help_desk", "advisor")

# Consecutive events in the same assisted channel closer than this belong to one contact (one call, one chat).
CONTACT_GAP = timedelta(hours=1)


def assisted_channel_codes(log: EventLog, journey_map: JourneyMap | None) -> list[int]:
    """Codes of the log's channels that are assisted (a person serves the customer).

    A channel on the map is assisted when its kind is ``assisted``; a channel missing from
    the map (or every channel when there is no map) is assisted when its id contains one of
    :data:`ASSISTED_NAME_HINTS`.
    """
    kinds = {c.id: c.kind for c in journey_map.channels} if journey_map is not None else {}
    codes = []
    for code, name in enumerate(log.channels):
        if name in kinds:
            if kinds[name] == ChannelKind.ASSISTED:
                codes.append(code)
        elif any(hint in name.lower() for hint in ASSISTED_NAME_HINTS):
            codes.append(code)
    return codes


def with_contact_flags(frame: pl.LazyFrame, assisted: Sequence[int], window: timedelta) -> pl.LazyFrame:
    """Add, per event, whether it starts an assisted contact and whether the customer starts another one soon.

    ``frame`` must be sorted by customer and time and carry ``customer``, ``ts``, ``channel``
    and ``journey``. Adds ``contact_start`` (bool) and ``next_contact_soon`` (bool: the same
    customer starts an assisted contact strictly after this event and within ``window`` of it).
    A log sorted case by case is in time order only inside each case: the next contact in
    the frame counts only when it is not earlier than the event.
    """
    new_contact = (
        (pl.col("customer") != pl.col("customer").shift(1))
        | (pl.col("journey") != pl.col("journey").shift(1))
        | (pl.col("channel") != pl.col("channel").shift(1))
        | ((pl.col("ts") - pl.col("ts").shift(1)) > CONTACT_GAP)
    ).fill_null(True)
    start = pl.col("channel").is_in(list(assisted)) & new_contact
    nxt_ts = pl.when(pl.col("contact_start")).then(pl.col("ts")).shift(-1).backward_fill()
    nxt_cust = pl.when(pl.col("contact_start")).then(pl.col("customer")).shift(-1).backward_fill()
    wait = nxt_ts - pl.col("ts")
    soon = (nxt_cust == pl.col("customer")) & wait.is_between(pl.duration(), pl.lit(window, dtype=pl.Duration("us")))
    return frame.with_columns(contact_start=start).with_columns(next_contact_soon=soon.fill_null(False))


def decode(column: str, names: Sequence[str]) -> pl.Expr:
    """An expression turning integer codes in ``column`` into the strings of ``names``."""
    return pl.col(column).replace_strict(list(range(len(names))), list(names), return_dtype=pl.String)


def touchpoint_label(touchpoint_id: str, journey_map: JourneyMap | None) -> str:
    """The touchpoint's name on the map, else its id."""
    if journey_map is not None:
        for tp in journey_map.touchpoints:
            if tp.id == touchpoint_id:
                return tp.name
    return touchpoint_id


def channel_label(channel_id: str, journey_map: JourneyMap | None) -> str:
    """The channel's name on the map, else its id."""
    if journey_map is not None:
        for ch in journey_map.channels:
            if ch.id == channel_id:
                return ch.name
    return channel_id


def format_share(value: float) -> str:
    """A share as a whole percentage, ``0.384`` → ``'38%'``."""
    return f"{value * 100:.0f}%"


def format_duration(seconds: float) -> str:
    """Seconds in the largest readable unit: ``'45 s'``, ``'12 min'``, ``'3.5 h'``, ``'2.1 days'``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def goal_touchpoints(settings: OverlaySettings, journey_map: JourneyMap | None) -> tuple[str, ...]:
    """Touchpoints where coming back is the point, not friction: the goals and the map's final touchpoints.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> m = JourneyMap(name="m", stages=(Stage(id="s", name="S"),), channels=(Channel(id="web", name="Web"),),
    ...     touchpoints=(Touchpoint(id="shop", name="Shop", channel="web", stage="s"),
    ...     Touchpoint(id="paid", name="Paid", channel="web", stage="s", is_final=True)))
    >>> goal_touchpoints(OverlaySettings(goal_touchpoints=("order",)), m)
    ('order', 'paid')
    """
    return tuple(dict.fromkeys((*settings.goal_touchpoints, *final_touchpoints(journey_map))))


def goal_phrase(settings: OverlaySettings, journey_map: JourneyMap | None, *, most: int = 3) -> str | None:
    """The goal touchpoints a journey converts at, by name (``None`` when conversion is only the outcome column).

    Examples
    --------
    >>> goal_phrase(OverlaySettings(goal_touchpoints=("paid",)), None)
    'paid'
    >>> goal_phrase(OverlaySettings(goal_touchpoints=("a", "b", "c")), None)
    'a, b or c'
    >>> goal_phrase(OverlaySettings(goal_touchpoints=("a", "b", "c", "d", "e")), None)
    'a, b, c or one of 2 other goals'
    >>> goal_phrase(OverlaySettings(), None) is None
    True
    """
    names = [touchpoint_label(goal, journey_map) for goal in dict.fromkeys(settings.goal_touchpoints)]
    if not names:
        return None
    if len(names) > most:
        rest = len(names) - most
        return f"{', '.join(names[:most])} or {'another goal' if rest == 1 else f'one of {rest} other goals'}"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
