"""Maturity assessments: frameworks, assessments, answers, targets, export and import.

Writes need :attr:`journeymap.access.Action.ASSESS` (owners and editors); reads need
:attr:`journeymap.access.Action.READ_WORKSPACE` (every signed-in account; a share-link visitor
reads its one map, not the workspace's assessments). Whatever is saved is signed with the acting
account's name: answers are the actor's own answers, a framework revision is the actor's.

Example::

    from journeymap.services import maturity
    opened = maturity.open_assessment(engine, actor, assessment_id=4)
    maturity.save_answers(engine, actor, assessment_id=4, answers=[Answer("", "di_profile", 3)])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from journeymap.access import Action, Actor
from journeymap.maturity import Answer, Framework, assessment_from_json, assessment_to_json, load_builtin_framework
from journeymap.services._core import service
from journeymap.store import (
    DatasetInfo,
    MapSummary,
    Revision,
    get_dataset,
    latest_revision,
    list_datasets,
    list_maps,
)
from journeymap.store import assessments as store
from journeymap.store.assessments import AssessmentInfo, FrameworkInfo

__all__ = [
    "EvidenceInputs",
    "EvidenceSources",
    "OpenAssessment",
    "create_assessment",
    "ensure_builtin_framework",
    "evidence_inputs",
    "evidence_sources",
    "export_assessment",
    "get_framework",
    "import_assessment",
    "list_assessments",
    "list_frameworks",
    "open_assessment",
    "save_answers",
    "save_framework",
    "set_targets",
]


@dataclass(frozen=True)
class OpenAssessment:
    """An assessment with the framework revision it is answered against and every assessor's answers."""

    info: AssessmentInfo
    framework: Framework
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class EvidenceSources:
    """What evidence can come from: the saved maps and the registered event datasets."""

    maps: list[MapSummary]
    datasets: list[DatasetInfo]


@dataclass(frozen=True)
class EvidenceInputs:
    """A map's latest revision and, when one was picked, the dataset overlaid on it."""

    revision: Revision
    dataset: DatasetInfo | None


# --- reads ---------------------------------------------------------------------------------------


@service(Action.READ_WORKSPACE)
def list_frameworks(session: Session, actor: Actor) -> list[FrameworkInfo]:
    """The latest revision of every framework, by key."""
    del actor
    return store.list_frameworks(session=session)


@service(Action.READ_WORKSPACE)
def get_framework(
    session: Session, actor: Actor, *, key: str, number: int | None = None
) -> tuple[FrameworkInfo, Framework]:
    """A framework revision (the latest when ``number`` is ``None``) with its document."""
    del actor
    return store.get_framework(session=session, key=key, number=number)


@service(Action.READ_WORKSPACE)
def list_assessments(session: Session, actor: Actor) -> list[AssessmentInfo]:
    """Every assessment, most recent assessment date first."""
    del actor
    return store.list_assessments(session=session)


@service(Action.READ_WORKSPACE)
def open_assessment(session: Session, actor: Actor, *, assessment_id: int) -> OpenAssessment:
    """One assessment, its framework revision and all its answers."""
    del actor
    info = store.get_assessment(session=session, assessment_id=assessment_id)
    _, framework = store.get_framework(session=session, key=info.framework_key, number=info.framework_revision)
    return OpenAssessment(info, framework, store.list_answers(session=session, assessment_id=assessment_id))


@service(Action.READ_WORKSPACE)
def export_assessment(session: Session, actor: Actor, *, assessment_id: int) -> str:
    """The assessment as an exported JSON document (framework, targets and answers)."""
    del actor
    return assessment_to_json(store.export_assessment(session=session, assessment_id=assessment_id))


@service(Action.READ_WORKSPACE)
def evidence_sources(session: Session, actor: Actor) -> EvidenceSources:
    """The saved maps and registered datasets an assessment may take its evidence from."""
    del actor
    return EvidenceSources(maps=list_maps(session=session), datasets=list_datasets(session=session))


@service(Action.READ_WORKSPACE)
def evidence_inputs(session: Session, actor: Actor, *, map_id: int, dataset_id: int | None = None) -> EvidenceInputs:
    """The latest revision of ``map_id`` and the registered dataset ``dataset_id`` (when given)."""
    del actor
    revision = latest_revision(session=session, map_id=map_id)
    dataset = get_dataset(session=session, dataset_id=dataset_id) if dataset_id is not None else None
    return EvidenceInputs(revision, dataset)


# --- writes --------------------------------------------------------------------------------------


@service(Action.ASSESS)
def ensure_builtin_framework(session: Session, actor: Actor) -> FrameworkInfo:
    """The built-in framework's latest revision, saved as revision 1 first when the workspace has none."""
    del actor
    return store.ensure_framework(session=session, framework=load_builtin_framework())


@service(Action.ASSESS)
def create_assessment(
    session: Session,
    actor: Actor,
    *,
    name: str,
    business_unit: str,
    assessed_on: date,
    framework_key: str,
    targets: Mapping[str, int] | None = None,
) -> AssessmentInfo:
    """Start an assessment against the latest revision of ``framework_key``.

    Without ``targets`` every dimension aims at the framework's omnichannel reference level (its
    top level when it names none).
    """
    del actor
    info, framework = store.get_framework(session=session, key=framework_key)
    if targets is None:
        omnichannel = framework.reference_profiles.get("omnichannel", framework.level_count)
        targets = {d.id: omnichannel for d in framework.dimensions}
    return store.create_assessment(
        session=session,
        name=name,
        business_unit=business_unit,
        assessed_on=assessed_on,
        framework_key=info.framework_key,
        framework_revision=info.number,
        targets=targets,
    )


@service(Action.ASSESS)
def save_answers(session: Session, actor: Actor, *, assessment_id: int, answers: Sequence[Answer]) -> int:
    """Save the actor's own answers (each replaces the actor's earlier answer to that question).

    The assessor of every answer is the acting account, whatever the answers say.
    """
    own = [dataclasses.replace(answer, assessor=actor.name) for answer in answers]
    return store.save_answers(session=session, assessment_id=assessment_id, answers=own)


@service(Action.ASSESS)
def set_targets(session: Session, actor: Actor, *, assessment_id: int, targets: Mapping[str, int]) -> AssessmentInfo:
    """Replace an assessment's target levels."""
    del actor
    return store.set_targets(session=session, assessment_id=assessment_id, targets=targets)


@service(Action.ASSESS)
def save_framework(session: Session, actor: Actor, *, framework: Framework, base_number: int | None) -> FrameworkInfo:
    """Save ``framework`` as the next revision of its key, by the actor; a stale ``base_number`` is refused."""
    return store.save_framework(session=session, framework=framework, author=actor.name, base_number=base_number)


@service(Action.ASSESS)
def import_assessment(session: Session, actor: Actor, *, data: bytes | str, source: str) -> AssessmentInfo:
    """Read an exported assessment (``source`` names the file) and save it as a new assessment."""
    document = assessment_from_json(data, source=source)
    return store.import_assessment(session=session, document=document, author=actor.name)
