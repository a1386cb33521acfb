"""Export an assessment as JSON and import it back, refusing broken documents with the field named."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from journeymap.errors import UserInputError
from journeymap.maturity import AnswerRecord, AssessmentDocument, assessment_from_json, assessment_to_json
from tests.unit.maturity.maturity_fixtures import tiny_framework


def workshop_document() -> AssessmentDocument:
    return AssessmentDocument(
        name="Q3 review",
        business_unit="Retail",
        assessed_on=date(2026, 9, 30),
        framework_revision=2,
        framework=tiny_framework(),
        targets={"data": 4},
        answers=(
            AnswerRecord(assessor="Ana", question_id="d1", level=2, note="batch sync", evidence_link="https://wiki/x"),
            AnswerRecord(assessor="Ben", question_id="d1", level=None),
        ),
    )


def test_round_trip_is_lossless() -> None:
    document = workshop_document()
    assert assessment_from_json(assessment_to_json(document)) == document


def _json_with(change: Any) -> str:
    data = json.loads(assessment_to_json(workshop_document()))
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("change", "location", "problem"),
    [
        (lambda d: d.update(assessed_on="30/09/2026"), "field 'assessed_on'", "Input should be a valid date"),
        (lambda d: d["answers"][0].update(level=9), "Ana on 'd1'", "level 9 is outside the scale 1–5"),
        (lambda d: d["answers"][0].update(question_id="x9"), "Ana on 'x9'", "question 'x9' is not in framework 'tiny'"),
        (lambda d: d["targets"].update(data=0), "data", "target level 0 is outside the scale 1–5"),
        (lambda d: d["answers"].append(dict(d["answers"][0])), "field 'answers.2'", "Ana answers 'd1' twice"),
        (
            lambda d: d["framework"]["dimensions"][0]["levels"].pop(),
            "field 'framework.dimensions[0].levels'",
            "describes 4",
        ),
        (lambda d: d.pop("name"), "field 'name'", "Field required"),
    ],
)
def test_invalid_import_names_the_field(change: Any, location: str, problem: str) -> None:
    with pytest.raises(UserInputError) as caught:
        assessment_from_json(_json_with(change), source="q3.json")
    assert caught.value.source == "q3.json"
    assert caught.value.location == location
    assert problem in caught.value.problem


def test_foreign_and_broken_files_are_refused() -> None:
    with pytest.raises(UserInputError, match="is not a Journeymap maturity assessment"):
        assessment_from_json(json.dumps({"format": "journeymap-maturity-framework"}))
    with pytest.raises(UserInputError, match="is not valid JSON"):
        assessment_from_json("{")
    with pytest.raises(UserInputError, match="is not UTF-8 text"):
        assessment_from_json(b"\xff\xfe{")
