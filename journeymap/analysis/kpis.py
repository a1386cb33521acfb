"""Journey KPIs measured from the event data.

==============================  =================================================================
KPI                             definition
==============================  =================================================================
journeys, customers             counts in the journeys frame
completion_rate                 converted journeys / journeys that are over (converted + abandoned);
                                ongoing journeys are left out; ``None`` without a goal (``has_goal``)
repeat_contact_rate             assisted contacts followed by another assisted contact of the same
                                customer within ``settings.repeat_contact_window``, over all
                                assisted contacts (a contact is a run of events in one assisted
                                channel, split by a pause of more than an hour)
first_contact_resolution        ``1 - repeat_contact_rate``
effort_steps                    mean events per converted journey
effort_switches                 mean channel switches per converted journey
measured_integration_factor     ``1 -`` the count-weighted mean ``context_loss_score`` of the
                                cross-channel silo handoffs: 1 when context always travels
omnichannel_effectiveness       ``Σ channel engagement × integration factor / touchpoints``
switches_per_journey            channel switches (moves whose two events are in different channels)
                                per journey
switch_journey_share            share of journeys with at least one channel switch
switch_ping_pong_share          share of channel switches that return to a channel the journey
                                had left
handoffs_per_journey            team handoffs (moves whose two events name different teams) per
                                journey; ``None`` without a team column
handoff_journey_share           share of journeys with at least one team handoff
handoff_ping_pong_share         share of team handoffs that return to a team the journey had left
==============================  =================================================================

The *channel engagement metric* of a channel is the share of customers with at least one
event in it, so the sum over channels is the mean number of channels a customer uses.
*Touchpoints* is the number of distinct touchpoints observed in the log. A KPI whose
denominator is empty (no converted journey, no assisted contact, no cross-channel handoff)
is ``None``. ``has_goal`` says whether journeys have a goal to reach
(:func:`journeymap.events.journeys.has_goal`): without one, no completion rate is measured and
pages show "n/a — set a goal" (:data:`NO_GOAL`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
import polars as pl

from journeymap.analysis._shared import assisted_channel_codes, with_contact_flags
from journeymap.events.journeys import has_goal
from journeymap.events.log import EventLog
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = ["COMPLETION_RATE_HELP", "NO_GOAL", "JourneyKpis", "contact_flags", "journey_kpis", "kpis_of"]

NO_GOAL = "n/a — set a goal"
"""How the completion rate reads when the journeys have no goal."""

COMPLETION_RATE_HELP = (
    "Converted journeys out of the finished ones (converted or abandoned); ongoing journeys are left out"
)
"""The completion rate in words, wherever it is shown: the KPI and the funnel's converted step say the same."""


@dataclass(frozen=True)
class JourneyKpis:
    """Journey-level KPIs of one overlay; see the module docstring for definitions."""

    journeys: int
    customers: int
    completion_rate: float | None
    repeat_contact_rate: float | None
    first_contact_resolution: float | None
    effort_steps: float | None
    effort_switches: float | None
    measured_integration_factor: float | None
    omnichannel_effectiveness: float | None
    switches_per_journey: float | None = None
    switch_journey_share: float | None = None
    switch_ping_pong_share: float | None = None
    handoffs_per_journey: float | None = None
    handoff_journey_share: float | None = None
    handoff_ping_pong_share: float | None = None
    channel_engagement: tuple[tuple[str, float], ...] = ()
    has_goal: bool = True

    def as_dict(self) -> dict[str, int | float | None]:
        """The scalar KPIs by name (``channel_engagement`` and ``has_goal`` are left out).

        Examples
        --------
        >>> JourneyKpis(1, 1, 1.0, None, None, 3.0, 1.0, 0.5, 0.25).as_dict()["effort_steps"]
        3.0
        """
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("channel_engagement", "has_goal")}


def _mean_or_none(series: pl.Series) -> float | None:
    value = series.mean()
    return None if value is None else float(value)  # type: ignore[arg-type]


def journey_kpis(
    log: EventLog,
    journeys: pl.DataFrame,
    transitions: pl.DataFrame,
    silo: pl.DataFrame,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
) -> JourneyKpis:
    """Compute the journey KPIs of an overlay.

    Parameters
    ----------
    log:
        The event log with ``journey`` and ``step`` columns (from ``cut_journeys``).
    journeys:
        The journeys frame (``customer``, ``events``, ``switches``, ``outcome`` are used).
    transitions:
        Transition metrics (not needed by the current definitions; kept for the overlay contract).
    silo:
        Observed silo handoffs (``source_channel``, ``target_channel``, ``count``,
        ``context_loss_score`` are used).
    journey_map:
        Tells which channels are assisted; may be ``None``.
    settings:
        ``repeat_contact_window``; ``goal_touchpoints`` (with the log) say whether there is a goal.

    Returns
    -------
    JourneyKpis

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = [datetime(2024, 1, d, tzinfo=timezone.utc) for d in (1, 2, 3)]
    >>> events = pl.DataFrame({"customer": [0, 0, 1], "ts": t, "touchpoint": [0, 1, 1], "channel": [0, 1, 1],
    ...     "journey": [0, 0, 1]})
    >>> log = EventLog(events, ("faq", "call"), ("web", "phone"), ())
    >>> journeys = pl.DataFrame({"journey": [0, 1], "customer": [0, 1], "events": [2, 1], "switches": [1, 0],
    ...     "outcome": ["converted", "abandoned"]})
    >>> silo = pl.DataFrame({"source_channel": ["web"], "target_channel": ["phone"], "count": [1],
    ...     "context_loss_score": [0.2]})
    >>> k = journey_kpis(log, journeys, pl.DataFrame(), silo, None, OverlaySettings(goal_touchpoints=("call",)))
    >>> k.completion_rate, k.first_contact_resolution, k.effort_steps, k.measured_integration_factor
    (0.5, 1.0, 2.0, 0.8)
    >>> journey_kpis(log, journeys, pl.DataFrame(), silo, None, OverlaySettings()).completion_rate is None  # no goal
    True
    >>> k.channel_engagement, round(k.omnichannel_effectiveness, 6)
    ((('web', 0.5), ('phone', 1.0)), 0.6)
    """
    del transitions  # part of the shared signature; every KPI here comes from the other inputs
    start, repeat = contact_flags(log, journey_map, settings)
    total = log.events.get_column("customer").n_unique()
    per_channel = (
        log.events.group_by("channel").agg(pl.col("customer").n_unique().alias("customers")).sort("channel")
        if total
        else pl.DataFrame(schema={"channel": pl.Int64, "customers": pl.Int64})
    )
    channel_customers = tuple(
        (log.channels[code], int(count)) for code, count in per_channel.select("channel", "customers").iter_rows()
    )
    return kpis_of(
        journeys,
        silo,
        contacts=int(start.sum()),
        repeats=int(repeat.sum()),
        channel_customers=channel_customers,
        touchpoints_seen=log.events.get_column("touchpoint").n_unique(),
        has_teams=bool(log.owners),
        has_goal=has_goal(log, settings),
    )


