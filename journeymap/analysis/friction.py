"""Friction ranking: touchpoints and transitions where customers struggle well above the map's baseline.

Four raw measures are read for every item (touchpoint or observed transition):

===============  ==========================================  ==========================================
measure          touchpoint                                  transition ``source → target``
===============  ==========================================  ==========================================
dropoff          ``dropoff_rate`` (journeys ending there      ``1 - conversion_share`` (journeys through
                 abandoned / journeys visiting it)           it that did not convert)
repeat           ``repeat_rate`` (visits repeating an         ``repeat_step_rate`` of the silo handoff
                 earlier visit of the same journey);         (handoffs only); none for a move from a
                 none for a goal                             goal back to itself
wait             ``dwell_median_s`` (time to the next event)  ``median_s`` (time from source to target)
context_loss     not applicable                              ``context_loss_score`` of the silo handoff
                                                             (handoffs only)
===============  ==========================================  ==========================================

Coming back to a *goal* (``settings.goal_touchpoints``, and the map's final touchpoints) is not
friction: a second grocery trip is a good sign. Such items have no ``repeat`` component and
do not count in its baseline; their raw repeat share is still shown.

Each measure is compared with the map's *baseline*: the median of that measure over all
items of the same kind that have it and were observed at least ``settings.min_volume``
times. Small samples are first pulled toward the baseline,
``shrunk = (raw * n + baseline * PRIOR_OBSERVATIONS) / (n + PRIOR_OBSERVATIONS)`` with ``n``
the item's visits (touchpoints) or count (transitions), so that a touchpoint seen three
times cannot top the ranking by chance. The *component* counts the doublings over the
baseline::

    component = clip(log2(shrunk / max(baseline, FLOOR)), 0, COMPONENT_CAP)

``0`` means "at or below the baseline", ``1`` "twice the baseline", ``2`` "four times";
``FLOOR`` is :data:`RATE_FLOOR` for shares and :data:`WAIT_FLOOR_S` for waits, so that a
baseline of zero does not make every non-zero value infinite. The logarithm keeps waits,
which spread over orders of magnitude (seconds on a web page, days for a delivery),
comparable with shares. A measure that does not apply leaves its
component null. The ``score`` is the weighted sum of the components with
:data:`FRICTION_WEIGHTS` (nulls count as 0). ``customers_affected`` is the number of distinct
customers who went through the item.

Each item's ``finding`` is one sentence on its largest weighted component, naming
touchpoints by their names on the map (raw labels for touchpoints missing from it) and
comparing the raw measure with the baseline: "2.5× the map's median of 10%", or, when the
baseline is (nearly) zero, "where most moves on this map show none"; a move that is not on
the map is marked "(not on the map)". Without a map the baseline is "the median of 10% in
this data" and nothing is said about a map. A drop-off names the goal it is measured against:
"end there without reaching Checkout" (the goal touchpoints of ``settings``), or "end there
unconverted" when only the outcome column says what converts. Without any goal
(``has_goal=False``: no goal touchpoint, no conversion value) no journey can convert, so none
drops off: the drop-off component is null everywhere and no finding speaks of conversion. The
``id`` column names the item for people: the touchpoint id, or ``"source → target"`` for a transition;
programs read the ids from ``source`` (the touchpoint, or the transition's source) and ``target``
(the transition's target; null for a touchpoint), never by splitting ``id``.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from journeymap.analysis._shared import (
    channel_label,
    format_duration,
    format_share,
    goal_phrase,
    goal_touchpoints,
    touchpoint_label,
)
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = [
    "COMPONENTS",
    "COMPONENT_CAP",
    "FRICTION_COLUMNS",
    "FRICTION_WEIGHTS",
    "PRIOR_OBSERVATIONS",
    "RATE_FLOOR",
    "WAIT_FLOOR_S",
    "rank_friction",
]

FRICTION_WEIGHTS: dict[str, float] = {"dropoff": 0.35, "repeat": 0.20, "wait": 0.15, "context_loss": 0.30}
"""Weight of each component in the friction ``score``."""

COMPONENTS = tuple(FRICTION_WEIGHTS)
PRIOR_OBSERVATIONS = 20
"""Pseudo-observations at the baseline value mixed into every item's raw measure."""
RATE_FLOOR = 0.05
"""Smallest baseline a share is divided by (5 percentage points)."""
WAIT_FLOOR_S = 60.0
"""Smallest baseline a wait is divided by (one minute)."""
COMPONENT_CAP = 5.0
"""Largest value of one component (32 times the baseline), so one extreme measure cannot hide the others."""

