"""Evidence-based maturity: indicators from a map and its overlay, mapped to levels.

The indicators are plain numbers in an :class:`Evidence` value, so scoring never depends
on how they were measured. :func:`evidence_from_map` reads the designed journey;
:func:`evidence_from_overlay` reads what customers actually did. The framework's
``evidence`` rules turn each indicator into a level (see
:meth:`journeymap.maturity.framework.EvidenceRule.level_of`); when a dimension has
several indicators, the weakest one sets the dimension's evidence level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from journeymap.maturity.framework import INDICATOR_LABELS, Framework
from journeymap.maturity.scoring import DimensionScore

__all__ = [
    "Disagreement",
    "DimensionEvidence",
    "Evidence",
    "EvidenceChange",
    "IndicatorLevel",
    "combine_evidence",
    "compare_evidence",
    "find_disagreements",
    "score_evidence",
]


@dataclass(frozen=True)
class Evidence:
    """Measured indicators, each a share between 0 and 1, or ``None`` when unknown.

    Attributes
    ----------
    designed_integration_factor:
        From the map: how well the designed handoffs carry context (1 = every handoff full).
    cross_owner_handoff_share:
        From the map: the share of handoffs that pass the customer to another owner team.
    silo_handoff_share:
        From the map: the share of handoffs designed with context carry ``none``.
    measured_integration_factor:
        From the overlay: the integration factor measured from customers' behaviour.
    identity_stitching_rate:
        From identity resolution: the share of identifiers joined into a known customer.
    repeat_contact_rate:
        From the overlay: how often customers repeat a contact after a handoff.
    context_loss_score:
        From the overlay: how strongly handoffs show customers starting over.
    conforming_journey_share:
        From the overlay: the share of journeys that follow the designed map.
    """

    designed_integration_factor: float | None = None
    cross_owner_handoff_share: float | None = None
    silo_handoff_share: float | None = None
    measured_integration_factor: float | None = None
    identity_stitching_rate: float | None = None
    repeat_contact_rate: float | None = None
    context_loss_score: float | None = None
    conforming_journey_share: float | None = None

    def available(self) -> dict[str, float]:
        """The indicators that have a finite value, by name.

        Examples
        --------
        >>> Evidence(silo_handoff_share=0.5, context_loss_score=float("nan")).available()
        {'silo_handoff_share': 0.5}
        """
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: float(v) for name, v in values.items() if v is not None and math.isfinite(v)}


def combine_evidence(*parts: Evidence) -> Evidence:
    """One :class:`Evidence` from several; a later part's known values win.

    Examples
    --------
    >>> combine_evidence(Evidence(silo_handoff_share=0.5), Evidence(context_loss_score=0.2)).available()
    {'silo_handoff_share': 0.5, 'context_loss_score': 0.2}
    """
    result = Evidence()
    for part in parts:
        result = replace(result, **part.available())
    return result


@dataclass(frozen=True)
class IndicatorLevel:
    """One indicator's value and the level it suggests on one dimension."""

    indicator: str
    value: float
    level: int

    @property
    def label(self) -> str:
        """The indicator as it reads in a sentence."""
        return INDICATOR_LABELS.get(self.indicator, self.indicator)


@dataclass(frozen=True)
class DimensionEvidence:
    """What the evidence says about one dimension; ``level`` is ``None`` without evidence."""

    dimension_id: str
    name: str
    indicators: tuple[IndicatorLevel, ...]

    @property
    def level(self) -> int | None:
        """The weakest indicator's level, or ``None`` when no indicator is known."""
        return min((i.level for i in self.indicators), default=None)

    @property
    def deciding(self) -> IndicatorLevel | None:
        """The indicator that sets :attr:`level` (the first of equals, in framework order)."""
        return min(self.indicators, key=lambda i: i.level, default=None)


def score_evidence(framework: Framework, evidence: Evidence) -> tuple[DimensionEvidence, ...]:
    """Map every known indicator to a level on the dimensions whose rules use it.

    Examples
    --------
    >>> from journeymap.maturity.framework import load_builtin_framework
    >>> scored = score_evidence(load_builtin_framework(), Evidence(context_loss_score=0.5, silo_handoff_share=0.2))
    >>> [(d.dimension_id, d.level) for d in scored if d.level is not None]
    [('data_integration', 2), ('channel_switching', 2)]
    >>> [(i.indicator, i.level) for i in scored[3].indicators]
    [('silo_handoff_share', 4), ('context_loss_score', 2)]
    """
    known = evidence.available()
    result = []
    for dim in framework.dimensions:
        levels = tuple(
            IndicatorLevel(rule.indicator, known[rule.indicator], rule.level_of(known[rule.indicator]))
            for rule in dim.evidence
            if rule.indicator in known
        )
        result.append(DimensionEvidence(dimension_id=dim.id, name=dim.name, indicators=levels))
    return tuple(result)


