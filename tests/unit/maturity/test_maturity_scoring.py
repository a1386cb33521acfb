"""Scoring a workshop's answers: per assessor, spread, consensus, and the edge cases."""

from __future__ import annotations

import pytest

from journeymap.errors import UserInputError
from journeymap.maturity import Answer, Framework, check_answers, check_targets, current_levels, score_dimensions
from tests.unit.maturity.maturity_fixtures import tiny_framework


@pytest.fixture
def tiny() -> Framework:
    return tiny_framework()


def test_three_assessors_exact_spread_and_median(tiny: Framework) -> None:
    answers = [
        Answer("Ana", "d1", 2),
        Answer("Ana", "d2", 3),  # Ana: 2.5
        Answer("Ben", "d1", 4),
        Answer("Ben", "d2", 4),  # Ben: 4
        Answer("Cy", "d1", 1),  # Cy: 1 (d2 unanswered)
    ]
    data, tone = score_dimensions(tiny, answers)
    assert data.by_assessor == {"Ana": 2.5, "Ben": 4.0, "Cy": 1.0}
    assert (data.consensus, data.minimum, data.maximum) == (2.5, 1.0, 4.0)
    # population stdev of 2.5, 4, 1: mean 2.5, squares 0, 2.25, 2.25 → sqrt(1.5)
    assert data.stdev == pytest.approx(1.5**0.5)
    assert not tone.assessed and tone.consensus is None and tone.stdev is None and tone.by_assessor == {}


def test_one_assessor_has_no_spread(tiny: Framework) -> None:
    (data, _) = score_dimensions(tiny, [Answer("Ana", "d1", 3), Answer("Ana", "d2", 4)])
    assert (data.consensus, data.minimum, data.maximum, data.stdev) == (3.5, 3.5, 3.5, 0.0)


def test_even_number_of_assessors_takes_the_middle_mean(tiny: Framework) -> None:
    (data, _) = score_dimensions(tiny, [Answer("Ana", "d1", 1), Answer("Ben", "d1", 4)])
    assert data.consensus == 2.5 and data.stdev == 1.5


def test_dont_know_is_counted_but_never_scored(tiny: Framework) -> None:
    answers = [Answer("Ana", "d1", None), Answer("Ana", "d2", 2), Answer("Ben", "d1", None), Answer("Ben", "d2", None)]
    data, tone = score_dimensions(tiny, answers)
    assert data.by_assessor == {"Ana": 2.0}  # Ben only said "don't know": no score, not a zero
    assert data.dont_know == 3 and data.consensus == 2.0
    assert tone.dont_know == 0


def test_only_dont_know_leaves_the_dimension_not_assessed(tiny: Framework) -> None:
    data, _ = score_dimensions(tiny, [Answer("Ana", "d1", None)])
    assert not data.assessed and data.dont_know == 1


def test_no_answers_at_all(tiny: Framework) -> None:
    assert [s.assessed for s in score_dimensions(tiny, [])] == [False, False]
    assert current_levels(score_dimensions(tiny, [])) == {}


def test_current_levels_leave_out_unassessed(tiny: Framework) -> None:
    scores = score_dimensions(tiny, [Answer("Ana", "t1", 3)])
    assert current_levels(scores) == {"tone": 3.0}


def test_answers_to_other_questions_are_ignored(tiny: Framework) -> None:
    data, _ = score_dimensions(tiny, [Answer("Ana", "zz", 5), Answer("Ana", "d1", 2)])
    assert data.by_assessor == {"Ana": 2.0}


def test_three_level_framework_scores_on_its_own_scale() -> None:
    fw = tiny_framework(levels=3)
    (data, _) = score_dimensions(fw, [Answer("Ana", "d1", 3), Answer("Ben", "d1", 1)])
    assert data.consensus == 2.0
    check_answers(fw, [Answer("Ana", "d1", 3)])
    with pytest.raises(UserInputError, match="level 4 is outside the scale 1–3"):
        check_answers(fw, [Answer("Ana", "d1", 4)])


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (Answer("Ana", "nope", 2), "question 'nope' is not in framework 'tiny'"),
        (Answer("Ana", "d1", 0), "level 0 is outside the scale 1–5"),
        (Answer("Ana", "d1", 6), "level 6 is outside the scale 1–5"),
        (Answer("  ", "d1", 2), "has no assessor name"),
    ],
)
def test_check_answers_names_the_answer(tiny: Framework, answer: Answer, problem: str) -> None:
    with pytest.raises(UserInputError) as caught:
        check_answers(tiny, [Answer("Ok", "d2", 1), answer], source="workshop")
    assert caught.value.problem == problem
    assert caught.value.location == f"{answer.assessor} on '{answer.question_id}'"


def test_check_targets(tiny: Framework) -> None:
    check_targets(tiny, {"data": 4, "tone": 1})
    with pytest.raises(UserInputError, match="target level 6 is outside the scale 1–5"):
        check_targets(tiny, {"data": 6})
    with pytest.raises(UserInputError, match="dimension 'mood' is not in framework 'tiny'"):
        check_targets(tiny, {"mood": 3})