FRICTION_COLUMNS = (
    "kind",
    "id",
    "source",
    "target",
    "dropoff",
    "repeat",
    "wait",
    "context_loss",
    "score",
    "customers_affected",
    "finding",
    "dropoff_raw",
    "repeat_raw",
    "wait_raw",
    "context_loss_raw",
    "dropoff_baseline",
    "repeat_baseline",
    "wait_baseline",
    "context_loss_baseline",
)

_FLOORS = {"dropoff": RATE_FLOOR, "repeat": RATE_FLOOR, "wait": WAIT_FLOOR_S, "context_loss": RATE_FLOOR}
_RAW_SCHEMA = {
    "kind": pl.String,
    "id": pl.String,
    "_source": pl.String,
    "_target": pl.String,
    "_designed": pl.Boolean,
    "_via_from": pl.String,
    "_via_to": pl.String,
    "_goal": pl.Boolean,
    "n": pl.Int64,
    "customers_affected": pl.Int64,
    "dropoff_raw": pl.Float64,
    "repeat_raw": pl.Float64,
    "wait_raw": pl.Float64,
    "context_loss_raw": pl.Float64,
}


def _touchpoint_raw(touchpoints: pl.DataFrame, goals: tuple[str, ...]) -> pl.DataFrame:
    return touchpoints.select(
        pl.lit("touchpoint").alias("kind"),
        pl.col("touchpoint").alias("id"),
        pl.col("touchpoint").alias("_source"),
        pl.lit(None).alias("_target"),
        pl.lit(None).alias("_designed"),
        pl.lit(None).alias("_via_from"),
        pl.lit(None).alias("_via_to"),
        pl.col("touchpoint").is_in(goals).alias("_goal"),
        pl.col("visits").alias("n"),
        pl.col("customers").alias("customers_affected"),
        pl.col("dropoff_rate").alias("dropoff_raw"),
        pl.col("repeat_rate").alias("repeat_raw"),
        pl.col("dwell_median_s").alias("wait_raw"),
        pl.lit(None).alias("context_loss_raw"),
    ).cast(_RAW_SCHEMA)  # type: ignore[arg-type]


def _transition_raw(transitions: pl.DataFrame, silo: pl.DataFrame, goals: tuple[str, ...]) -> pl.DataFrame:
    # A transition's handoff evidence sums its places of handoff (each a pair of channels the two
    # events were really in): rates weighted by their moves are the rates over all its handoffs.
    weight = pl.col("count").cast(pl.Float64)
    # The findings name the channels most of those handoffs really went between.
    handoff = silo.group_by("source", "target").agg(
        ((pl.col("repeat_step_rate") * weight).sum() / weight.sum()).alias("repeat_step_rate"),
        ((pl.col("context_loss_score") * weight).sum() / weight.sum()).alias("context_loss_score"),
        pl.col("source_channel")
        .sort_by(["count", "source_channel", "target_channel"], descending=[True, False, False])
        .first()
        .alias("_via_from"),
        pl.col("target_channel")
        .sort_by(["count", "source_channel", "target_channel"], descending=[True, False, False])
        .first()
        .alias("_via_to"),
    )
    return (
        transitions.join(handoff, on=["source", "target"], how="left")
        .select(
            pl.lit("transition").alias("kind"),
            pl.format("{} → {}", "source", "target").alias("id"),
            pl.col("source").alias("_source"),
            pl.col("target").alias("_target"),
            (pl.col("designed") if "designed" in transitions.columns else pl.lit(None)).alias("_designed"),
            "_via_from",
            "_via_to",
            ((pl.col("source") == pl.col("target")) & pl.col("target").is_in(goals)).alias("_goal"),
            pl.col("count").alias("n"),
            pl.col("customers").alias("customers_affected"),
            (1.0 - pl.col("conversion_share")).alias("dropoff_raw"),
            pl.col("repeat_step_rate").alias("repeat_raw"),
            pl.col("median_s").alias("wait_raw"),
            pl.col("context_loss_score").alias("context_loss_raw"),
        )
        .cast(_RAW_SCHEMA)  # type: ignore[arg-type]
    )


