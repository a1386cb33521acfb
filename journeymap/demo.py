"""The demo workspace: every built-in template saved as a map, so a first visit opens on real content."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from journeymap.maturity import Answer, load_builtin_framework
from journeymap.store import create_map, list_maps, session_scope
from journeymap.store.assessments import create_assessment, ensure_framework, list_assessments, save_answers
from journeymap.templates import list_templates, load_template

__all__ = [
    "DEMO_ASSESSORS",
    "DEMO_AUTHOR",
    "DEFAULT_TEMPLATE_ID",
    "seed_demo",
    "seed_demo_assessments",
    "seed_demo_workspace",
]

DEMO_AUTHOR = "Journeymap demo"
DEFAULT_TEMPLATE_ID = "retail-bopis"


def seed_demo(session: Session) -> list[int]:
    """Save each built-in template as a map when the database holds no maps yet.

    Parameters
    ----------
    session:
        An open database session; the caller commits (``session_scope`` does).

    Returns
    -------
    list[int]
        The ids of the maps created, in template order; empty when the workspace already had maps,
        so calling it again is harmless.
    """
    if list_maps(session=session, include_archived=True):
        return []
    created: list[int] = []
    for info in list_templates():
        revision = create_map(
            session=session,
            journey_map=load_template(info.id),
            author=DEMO_AUTHOR,
            message=f"Created from the '{info.name}' template",
        )
        created.append(revision.map_id)
    seed_demo_assessments(session, today=date.today())
    return created


def seed_demo_workspace(engine: Engine) -> list[int]:
    """What the app does at its first start: :func:`seed_demo` in one transaction of its own.

    Not a user's action (no actor asks for it), so it is no service; everything is saved, or nothing.

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> len(seed_demo_workspace(engine)) == len(list_templates()), seed_demo_workspace(engine)
    (True, [])
    """
    with session_scope(engine) as session:
        return seed_demo(session)


# Two workshop participants scoring the retail business six months apart: a multichannel
# organisation (level 2, some 3) moving towards cross-channel on data and channel switching.
# Levels per dimension, in the built-in framework's dimension order, for (assessor, before, after).
DEMO_ASSESSORS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "Store operations lead": ((2, 2, 2, 2, 1, 3, 2, 1, 2), (3, 3, 2, 3, 2, 3, 3, 2, 2)),
    "E-commerce lead": ((3, 2, 1, 2, 2, 3, 1, 2, 2), (3, 3, 2, 3, 3, 4, 2, 2, 3)),
}
DEMO_TARGET = 4


def seed_demo_assessments(session: Session, *, today: date) -> list[int]:
    """Save a baseline and a follow-up maturity assessment of the retail business, when there is none.

    Examples
    --------
    >>> from sqlmodel import create_engine
    >>> from journeymap.store import init_db
    >>> engine = create_engine("sqlite://")
    >>> init_db(engine)
    >>> with Session(engine) as session:
    ...     len(seed_demo_assessments(session, today=date(2026, 11, 23)))
    2
    """
    if list_assessments(session=session):
        return []
    framework = load_builtin_framework()
    info = ensure_framework(session=session, framework=framework)
    targets = {d.id: DEMO_TARGET for d in framework.dimensions}
    created: list[int] = []
    for index, (name, assessed_on) in enumerate(
        (("Retail baseline", today - timedelta(days=182)), ("Retail follow-up", today))
    ):
        assessment = create_assessment(
            session=session,
            name=name,
            business_unit="Retail",
            assessed_on=assessed_on,
            framework_key=info.framework_key,
            framework_revision=info.number,
            targets=targets,
        )
        answers = [
            Answer(assessor=assessor, question_id=question.id, level=levels[index][position])
            for assessor, levels in DEMO_ASSESSORS.items()
            for position, dimension in enumerate(framework.dimensions)
            for question in dimension.questions
        ]
        save_answers(session=session, assessment_id=assessment.id, answers=answers)
        created.append(assessment.id)
    return created
