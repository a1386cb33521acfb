"""The overlay: what customers actually did, computed from the cached event log and a map.

:func:`compute_overlay` is the one entry point pages and the CLI call. It works in two steps:

1. :func:`prepare_overlay` cuts the whole log into journeys and measures, once, everything a
   filter cannot change: the signs of lost context after each transition, assisted contacts
   and their repeats, which journeys leave the map. Its result depends on the log, the map and
   the journey settings (gap, goals, windows), not on the filters.
2. Filters keep or drop *whole journeys* (:func:`journey_mask`): journeys that started in the
   date range, that used one of the chosen channels, of the chosen segments. Every figure is
   then counted again over the kept journeys with masked numpy passes over the prepared
   arrays, so a filter change never cuts journeys or re-reads events.

Filtering journeys rather than events keeps journeys whole: a date range does not invent
drop-offs at its last day, and a channel filter does not invent transitions between the events
it leaves.

Without a goal (:func:`journeymap.events.journeys.has_goal`) no journey can convert: the
touchpoints' ``dropoffs`` and ``dropoff_rate``, the transitions' ``conversion_share``, the completion
rate, friction's drop-off and the handoffs' abandon sign are null rather than 100% lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

import numpy as np
import numpy.typing as npt
import polars as pl

from journeymap.analysis.conformance import Conformance, conformance_of, moving_journeys, undesigned_journeys
from journeymap.analysis.friction import rank_friction
from journeymap.analysis.kpis import JourneyKpis, contact_flags, kpis_of
from journeymap.analysis.silo import (
    TransitionSigns,
    designed_handoff_evidence,
    handoffs_from_signs,
    sign_rates_by_pair,
    transition_instances,
)
from journeymap.errors import UserInputError
from journeymap.events.journeys import cut_journeys, has_goal
from journeymap.events.log import EventLog
from journeymap.events.metrics import (
    PreparedLog,
    channel_switch_matrix,
    pair_kind,
    prepare,
    team_switch_matrix,
    team_table,
    touchpoint_table,
    transition_table,
)
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = ["Overlay", "PreparedOverlay", "compute_overlay", "journey_mask", "prepare_overlay", "unfiltered"]

Mask = npt.NDArray[np.bool_]


def unfiltered(settings: OverlaySettings) -> OverlaySettings:
    """The settings a :class:`PreparedOverlay` depends on: filters and ``min_volume`` reset.

    Examples
    --------
    >>> unfiltered(OverlaySettings(channels=("web",), min_volume=5)) == OverlaySettings()
    True
    """
    return replace(settings, start=None, end=None, channels=(), attribute_filters=(), min_volume=1)


@dataclass(frozen=True, eq=False)
class PreparedOverlay:
    """The whole log cut into journeys, with everything a journey filter only re-counts."""

    log: EventLog
    """The full log with ``journey`` and ``step``."""
    journeys: pl.DataFrame
    """Every journey; its row number is its journey id."""
    metrics: PreparedLog
    signs: TransitionSigns
    contacts: npt.NDArray[np.int64]
    """Per journey: the assisted contacts it starts."""
    repeated_contacts: npt.NDArray[np.int64]
    """Per journey: its assisted contacts followed by another within the repeat-contact window."""
    off_map: Mask | None
    """Per journey: it takes a transition that is not on the map (``None`` without a map)."""
    settings: OverlaySettings
    has_goal: bool = True
    """Whether journeys have a goal (:func:`journeymap.events.journeys.has_goal`); without one there is no
    completion rate, drop-off or abandon."""


def prepare_overlay(
    log: EventLog,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
    *,
    on_phase: Callable[[str], None] | None = None,
) -> PreparedOverlay:
    """Cut the whole log into journeys and measure what no filter changes (see the module docstring)."""
    done = on_phase or _ignore
    base = unfiltered(settings)
    cut, journeys = cut_journeys(log, base)
    done("journeys")
    metrics = prepare(cut, journeys)
    metrics.transitions  # noqa: B018 (built now, so the first overlay and every filter share it)
    signs = TransitionSigns.of(transition_instances(cut, journeys, journey_map, base))
    start, repeat = contact_flags(cut, journey_map, base)
    contacts = np.bincount(metrics.journey[start], minlength=metrics.n_journeys)
    repeated = np.bincount(metrics.journey[repeat], minlength=metrics.n_journeys)
    off_map = undesigned_journeys(cut, journey_map) if journey_map is not None else None
    done("prepare")
    return PreparedOverlay(cut, journeys, metrics, signs, contacts, repeated, off_map, base, has_goal(cut, base))


@dataclass(frozen=True, eq=False)
class Overlay:
    """Every output of one overlay computation (frames use the exact contract column names)."""

    prepared: PreparedOverlay
    keep: Mask | None
    """The journeys the filters kept, by journey id (``None``: all)."""
    journeys: pl.DataFrame
    touchpoints: pl.DataFrame
    transitions: pl.DataFrame
    switch_matrix: pl.DataFrame
    """Channel switches by channel pair, with the signs of lost context measured on them."""
    team_switch_matrix: pl.DataFrame
    """Team handoffs by team pair, with the signs of lost context (empty without a team column)."""
    teams: pl.DataFrame
    """Per team: events, handoffs in and out, ping-pong, wait after a handoff (empty without a team column)."""
    silo_handoffs: pl.DataFrame
    designed_handoffs: pl.DataFrame
    """The map's designed handoffs: declared context carry beside the signs measured on the moves along them."""
    friction: pl.DataFrame
    conformance: Conformance | None
    kpis: JourneyKpis
    settings: OverlaySettings

    @cached_property
    def log(self) -> EventLog:
        """The events of the kept journeys, with ``journey`` and ``step`` (taken on first use)."""
        full = self.prepared.log
        if self.keep is None:
            return full
        events = full.events.filter(pl.lit(pl.Series(self.keep)).gather(pl.col("journey")))
        return replace(full, events=events)

    def frames(self) -> dict[str, pl.DataFrame]:
        """The output tables by file-friendly name (conformance tables included when present)."""
        out = {
            "journeys": self.journeys,
            "touchpoints": self.touchpoints,
            "transitions": self.transitions,
            "channel_switch_matrix": self.switch_matrix,
            "team_switch_matrix": self.team_switch_matrix,
            "teams": self.teams,
            "silo_handoffs": self.silo_handoffs,
            "designed_handoffs": self.designed_handoffs,
            "friction": self.friction,
            "kpis": pl.DataFrame([self.kpis.as_dict()]),
        }
        if self.conformance is not None:
            out["conformance_undesigned"] = self.conformance.undesigned
            out["conformance_unknown_touchpoints"] = self.conformance.unknown_touchpoints
            out["conformance_unobserved"] = pl.DataFrame(
                {
                    "source": [s for s, _ in self.conformance.unobserved],
                    "target": [t for _, t in self.conformance.unobserved],
                },
                schema={"source": pl.String, "target": pl.String},
            )
        return out


