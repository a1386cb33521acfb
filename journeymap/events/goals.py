"""Goals: what counts as success for a journey.

A journey is *converted* when one of its events is at a goal touchpoint
(:attr:`~journeymap.events.settings.OverlaySettings.goal_touchpoints`) or carries one of the
column mapping's ``conversion_values`` in its outcome column. By default the goal touchpoints
are the map's final touchpoints (``Touchpoint.is_final``: the designed ends of the journey) and
the conversion values those of the mapping; the CLI's ``--goal`` and the overlay page's goal
control name others. :func:`resolve_goals` sorts the names a user typed into touchpoints and
outcome values. :func:`default_settings` are the settings every page starts from, the goal
included, so that pages without a goal control (Review, Maps, Maturity) measure what the
Overlay page shows before anyone changes its controls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from journeymap.events.mapping import normalize_label
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = ["Goals", "default_settings", "final_touchpoints", "resolve_goals"]


def final_touchpoints(journey_map: JourneyMap | None) -> tuple[str, ...]:
    """The map's final touchpoints (``is_final``), in map order: the default goal.

    Examples
    --------
    >>> from journeymap.templates import load_template
    >>> final_touchpoints(load_template("retail-bopis"))
    ('order-picked-up', 'parcel-delivered', 'refund-issued', 'review-posted')
    >>> final_touchpoints(None)
    ()
    """
    if journey_map is None:
        return ()
    return tuple(tp.id for tp in journey_map.touchpoints if tp.is_final)


def default_settings(journey_map: JourneyMap | None) -> OverlaySettings:
    """The overlay settings of a page before anyone changes them: default gap and windows, the map's final
    touchpoints as the goal (as the Overlay page's goal control starts).

    Examples
    --------
    >>> from journeymap.templates import load_template
    >>> default_settings(load_template("retail-bopis")).goal_touchpoints
    ('order-picked-up', 'parcel-delivered', 'refund-issued', 'review-posted')
    >>> default_settings(None) == OverlaySettings()
    True
    """
    return OverlaySettings(goal_touchpoints=final_touchpoints(journey_map))


@dataclass(frozen=True)
class Goals:
    """Goal names sorted out: touchpoint labels, outcome values, and names that are neither."""

    touchpoints: tuple[str, ...] = ()
    outcome_values: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


def resolve_goals(
    names: Iterable[str],
    *,
    journey_map: JourneyMap | None = None,
    value_map: Mapping[str, str] | None = None,
    touchpoint_labels: Iterable[str] = (),
    outcome_values: Iterable[str] = (),
) -> Goals:
    """Sort goal names into touchpoints of the log and values of the outcome column.

    A name is a touchpoint when it is a touchpoint id of the map, a touchpoint name of the map
    (ignoring case and punctuation), a raw label the mapping's ``value_map`` maps (its touchpoint
    is taken), or one of ``touchpoint_labels`` (the labels events carry); else it is an outcome
    value when it is one of ``outcome_values``; else it is unknown. Duplicates are dropped.

    Examples
    --------
    >>> from journeymap.templates import load_template
    >>> retail = load_template("retail-bopis")
    >>> goals = resolve_goals(["Order picked up", "EVT_STORE_RETURN", "goal_reached", "tea"], journey_map=retail,
    ...     value_map={"EVT_STORE_RETURN": "store-return"}, outcome_values=["goal_reached"])
    >>> goals.touchpoints, goals.outcome_values, goals.unknown
    (('order-picked-up', 'store-return'), ('goal_reached',), ('tea',))
    """
    ids = {tp.id for tp in journey_map.touchpoints} if journey_map is not None else set()
    by_name = {normalize_label(tp.name): tp.id for tp in journey_map.touchpoints} if journey_map is not None else {}
    mapped = dict(value_map or {})
    labels = set(touchpoint_labels)
    outcomes = set(outcome_values)
    touchpoints: list[str] = []
    values: list[str] = []
    unknown: list[str] = []
    for raw in names:
        name = raw.strip()
        if name in ids or name in labels:
            touchpoints.append(name)
        elif name in mapped:
            touchpoints.append(mapped[name])
        elif normalize_label(name) in by_name:
            touchpoints.append(by_name[normalize_label(name)])
        elif name in outcomes:
            values.append(name)
        else:
            unknown.append(name)
    return Goals(tuple(dict.fromkeys(touchpoints)), tuple(dict.fromkeys(values)), tuple(dict.fromkeys(unknown)))
