"""Settings that shape an overlay: how journeys are cut, which events count, what is ranked.

One frozen :class:`OverlaySettings` value travels through journey cutting, metrics,
silo handoffs, friction ranking and KPIs, so every figure on the overlay page is
computed under the same assumptions.

Examples
--------
>>> from datetime import timedelta
>>> s = OverlaySettings(gap=timedelta(hours=12), channels=("web", "phone"))
>>> s.gap, s.channels, s.min_volume
(datetime.timedelta(seconds=43200), ('web', 'phone'), 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["OverlaySettings"]


@dataclass(frozen=True)
class OverlaySettings:
    """Parameters of one overlay computation.

    Parameters
    ----------
    gap:
        Inactivity gap that cuts journeys: an event more than ``gap`` after the previous
        event of the same customer starts a new journey. When the log's journeys are its
        cases nothing is cut by it; it still says which journeys are ongoing.
    goal_touchpoints:
        Touchpoint ids (or raw labels) that count as conversion, in addition to the
        ``converted`` column of the log. Reaching one ends a journey cut by the gap; a case
        is never cut at a goal. Pages and the CLI fill it with the map's final touchpoints
        unless the user names others (:func:`journeymap.events.goals.final_touchpoints`).
    ongoing_after:
        Unconverted journeys whose last event is at or after this instant are ``"ongoing"``;
        ``None`` means ``max(ts) - gap`` (the last event lies within one gap of the log's end).
    bounce_window:
        Returning to the previous channel within this window after a switch is a bounce-back.
    repeat_contact_window:
        Another assisted contact within this window is a repeat contact (first-contact
        resolution failure).
    abandon_window:
        A journey that ends unconverted within this time after a channel switch is an
        abandon after switch.
    start, end:
        Date filter on event time, inclusive start and exclusive end, UTC. ``None`` means open.
    channels:
        Keep only events in these channel ids; empty keeps all.
    attribute_filters:
        ``(attribute name, allowed values)`` pairs; an event is kept when, for every pair,
        its ``attr_<name>`` value is one of the allowed values.
    min_volume:
        Transitions (and touchpoints) with fewer observations are left out of rankings.
    """

    gap: timedelta = timedelta(days=3)
    goal_touchpoints: tuple[str, ...] = ()
    ongoing_after: datetime | None = None
    bounce_window: timedelta = timedelta(days=1)
    repeat_contact_window: timedelta = timedelta(days=7)
    abandon_window: timedelta = timedelta(hours=24)
    start: datetime | None = None
    end: datetime | None = None
    channels: tuple[str, ...] = ()
    attribute_filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    min_volume: int = 1