def _ignore(_phase: str) -> None:
    return None


def _utc(moment: datetime) -> pl.Expr:
    lit = pl.lit(moment)
    return lit.dt.convert_time_zone("UTC") if moment.tzinfo else lit.dt.replace_time_zone("UTC")


def _journeys_with(prepared: PreparedOverlay, events: Mask) -> Mask:
    """Per journey id: whether any of the marked events belongs to it."""
    journey = prepared.metrics.journey
    return np.bincount(journey[events], minlength=prepared.journeys.height) > 0


def journey_mask(prepared: PreparedOverlay, settings: OverlaySettings) -> Mask | None:
    """The journeys the filters of ``settings`` keep, by journey id; ``None`` when they keep every journey.

    A journey is kept when it started inside the date range (inclusive start, exclusive end),
    used at least one of the chosen channels, and, for every attribute filter, has an event
    with one of the allowed values. Raises :class:`UserInputError` for an attribute the log
    does not have.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> ev = pl.DataFrame({"customer": [0, 0, 1], "ts": [t0, t0 + timedelta(days=9), t0 + timedelta(days=20)],
    ...     "seq": [0, 1, 2], "touchpoint": [0, 0, 0], "channel": [0, 1, 1], "owner": [None] * 3,
    ...     "converted": [False] * 3, "identified": [False] * 3, "sentiment": [None] * 3},
    ...     schema_overrides={"customer": pl.UInt32, "touchpoint": pl.UInt32, "channel": pl.UInt32,
    ...                       "owner": pl.UInt32, "sentiment": pl.Float64})
    >>> prepared = prepare_overlay(EventLog(ev, ("home",), ("web", "app"), ()), None, OverlaySettings())
    >>> journey_mask(prepared, OverlaySettings(channels=("app",))).tolist()
    [False, True, True]
    >>> journey_mask(prepared, OverlaySettings(end=t0 + timedelta(days=10))).tolist()
    [True, True, False]
    >>> journey_mask(prepared, OverlaySettings(min_volume=3)) is None
    True
    """
    masks: list[Mask] = []
    journeys = prepared.journeys
    if settings.start is not None or settings.end is not None:
        condition = pl.lit(True)
        if settings.start is not None:
            condition = condition & (pl.col("start") >= _utc(settings.start))
        if settings.end is not None:
            condition = condition & (pl.col("start") < _utc(settings.end))
        masks.append(journeys.select(condition.fill_null(False)).to_series().to_numpy())
    log = prepared.log
    if settings.channels:
        wanted = set(settings.channels)
        codes = [i for i, label in enumerate(log.channels) if label in wanted]
        masks.append(_journeys_with(prepared, np.isin(prepared.metrics.ch, codes)))
    for name, allowed in settings.attribute_filters:
        column = f"attr_{name}"
        if column not in log.events.columns:
            raise UserInputError(
                "is not an attribute of this event log",
                source=log.source,
                location=f"attribute '{name}'",
                hint=f"Choose one of: {', '.join(log.attributes) or 'none (map attribute columns at upload)'}.",
            )
        allowed_events = log.events.select(pl.col(column).cast(pl.String).is_in(list(allowed)).fill_null(False))
        masks.append(_journeys_with(prepared, allowed_events.to_series().to_numpy()))
    if not masks:
        return None
    keep = masks[0]
    for mask in masks[1:]:
        keep = keep & mask
    return None if keep.all() else keep


