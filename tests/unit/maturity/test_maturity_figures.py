"""The radar chart and the page's table rows."""

from __future__ import annotations

import pytest

from journeymap.maturity import (
    NOT_ASSESSED,
    Answer,
    Evidence,
    Framework,
    characteristics_rows,
    find_disagreements,
    radar_figure,
    recommend,
    recommendation_rows,
    score_dimensions,
    score_evidence,
    score_rows,
)
from tests.unit.maturity.maturity_fixtures import tiny_framework


@pytest.fixture
def tiny() -> Framework:
    return tiny_framework()


def test_radar_has_current_target_and_reference_traces(tiny: Framework) -> None:
    fig = radar_figure(tiny, [("Current", {"data": 2.5}), ("Target", {"data": 4, "tone": 3})])
    assert [(t.name, t.r) for t in fig.data] == [
        ("Current", (2.5, None, 2.5)),
        ("Target", (4, 3, 4)),
        ("Multichannel (all 2)", (2.0, 2.0, 2.0)),
        ("Omnichannel (all 4)", (4.0, 4.0, 4.0)),
    ]
    assert fig.data[0].theta == ("Data integration", "Consistent tone", "Data integration")
    assert fig.layout.polar.radialaxis.range == (0, 5)
    assert fig.layout.template.layout.paper_bgcolor == "white"  # the explicit "plotly" template


def test_radar_without_references_on_a_three_level_scale() -> None:
    fw = tiny_framework(levels=3)
    fig = radar_figure(fw, [("Retail", {"data": 1.0, "tone": 3.0})], references=False, template="plotly_white")
    assert [t.name for t in fig.data] == ["Retail"]
    assert fig.layout.polar.radialaxis.range == (0, 3)


def test_score_rows_show_not_assessed_evidence_and_flags(tiny: Framework) -> None:
    scores = score_dimensions(tiny, [Answer("Ana", "d1", 4), Answer("Ben", "d1", 5), Answer("Ben", "d2", 5)])
    evidence = score_evidence(tiny, Evidence(context_loss_score=0.7))
    rows = score_rows(
        scores, targets={"data": 5, "tone": 3}, evidence=evidence, disagreements=find_disagreements(scores, evidence)
    )
    assert rows == [
        {
            "Dimension": "Data integration",
            "Consensus (median)": "4.5",
            "Min": "4",
            "Max": "5",
            "Stdev": "0.5",
            "Assessors": 2,
            "Don't know": 0,
            "Target": "5",
            "Gap": "0.5",
            "Evidence": "2 (measured context loss 0.7)",
            "Flag": "self-assessed 4.5 on data integration; measured context loss suggests 2",
        },
        {
            "Dimension": "Consistent tone",
            "Consensus (median)": NOT_ASSESSED,
            "Min": NOT_ASSESSED,
            "Max": NOT_ASSESSED,
            "Stdev": NOT_ASSESSED,
            "Assessors": 0,
            "Don't know": 0,
            "Target": "3",
            "Gap": "",
            "Evidence": "no evidence",
            "Flag": "",
        },
    ]


def test_characteristics_and_recommendation_rows(tiny: Framework) -> None:
    assert characteristics_rows(tiny)[0] == {
        "Dimension": "Data integration",
        "Multichannel": "Siloed data.",
        "Omnichannel": "Unified profiles.",
    }
    actions = recommend(tiny, {"data": 2.0}, {"data": 3}, map_elements={"handoffs_carry_none": ("a → b", "c → d")})
    assert recommendation_rows(actions) == [
        {
            "Dimension": "Data integration",
            "Gap": "2 → 3",
            "Recommendation": "Carry context",
            "Impact": "high",
            "Effort": "medium",
            "Concerns": "handoffs with carry none: 2",
        }
    ]
