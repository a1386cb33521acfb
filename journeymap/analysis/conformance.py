"""Conformance: how far observed journeys follow the designed map.

* ``undesigned`` — observed transitions that are not on the map, with how often they occur;
* ``unobserved`` — designed transitions that no journey took;
* ``conforming_journey_share`` — among the journeys that take at least one transition, the share
  whose every transition is designed; ``None`` when the map has no transition to follow or no
  journey moves (a single-event journey says nothing about the design, so it is not counted);
* ``unknown_touchpoints`` — touchpoint labels in the data that are not touchpoints of the
  map (raw labels the column mapping could not place), with their event counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from journeymap.events.log import EventLog
from journeymap.model import JourneyMap

__all__ = ["Conformance", "check_conformance", "conformance_of", "moving_journeys", "undesigned_journeys"]


@dataclass(frozen=True)
class Conformance:
    """Designed versus observed transitions.

    Attributes
    ----------
    undesigned:
        Columns ``source``, ``target``, ``count``: observed, not designed; most frequent first.
    unobserved:
        ``(source, target)`` of designed transitions never observed, in map order.
    conforming_journey_share:
        Journeys whose every transition is designed, over the journeys with at least one transition;
        ``None`` when the map has no transitions or no journey takes one.
    unknown_touchpoints:
        Columns ``label``, ``count``: labels in the data missing from the map; most frequent first.
    """

    undesigned: pl.DataFrame
    unobserved: list[tuple[str, str]]
    conforming_journey_share: float | None
    unknown_touchpoints: pl.DataFrame


def check_conformance(
    log: EventLog, journeys: pl.DataFrame, transitions: pl.DataFrame, journey_map: JourneyMap
) -> Conformance:
    """Compare the observed journeys with the designed map.

    Parameters
    ----------
    log:
        The event log with ``journey`` and ``step`` columns (from ``cut_journeys``).
    journeys:
        The journeys frame (``events`` per journey: those with two or more take a transition).
    transitions:
        Transition metrics (``source``, ``target``, ``count``, ``designed`` are used).
    journey_map:
        The designed map.

    Returns
    -------
    Conformance

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(name="m", stages=(Stage(id="s", name="S"),), channels=(Channel(id="web", name="Web"),),
    ...     touchpoints=tuple(Touchpoint(id=t, name=t, channel="web", stage="s") for t in ("a", "b")),
    ...     transitions=(Transition(source="a", target="b"),))
    >>> events = pl.DataFrame({"touchpoint": [0, 1, 0, 2], "journey": [0, 0, 1, 1]})
    >>> log = EventLog(events, ("a", "b", "x"), ("web",), ())
    >>> transitions = pl.DataFrame({"source": ["a", "a"], "target": ["b", "x"], "count": [1, 1],
    ...     "designed": [True, False]})
    >>> c = check_conformance(log, pl.DataFrame({"journey": [0, 1], "events": [2, 2]}), transitions, m)
    >>> c.undesigned.rows(), c.unobserved, c.conforming_journey_share, c.unknown_touchpoints.rows()
    ([('a', 'x', 1)], [], 0.5, [('x', 1)])
    """
    visits = (
        log.events.group_by("touchpoint")
        .agg(pl.len().cast(pl.Int64).alias("visits"))
        .select(
            pl.col("touchpoint")
            .replace_strict(list(range(len(log.touchpoints))), list(log.touchpoints), return_dtype=pl.String)
            .alias("touchpoint"),
            "visits",
        )
    )
    off_map = int(undesigned_journeys(log, journey_map).sum())
    return conformance_of(transitions, visits, off_map, moving_journeys(journeys), journey_map)


def moving_journeys(journeys: pl.DataFrame) -> int:
    """How many journeys take at least one transition (two events or more)."""
    return journeys.filter(pl.col("events") > 1).height


def undesigned_journeys(log: EventLog, journey_map: JourneyMap) -> npt.NDArray[np.bool_]:
    """Per journey id (``0..max``): whether the journey takes at least one transition that is not on the map."""
    code = {label: i for i, label in enumerate(log.touchpoints)}
    width = max(len(log.touchpoints), 1)
    designed_keys = [
        code[t.source] * width + code[t.target] for t in journey_map.transitions if {t.source, t.target} <= code.keys()
    ]
    pair = pl.col("touchpoint").cast(pl.Int64) * width + pl.col("touchpoint").shift(-1).cast(pl.Int64)
    same_journey = (pl.col("journey").shift(-1) == pl.col("journey")).fill_null(False)
    journeys = log.events.get_column("journey")
    n_journeys = int(journeys.max()) + 1 if journeys.len() else 0  # type: ignore[arg-type]
    bad = log.events.lazy().filter(same_journey & ~pair.is_in(designed_keys)).select("journey").collect()
    flags = np.zeros(n_journeys, dtype=bool)
    flags[bad.get_column("journey").to_numpy()] = True
    return flags


def conformance_of(
    transitions: pl.DataFrame, visits: pl.DataFrame, off_map: int, total: int, journey_map: JourneyMap
) -> Conformance:
    """The conformance from transition metrics, visits per touchpoint (``touchpoint``, ``visits``), the number
    of journeys taking an undesigned transition (``off_map``) and of journeys taking any transition (``total``)."""
    undesigned = (
        transitions.filter(~pl.col("designed"))
        .group_by("source", "target")
        .agg(pl.col("count").sum().cast(pl.Int64))
        .sort(["count", "source", "target"], descending=[True, False, False])
    )
    seen = set(transitions.select("source", "target").iter_rows())
    unobserved = [(t.source, t.target) for t in journey_map.transitions if (t.source, t.target) not in seen]
    share = (total - off_map) / total if total and journey_map.transitions else None
    known = {t.id for t in journey_map.touchpoints}
    unknown = (
        visits.filter(~pl.col("touchpoint").is_in(list(known)) & (pl.col("visits") > 0))
        .select(pl.col("touchpoint").alias("label"), pl.col("visits").cast(pl.Int64).alias("count"))
        .sort(["count", "label"], descending=[True, False])
    )
    return Conformance(
        undesigned=undesigned,
        unobserved=unobserved,
        conforming_journey_share=share,
        unknown_touchpoints=unknown,
    )
