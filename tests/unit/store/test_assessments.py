"""Saved assessments: framework revisions, answers from several assessors, export and import."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from journeymap.errors import UserInputError
from journeymap.maturity import (
    Answer,
    Framework,
    assessment_from_json,
    assessment_to_json,
    framework_from_dict,
    load_builtin_framework,
)
from journeymap.store import session_scope
from journeymap.store.assessments import (
    AssessmentAnswer,
    AssessmentInfo,
    FrameworkRevision,
    StaleFrameworkError,
    create_assessment,
    ensure_framework,
    export_assessment,
    get_assessment,
    get_framework,
    import_assessment,
    list_answers,
    list_assessments,
    list_framework_revisions,
    list_frameworks,
    save_answers,
    save_framework,
    set_targets,
)


def renamed(framework: Framework, name: str) -> Framework:
    return framework.model_copy(update={"name": name})


def new_assessment(session: Session, name: str = "Q3", unit: str = "Retail", day: int = 30) -> AssessmentInfo:
    fw = ensure_framework(session=session, framework=load_builtin_framework())
    return create_assessment(
        session=session,
        name=name,
        business_unit=unit,
        assessed_on=date(2026, 9, day),
        framework_key=fw.framework_key,
        framework_revision=fw.number,
        targets={"data_integration": 4},
    )


def test_framework_revisions_are_numbered_and_never_overwritten(session: Session) -> None:
    fw = load_builtin_framework()
    first = save_framework(session=session, framework=fw, author="Ana", base_number=None)
    second = save_framework(session=session, framework=renamed(fw, "Ours"), author="Bo", base_number=1)
    assert (first.number, second.number) == (1, 2)
    assert get_framework(session=session, key="omnichannel", number=1)[1] == fw
    assert get_framework(session=session, key="omnichannel")[1].name == "Ours"
    assert [r.number for r in list_framework_revisions(session=session, key="omnichannel")] == [2, 1]
    assert [(f.framework_key, f.number, f.name) for f in list_frameworks(session=session)] == [
        ("omnichannel", 2, "Ours")
    ]


def test_stale_framework_save_is_refused_and_writes_nothing(session: Session) -> None:
    fw = load_builtin_framework()
    save_framework(session=session, framework=fw, author="Ana", base_number=None)
    save_framework(session=session, framework=renamed(fw, "Bo's"), author="Bo", base_number=1)
    with pytest.raises(StaleFrameworkError) as caught:
        save_framework(session=session, framework=renamed(fw, "Cy's"), author="Cy", base_number=1)
    assert str(caught.value).startswith("Framework 'omnichannel' was changed by Bo (revision 2) after you started")
    with pytest.raises(StaleFrameworkError):
        save_framework(session=session, framework=fw, author="Cy", base_number=None)
    assert session.exec(select(func.count()).select_from(FrameworkRevision)).one() == 2


def test_ensure_framework_saves_once(session: Session) -> None:
    first = ensure_framework(session=session, framework=load_builtin_framework())
    again = ensure_framework(session=session, framework=renamed(load_builtin_framework(), "Other"))
    assert (first.number, again.number, again.name) == (1, 1, "Omnichannel maturity")


def test_create_and_list_assessments(session: Session) -> None:
    older = new_assessment(session, "Q2", "Retail", 1)
    newer = new_assessment(session, "Q3", "Online", 30)
    assert [a.id for a in list_assessments(session=session)] == [newer.id, older.id]
    assert [a.label for a in list_assessments(session=session, business_unit="Retail")] == ["Q2 · Retail · 2026-09-01"]
    fetched = get_assessment(session=session, assessment_id=newer.id)
    assert (fetched.framework_key, fetched.framework_revision, fetched.targets) == (
        "omnichannel",
        1,
        {"data_integration": 4},
    )


def test_create_assessment_refuses_bad_input(session: Session) -> None:
    ensure_framework(session=session, framework=load_builtin_framework())
    with pytest.raises(UserInputError, match="no name was given"):
        create_assessment(
            session=session,
            name=" ",
            business_unit="",
            assessed_on=date(2026, 1, 1),
            framework_key="omnichannel",
            framework_revision=1,
        )
    with pytest.raises(UserInputError, match="No saved revision 7 of framework 'omnichannel'"):
        create_assessment(
            session=session,
            name="X",
            business_unit="",
            assessed_on=date(2026, 1, 1),
            framework_key="omnichannel",
            framework_revision=7,
        )
    with pytest.raises(UserInputError, match="target level 9"):
        create_assessment(
            session=session,
            name="X",
            business_unit="",
            assessed_on=date(2026, 1, 1),
            framework_key="omnichannel",
            framework_revision=1,
            targets={"ownership": 9},
        )
    assert list_assessments(session=session) == []


def test_answers_upsert_per_assessor(session: Session) -> None:
    a = new_assessment(session)
    save_answers(
        session=session,
        assessment_id=a.id,
        answers=[Answer("Ana", "di_profile", 2, "batch only"), Answer("Ana", "di_history", None)],
    )
    save_answers(session=session, assessment_id=a.id, answers=[Answer("Ben", "di_profile", 4)])
    save_answers(
        session=session, assessment_id=a.id, answers=[Answer("Ana", "di_profile", 3, "after review", "https://x")]
    )
    assert list_answers(session=session, assessment_id=a.id) == (
        Answer("Ana", "di_history", None),
        Answer("Ana", "di_profile", 3, "after review", "https://x"),
        Answer("Ben", "di_profile", 4),
    )
    assert session.exec(select(func.count()).select_from(AssessmentAnswer)).one() == 3


def test_invalid_answer_writes_nothing(session: Session) -> None:
    a = new_assessment(session)
    with pytest.raises(UserInputError, match="level 6 is outside the scale 1–5"):
        save_answers(
            session=session,
            assessment_id=a.id,
            answers=[Answer("Ana", "di_profile", 2), Answer("Ana", "di_history", 6)],
        )
    assert list_answers(session=session, assessment_id=a.id) == ()
    with pytest.raises(UserInputError, match="No saved assessment with id 999"):
        save_answers(session=session, assessment_id=999, answers=[])


def test_set_targets(session: Session) -> None:
    a = new_assessment(session)
    assert set_targets(session=session, assessment_id=a.id, targets={"ownership": 5}).targets == {"ownership": 5}
    with pytest.raises(UserInputError, match="dimension 'mood'"):
        set_targets(session=session, assessment_id=a.id, targets={"mood": 3})
    assert get_assessment(session=session, assessment_id=a.id).targets == {"ownership": 5}


def test_concurrent_assessors_never_overwrite_each_other(engine: Engine) -> None:
    with session_scope(engine) as session:
        assessment_id = new_assessment(session).id
    questions = load_builtin_framework().question_ids
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def workshop(assessor: str, level: int) -> None:
        try:
            start.wait()
            for question in questions:
                with session_scope(engine) as s:
                    save_answers(session=s, assessment_id=assessment_id, answers=[Answer(assessor, question, level)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=workshop, args=(name, lvl)) for name, lvl in (("Ana", 2), ("Ben", 3), ("Cy", 4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as session:
        answers = list_answers(session=session, assessment_id=assessment_id)
    assert len(answers) == 3 * len(questions)
    assert {(a.assessor, a.level) for a in answers} == {("Ana", 2), ("Ben", 3), ("Cy", 4)}


def test_export_import_round_trip(session: Session) -> None:
    a = new_assessment(session)
    save_answers(
        session=session,
        assessment_id=a.id,
        answers=[Answer("Ana", "di_profile", 2, "note", "https://wiki"), Answer("Ben", "ow_owner", None)],
    )
    text = assessment_to_json(export_assessment(session=session, assessment_id=a.id))
    copy = import_assessment(session=session, document=assessment_from_json(text), author="Cy")
    assert copy.id != a.id
    assert (copy.name, copy.business_unit, copy.assessed_on, copy.targets) == (
        "Q3",
        "Retail",
        date(2026, 9, 30),
        {"data_integration": 4},
    )
    assert copy.framework_revision == 1  # same framework content: the existing revision is reused
    assert list_answers(session=session, assessment_id=copy.id) == list_answers(session=session, assessment_id=a.id)


def test_import_with_an_edited_framework_adds_a_revision(session: Session) -> None:
    a = new_assessment(session)
    document = export_assessment(session=session, assessment_id=a.id)
    data = document.model_dump(mode="json")
    data["framework"]["name"] = "Edited elsewhere"
    edited = document.model_copy(update={"framework": framework_from_dict(data["framework"])})
    copy = import_assessment(session=session, document=edited, author="Cy")
    assert copy.framework_revision == 2
    info, framework = get_framework(session=session, key="omnichannel", number=2)
    assert (info.author, framework.name) == ("Cy", "Edited elsewhere")
