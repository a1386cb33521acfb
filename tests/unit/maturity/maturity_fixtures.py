"""Tiny, named frameworks and maps for the maturity tests (imported by module name, not as a conftest)."""

from __future__ import annotations

import copy
from typing import Any

from journeymap.maturity import Framework, framework_from_dict
from journeymap.model import Channel, ContextCarry, JourneyMap, Stage, Touchpoint, Transition


def two_dimension_document(levels: int = 5) -> dict[str, Any]:
    """Two dimensions ("data", "tone") with two questions each, on a scale of ``levels``.

    "data" has two evidence rules (context loss, lower is better; integration, higher is
    better) and three recommendations; "tone" has no evidence and one recommendation.
    """
    steps = [i / levels for i in range(1, levels)]
    return {
        "format": "journeymap-maturity-framework",
        "key": "tiny",
        "name": "Tiny framework",
        "levels": [{"level": i, "name": f"L{i}"} for i in range(1, levels + 1)],
        "reference_profiles": {"multichannel": min(2, levels), "omnichannel": levels - 1},
        "dimensions": [
            {
                "id": "data",
                "name": "Data integration",
                "multichannel": "Siloed data.",
                "omnichannel": "Unified profiles.",
                "levels": [f"data level {i}" for i in range(1, levels + 1)],
                "questions": [{"id": "d1", "text": "Profile?"}, {"id": "d2", "text": "History?"}],
                "evidence": [
                    {"indicator": "context_loss_score", "better": "lower", "thresholds": steps},
                    {"indicator": "measured_integration_factor", "better": "higher", "thresholds": steps},
                ],
                "recommendations": [
                    {
                        "id": "data_low",
                        "from_level": 1,
                        "to_level": 3,
                        "title": "Carry context",
                        "steps": ["Pass the case id."],
                        "impact": "high",
                        "effort": "medium",
                        "concerns": ["handoffs_carry_none"],
                    },
                    {
                        "id": "data_mid",
                        "from_level": 3,
                        "to_level": 4,
                        "title": "One profile",
                        "steps": ["Build it."],
                        "impact": "high",
                        "effort": "high",
                        "concerns": [],
                    },
                    {
                        "id": "data_top",
                        "from_level": 4,
                        "to_level": levels,
                        "title": "Real time",
                        "steps": ["Stream."],
                        "impact": "low",
                        "effort": "high",
                        "concerns": [],
                    },
                ]
                if levels >= 5
                else [],
            },
            {
                "id": "tone",
                "name": "Consistent tone",
                "multichannel": "Own tone per channel.",
                "omnichannel": "One voice.",
                "levels": [f"tone level {i}" for i in range(1, levels + 1)],
                "questions": [{"id": "t1", "text": "Same offers?"}, {"id": "t2", "text": "Guidelines?"}],
                "evidence": [],
                "recommendations": [
                    {
                        "id": "tone_guide",
                        "from_level": 1,
                        "to_level": 2,
                        "title": "One guide",
                        "steps": ["Write it."],
                        "impact": "medium",
                        "effort": "low",
                        "concerns": [],
                    }
                ],
            },
        ],
    }


def tiny_framework(levels: int = 5) -> Framework:
    return framework_from_dict(two_dimension_document(levels))


def document_copy(levels: int = 5) -> dict[str, Any]:
    return copy.deepcopy(two_dimension_document(levels))


def returns_map() -> JourneyMap:
    """Web form → call (carry none, Digital → Care), call → refund on web (full), form → FAQ (same channel).

    Handoffs: form→phone (cross channel and owner, none) and phone→refund (cross channel
    and owner, full). form→faq stays in one channel and team: not a handoff.
    The sign-in touchpoint requires identification.
    """
    return JourneyMap(
        name="Returns",
        stages=(Stage(id="service", name="Onboarding/Service"),),
        channels=(
            Channel(id="web", name="Website", owner_team="Digital"),
            Channel(id="call", name="Call center", kind="assisted", owner_team="Care"),
        ),
        touchpoints=(
            Touchpoint(id="form", name="Return form", channel="web", stage="service", requires_identification=True),
            Touchpoint(id="faq", name="Returns FAQ", channel="web", stage="service"),
            Touchpoint(id="phone", name="Return call", channel="call", stage="service"),
            Touchpoint(id="refund", name="Refund", channel="web", stage="service", is_final=True),
        ),
        transitions=(
            Transition(source="form", target="phone", context_carry=ContextCarry.NONE),
            Transition(source="phone", target="refund", context_carry=ContextCarry.FULL),
            Transition(source="form", target="faq", context_carry=ContextCarry.NONE),
        ),
    )