def contact_flags(
    log: EventLog, journey_map: JourneyMap | None, settings: OverlaySettings
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per event: whether it starts an assisted contact, and whether that contact is repeated soon."""
    flags = (
        with_contact_flags(
            log.events.lazy().select("customer", "ts", "channel", "journey"),
            assisted_channel_codes(log, journey_map),
            settings.repeat_contact_window,
        )
        .select("contact_start", (pl.col("contact_start") & pl.col("next_contact_soon")).alias("repeat"))
        .collect()
    )
    return flags.get_column("contact_start").to_numpy(), flags.get_column("repeat").to_numpy()


def kpis_of(
    journeys: pl.DataFrame,
    silo: pl.DataFrame,
    *,
    contacts: int,
    repeats: int,
    channel_customers: tuple[tuple[str, int], ...],
    touchpoints_seen: int,
    has_teams: bool = False,
    has_goal: bool = True,
) -> JourneyKpis:
    """The KPIs from the journeys, the silo handoffs and the counts :func:`journey_kpis` takes from the events.

    ``channel_customers`` is each channel with its customers (channels without any left out),
    ``touchpoints_seen`` the number of distinct touchpoints of the events; ``has_teams`` says
    whether the events carry a team (else the team handoff KPIs are ``None``); without a goal
    (``has_goal=False``) the completion rate is ``None``.
    """
    n_journeys = journeys.height
    n_customers = journeys.get_column("customer").n_unique()
    outcome = journeys.get_column("outcome")
    converted = int((outcome == "converted").sum())
    finished = converted + int((outcome == "abandoned").sum())
    completion = converted / finished if finished and has_goal else None
    repeat_rate = repeats / contacts if contacts else None

    done = journeys.filter(pl.col("outcome") == "converted")
    effort_steps = _mean_or_none(done.get_column("events").cast(pl.Float64))
    effort_switches = _mean_or_none(done.get_column("switches").cast(pl.Float64))

    cross = silo.filter(pl.col("source_channel") != pl.col("target_channel"))
    volume = float(cross.get_column("count").sum()) if cross.height else 0.0
    factor = None
    if volume > 0:
        loss = float((cross.get_column("count").cast(pl.Float64) * cross.get_column("context_loss_score")).sum())
        factor = round(1.0 - loss / volume, 9)

    engagement = tuple((channel, count / n_customers) for channel, count in channel_customers) if n_customers else ()
    effectiveness = None
    if factor is not None and touchpoints_seen:
        effectiveness = sum(share for _, share in engagement) * factor / touchpoints_seen

    switches = _moves(journeys, "switches", "channel_ping_pong")
    handoffs = _moves(journeys, "team_handoffs", "team_ping_pong") if has_teams else (None, None, None)
    return JourneyKpis(
        journeys=n_journeys,
        customers=n_customers,
        completion_rate=completion,
        repeat_contact_rate=repeat_rate,
        first_contact_resolution=None if repeat_rate is None else 1.0 - repeat_rate,
        effort_steps=effort_steps,
        effort_switches=effort_switches,
        measured_integration_factor=factor,
        omnichannel_effectiveness=effectiveness,
        switches_per_journey=switches[0],
        switch_journey_share=switches[1],
        switch_ping_pong_share=switches[2],
        handoffs_per_journey=handoffs[0],
        handoff_journey_share=handoffs[1],
        handoff_ping_pong_share=handoffs[2],
        channel_engagement=engagement,
        has_goal=has_goal,
    )


def _moves(journeys: pl.DataFrame, count: str, ping_pong: str) -> tuple[float | None, float | None, float | None]:
    """Per journey, share of journeys with at least one, and ping-pong share of a per-journey move count."""
    if not journeys.height or count not in journeys.columns:
        return None, None, None
    total = int(journeys.get_column(count).sum())
    with_one = int((journeys.get_column(count) > 0).sum())
    back = int(journeys.get_column(ping_pong).sum()) if ping_pong in journeys.columns else 0
    return total / journeys.height, with_one / journeys.height, (back / total if total else None)
