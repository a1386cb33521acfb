"""The framework files: the built-in one is complete, broken ones are refused with the field named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from journeymap.errors import UserInputError
from journeymap.maturity import (
    BUILTIN_FRAMEWORK_PATH,
    EvidenceRule,
    framework_from_dict,
    framework_from_json,
    framework_to_json,
    load_builtin_framework,
    load_framework,
)
from tests.unit.maturity.maturity_fixtures import document_copy, tiny_framework

EXPECTED_DIMENSIONS = [
    "Customer focus",
    "Data integration",
    "Ownership",
    "Channel switching and context carry",
    "Identity resolution",
    "Consistent branding and tone",
    "Employee empowerment",
    "Personalization and orchestration",
    "Measurement",
]


def test_builtin_framework_has_the_design_dimensions_and_levels() -> None:
    fw = load_builtin_framework()
    assert [d.name for d in fw.dimensions] == EXPECTED_DIMENSIONS
    assert [lv.name for lv in fw.levels] == [
        "Single channel / ad hoc",
        "Multichannel (silos)",
        "Cross-channel (partly linked)",
        "Omnichannel (integrated)",
        "Orchestrated (real-time, personalized)",
    ]
    assert fw.reference_profiles == {"multichannel": 2, "omnichannel": 4}


@pytest.mark.parametrize("index", range(9))
def test_every_builtin_dimension_is_complete(index: int) -> None:
    dim = load_builtin_framework().dimensions[index]
    assert 2 <= len(dim.questions) <= 4
    assert len(dim.levels) == 5 and len(set(dim.levels)) == 5
    assert dim.multichannel and dim.omnichannel
    # Recommendations cover the whole way from level 1 to level 5 without holes.
    covered = {step for r in dim.recommendations for step in range(r.from_level, r.to_level)}
    assert covered == {1, 2, 3, 4}


def test_builtin_recommendations_name_the_map_elements_of_the_issue() -> None:
    concerns = {c for d in load_builtin_framework().dimensions for r in d.recommendations for c in r.concerns}
    assert {"handoffs_carry_none", "touchpoints_requiring_identification", "cross_owner_handoffs"} <= concerns


def test_json_round_trip_is_lossless() -> None:
    fw = load_builtin_framework()
    assert framework_from_json(framework_to_json(fw)) == fw


@pytest.mark.parametrize(
    ("value", "better", "level"),
    [
        (0.0, "higher", 1),
        (0.19, "higher", 1),
        (0.2, "higher", 2),
        (0.79, "higher", 4),
        (0.8, "higher", 5),
        (1.0, "higher", 5),
        (0.0, "lower", 5),
        (0.2, "lower", 5),
        (0.21, "lower", 4),
        (0.6, "lower", 3),
        (0.8, "lower", 2),
        (0.81, "lower", 1),
    ],
)
def test_thresholds_map_values_to_levels(value: float, better: Any, level: int) -> None:
    rule = EvidenceRule(indicator="context_loss_score", better=better, thresholds=(0.2, 0.4, 0.6, 0.8))
    assert rule.level_of(value) == level


def _broken(change: Any) -> dict[str, Any]:
    doc = document_copy()
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda d: d.pop("name"), "name", "Field required"),
        (
            lambda d: d["dimensions"][1]["levels"].pop(),
            "dimensions[1].levels",
            "'Consistent tone' describes 4 levels but the framework has 5",
        ),
        (
            lambda d: d["dimensions"][1]["questions"][1].update(id="d1"),
            "dimensions[1].questions[1].id",
            "'d1' is used twice",
        ),
        (
            lambda d: d["dimensions"][0]["evidence"][0].update(thresholds=[0.1, 0.2, 0.3]),
            "dimensions[0].evidence[0].thresholds",
            "3 given, 4 needed for 5 levels",
        ),
        (
            lambda d: d["dimensions"][0]["evidence"][0].update(thresholds=[0.1, 0.3, 0.2, 0.4]),
            "dimensions.0.evidence.0",
            "must strictly ascend",
        ),
        (
            lambda d: d["dimensions"][0]["evidence"][0].update(indicator="mood"),
            "dimensions.0.evidence.0.indicator",
            "Input should be",
        ),
        (
            lambda d: d["reference_profiles"].update(omnichannel=6),
            "reference_profiles.omnichannel",
            "outside the scale",
        ),
        (lambda d: d["dimensions"][0]["questions"].clear(), "dimensions.0.questions", "at least 1 item"),
        (
            lambda d: d["dimensions"][0]["recommendations"][2].update(to_level=6),
            "dimensions[0].recommendations[2].to_level",
            "6 is above the top level 5",
        ),
        (lambda d: d["levels"][2].update(level=7), "levels[2].level", "is 7"),
        (lambda d: d.update(colour="red"), "colour", "Extra inputs are not permitted"),
    ],
)
def test_invalid_framework_names_the_field(change: Any, field: str, problem: str) -> None:
    with pytest.raises(UserInputError) as caught:
        framework_from_dict(_broken(change), source="custom.json")
    assert caught.value.source == "custom.json"
    assert caught.value.location == f"field '{field}'"
    assert problem in caught.value.problem


def test_foreign_document_and_broken_json_are_refused() -> None:
    with pytest.raises(UserInputError, match="is not a Journeymap maturity framework"):
        framework_from_json('{"schema_version": 1, "name": "A map"}')
    with pytest.raises(UserInputError) as caught:
        framework_from_json('{"format": ', source="f.json")
    assert caught.value.location == "line 1, column 12"


def test_other_level_counts_are_handled_when_consistent() -> None:
    fw = tiny_framework(levels=3)
    assert fw.level_count == 3
    assert fw.dimension("data").evidence[0].thresholds == pytest.approx((1 / 3, 2 / 3))


def test_load_framework_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError) as caught:
        load_framework(tmp_path / "nope.json")
    assert caught.value.source == str(tmp_path / "nope.json")
    assert "cannot be read" in caught.value.problem


def test_builtin_file_is_the_one_shipped_in_data() -> None:
    assert BUILTIN_FRAMEWORK_PATH.parts[-3:] == ("data", "maturity", "omnichannel.json")
    assert json.loads(BUILTIN_FRAMEWORK_PATH.read_text())["key"] == "omnichannel"