def _score_kind(raw: pl.DataFrame) -> pl.DataFrame:
    """Baselines and components for items of one kind (already filtered by min_volume)."""
    k = float(PRIOR_OBSERVATIONS)
    # Repeat visits to a goal are no friction: no repeat component, and no part of its baseline.
    measured = {
        c: pl.col(f"{c}_raw").filter(~pl.col("_goal")) if c == "repeat" else pl.col(f"{c}_raw") for c in COMPONENTS
    }
    baselines = raw.select(measured[c].median().alias(f"{c}_baseline") for c in COMPONENTS)
    out = raw.join(baselines, how="cross")
    exprs = []
    for c in COMPONENTS:
        raw_c, base_c = pl.col(f"{c}_raw"), pl.col(f"{c}_baseline")
        shrunk = (raw_c * pl.col("n") + base_c * k) / (pl.col("n") + k)
        denominator = pl.max_horizontal(base_c, pl.lit(_FLOORS[c]))
        component = (shrunk / denominator).log(2).clip(0.0, COMPONENT_CAP).round(6)
        if c == "repeat":
            component = pl.when(pl.col("_goal")).then(None).otherwise(component)
        exprs.append(component.alias(c))
    out = out.with_columns(exprs)
    score = pl.sum_horizontal(pl.col(c).fill_null(0.0) * w for c, w in FRICTION_WEIGHTS.items())
    shown = [f"{c}_{part}" for c in COMPONENTS for part in ("raw", "baseline")]
    return out.with_columns(score=score.round(6)).with_columns(pl.col(shown).round(9))


def rank_friction(
    touchpoints: pl.DataFrame,
    transitions: pl.DataFrame,
    silo: pl.DataFrame,
    settings: OverlaySettings,
    journey_map: JourneyMap | None = None,
    *,
    has_goal: bool = True,
) -> pl.DataFrame:
    """Rank touchpoints and transitions by friction relative to the map's baseline.

    Parameters
    ----------
    touchpoints:
        Touchpoint metrics (``touchpoint``, ``visits``, ``customers``, ``dropoff_rate``,
        ``repeat_rate``, ``dwell_median_s`` are used).
    transitions:
        Transition metrics (``source``, ``target``, ``source_channel``, ``target_channel``,
        ``count``, ``customers``, ``conversion_share``, ``median_s`` are used; ``designed``, when
        present, marks the moves that are not on the map in the findings).
    silo:
        Observed silo handoffs from :func:`journeymap.analysis.silo.find_observed_silo_handoffs`
        (per touchpoint pair and channel pair; a transition's evidence is the count-weighted sum of its rows).
    settings:
        ``min_volume``: items observed fewer times are left out. ``goal_touchpoints`` (with the
        map's final touchpoints) have no repeat component, and drop-off findings name them.
    journey_map:
        The designed map, for the touchpoint names in the findings; ``None`` (or a touchpoint
        missing from the map) names touchpoints by their raw labels, and the baselines are
        those of the data, not of a map.
    has_goal:
        Whether journeys have a goal (:func:`journeymap.events.journeys.has_goal`); without one
        there is no drop-off: its component, raw measure and baseline are null.

    Returns
    -------
    pl.DataFrame
        The columns of :data:`FRICTION_COLUMNS`: ``kind``, ``id``, ``source``, ``target``, the four components,
        ``score``, ``customers_affected``, ``finding``, then the raw measures and baselines
        the components came from. Sorted by ``score`` (highest first), then
        ``customers_affected``.

    Examples
    --------
    >>> tps = pl.DataFrame({"touchpoint": ["cart", "pay", "home"], "visits": [100, 100, 100],
    ...     "customers": [90, 80, 95], "dropoff_rate": [0.1, 0.5, 0.1], "repeat_rate": [0.0, 0.0, 0.0],
    ...     "dwell_median_s": [60.0, 60.0, 60.0]})
    >>> empty = pl.DataFrame(schema={"source": pl.String, "target": pl.String, "source_channel": pl.String,
    ...     "target_channel": pl.String, "count": pl.Int64, "customers": pl.Int64,
    ...     "conversion_share": pl.Float64, "median_s": pl.Float64})
    >>> silo = pl.DataFrame(schema={"source": pl.String, "target": pl.String, "source_channel": pl.String,
    ...     "target_channel": pl.String, "count": pl.Int64, "repeat_step_rate": pl.Float64,
    ...     "context_loss_score": pl.Float64})
    >>> ranked = rank_friction(tps, empty, silo, OverlaySettings())
    >>> ranked.select("id", "dropoff", "score").row(0)
    ('pay', 2.115477, 0.740417)
    >>> ranked["finding"][0]
    '50% of journeys that reach pay end there unconverted, 5.0× the median of 10% in this data.'
    >>> with_goal = rank_friction(tps, empty, silo, OverlaySettings(goal_touchpoints=("paid",)))
    >>> with_goal["finding"][0]
    '50% of journeys that reach pay end there without reaching paid, 5.0× the median of 10% in this data.'
    >>> rank_friction(tps, empty, silo, OverlaySettings(), has_goal=False).select("id", "dropoff", "score").row(0)
    ('home', None, 0.0)
    """
    goals = goal_touchpoints(settings, journey_map)
    parts = [
        _touchpoint_raw(touchpoints, goals).filter(pl.col("n") >= settings.min_volume),
        _transition_raw(transitions, silo, goals).filter(pl.col("n") >= settings.min_volume),
    ]
    if not has_goal:
        parts = [part.with_columns(pl.lit(None, dtype=pl.Float64).alias("dropoff_raw")) for part in parts]
    scored = pl.concat([_score_kind(part) for part in parts], how="vertical_relaxed")
    scored = scored.sort(["score", "customers_affected", "kind", "id"], descending=[True, True, False, False])
    goal = goal_phrase(settings, journey_map)
    findings = [_finding(row, journey_map, goal) for row in scored.iter_rows(named=True)]
    named = scored.with_columns(pl.col("_source").alias("source"), pl.col("_target").alias("target"))
    return named.with_columns(finding=pl.Series(findings, dtype=pl.String)).select(FRICTION_COLUMNS)


