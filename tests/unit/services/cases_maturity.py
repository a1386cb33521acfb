"""Access matrix rows of the maturity services (see ``journeymap/services/maturity.py``).

Reads are for every account; writes for owners and editors. A row that needs an assessment
writes one first only for the people the row allows (``add_assessment``): the others must be
refused before anything is looked up, so their call finds none and writes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from journeymap.access import Actor
from journeymap.maturity import Answer, assessment_from_json, assessment_to_json, load_builtin_framework
from journeymap.maturity.document import AnswerRecord, AssessmentDocument
from journeymap.services import maturity
from journeymap.store.assessments import Assessment, AssessmentAnswer, FrameworkRevision
from tests.unit.services.cases import EDITORS, MEMBERS, Case
from tests.unit.services.world import World, add_assessment

# The id the world's first assessment gets: what a refused caller names.
FIRST_ASSESSMENT = 1


def _assessment(world: World, actor: Actor, allowed: frozenset[str]) -> int:
    person = next(name for name, known in world.actors.items() if known == actor)
    return add_assessment(world) if person in allowed else FIRST_ASSESSMENT


def _answers(world: World) -> list[tuple[str, str, int | None]]:
    with Session(world.engine) as session:
        rows = session.exec(select(AssessmentAnswer).order_by(AssessmentAnswer.assessor)).all()  # type: ignore[arg-type]
        return [(row.assessor, row.question_id, row.level) for row in rows]


def _framework_rows(world: World) -> list[tuple[str, int, str]]:
    with Session(world.engine) as session:
        rows = session.exec(select(FrameworkRevision).order_by(FrameworkRevision.number)).all()  # type: ignore[arg-type]
        return [(row.framework_key, row.number, row.author) for row in rows]


def _no_frameworks(world: World, result: Any) -> None:
    del world
    assert result == []


def _no_assessments(world: World, result: Any) -> None:
    del world
    assert result == []


def _builtin(world: World, result: Any) -> None:
    assert (result.framework_key, result.number, result.author) == ("omnichannel", 1, "Journeymap")
    assert _framework_rows(world) == [("omnichannel", 1, "Journeymap")]


def _opened(world: World, result: Any) -> None:
    del world
    assert (result.info.name, result.framework.key) == ("Q3 review", "omnichannel")
    assert result.answers == (Answer("Olive", "di_profile", 2),)


def _listed(world: World, result: Any) -> None:
    del world
    assert [a.label for a in result] == ["Q3 review · Retail · 2026-09-30"]


def _framework(world: World, result: Any) -> None:
    del world
    info, framework = result
    assert (info.number, framework.key) == (1, "omnichannel")


def _exported(world: World, result: Any) -> None:
    del world
    document = assessment_from_json(result)
    assert (document.name, [a.assessor for a in document.answers]) == ("Q3 review", ["Olive"])


def _sources(world: World, result: Any) -> None:
    assert sorted(m.id for m in result.maps) == sorted([world.shared_map, world.other_map])
    assert result.datasets == []


def _inputs(world: World, result: Any) -> None:
    assert (result.revision.id, result.revision.journey_map.name, result.dataset) == (
        world.ids["other_revision"],
        "Private plans",
        None,
    )


def _created(world: World, result: Any) -> None:
    assert (result.name, result.framework_revision) == ("Q4", 1)
    assert set(result.targets.values()) == {load_builtin_framework().reference_profiles["omnichannel"]}
    with Session(world.engine) as session:
        assert session.exec(select(Assessment.name).order_by(Assessment.id)).all() == ["Q3 review", "Q4"]  # type: ignore[arg-type]


def _answered(world: World, result: Any) -> None:
    name, count = result
    assert count == 1
    # The assessor is the acting account, whatever name the answers carried; Olive's own answer is replaced.
    expected = {("Olive", "di_profile", 2), (name, "di_profile", 4)} - (
        {("Olive", "di_profile", 2)} if name == "Olive" else set()
    )
    assert set(_answers(world)) == expected


def _targets(world: World, result: Any) -> None:
    del world
    assert result.targets == {"ownership": 5}


def _saved_framework(world: World, result: Any) -> None:
    name, info = result
    assert (info.number, info.name, info.author) == (2, "Edited", name)
    assert _framework_rows(world) == [("omnichannel", 1, "Journeymap"), ("omnichannel", 2, name)]


def _imported(world: World, result: Any) -> None:
    name, info = result
    assert (info.name, info.framework_revision) == ("Imported review", 1)
    assert _framework_rows(world) == [("omnichannel", 1, name)]
    assert _answers(world) == [("Ana", "di_profile", 3)]  # imported answers keep their assessors


def _save_edited(world: World, actor: Actor) -> Any:
    _assessment(world, actor, EDITORS)
    edited = load_builtin_framework().model_copy(update={"name": "Edited"})
    return actor.name, maturity.save_framework(world.engine, actor, framework=edited, base_number=1)


IMPORTED = assessment_to_json(
    AssessmentDocument(
        name="Imported review",
        business_unit="Online",
        assessed_on=date(2026, 6, 30),
        framework_revision=1,
        framework=load_builtin_framework(),
        targets={"ownership": 4},
        answers=(AnswerRecord(assessor="Ana", question_id="di_profile", level=3),),
    )
)


CASES = [
    Case("maturity.list_frameworks", lambda w, a: maturity.list_frameworks(w.engine, a), MEMBERS, check=_no_frameworks),
    Case(
        "maturity.list_assessments", lambda w, a: maturity.list_assessments(w.engine, a), MEMBERS, check=_no_assessments
    ),
    Case(
        "maturity.list_assessments",
        lambda w, a: (_assessment(w, a, MEMBERS), maturity.list_assessments(w.engine, a))[1],
        MEMBERS,
        variant="one",
        check=_listed,
    ),
    Case(
        "maturity.get_framework",
        lambda w, a: (_assessment(w, a, MEMBERS), maturity.get_framework(w.engine, a, key="omnichannel"))[1],
        MEMBERS,
        check=_framework,
    ),
    Case(
        "maturity.open_assessment",
        lambda w, a: maturity.open_assessment(w.engine, a, assessment_id=_assessment(w, a, MEMBERS)),
        MEMBERS,
        check=_opened,
    ),
    Case(
        "maturity.export_assessment",
        lambda w, a: maturity.export_assessment(w.engine, a, assessment_id=_assessment(w, a, MEMBERS)),
        MEMBERS,
        check=_exported,
    ),
    Case("maturity.evidence_sources", lambda w, a: maturity.evidence_sources(w.engine, a), MEMBERS, check=_sources),
    Case(
        "maturity.evidence_inputs",
        lambda w, a: maturity.evidence_inputs(w.engine, a, map_id=w.other_map),
        MEMBERS,
        variant="other map",
        check=_inputs,
    ),
    Case(
        "maturity.evidence_inputs",
        lambda w, a: maturity.evidence_inputs(w.engine, a, map_id=w.shared_map),
        MEMBERS,
        variant="shared map",
    ),
    Case(
        "maturity.ensure_builtin_framework",
        lambda w, a: maturity.ensure_builtin_framework(w.engine, a),
        EDITORS,
        check=_builtin,
    ),
    Case(
        "maturity.create_assessment",
        lambda w, a: (
            _assessment(w, a, EDITORS),
            maturity.create_assessment(
                w.engine,
                a,
                name="Q4",
                business_unit="Retail",
                assessed_on=date(2026, 12, 31),
                framework_key="omnichannel",
            ),
        )[1],
        EDITORS,
        check=_created,
    ),
    Case(
        "maturity.save_answers",
        lambda w, a: (
            a.name,
            maturity.save_answers(
                w.engine,
                a,
                assessment_id=_assessment(w, a, EDITORS),
                answers=[Answer("Somebody else", "di_profile", 4)],
            ),
        ),
        EDITORS,
        check=_answered,
    ),
    Case(
        "maturity.set_targets",
        lambda w, a: maturity.set_targets(
            w.engine, a, assessment_id=_assessment(w, a, EDITORS), targets={"ownership": 5}
        ),
        EDITORS,
        check=_targets,
    ),
    Case("maturity.save_framework", _save_edited, EDITORS, check=_saved_framework),
    Case(
        "maturity.import_assessment",
        lambda w, a: (a.name, maturity.import_assessment(w.engine, a, data=IMPORTED, source="review.json")),
        EDITORS,
        check=_imported,
    ),
]
