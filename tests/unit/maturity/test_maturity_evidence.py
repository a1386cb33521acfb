"""Evidence: indicators → levels per dimension, disagreements, and reading maps and overlays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace as NS

import pandas as pd
import polars as pl
import pytest

from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.events.overlay import compute_overlay
from journeymap.events.settings import OverlaySettings
from journeymap.maturity import (
    Answer,
    Evidence,
    Framework,
    combine_evidence,
    evidence_from_map,
    evidence_from_overlay,
    find_disagreements,
    load_builtin_framework,
    map_elements,
    score_dimensions,
    score_evidence,
)
from journeymap.model import JourneyMap
from tests.unit.maturity.maturity_fixtures import returns_map, tiny_framework


@pytest.fixture
def tiny() -> Framework:
    return tiny_framework()


def test_weakest_indicator_sets_the_level(tiny: Framework) -> None:
    # thresholds 0.2 0.4 0.6 0.8: context loss 0.5 (lower better) stays under 0.6 and 0.8 → 3;
    # integration 0.9 (higher better) reaches all four → 5
    data, tone = score_evidence(tiny, Evidence(context_loss_score=0.5, measured_integration_factor=0.9))
    assert [(i.indicator, i.value, i.level) for i in data.indicators] == [
        ("context_loss_score", 0.5, 3),
        ("measured_integration_factor", 0.9, 5),
    ]
    assert data.level == 3 and data.deciding is not None and data.deciding.indicator == "context_loss_score"
    assert tone.level is None and tone.indicators == ()


def test_missing_and_nan_evidence_give_no_level(tiny: Framework) -> None:
    data, _ = score_evidence(tiny, Evidence(context_loss_score=float("nan")))
    assert data.level is None and data.deciding is None
    assert [d.level for d in score_evidence(tiny, Evidence())] == [None, None]


def test_builtin_framework_uses_every_indicator() -> None:
    fw = load_builtin_framework()
    used = {rule.indicator for d in fw.dimensions for rule in d.evidence}
    assert used == set(Evidence().__dataclass_fields__)


def test_disagreement_of_two_levels_is_flagged_with_the_sentence(tiny: Framework) -> None:
    scores = score_dimensions(tiny, [Answer("Ana", "d1", 4), Answer("Ana", "d2", 4), Answer("Ana", "t1", 1)])
    evidence = score_evidence(tiny, Evidence(context_loss_score=0.7))  # under 0.8 only → 2
    (flag,) = find_disagreements(scores, evidence)
    assert flag.message == "self-assessed 4 on data integration; measured context loss suggests 2"
    assert (flag.dimension_id, flag.self_assessed, flag.evidence_level) == ("data", 4.0, 2)


def test_one_level_apart_is_not_a_disagreement(tiny: Framework) -> None:
    scores = score_dimensions(tiny, [Answer("Ana", "d1", 3), Answer("Ana", "d2", 4)])  # 3.5
    assert find_disagreements(scores, score_evidence(tiny, Evidence(context_loss_score=0.7))) == ()  # 3.5 vs 2


def test_fractional_consensus_in_the_message(tiny: Framework) -> None:
    scores = score_dimensions(tiny, [Answer("Ana", "d1", 4), Answer("Ana", "d2", 5)])  # 4.5 vs 2
    (flag,) = find_disagreements(scores, score_evidence(tiny, Evidence(context_loss_score=0.7)))
    assert flag.message.startswith("self-assessed 4.5 on data integration")


def test_unassessed_or_unevidenced_dimensions_are_never_flagged(tiny: Framework) -> None:
    assert find_disagreements(score_dimensions(tiny, []), score_evidence(tiny, Evidence(context_loss_score=1))) == ()
    scores = score_dimensions(tiny, [Answer("Ana", "t1", 5)])
    assert find_disagreements(scores, score_evidence(tiny, Evidence(context_loss_score=1))) == ()


def test_three_level_framework_evidence() -> None:
    fw = tiny_framework(levels=3)  # thresholds 1/3, 2/3
    data, _ = score_evidence(fw, Evidence(measured_integration_factor=0.5))
    assert data.level == 2


def test_combine_evidence_keeps_known_values() -> None:
    combined = combine_evidence(
        Evidence(silo_handoff_share=0.5, context_loss_score=0.1), Evidence(context_loss_score=0.3)
    )
    assert combined == Evidence(silo_handoff_share=0.5, context_loss_score=0.3)


def test_evidence_from_map_counts_handoffs() -> None:
    # Handoffs: form→phone (none, cross-owner), phone→refund (full, cross-owner); form→faq is no handoff.
    assert evidence_from_map(returns_map()) == Evidence(
        designed_integration_factor=0.5, cross_owner_handoff_share=1.0, silo_handoff_share=0.5
    )


def test_evidence_from_map_without_handoffs() -> None:
    m = returns_map()
    single = JourneyMap(name="Web only", stages=m.stages, channels=m.channels[:1], touchpoints=m.touchpoints[:2])
    assert evidence_from_map(single) == Evidence()


@pytest.mark.parametrize("frame_type", ["polars", "pandas"])
def test_evidence_from_overlay_weights_handoffs_by_count(frame_type: str) -> None:
    data = {"count": [3, 1, 0], "context_loss_score": [0.2, 0.6, 1.0], "repeat_contact_rate": [0.0, 0.4, None]}
    silo = pl.DataFrame(data) if frame_type == "polars" else pd.DataFrame(data)
    overlay = NS(
        kpis=NS(measured_integration_factor=0.7), silo_handoffs=silo, conformance=NS(conforming_journey_share=0.55)
    )
    assert evidence_from_overlay(overlay, NS(stitching_rate=0.9)) == Evidence(
        measured_integration_factor=0.7,
        identity_stitching_rate=0.9,
        repeat_contact_rate=0.1,  # (3·0 + 1·0.4) / 4
        context_loss_score=0.3,  # (3·0.2 + 1·0.6) / 4; the unseen handoff weighs nothing
        conforming_journey_share=0.55,
    )


def test_evidence_from_overlay_without_conformance_identity_or_handoffs() -> None:
    empty = pl.DataFrame(
        schema={"count": pl.Int64, "context_loss_score": pl.Float64, "repeat_contact_rate": pl.Float64}
    )
    overlay = NS(kpis=NS(measured_integration_factor=float("nan")), silo_handoffs=empty, conformance=None)
    assert evidence_from_overlay(overlay) == Evidence()


def test_map_elements_list_the_actual_handoffs() -> None:
    elements = map_elements(returns_map())
    assert elements == {
        "handoffs": (
            "Return form (Website) → Return call (Call center), carry none",
            "Return call (Call center) → Refund (Website), carry full",
        ),
        "handoffs_carry_none": ("Return form (Website) → Return call (Call center), carry none",),
        "handoffs_carry_partial": (),
        "cross_owner_handoffs": (
            "Return form (Website) → Return call (Call center), carry none (Digital → Care)",
            "Return call (Call center) → Refund (Website), carry full (Care → Digital)",
        ),
        "touchpoints_requiring_identification": ("Return form (Website)",),
    }


def test_evidence_from_a_real_overlay_reads_its_documented_attributes() -> None:
    touchpoints, channels, owners = ("form", "phone", "refund", "faq"), ("web", "call"), ("Digital", "Care")
    # (customer, touchpoint code, converted): c0 follows the design; c1 calls, then fills the form again;
    # c2 calls and gives up.
    steps = [(0, 0, False), (0, 1, False), (0, 2, True), (1, 0, False), (1, 1, False), (1, 0, False), (2, 0, False)]
    steps += [(2, 1, False)]
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    channel_of = {0: 0, 1: 1, 2: 0, 3: 0}
    events = pl.DataFrame(
        {
            "customer": [c for c, _, _ in steps],
            "ts": [start + timedelta(minutes=10 * i) for i in range(len(steps))],
            "seq": list(range(len(steps))),
            "touchpoint": [t for _, t, _ in steps],
            "channel": [channel_of[t] for _, t, _ in steps],
            "owner": [channel_of[t] for _, t, _ in steps],
            "converted": [v for _, _, v in steps],
            "identified": [False] * len(steps),
            "value": [None] * len(steps),
            "sentiment": [None] * len(steps),
        },
        schema=EVENT_SCHEMA,
    )
    overlay = compute_overlay(EventLog(events, touchpoints, channels, owners), returns_map(), OverlaySettings())
    evidence = evidence_from_overlay(overlay)
    assert evidence.measured_integration_factor == overlay.kpis.measured_integration_factor
    assert overlay.conformance is not None
    assert evidence.conforming_journey_share == overlay.conformance.conforming_journey_share
    assert evidence.context_loss_score is not None
    # The overlay defines its measured integration factor as 1 - the count-weighted context loss.
    assert evidence.context_loss_score == pytest.approx(1 - evidence.measured_integration_factor, abs=1e-5)
    assert evidence.identity_stitching_rate is None