_NONE_CLAUSES = {
    "dropoff": "where most {items} {scope} lose {almost}no journeys",
    "repeat": "where most {items} {scope} show {almost}none",
    "wait": "where most {items} {scope} take under a second",
    "context_loss": "where most handoffs {scope} show {almost}none",
}


def _compare(component: str, raw: float, base: float, items: str, *, has_map: bool = True) -> str:
    """``", 2.5× the map's median of 10%"``, or a plain clause when the baseline is (nearly) zero.

    Without a map the baseline is the data's own: ``", 2.5× the median of 10% in this data"``.
    """
    if component == "wait":
        shown = format_duration(base)
    elif component == "context_loss":
        shown = f"{base:.2f}"
    else:
        shown = format_share(base)
    if base <= 0 or shown in ("0%", "0 s", "0.00"):
        almost = "almost " if base > 0 else ""
        scope = "on this map" if has_map else "in this data"
        return ", " + _NONE_CLAUSES[component].format(items=items, almost=almost, scope=scope)
    if has_map:
        return f", {raw / base:.1f}× the map's median of {shown}"
    return f", {raw / base:.1f}× the median of {shown} in this data"


def _finding(row: dict[str, Any], journey_map: JourneyMap | None, goal: str | None) -> str:
    contributions = {c: (row[c] or 0.0) * w for c, w in FRICTION_WEIGHTS.items()}
    top = max(contributions, key=lambda c: contributions[c])
    touchpoint = row["kind"] == "touchpoint"
    source = touchpoint_label(str(row["_source"]), journey_map)
    if touchpoint:
        items, place = "touchpoints", source
    else:
        target = touchpoint_label(str(row["_target"]), journey_map)
        items = "moves"
        place = f"from {source} back to {target}" if row["_source"] == row["_target"] else f"from {source} to {target}"
        if journey_map is not None and row["_designed"] is False:
            place += " (not on the map)"
    if contributions[top] <= 0:
        where = f"at {place}" if touchpoint else f"on moves {place}"
        baseline = "the map's baseline" if journey_map is not None else "the baseline of this data"
        return f"No friction above {baseline} {where}."
    raw, base = float(row[f"{top}_raw"]), float(row[f"{top}_baseline"])
    compare = _compare(top, raw, base, items, has_map=journey_map is not None)
    if top == "dropoff":
        if touchpoint:
            end = f"without reaching {goal}" if goal else "unconverted"
            return f"{format_share(raw)} of journeys that reach {place} end there {end}{compare}."
        end = f"do not go on to reach {goal}" if goal else "do not convert"
        return f"{format_share(raw)} of journeys that move {place} {end}{compare}."
    if top == "repeat":
        if touchpoint:
            return f"{format_share(raw)} of visits to {place} are repeat visits within the same journey{compare}."
        return f"In {format_share(raw)} of moves {place}, customers repeat a step they had already done{compare}."
    if top == "wait":
        if touchpoint:
            return f"Customers wait a median {format_duration(raw)} after {place}{compare}."
        return f"Moves {place} take a median {format_duration(raw)}{compare}."
    via = ""
    if row.get("_via_from") is not None and row.get("_via_to") is not None:
        src_channel, tgt_channel = str(row["_via_from"]), str(row["_via_to"])
        if src_channel != tgt_channel:
            src_name, tgt_name = channel_label(src_channel, journey_map), channel_label(tgt_channel, journey_map)
            via = f" (mostly from {src_name} to {tgt_name})"
        else:
            via = f" (mostly handed to another team within {channel_label(src_channel, journey_map)})"
    return (
        f"Customers moving {place}{via} show signs of having to start over: context loss score {raw:.2f}{compare} "
        "(see silo handoffs)."
    )
