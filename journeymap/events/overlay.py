"""The overlay: what customers actually did, computed from the cached event log and a map.

:func:`compute_overlay` is the one entry point pages and the CLI call on every recompute
(new gap, filter or map revision): filter, cut journeys, measure touchpoints and
transitions, find silo handoffs, rank friction, check conformance and compute KPIs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from journeymap.analysis.conformance import Conformance, check_conformance
from journeymap.analysis.friction import rank_friction
from journeymap.analysis.kpis import JourneyKpis, journey_kpis
from journeymap.analysis.silo import find_observed_silo_handoffs
from journeymap.errors import UserInputError
from journeymap.events.journeys import cut_journeys
from journeymap.events.log import EventLog
from journeymap.events.metrics import channel_switch_matrix, touchpoint_metrics, transition_metrics
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = ["Overlay", "compute_overlay", "filter_log"]


@dataclass(frozen=True)
class Overlay:
    """Every output of one overlay computation (frames use the exact contract column names)."""

    log: EventLog
    journeys: pl.DataFrame
    touchpoints: pl.DataFrame
    transitions: pl.DataFrame
    switch_matrix: pl.DataFrame
    silo_handoffs: pl.DataFrame
    friction: pl.DataFrame
    conformance: Conformance | None
    kpis: JourneyKpis
    settings: OverlaySettings

    def frames(self) -> dict[str, pl.DataFrame]:
        """The output tables by file-friendly name (conformance tables included when present)."""
        out = {
            "journeys": self.journeys,
            "touchpoints": self.touchpoints,
            "transitions": self.transitions,
            "switch_matrix": self.switch_matrix,
            "silo_handoffs": self.silo_handoffs,
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


def filter_log(log: EventLog, settings: OverlaySettings) -> EventLog:
    """Keep events inside the date range, channels and attribute values of ``settings``.

    Dictionaries are unchanged, so codes keep their meaning; order is preserved.
    Raises :class:`UserInputError` for an attribute the log does not have.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> jan, feb = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    >>> ev = pl.DataFrame({"customer": [0, 1], "ts": [jan, feb], "channel": pl.Series([0, 1], dtype=pl.UInt32)})
    >>> log = EventLog(ev, (), ("web", "phone"), ())
    >>> filter_log(log, OverlaySettings(channels=("phone",))).events["customer"].to_list()
    [1]
    >>> filter_log(log, OverlaySettings(end=datetime(2024, 1, 15, tzinfo=UTC))).events["customer"].to_list()
    [0]
    """
    conditions: list[pl.Expr] = []
    if settings.start is not None:
        conditions.append(pl.col("ts") >= _utc(settings.start))
    if settings.end is not None:
        conditions.append(pl.col("ts") < _utc(settings.end))
    if settings.channels:
        wanted = set(settings.channels)
        codes = [i for i, label in enumerate(log.channels) if label in wanted]
        conditions.append(pl.col("channel").is_in(codes))
    for name, allowed in settings.attribute_filters:
        column = f"attr_{name}"
        if column not in log.events.columns:
            raise UserInputError(
                "is not an attribute of this event log",
                source=log.source,
                location=f"attribute '{name}'",
                hint=f"Choose one of: {', '.join(log.attributes) or 'none (map attribute columns at upload)'}.",
            )
        conditions.append(pl.col(column).cast(pl.String).is_in(list(allowed)))
    if not conditions:
        return log
    events = log.events.filter(pl.all_horizontal(conditions))
    return EventLog(events, log.touchpoints, log.channels, log.owners, log.source)


def compute_overlay(
    log: EventLog,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
    *,
    on_phase: Callable[[str], None] | None = None,
) -> Overlay:
    """Filter, cut journeys and compute every overlay frame, KPI and finding.

    Parameters
    ----------
    log:
        The cached, encoded event log (sorted by customer, ts, seq).
    journey_map:
        The designed journey; ``None`` gives an overlay without design comparison
        (no conformance, nothing ``designed``).
    settings:
        Gap, goals, windows and filters.
    on_phase:
        Called with a phase name after each phase (``"filter"``, ``"journeys"``...), for
        progress display and benchmarks.

    Returns
    -------
    Overlay
    """
    done = on_phase or _ignore
    filtered = filter_log(log, settings)
    done("filter")
    cut, journeys = cut_journeys(filtered, settings)
    done("journeys")
    touchpoints = touchpoint_metrics(cut, journeys, settings)
    done("touchpoint metrics")
    transitions = transition_metrics(cut, journeys, journey_map, settings)
    switches = channel_switch_matrix(transitions)
    done("transition metrics")
    silo = find_observed_silo_handoffs(cut, journeys, transitions, journey_map, settings)
    done("silo handoffs")
    friction = rank_friction(touchpoints, transitions, silo, settings, journey_map)
    done("friction")
    conformance = check_conformance(cut, journeys, transitions, journey_map) if journey_map is not None else None
    done("conformance")
    kpis = journey_kpis(cut, journeys, transitions, silo, journey_map, settings)
    done("kpis")
    return Overlay(
        log=cut,
        journeys=journeys,
        touchpoints=touchpoints,
        transitions=transitions,
        switch_matrix=switches,
        silo_handoffs=silo,
        friction=friction,
        conformance=conformance,
        kpis=kpis,
        settings=settings,
    )
