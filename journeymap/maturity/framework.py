"""Maturity frameworks: dimensions, levels, questions, evidence thresholds and recommendations.

A framework is data, not code. The built-in one is ``data/maturity/omnichannel.json``;
teams copy and edit it into custom frameworks that are stored as revisions. Every
document is validated as a whole with pydantic, and problems come back as a
:class:`~journeymap.errors.UserInputError` naming the field.

Level counts other than five are accepted: every dimension must then describe exactly
as many levels as the framework declares, evidence thresholds must number one fewer, and
reference profiles and recommendations must stay inside the scale.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from journeymap.errors import UserInputError
from journeymap.json_input import load_json
from journeymap.model import validation_error_to_user_error

__all__ = [
    "BUILTIN_FRAMEWORK_PATH",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "INDICATOR_LABELS",
    "MAP_SELECTORS",
    "Dimension",
    "Effort",
    "EvidenceRule",
    "Framework",
    "Impact",
    "Indicator",
    "LevelName",
    "MapSelector",
    "Question",
    "Recommendation",
    "framework_from_dict",
    "framework_from_json",
    "framework_to_json",
    "load_builtin_framework",
    "load_framework",
]

FORMAT_NAME = "journeymap-maturity-framework"
FORMAT_VERSION: Literal[1] = 1
BUILTIN_FRAMEWORK_PATH = Path(__file__).resolve().parents[2] / "data" / "maturity" / "omnichannel.json"

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

Indicator = Literal[
    "designed_integration_factor",
    "cross_owner_handoff_share",
    "silo_handoff_share",
    "measured_integration_factor",
    "identity_stitching_rate",
    "repeat_contact_rate",
    "context_loss_score",
    "conforming_journey_share",
]

#: How each indicator reads in a sentence ("measured context loss suggests 2").
INDICATOR_LABELS: dict[str, str] = {
    "designed_integration_factor": "designed integration factor",
    "cross_owner_handoff_share": "share of cross-owner handoffs",
    "silo_handoff_share": "share of silo handoffs on the map",
    "measured_integration_factor": "measured integration factor",
    "identity_stitching_rate": "identity-stitching rate",
    "repeat_contact_rate": "measured repeat-contact rate",
    "context_loss_score": "measured context loss",
    "conforming_journey_share": "share of conforming journeys",
}

MapSelector = Literal[
    "handoffs",
    "handoffs_carry_none",
    "handoffs_carry_partial",
    "cross_owner_handoffs",
    "touchpoints_requiring_identification",
]

#: What each map selector lists, for people reading a recommendation.
MAP_SELECTORS: dict[str, str] = {
    "handoffs": "handoffs (transitions that switch channel or owner team)",
    "handoffs_carry_none": "handoffs with carry none",
    "handoffs_carry_partial": "handoffs with carry partial",
    "cross_owner_handoffs": "cross-owner handoffs",
    "touchpoints_requiring_identification": "touchpoints requiring identification",
}


class Impact(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Effort(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LevelName(_Part):
    """One step of the scale, shared by every dimension."""

    level: int = Field(ge=1)
    name: Name


class Question(_Part):
    """A question an assessor answers with a level (or "don't know")."""

    id: Id
    text: Line


class EvidenceRule(_Part):
    """How one indicator maps to a level on one dimension.

    ``thresholds`` ascend and number one fewer than the levels. For ``better="higher"``
    the level is one plus the number of thresholds the value reaches; for
    ``better="lower"`` it is one plus the number of thresholds the value stays at or under.
    """

    indicator: Indicator
    better: Literal["higher", "lower"]
    thresholds: tuple[float, ...]

    @model_validator(mode="after")
    def _check_ascending(self) -> EvidenceRule:
        if any(b <= a for a, b in zip(self.thresholds, self.thresholds[1:], strict=False)):
            raise ValueError(f"thresholds: {list(self.thresholds)} must strictly ascend")
        return self

    def level_of(self, value: float) -> int:
        """The level this indicator value suggests.

        Examples
        --------
        >>> rule = EvidenceRule(indicator="context_loss_score", better="lower", thresholds=(0.1, 0.25, 0.4, 0.6))
        >>> rule.level_of(0.5), rule.level_of(0.1), rule.level_of(0.9)
        (2, 5, 1)
        """
        if self.better == "higher":
            return 1 + sum(1 for t in self.thresholds if value >= t)
        return 1 + sum(1 for t in self.thresholds if value <= t)


class Recommendation(_Part):
    """A concrete next step that moves a dimension from ``from_level`` up to ``to_level``."""

    id: Id
    from_level: int = Field(ge=1)
    to_level: int = Field(ge=2)
    title: Line
    steps: tuple[Line, ...] = Field(min_length=1)
    impact: Impact
    effort: Effort
    concerns: tuple[MapSelector, ...] = ()

    @model_validator(mode="after")
    def _check_range(self) -> Recommendation:
        if self.to_level <= self.from_level:
            raise ValueError(f"to_level: {self.to_level} must be above from_level {self.from_level}")
        return self


class Dimension(_Part):
    """One axis of the assessment."""

    id: Id
    name: Name
    multichannel: Line = Field(description="what this dimension looks like in a multichannel organisation")
    omnichannel: Line = Field(description="what this dimension looks like in an omnichannel organisation")
    levels: tuple[Line, ...] = Field(description="one recognisable descriptor per level, lowest first")
    questions: tuple[Question, ...] = Field(min_length=1)
    evidence: tuple[EvidenceRule, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()


class Framework(_Part):
    """A whole maturity framework, validated as one document.

    Examples
    --------
    >>> fw = load_builtin_framework()
    >>> fw.level_count, len(fw.dimensions), fw.reference_profiles["omnichannel"]
    (5, 9, 4)
    >>> fw.dimension_of("di_profile").name
    'Data integration'
    """

    format: Literal["journeymap-maturity-framework"] = "journeymap-maturity-framework"
    format_version: Literal[1] = FORMAT_VERSION
    key: Id
    name: Name
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    levels: tuple[LevelName, ...] = Field(min_length=2, max_length=10)
    reference_profiles: dict[Id, int] = Field(default_factory=dict)
    dimensions: tuple[Dimension, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_consistency(self) -> Framework:
        count = len(self.levels)
        for index, step in enumerate(self.levels):
            if step.level != index + 1:
                raise ValueError(f"levels[{index}].level: is {step.level}; levels must be numbered 1, 2, 3... in order")
        for name, level in self.reference_profiles.items():
            if not 1 <= level <= count:
                raise ValueError(f"reference_profiles.{name}: level {level} is outside the scale 1–{count}")
        dimension_ids: set[str] = set()
        question_ids: set[str] = set()
        recommendation_ids: set[str] = set()
        for d_index, dim in enumerate(self.dimensions):
            where = f"dimensions[{d_index}]"
            if dim.id in dimension_ids:
                raise ValueError(f"{where}.id: '{dim.id}' is used twice; dimension ids must be unique")
            dimension_ids.add(dim.id)
            if len(dim.levels) != count:
                raise ValueError(
                    f"{where}.levels: '{dim.name}' describes {len(dim.levels)} levels but the framework has {count}"
                )
            for q_index, question in enumerate(dim.questions):
                if question.id in question_ids:
                    raise ValueError(
                        f"{where}.questions[{q_index}].id: '{question.id}' is used twice; question ids must be unique"
                    )
                question_ids.add(question.id)
            for e_index, rule in enumerate(dim.evidence):
                if len(rule.thresholds) != count - 1:
                    raise ValueError(
                        f"{where}.evidence[{e_index}].thresholds: {len(rule.thresholds)} given, "
                        f"{count - 1} needed for {count} levels"
                    )
            for r_index, rec in enumerate(dim.recommendations):
                if rec.id in recommendation_ids:
                    raise ValueError(f"{where}.recommendations[{r_index}].id: '{rec.id}' is used twice")
                recommendation_ids.add(rec.id)
                if rec.to_level > count:
                    raise ValueError(
                        f"{where}.recommendations[{r_index}].to_level: {rec.to_level} is above the top level {count}"
                    )
        return self

    @property
    def level_count(self) -> int:
        """How many levels the scale has (5 for the built-in framework)."""
        return len(self.levels)

    def dimension(self, dimension_id: str) -> Dimension:
        """The dimension with this id; ``KeyError`` when there is none."""
        for dim in self.dimensions:
            if dim.id == dimension_id:
                return dim
        raise KeyError(f"no dimension with id '{dimension_id}'")

    def dimension_of(self, question_id: str) -> Dimension:
        """The dimension a question belongs to; ``KeyError`` when no dimension asks it."""
        for dim in self.dimensions:
            if any(q.id == question_id for q in dim.questions):
                return dim
        raise KeyError(f"no question with id '{question_id}'")

    @property
    def question_ids(self) -> tuple[str, ...]:
        """Every question id, in framework order."""
        return tuple(q.id for dim in self.dimensions for q in dim.questions)


def framework_from_dict(data: Any, *, source: str = "framework JSON") -> Framework:
    """Validate a parsed framework document.

    Raises :class:`UserInputError` naming the field and the problem.

    Examples
    --------
    >>> framework_from_dict({"format": "journeymap-maturity-framework", "key": "x", "name": "X",
    ...                      "levels": [{"level": 1, "name": "low"}]}, source="x.json")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: x.json, field 'levels': Tuple should have at least 2 items ...
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise UserInputError(
            f"is not a Journeymap maturity framework (field 'format' must be '{FORMAT_NAME}')",
            source=source,
            hint="Start from data/maturity/omnichannel.json or export a framework from the maturity page.",
        )
    if data.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        raise UserInputError(
            f"has format_version {data.get('format_version')!r}; this version of Journeymap reads {FORMAT_VERSION}",
            source=source,
            location="field 'format_version'",
            hint="Export the framework again with a matching Journeymap version.",
        )
    try:
        return Framework.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_user_error(exc, source=source) from None


def framework_from_json(text: str | bytes, *, source: str = "framework JSON") -> Framework:
    """Read a framework document from JSON text.

    Examples
    --------
    >>> framework_from_json("{oops", source="custom.json")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: custom.json, line 1, column 2: is not valid JSON (...). Fix the JSON syntax.
    """
    data = load_json(text, source=source, hint="Fix the JSON syntax.")
    return framework_from_dict(data, source=source)


def framework_to_json(framework: Framework) -> str:
    """The framework as a JSON document that :func:`framework_from_json` reads back."""
    return framework.model_dump_json(indent=2)


def load_framework(path: str | Path) -> Framework:
    """Read and validate a framework file.

    Raises :class:`UserInputError` when the file is missing, unreadable or invalid.
    """
    file = Path(path)
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise UserInputError(
            f"cannot be read ({exc.strerror})", source=str(file), hint="Check the path and permissions."
        ) from None
    return framework_from_json(text, source=file.name)


def load_builtin_framework() -> Framework:
    """The omnichannel framework shipped in ``data/maturity/omnichannel.json``."""
    return load_framework(BUILTIN_FRAMEWORK_PATH)
