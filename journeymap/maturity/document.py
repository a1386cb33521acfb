"""The assessment as a JSON document: export for download, import back with validation.

The document carries the whole framework it was answered against, so it can be imported
into any workspace: answers and targets are checked against that framework.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from journeymap.errors import UserInputError
from journeymap.json_input import load_json
from journeymap.maturity.framework import Framework, framework_from_dict
from journeymap.maturity.scoring import Answer, check_answers, check_targets
from journeymap.model import validation_error_to_user_error

__all__ = [
    "ASSESSMENT_FORMAT",
    "AnswerRecord",
    "AssessmentDocument",
    "assessment_from_json",
    "assessment_to_json",
]

ASSESSMENT_FORMAT = "journeymap-maturity-assessment"

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AnswerRecord(BaseModel):
    """One answer as the document stores it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    assessor: Name
    question_id: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    level: int | None
    note: Annotated[str, StringConstraints(max_length=5000)] = ""
    evidence_link: Annotated[str, StringConstraints(max_length=2000)] = ""

    def to_answer(self) -> Answer:
        return Answer(self.assessor, self.question_id, self.level, self.note, self.evidence_link)


class AssessmentDocument(BaseModel):
    """A whole assessment: its identity, its framework, targets and every assessor's answers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["journeymap-maturity-assessment"] = "journeymap-maturity-assessment"
    format_version: Literal[1] = 1
    name: Name
    business_unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    assessed_on: date
    framework_revision: int = Field(ge=1)
    framework: Framework
    targets: dict[str, int] = Field(default_factory=dict)
    answers: tuple[AnswerRecord, ...] = ()

    def domain_answers(self) -> tuple[Answer, ...]:
        return tuple(a.to_answer() for a in self.answers)


def assessment_to_json(document: AssessmentDocument) -> str:
    """The assessment as JSON text, read back by :func:`assessment_from_json`."""
    return document.model_dump_json(indent=2)


def assessment_from_json(text: str | bytes, *, source: str = "assessment JSON") -> AssessmentDocument:
    """Read and check an exported assessment.

    Raises :class:`UserInputError` naming the field for broken JSON, a foreign document,
    an invalid framework, an answer to an unknown question, a level outside the scale or
    the same question answered twice by one assessor.

    Examples
    --------
    >>> assessment_from_json('{"format": "journeymap-map"}', source="a.json")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: a.json: is not a Journeymap maturity assessment (field 'format' must be ...
    """
    data = load_json(text, source=source, hint="Export the assessment again from Journeymap.")
    if not isinstance(data, dict) or data.get("format") != ASSESSMENT_FORMAT:
        raise UserInputError(
            f"is not a Journeymap maturity assessment (field 'format' must be '{ASSESSMENT_FORMAT}')",
            source=source,
            hint="Choose a file exported with 'Export assessment'.",
        )
    # The framework first, so its problems are reported with their own field path.
    framework_data = data.get("framework")
    if framework_data is not None:
        try:
            framework_from_dict(framework_data, source=source)
        except UserInputError as exc:
            location = (exc.location or "").replace("field '", "field 'framework.", 1) or "field 'framework'"
            raise UserInputError(exc.problem, source=source, location=location, hint=exc.hint) from None
    try:
        document = AssessmentDocument.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_user_error(exc, source=source) from None
    check_answers(document.framework, document.domain_answers(), source=source)
    check_targets(document.framework, document.targets, source=source)
    seen: set[tuple[str, str]] = set()
    for index, answer in enumerate(document.answers):
        key = (answer.assessor, answer.question_id)
        if key in seen:
            raise UserInputError(
                f"{answer.assessor} answers '{answer.question_id}' twice",
                source=source,
                location=f"field 'answers.{index}'",
                hint="Keep one answer per assessor and question.",
            )
        seen.add(key)
    return document