@dataclass(frozen=True)
class EvidenceChange:
    """One indicator of one dimension whose value differs between two evidence sets (before → after)."""

    dimension_id: str
    name: str
    indicator: str
    before: float
    after: float
    level_before: int
    level_after: int

    @property
    def label(self) -> str:
        """The indicator as it reads in a sentence."""
        return INDICATOR_LABELS.get(self.indicator, self.indicator)

    @property
    def message(self) -> str:
        """The change in one sentence.

        Examples
        --------
        >>> EvidenceChange("data_integration", "Data integration", "measured_integration_factor",
        ...                0.62, 0.81, 4, 5).message
        'Data integration: measured integration factor 0.62 → 0.81 (evidence level 4 → 5)'
        """
        return (
            f"{self.name}: {self.label} {_number(self.before)} → {_number(self.after)} "
            f"(evidence level {self.level_before} → {self.level_after})"
        )


def compare_evidence(framework: Framework, before: Evidence, after: Evidence) -> tuple[EvidenceChange, ...]:
    """Every indicator known in both evidence sets whose value changes, on each dimension that uses it.

    Examples
    --------
    >>> from journeymap.maturity.framework import load_builtin_framework
    >>> changes = compare_evidence(load_builtin_framework(), Evidence(context_loss_score=0.3, silo_handoff_share=0.2),
    ...                            Evidence(context_loss_score=0.2, silo_handoff_share=0.2))
    >>> [(c.dimension_id, c.level_before, c.level_after) for c in changes]
    [('data_integration', 3, 4), ('channel_switching', 3, 4)]
    """
    was = {(d.dimension_id, i.indicator): i for d in score_evidence(framework, before) for i in d.indicators}
    changes = []
    for dim in score_evidence(framework, after):
        for now in dim.indicators:
            old = was.get((dim.dimension_id, now.indicator))
            if old is not None and old.value != now.value:
                changes.append(
                    EvidenceChange(
                        dim.dimension_id, dim.name, now.indicator, old.value, now.value, old.level, now.level
                    )
                )
    return tuple(changes)


@dataclass(frozen=True)
class Disagreement:
    """A dimension where the self-assessment and the evidence differ by at least two levels."""

    dimension_id: str
    name: str
    self_assessed: float
    evidence_level: int
    indicator: str

    @property
    def message(self) -> str:
        """The disagreement in one sentence.

        Examples
        --------
        >>> Disagreement("data_integration", "Data integration", 4.0, 2, "context_loss_score").message
        'self-assessed 4 on data integration; measured context loss suggests 2'
        """
        label = INDICATOR_LABELS.get(self.indicator, self.indicator)
        claimed = _number(self.self_assessed)
        return f"self-assessed {claimed} on {self.name.lower()}; {label} suggests {self.evidence_level}"


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def find_disagreements(
    scores: Iterable[DimensionScore], evidence: Iterable[DimensionEvidence], *, min_difference: float = 2
) -> tuple[Disagreement, ...]:
    """Dimensions whose consensus and evidence level are ``min_difference`` or more levels apart.

    Dimensions that are not assessed, or have no evidence, are never flagged.

    Examples
    --------
    >>> s = DimensionScore("data_integration", "Data integration", {"Ana": 4.0}, 0, 4.0, 4.0, 4.0, 0.0)
    >>> e = DimensionEvidence("data_integration", "Data integration", (IndicatorLevel("context_loss_score", 0.5, 2),))
    >>> [d.message for d in find_disagreements([s], [e])]
    ['self-assessed 4 on data integration; measured context loss suggests 2']
    >>> find_disagreements([s], [e], min_difference=3)
    ()
    """
    by_id = {e.dimension_id: e for e in evidence}
    found = []
    for score in scores:
        dim_evidence = by_id.get(score.dimension_id)
        if score.consensus is None or dim_evidence is None:
            continue
        deciding = dim_evidence.deciding
        if deciding is None:
            continue
        if abs(score.consensus - deciding.level) >= min_difference:
            found.append(
                Disagreement(score.dimension_id, score.name, score.consensus, deciding.level, deciding.indicator)
            )
    return tuple(found)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
