"""Where evidence comes from: the designed map and the overlay of real events.

:func:`evidence_from_map` reads a :class:`~journeymap.model.JourneyMap` through
:func:`journeymap.graph.analyze_structure`; :func:`evidence_from_overlay` reads the
overlay's documented attributes (``kpis.measured_integration_factor``, the
``silo_handoffs`` frame, ``conformance.conforming_journey_share``) and the identity
report's stitching rate. :func:`map_elements` lists the map elements a recommendation
concerns.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from journeymap.graph import Handoff, analyze_structure
from journeymap.maturity.evidence import Evidence
from journeymap.model import JourneyMap

__all__ = ["evidence_from_map", "evidence_from_overlay", "handoff_label", "map_elements"]


def evidence_from_map(journey_map: JourneyMap) -> Evidence:
    """The designed integration factor and the shares of cross-owner and silo handoffs.

    Shares are of the map's handoffs (transitions that switch channel or owner team);
    all three are ``None`` for a map without handoffs.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Returns",
    ...     stages=(Stage(id="s", name="Service"),),
    ...     channels=(Channel(id="web", name="Website", owner_team="Digital"),
    ...               Channel(id="call", name="Call center", owner_team="Care")),
    ...     touchpoints=(Touchpoint(id="form", name="Return form", channel="web", stage="s"),
    ...                  Touchpoint(id="phone", name="Return call", channel="call", stage="s"),
    ...                  Touchpoint(id="done", name="Refund", channel="web", stage="s")),
    ...     transitions=(Transition(source="form", target="phone", context_carry="none"),
    ...                  Transition(source="phone", target="done", context_carry="full")),
    ... )
    >>> evidence_from_map(m).available()
    {'designed_integration_factor': 0.5, 'cross_owner_handoff_share': 1.0, 'silo_handoff_share': 0.5}
    """
    report = analyze_structure(journey_map)
    handoffs = report.handoffs
    if not handoffs:
        return Evidence(designed_integration_factor=report.integration_factor)
    return Evidence(
        designed_integration_factor=report.integration_factor,
        cross_owner_handoff_share=sum(h.cross_owner for h in handoffs) / len(handoffs),
        silo_handoff_share=len(report.silo_handoffs) / len(handoffs),
    )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _weighted_mean(frame: Any, column: str) -> float | None:
    """Mean of ``column`` over the handoffs, weighted by how often each was observed."""
    if frame is None:
        return None
    data = frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)
    if column not in data.columns or data.height == 0:
        return None
    weight = pl.col("count").cast(pl.Float64) if "count" in data.columns else pl.lit(1.0)
    rows = data.select(value=pl.col(column).cast(pl.Float64), weight=weight).drop_nulls().filter(pl.col("weight") > 0)
    total = float(rows["weight"].sum())
    if not total:
        return None
    weighted = float((rows["value"] * rows["weight"]).sum())
    # Rounded like the overlay's own scores, so equal inputs give equal levels.
    return _number(round(weighted / total, 6))


def evidence_from_overlay(
    overlay: Any, identity_report: Any = None, *, stitching_rate: float | None = None
) -> Evidence:
    """The measured indicators of an overlay (and of identity resolution, when given).

    Reads ``overlay.kpis.measured_integration_factor``, the ``context_loss_score`` and
    ``repeat_contact_rate`` columns of ``overlay.silo_handoffs`` (averaged over the
    handoffs, weighted by their ``count``), ``overlay.conformance.conforming_journey_share``
    (no conformance without a map: ``None``) and ``identity_report.stitching_rate``.
    Without an identity report, ``stitching_rate`` (as kept with a registered dataset) is
    used instead. Missing or non-finite values become ``None``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> silo = pl.DataFrame({"count": [3, 1], "context_loss_score": [0.2, 0.6], "repeat_contact_rate": [0.0, 0.4]})
    >>> overlay = NS(kpis=NS(measured_integration_factor=0.7), silo_handoffs=silo,
    ...              conformance=NS(conforming_journey_share=0.55))
    >>> evidence_from_overlay(overlay, NS(stitching_rate=0.9)).available()
    {'measured_integration_factor': 0.7, 'identity_stitching_rate': 0.9, 'repeat_contact_rate': 0.1, \
'context_loss_score': 0.3, 'conforming_journey_share': 0.55}
    >>> evidence_from_overlay(overlay, stitching_rate=0.4).identity_stitching_rate
    0.4
    """
    kpis = getattr(overlay, "kpis", None)
    conformance = getattr(overlay, "conformance", None)
    silo = getattr(overlay, "silo_handoffs", None)
    return Evidence(
        measured_integration_factor=_number(getattr(kpis, "measured_integration_factor", None)),
        identity_stitching_rate=_number(
            getattr(identity_report, "stitching_rate", None) if identity_report is not None else stitching_rate
        ),
        repeat_contact_rate=_weighted_mean(silo, "repeat_contact_rate"),
        context_loss_score=_weighted_mean(silo, "context_loss_score"),
        conforming_journey_share=_number(getattr(conformance, "conforming_journey_share", None)),
    )


def handoff_label(handoff: Handoff) -> str:
    """``"Return form (Website) → Return call (Call center), carry none"``."""
    return (
        f"{handoff.source_name} ({handoff.source_channel}) → {handoff.target_name} ({handoff.target_channel}), "
        f"carry {handoff.context_carry}"
    )


def map_elements(journey_map: JourneyMap) -> dict[str, tuple[str, ...]]:
    """The map's elements for every selector recommendations use (see ``MAP_SELECTORS``).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Returns",
    ...     stages=(Stage(id="s", name="Service"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="call", name="Call center")),
    ...     touchpoints=(Touchpoint(id="form", name="Return form", channel="web", stage="s"),
    ...                  Touchpoint(id="phone", name="Return call", channel="call", stage="s",
    ...                             requires_identification=True)),
    ...     transitions=(Transition(source="form", target="phone", context_carry="none"),),
    ... )
    >>> elements = map_elements(m)
    >>> elements["handoffs_carry_none"]
    ('Return form (Website) → Return call (Call center), carry none',)
    >>> elements["touchpoints_requiring_identification"], elements["cross_owner_handoffs"]
    (('Return call (Call center)',), ())
    """
    handoffs = analyze_structure(journey_map).handoffs
    channel_names = {c.id: c.name for c in journey_map.channels}
    return {
        "handoffs": tuple(handoff_label(h) for h in handoffs),
        "handoffs_carry_none": tuple(handoff_label(h) for h in handoffs if h.context_carry == "none"),
        "handoffs_carry_partial": tuple(handoff_label(h) for h in handoffs if h.context_carry == "partial"),
        "cross_owner_handoffs": tuple(
            f"{handoff_label(h)} ({h.source_owner} → {h.target_owner})" for h in handoffs if h.cross_owner
        ),
        "touchpoints_requiring_identification": tuple(
            f"{tp.name} ({channel_names[tp.channel]})" for tp in journey_map.touchpoints if tp.requires_identification
        ),
    }