def compute_overlay(
    log: EventLog,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
    *,
    prepared: PreparedOverlay | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> Overlay:
    """Cut journeys (or reuse ``prepared``), apply the filters and compute every frame, KPI and finding.

    Parameters
    ----------
    log:
        The cached, encoded event log (sorted by customer, ts, seq).
    journey_map:
        The designed journey; ``None`` gives an overlay without design comparison
        (no conformance, nothing ``designed``).
    settings:
        Gap, goals, windows and filters.
    prepared:
        :func:`prepare_overlay` of the same log, map and :func:`unfiltered` settings, reused
        so that a filter change only re-counts.
    on_phase:
        Called with a phase name after each phase (``"journeys"``, ``"prepare"`` when nothing
        was prepared, then ``"filter"``, ``"touchpoint metrics"``...), for progress display and
        benchmarks.

    Returns
    -------
    Overlay
    """
    done = on_phase or _ignore
    base = prepared or prepare_overlay(log, journey_map, settings, on_phase=done)
    keep = journey_mask(base, settings)
    journeys = base.journeys if keep is None else base.journeys.filter(pl.Series(keep))
    done("filter")
    touchpoints = touchpoint_table(base.metrics, keep)
    done("touchpoint metrics")
    transitions = transition_table(base.metrics, keep, journey_map)
    if not base.has_goal:
        # No goal: no journey could convert, so none dropped off (and no badge or tooltip says so).
        touchpoints = touchpoints.with_columns(
            pl.lit(None, dtype=pl.UInt32).alias("dropoffs"), pl.lit(None, dtype=pl.Float64).alias("dropoff_rate")
        )
        transitions = transitions.with_columns(pl.lit(None, dtype=pl.Float64).alias("conversion_share"))
    done("transition metrics")
    switches, team_switches = _switch_matrices(base, keep)
    teams = team_table(base.metrics, keep)
    done("switch matrices")
    silo = handoffs_from_signs(base.metrics, base.signs, keep, journey_map, settings)
    designed = designed_handoff_evidence(base.metrics, base.signs, keep, journey_map, settings)
    done("silo handoffs")
    friction = rank_friction(touchpoints, transitions, silo, settings, journey_map, has_goal=base.has_goal)
    done("friction")
    conformance = None
    if journey_map is not None and base.off_map is not None:
        off_map = base.off_map if keep is None else base.off_map & keep
        visits = touchpoints.select("touchpoint", "visits")
        conformance = conformance_of(transitions, visits, int(off_map.sum()), moving_journeys(journeys), journey_map)
    done("conformance")
    kpis = _kpis(base, keep, journeys, silo, touchpoints.height)
    done("kpis")
    return Overlay(
        prepared=base,
        keep=keep,
        journeys=journeys,
        touchpoints=touchpoints,
        transitions=transitions,
        switch_matrix=switches,
        team_switch_matrix=team_switches,
        teams=teams,
        silo_handoffs=silo,
        designed_handoffs=designed,
        friction=friction,
        conformance=conformance,
        kpis=kpis,
        settings=settings,
    )


def _switch_matrices(base: PreparedOverlay, keep: Mask | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The channel and team switch matrices of the kept journeys, each pair with its signs of lost context."""
    prepared = base.metrics
    out = []
    for table, name in ((channel_switch_matrix, "channel"), (team_switch_matrix, "team")):
        kind = pair_kind(prepared, name)
        rates = sign_rates_by_pair(prepared, kind, base.signs, keep)
        out.append(table(prepared, keep).join(rates, on=list(kind.names), how="left", maintain_order="left"))
    return out[0], out[1]


def _kpis(
    base: PreparedOverlay, keep: Mask | None, journeys: pl.DataFrame, silo: pl.DataFrame, touchpoints_seen: int
) -> JourneyKpis:
    kept = base.metrics.kept(keep)
    per_channel = base.metrics.channel_index.customers(keep)
    channels = base.log.channels
    channel_customers = tuple((channels[code], int(n)) for code, n in enumerate(per_channel[: len(channels)]) if n)
    return kpis_of(
        journeys,
        silo,
        contacts=int(base.contacts[kept].sum()),
        repeats=int(base.repeated_contacts[kept].sum()),
        channel_customers=channel_customers,
        touchpoints_seen=touchpoints_seen,
        has_teams=bool(base.log.owners),
        has_goal=base.has_goal,
    )
