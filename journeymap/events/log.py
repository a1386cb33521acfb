"""The canonical, encoded event log every overlay computation starts from.

Ingest once, recompute often: a raw export (CSV, Parquet, XES, JSON lines) is read,
mapped, validated and identity-resolved once into an :class:`EventLog`, whose frame
holds small integer codes sorted by customer and time. Journey cutting, metrics,
silo handoffs, friction and conformance are all column operations on that frame.

Frame columns (Polars dtypes), sorted by ``customer``, then ``ts``, then ``seq``:

=============  ======================  ===================================================
column         dtype                   meaning
=============  ======================  ===================================================
customer       UInt32                  resolved customer (after identity resolution)
ts             Datetime("us", "UTC")   event time
seq            UInt32                  row number in the source file (stable tie-break)
touchpoint     UInt32                  code into :attr:`EventLog.touchpoints`
channel        UInt32                  code into :attr:`EventLog.channels`
owner          UInt32, nullable        code into :attr:`EventLog.owners`
converted      Boolean                 this event reaches the goal / a conversion
identified     Boolean                 the customer (re-)identifies at this event
value          Float64, nullable       monetary or other value carried by the event
sentiment      Float64, nullable       CSAT / sentiment score carried by the event
=============  ======================  ===================================================

When the column mapping names a case (ticket, order, session, application id), a ``case``
column (UInt32, nullable) holds each event's case, numbered in order of the case's first event.
With :attr:`EventLog.case_journeys` every case is one journey and the frame is sorted by
``customer``, ``case``, ``ts``, ``seq`` instead: each customer's events stay together, and each
case's events are together inside them.

Optional attribute columns (segment, persona, region...) follow as ``Categorical``
columns named ``attr_<name>``; filters on the overlay page use them. An optional
``customer_id`` column (``Categorical``) holds one raw identifier of each resolved customer
(the first identifier column with a value at its earliest event), shown only when a user
unmasks identifiers.

:func:`journeymap.events.journeys.cut_journeys` adds ``journey`` (UInt32, unique over
the whole log), ``step`` (UInt32, 0-based position inside the journey) and ``moved`` (UInt8:
whether the move into the event switched channel or team, and whether it returned to one
already left; see :data:`journeymap.events.journeys.MOVE_BITS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["EVENT_SCHEMA", "EventLog"]

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "customer": pl.UInt32(),
    "ts": pl.Datetime("us", "UTC"),
    "seq": pl.UInt32(),
    "touchpoint": pl.UInt32(),
    "channel": pl.UInt32(),
    "owner": pl.UInt32(),
    "converted": pl.Boolean(),
    "identified": pl.Boolean(),
    "value": pl.Float64(),
    "sentiment": pl.Float64(),
}


@dataclass(frozen=True)
class EventLog:
    """Encoded events plus the dictionaries that decode them.

    ``touchpoints[i]`` is the touchpoint id on the map for code ``i`` when the raw
    value was mapped to the map, else the raw label itself (reported as unmapped).
    ``channels[i]`` and ``owners[i]`` are channel ids / team names in the same way.
    ``case_journeys`` says that journeys are the cases of the ``case`` column (and the events
    are sorted case by case inside each customer); otherwise journeys are cut by the gap.
    ``time_resolution`` is ``"day"`` when the time column held dates only, ``"minute"`` when it
    held times to the minute only, ``None`` when finer: events of equal ``ts`` in a coarse log
    tie only because of the resolution (they keep file order; their real order is unknown).
    ``conversion_goal`` says that the column mapping names conversion values (an outcome goal),
    whether or not an event reached one.
    """

    events: pl.DataFrame
    touchpoints: tuple[str, ...]
    channels: tuple[str, ...]
    owners: tuple[str, ...]
    source: str = "events"
    case_journeys: bool = False
    time_resolution: str | None = None
    conversion_goal: bool = False

    @property
    def attributes(self) -> tuple[str, ...]:
        """Names of the optional attribute columns, without the ``attr_`` prefix."""
        return tuple(c.removeprefix("attr_") for c in self.events.columns if c.startswith("attr_"))
