"""Recommendations for the largest gaps between the current and the target level.

A framework recommendation moves a dimension from ``from_level`` up to ``to_level``. It
applies to a dimension whose way up, from its current level to its target, passes through
that range (``current < to_level`` and ``from_level < target``). The applicable ones are
ordered by expected impact (high first), then effort (low first), then the size of the
gap, and each lists the map elements it concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from journeymap.maturity.framework import MAP_SELECTORS, Effort, Framework, Impact, Recommendation

__all__ = ["Gap", "PlannedAction", "find_gaps", "recommend"]

_IMPACT_RANK = {Impact.HIGH: 0, Impact.MEDIUM: 1, Impact.LOW: 2}
_EFFORT_RANK = {Effort.LOW: 0, Effort.MEDIUM: 1, Effort.HIGH: 2}


@dataclass(frozen=True)
class Gap:
    """How far one dimension is from its target (``gap = target - current``)."""

    dimension_id: str
    name: str
    current: float
    target: int

    @property
    def gap(self) -> float:
        return self.target - self.current


@dataclass(frozen=True)
class PlannedAction:
    """One recommendation for one dimension's gap, with the map elements it concerns.

    ``elements`` pairs each concerned kind of element (``"handoffs with carry none"``) with
    the actual elements of the selected map; the tuple is empty when no map was given.
    """

    gap: Gap
    recommendation: Recommendation
    elements: tuple[tuple[str, tuple[str, ...]], ...]


def find_gaps(framework: Framework, current: Mapping[str, float], targets: Mapping[str, int]) -> tuple[Gap, ...]:
    """Positive gaps, largest first (framework order among equals).

    Dimensions without a current level (not assessed) or without a target have no gap.

    Examples
    --------
    >>> from journeymap.maturity.framework import load_builtin_framework
    >>> fw = load_builtin_framework()
    >>> [(g.dimension_id, g.gap) for g in find_gaps(fw, {"ownership": 2.0, "data_integration": 2.5, "branding": 4.0},
    ...                                            {"ownership": 4, "data_integration": 4, "branding": 4})]
    [('ownership', 2.0), ('data_integration', 1.5)]
    """
    order = {d.id: i for i, d in enumerate(framework.dimensions)}
    gaps = [
        Gap(dim.id, dim.name, current[dim.id], targets[dim.id])
        for dim in framework.dimensions
        if dim.id in current and dim.id in targets and targets[dim.id] > current[dim.id]
    ]
    return tuple(sorted(gaps, key=lambda g: (-g.gap, order[g.dimension_id])))


def recommend(
    framework: Framework,
    current: Mapping[str, float],
    targets: Mapping[str, int],
    *,
    map_elements: Mapping[str, tuple[str, ...]] | None = None,
    largest: int | None = None,
) -> tuple[PlannedAction, ...]:
    """The framework's recommendations for the gaps, best first.

    Parameters
    ----------
    framework:
        Where the recommendations come from.
    current, targets:
        Current (consensus) and target level per dimension id.
    map_elements:
        The selected map's elements per selector (see
        :func:`journeymap.maturity.evidence_map.map_elements`); ``None`` without a map.
    largest:
        Keep only the dimensions with the ``largest`` gaps (all when ``None``).

    Examples
    --------
    >>> from journeymap.maturity.framework import load_builtin_framework
    >>> fw = load_builtin_framework()
    >>> current, targets = {"identity_resolution": 2.0, "branding": 1.0}, {"identity_resolution": 4, "branding": 3}
    >>> elements = {"touchpoints_requiring_identification": ("Web: Sign in",)}
    >>> actions = recommend(fw, current, targets, map_elements=elements)
    >>> [(a.recommendation.id, a.recommendation.impact.value, a.recommendation.effort.value) for a in actions]
    [('ir_common_key', 'high', 'low'), ('ir_identity_graph', 'high', 'high'), ('br_shared_guidelines', 'medium', 'low')]
    >>> actions[0].elements
    (('touchpoints requiring identification', ('Web: Sign in',)),)
    """
    gaps = find_gaps(framework, current, targets)
    if largest is not None:
        gaps = gaps[:largest]
    order = {d.id: i for i, d in enumerate(framework.dimensions)}
    actions = []
    for gap in gaps:
        for rec in framework.dimension(gap.dimension_id).recommendations:
            if gap.current < rec.to_level and rec.from_level < gap.target:
                elements = (
                    tuple((MAP_SELECTORS[s], tuple(map_elements.get(s, ()))) for s in rec.concerns)
                    if map_elements is not None
                    else ()
                )
                actions.append(PlannedAction(gap=gap, recommendation=rec, elements=elements))
    actions.sort(
        key=lambda a: (
            _IMPACT_RANK[a.recommendation.impact],
            _EFFORT_RANK[a.recommendation.effort],
            -a.gap.gap,
            order[a.gap.dimension_id],
            a.recommendation.from_level,
        )
    )
    return tuple(actions)
