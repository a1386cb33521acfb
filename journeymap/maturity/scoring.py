"""Scoring a self-assessment: per assessor, spread across a workshop, consensus, gaps.

Rules (documented once, here):

* An assessor's score on a dimension is the mean of the levels they gave to that
  dimension's questions. "Don't know" (``level=None``) answers are left out; an assessor
  with only "don't know" answers on a dimension has no score there.
* A dimension nobody scored is *not assessed*: it has no consensus, no spread and no gap,
  and it is left out of every average.
* Spread is the minimum, maximum and *population* standard deviation of the assessors'
  scores, so a single assessor has spread 0.
* The consensus is the median of the assessors' scores; it is the *current level* gaps
  are measured from.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from journeymap.errors import UserInputError
from journeymap.maturity.framework import Framework

__all__ = [
    "Answer",
    "DimensionScore",
    "check_answers",
    "check_targets",
    "current_levels",
    "score_dimensions",
]


@dataclass(frozen=True)
class Answer:
    """One assessor's answer to one question; ``level=None`` means "don't know"."""

    assessor: str
    question_id: str
    level: int | None
    note: str = ""
    evidence_link: str = ""


@dataclass(frozen=True)
class DimensionScore:
    """What a workshop said about one dimension."""

    dimension_id: str
    name: str
    by_assessor: dict[str, float]
    dont_know: int
    consensus: float | None
    minimum: float | None
    maximum: float | None
    stdev: float | None

    @property
    def assessed(self) -> bool:
        """Whether at least one assessor gave a level on this dimension."""
        return self.consensus is not None


def check_answers(framework: Framework, answers: Iterable[Answer], *, source: str = "answers") -> None:
    """Raise :class:`UserInputError` for an unknown question or a level outside the scale.

    Examples
    --------
    >>> from journeymap.maturity.framework import load_builtin_framework
    >>> check_answers(load_builtin_framework(), [Answer("Ana", "di_profile", 7)])
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: answers, Ana on 'di_profile': level 7 is outside the scale 1–5. ...
    """
    known = set(framework.question_ids)
    top = framework.level_count
    for answer in answers:
        where = f"{answer.assessor} on '{answer.question_id}'"
        if answer.question_id not in known:
            raise UserInputError(
                f"question '{answer.question_id}' is not in framework '{framework.key}'",
                source=source,
                location=where,
                hint="Answer the framework's own questions, or import into an assessment of the same framework.",
            )
        if answer.level is not None and not 1 <= answer.level <= top:
            raise UserInputError(
                f"level {answer.level} is outside the scale 1–{top}",
                source=source,
                location=where,
                hint=f"Give a level from 1 to {top}, or 'don't know'.",
            )
        if not answer.assessor.strip():
            raise UserInputError("has no assessor name", source=source, location=where, hint="Enter your name first.")


def check_targets(framework: Framework, targets: Mapping[str, int], *, source: str = "targets") -> None:
    """Raise :class:`UserInputError` for a target on an unknown dimension or outside the scale."""
    dims = {d.id for d in framework.dimensions}
    for dim_id, level in targets.items():
        if dim_id not in dims:
            raise UserInputError(
                f"dimension '{dim_id}' is not in framework '{framework.key}'", source=source, location=dim_id
            )
        if not 1 <= level <= framework.level_count:
            raise UserInputError(
                f"target level {level} is outside the scale 1–{framework.level_count}",
                source=source,
                location=dim_id,
                hint=f"Choose a target from 1 to {framework.level_count}.",
            )


def score_dimensions(framework: Framework, answers: Iterable[Answer]) -> tuple[DimensionScore, ...]:
    """Score every dimension of ``framework`` from the answers of any number of assessors.

    Answers to questions the framework does not ask are ignored (check them first with
    :func:`check_answers` when they come from a user).

    Examples
    --------
    >>> from journeymap.maturity.framework import load_builtin_framework
    >>> fw = load_builtin_framework()
    >>> scores = score_dimensions(fw, [Answer("Ana", "di_profile", 2), Answer("Ana", "di_history", 3),
    ...                                Answer("Ben", "di_profile", 4), Answer("Ben", "di_history", None)])
    >>> di = scores[1]
    >>> di.by_assessor, di.consensus, di.minimum, di.maximum, di.stdev, di.dont_know
    ({'Ana': 2.5, 'Ben': 4.0}, 3.25, 2.5, 4.0, 0.75, 1)
    >>> scores[0].assessed
    False
    """
    levels: dict[str, dict[str, list[int]]] = {d.id: {} for d in framework.dimensions}
    dont_know: dict[str, int] = dict.fromkeys(levels, 0)
    question_dimension = {q.id: d.id for d in framework.dimensions for q in d.questions}
    for answer in answers:
        dim_id = question_dimension.get(answer.question_id)
        if dim_id is None:
            continue
        if answer.level is None:
            dont_know[dim_id] += 1
        else:
            levels[dim_id].setdefault(answer.assessor, []).append(answer.level)
    scores = []
    for dim in framework.dimensions:
        by_assessor = {name: statistics.fmean(given) for name, given in sorted(levels[dim.id].items())}
        values = list(by_assessor.values())
        scores.append(
            DimensionScore(
                dimension_id=dim.id,
                name=dim.name,
                by_assessor=by_assessor,
                dont_know=dont_know[dim.id],
                consensus=float(statistics.median(values)) if values else None,
                minimum=min(values) if values else None,
                maximum=max(values) if values else None,
                stdev=statistics.pstdev(values) if values else None,
            )
        )
    return tuple(scores)


def current_levels(scores: Iterable[DimensionScore]) -> dict[str, float]:
    """The consensus level of every assessed dimension (not-assessed ones are left out)."""
    return {s.dimension_id: s.consensus for s in scores if s.consensus is not None}
