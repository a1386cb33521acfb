"""Plotly figures and table rows for the maturity page: pure builders, no page calls.

Every figure takes an explicit ``template`` (default ``"plotly"``) so exported images keep
their colours whatever template the host application made the default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from journeymap.maturity.evidence import DimensionEvidence, Disagreement
from journeymap.maturity.framework import INDICATOR_LABELS, Framework
from journeymap.maturity.recommend import PlannedAction
from journeymap.maturity.scoring import DimensionScore

__all__ = [
    "NOT_ASSESSED",
    "characteristics_rows",
    "radar_figure",
    "recommendation_rows",
    "reference_profiles",
    "score_rows",
]

NOT_ASSESSED = "not assessed"

# Reference profiles are drawn in greys so the organisation's own profiles stand out.
_REFERENCE_COLOURS = ("#9e9e9e", "#424242", "#bdbdbd", "#757575")


def reference_profiles(framework: Framework) -> list[tuple[str, dict[str, float]]]:
    """The framework's reference profiles (every dimension at one level), named for a legend.

    Examples
    --------
    >>> from journeymap.maturity.framework import load_builtin_framework
    >>> [(name, set(levels.values())) for name, levels in reference_profiles(load_builtin_framework())]
    [('Multichannel (all 2)', {2.0}), ('Omnichannel (all 4)', {4.0})]
    """
    return [
        (f"{name.capitalize()} (all {level})", {d.id: float(level) for d in framework.dimensions})
        for name, level in framework.reference_profiles.items()
    ]


def radar_figure(
    framework: Framework,
    profiles: Sequence[tuple[str, Mapping[str, float]]],
    *,
    references: bool = True,
    template: str = "plotly",
    title: str | None = None,
) -> go.Figure:
    """A radar chart: one closed trace per profile, then the reference profiles (dotted).

    Dimensions missing from a profile (not assessed) leave a gap in its outline. The
    radial axis spans the framework's scale.

    Examples
    --------
    >>> from journeymap.maturity.framework import load_builtin_framework
    >>> fw = load_builtin_framework()
    >>> fig = radar_figure(fw, [("Current", {"customer_focus": 3.0, "ownership": 2.0})])
    >>> [t.name for t in fig.data]
    ['Current', 'Multichannel (all 2)', 'Omnichannel (all 4)']
    >>> fig.data[0].r[:4], len(fig.data[0].r), fig.layout.polar.radialaxis.range
    ((3.0, None, 2.0, None), 10, (0, 5))
    """
    names = [d.name for d in framework.dimensions]
    ids = [d.id for d in framework.dimensions]
    fig = go.Figure(layout={"template": template})
    all_profiles: list[tuple[str, Mapping[str, float], bool]] = [(name, levels, False) for name, levels in profiles]
    if references:
        all_profiles += [(name, levels, True) for name, levels in reference_profiles(framework)]
    references_drawn = 0
    for name, levels, is_reference in all_profiles:
        r = [levels.get(i) for i in ids]
        line: dict[str, object] = {"width": 2.5}
        if is_reference:
            line = {
                "dash": "dot",
                "width": 1.5,
                "color": _REFERENCE_COLOURS[references_drawn % len(_REFERENCE_COLOURS)],
            }
            references_drawn += 1
        fig.add_trace(
            go.Scatterpolar(
                r=[*r, r[0]],
                theta=[*names, names[0]],
                name=name,
                mode="lines" if is_reference else "lines+markers",
                line=line,
                connectgaps=False,
            )
        )
    fig.update_layout(
        # Clockwise from the top, in framework order, as assessors read the questionnaire.
        polar={
            "radialaxis": {"range": [0, framework.level_count], "dtick": 1},
            "angularaxis": {"direction": "clockwise", "rotation": 90},
        },
        legend={"orientation": "h", "y": -0.1},
        margin={"l": 60, "r": 60, "t": 50 if title else 30, "b": 30},
        title=title,
    )
    return fig


def _fmt(value: float | None) -> str:
    return NOT_ASSESSED if value is None else f"{round(value, 2):g}"


def score_rows(
    scores: Iterable[DimensionScore],
    *,
    targets: Mapping[str, int] | None = None,
    evidence: Iterable[DimensionEvidence] = (),
    disagreements: Iterable[Disagreement] = (),
) -> list[dict[str, Any]]:
    """One row per dimension: consensus, spread, assessors, target, gap, evidence and any flag.

    Examples
    --------
    >>> s = DimensionScore("ownership", "Ownership", {"Ana": 2.0, "Ben": 4.0}, 1, 3.0, 2.0, 4.0, 1.0)
    >>> score_rows([s], targets={"ownership": 4})[0]
    {'Dimension': 'Ownership', 'Consensus (median)': '3', 'Min': '2', 'Max': '4', 'Stdev': '1', 'Assessors': 2, \
"Don't know": 1, 'Target': '4', 'Gap': '1', 'Evidence': 'no evidence', 'Flag': ''}
    """
    targets = targets or {}
    by_evidence = {e.dimension_id: e for e in evidence}
    flags = {d.dimension_id: d.message for d in disagreements}
    rows = []
    for s in scores:
        target = targets.get(s.dimension_id)
        gap = None if target is None or s.consensus is None else target - s.consensus
        dim_evidence = by_evidence.get(s.dimension_id)
        deciding = dim_evidence.deciding if dim_evidence else None
        evidence_text = (
            "no evidence"
            if deciding is None
            else f"{deciding.level} ({INDICATOR_LABELS.get(deciding.indicator, deciding.indicator)} "
            f"{round(deciding.value, 3):g})"
        )
        rows.append(
            {
                "Dimension": s.name,
                "Consensus (median)": _fmt(s.consensus),
                "Min": _fmt(s.minimum),
                "Max": _fmt(s.maximum),
                "Stdev": _fmt(s.stdev),
                "Assessors": len(s.by_assessor),
                "Don't know": s.dont_know,
                "Target": "" if target is None else str(target),
                "Gap": "" if gap is None else _fmt(gap),
                "Evidence": evidence_text,
                "Flag": flags.get(s.dimension_id, ""),
            }
        )
    return rows


def characteristics_rows(framework: Framework) -> list[dict[str, str]]:
    """Multichannel versus omnichannel, one row per dimension."""
    return [
        {"Dimension": d.name, "Multichannel": d.multichannel, "Omnichannel": d.omnichannel}
        for d in framework.dimensions
    ]


def recommendation_rows(actions: Iterable[PlannedAction]) -> list[dict[str, Any]]:
    """Recommendations as table rows, in the order given."""
    return [
        {
            "Dimension": a.gap.name,
            "Gap": f"{round(a.gap.current, 2):g} → {a.gap.target}",
            "Recommendation": a.recommendation.title,
            "Impact": a.recommendation.impact.value,
            "Effort": a.recommendation.effort.value,
            "Concerns": "; ".join(f"{kind}: {len(found)}" for kind, found in a.elements),
        }
        for a in actions
    ]
