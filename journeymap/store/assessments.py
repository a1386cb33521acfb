"""Saved maturity assessments, their answers, and framework revisions.

Frameworks are versioned like maps: each save of a framework key adds an immutable
revision, and a save started from a revision that is no longer the latest is refused.
An assessment points at the framework revision it is answered against, so later edits
of the framework never change an existing assessment's questions.

Answers are keyed by (assessment, assessor, question) and written with an upsert, so
assessors answering the same assessment at the same time only ever replace their own
answers. A ``NULL`` level means "don't know"; a question without a row is unanswered.

Store functions only: they flush where they need ids and never commit or roll back; the
service that calls them (:mod:`journeymap.services.maturity`) owns the transaction and checks
who may do it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from journeymap.errors import UserInputError
from journeymap.maturity.document import AnswerRecord, AssessmentDocument
from journeymap.maturity.framework import Framework, framework_from_json, framework_to_json
from journeymap.maturity.scoring import Answer, check_answers, check_targets
from journeymap.store.db import as_utc, utc_now

__all__ = [
    "Assessment",
    "AssessmentAnswer",
    "AssessmentInfo",
    "FrameworkInfo",
    "FrameworkRevision",
    "StaleFrameworkError",
    "create_assessment",
    "ensure_framework",
    "export_assessment",
    "get_assessment",
    "get_framework",
    "import_assessment",
    "list_answers",
    "list_assessments",
    "list_framework_revisions",
    "list_frameworks",
    "save_answers",
    "save_framework",
    "set_targets",
]


# --- tables -------------------------------------------------------------------------


class FrameworkRevision(SQLModel, table=True):
    """An immutable snapshot of a framework document."""

    __tablename__ = "framework_revisions"
    __table_args__ = (UniqueConstraint("framework_key", "number", name="uq_framework_revisions_key_number"),)

    id: int | None = Field(default=None, primary_key=True)
    framework_key: str = Field(max_length=80, index=True)
    number: int
    name: str = Field(max_length=200)
    document: str = Field(sa_type=Text)
    author: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class Assessment(SQLModel, table=True):
    """One assessment of one business unit on one date, against one framework revision."""

    __tablename__ = "assessments"

    id: int | None = Field(default=None, primary_key=True)
    framework_key: str = Field(max_length=80, index=True)
    framework_revision: int
    name: str = Field(max_length=200)
    business_unit: str = Field(default="", max_length=200, index=True)
    assessed_on: date
    targets: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class AssessmentAnswer(SQLModel, table=True):
    """One assessor's answer to one question of one assessment."""

    __tablename__ = "assessment_answers"
    __table_args__ = (
        UniqueConstraint("assessment_id", "assessor", "question_id", name="uq_assessment_answers_who_what"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessments.id", index=True)
    assessor: str = Field(max_length=200)
    question_id: str = Field(max_length=80)
    level: int | None = Field(default=None)
    note: str = Field(default="", sa_type=Text)
    evidence_link: str = Field(default="", max_length=2000)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


# --- public values (no session attached) -------------------------------------------


class FrameworkInfo(SQLModel):
    """A framework revision without its document."""

    id: int
    framework_key: str
    number: int
    name: str
    author: str
    created_at: datetime


class AssessmentInfo(SQLModel):
    """A saved assessment as lists and the page show it."""

    id: int
    framework_key: str
    framework_revision: int
    name: str
    business_unit: str
    assessed_on: date
    targets: dict[str, int]
    created_at: datetime

    @property
    def label(self) -> str:
        """``"Q3 review · Retail · 2026-09-30"``: how pickers list the assessment."""
        parts = [self.name, self.business_unit, self.assessed_on.isoformat()]
        return " · ".join(p for p in parts if p)


class StaleFrameworkError(UserInputError):
    """A framework save started from a revision that is no longer the latest."""

    def __init__(self, *, key: str, base_number: int | None, latest: FrameworkInfo | None) -> None:
        self.latest = latest
        started = f"revision {base_number}" if base_number is not None else "a new framework"
        who = f" by {latest.author} (revision {latest.number})" if latest is not None else " by someone else"
        super().__init__(
            f"Framework '{key}' was changed{who} after you started from {started}",
            hint="Your edits are kept on screen: reload the latest revision, apply them again and save.",
        )


def _framework_info(row: FrameworkRevision) -> FrameworkInfo:
    assert row.id is not None
    return FrameworkInfo(
        id=row.id,
        framework_key=row.framework_key,
        number=row.number,
        name=row.name,
        author=row.author,
        created_at=as_utc(row.created_at),
    )


def _assessment_info(row: Assessment) -> AssessmentInfo:
    assert row.id is not None
    return AssessmentInfo(
        id=row.id,
        framework_key=row.framework_key,
        framework_revision=row.framework_revision,
        name=row.name,
        business_unit=row.business_unit,
        assessed_on=row.assessed_on,
        targets={str(k): int(v) for k, v in (row.targets or {}).items()},
        created_at=as_utc(row.created_at),
    )


def _clean(value: str, *, field: str, source: str, required: bool = True) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise UserInputError(
            f"no {field} was given", source=source, location=f"field '{field}'", hint=f"Enter a {field}."
        )
    return cleaned[:200]


# --- frameworks ---------------------------------------------------------------------


def _latest_framework_row(session: Session, key: str) -> FrameworkRevision | None:
    return session.exec(
        select(FrameworkRevision)
        .where(col(FrameworkRevision.framework_key) == key)
        .order_by(col(FrameworkRevision.number).desc())
    ).first()


def save_framework(*, session: Session, framework: Framework, author: str, base_number: int | None) -> FrameworkInfo:
    """Save ``framework`` as the next revision of its key.

    ``base_number`` is the revision the editor started from (``None`` for a new key).

    Raises
    ------
    StaleFrameworkError
        Someone saved a newer revision of the key meanwhile; nothing is written.

    Examples
    --------
    >>> from journeymap.store.db import init_db, make_engine, session_scope
    >>> from journeymap.maturity import load_builtin_framework
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with session_scope(engine) as session:
    ...     first = save_framework(session=session, framework=load_builtin_framework(), author="Ana", base_number=None)
    ...     second = save_framework(session=session, framework=load_builtin_framework(), author="Bo", base_number=1)
    >>> first.number, second.number, second.author
    (1, 2, 'Bo')
    """
    author = _clean(author, field="author", source="save framework")
    latest = _latest_framework_row(session, framework.key)
    latest_number = latest.number if latest is not None else None
    if latest is not None and latest_number != base_number:
        raise StaleFrameworkError(key=framework.key, base_number=base_number, latest=_framework_info(latest))
    row = FrameworkRevision(
        framework_key=framework.key,
        number=(latest_number or 0) + 1,
        name=framework.name,
        document=framework_to_json(framework),
        author=author,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # Another session took this number between our read and our insert (the caller rolls back).
        raise StaleFrameworkError(key=framework.key, base_number=base_number, latest=None) from None
    return _framework_info(row)


def ensure_framework(*, session: Session, framework: Framework, author: str = "Journeymap") -> FrameworkInfo:
    """The latest revision of ``framework.key``, saving ``framework`` as revision 1 if the key is new."""
    latest = _latest_framework_row(session, framework.key)
    if latest is not None:
        return _framework_info(latest)
    return save_framework(session=session, framework=framework, author=author, base_number=None)


def get_framework(*, session: Session, key: str, number: int | None = None) -> tuple[FrameworkInfo, Framework]:
    """A framework revision (the latest when ``number`` is ``None``) with its document."""
    if number is None:
        row = _latest_framework_row(session, key)
    else:
        row = session.exec(
            select(FrameworkRevision).where(
                col(FrameworkRevision.framework_key) == key, col(FrameworkRevision.number) == number
            )
        ).first()
    if row is None:
        which = f"revision {number} of " if number is not None else ""
        raise UserInputError(f"No saved {which}framework '{key}'", hint="Choose a framework from the list.")
    info = _framework_info(row)
    try:
        framework = framework_from_json(row.document, source=f"Saved framework '{key}' revision {row.number}")
    except UserInputError as exc:
        raise UserInputError(
            f"the stored document is damaged ({exc.location}: {exc.problem})",
            source=f"Saved framework '{key}' revision {row.number}",
            hint="Save the framework again from a good copy.",
        ) from None
    return info, framework


def list_frameworks(*, session: Session) -> list[FrameworkInfo]:
    """The latest revision of every framework key, by key."""
    latest = (
        select(FrameworkRevision.framework_key, func.max(FrameworkRevision.number).label("number"))
        .group_by(col(FrameworkRevision.framework_key))
        .subquery()
    )
    rows = session.exec(
        select(FrameworkRevision)
        .join(
            latest,
            (latest.c.framework_key == col(FrameworkRevision.framework_key))
            & (latest.c.number == col(FrameworkRevision.number)),
        )
        .order_by(col(FrameworkRevision.framework_key))
    ).all()
    return [_framework_info(row) for row in rows]


def list_framework_revisions(*, session: Session, key: str) -> list[FrameworkInfo]:
    """Every revision of a framework key, newest first."""
    rows = session.exec(
        select(FrameworkRevision)
        .where(col(FrameworkRevision.framework_key) == key)
        .order_by(col(FrameworkRevision.number).desc())
    ).all()
    return [_framework_info(row) for row in rows]


# --- assessments --------------------------------------------------------------------


def _get_assessment_row(session: Session, assessment_id: int) -> Assessment:
    row = session.get(Assessment, assessment_id)
    if row is None:
        raise UserInputError(
            f"No saved assessment with id {assessment_id}; it may have been deleted",
            hint="Choose an assessment from the list.",
        )
    return row


def create_assessment(
    *,
    session: Session,
    name: str,
    business_unit: str,
    assessed_on: date,
    framework_key: str,
    framework_revision: int,
    targets: Mapping[str, int] | None = None,
) -> AssessmentInfo:
    """Start an assessment against a saved framework revision.

    Examples
    --------
    >>> from datetime import date
    >>> from journeymap.store.db import init_db, make_engine, session_scope
    >>> from journeymap.maturity import load_builtin_framework
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with session_scope(engine) as session:
    ...     fw = ensure_framework(session=session, framework=load_builtin_framework())
    ...     a = create_assessment(session=session, name="Q3", business_unit="Retail", assessed_on=date(2026, 9, 30),
    ...                           framework_key=fw.framework_key, framework_revision=fw.number,
    ...                           targets={"ownership": 4})
    >>> a.label, a.targets
    ('Q3 · Retail · 2026-09-30', {'ownership': 4})
    """
    source = "new assessment"
    name = _clean(name, field="name", source=source)
    business_unit = _clean(business_unit, field="business unit", source=source, required=False)
    _, framework = get_framework(session=session, key=framework_key, number=framework_revision)
    targets = dict(targets or {})
    check_targets(framework, targets, source=source)
    row = Assessment(
        framework_key=framework_key,
        framework_revision=framework_revision,
        name=name,
        business_unit=business_unit,
        assessed_on=assessed_on,
        targets=targets,
    )
    session.add(row)
    session.flush()
    return _assessment_info(row)


def get_assessment(*, session: Session, assessment_id: int) -> AssessmentInfo:
    """One saved assessment."""
    return _assessment_info(_get_assessment_row(session, assessment_id))


def list_assessments(*, session: Session, business_unit: str | None = None) -> list[AssessmentInfo]:
    """Saved assessments, most recent assessment date first (then newest first)."""
    statement = select(Assessment).order_by(col(Assessment.assessed_on).desc(), col(Assessment.id).desc())
    if business_unit is not None:
        statement = statement.where(col(Assessment.business_unit) == business_unit)
    return [_assessment_info(row) for row in session.exec(statement).all()]


def set_targets(*, session: Session, assessment_id: int, targets: Mapping[str, int]) -> AssessmentInfo:
    """Replace the target levels of an assessment (checked against its framework)."""
    row = _get_assessment_row(session, assessment_id)
    _, framework = get_framework(session=session, key=row.framework_key, number=row.framework_revision)
    check_targets(framework, targets, source="targets")
    row.targets = dict(targets)
    session.add(row)
    session.flush()
    return _assessment_info(row)


# --- answers ------------------------------------------------------------------------


def _upsert_answer(session: Session, assessment_id: int, answer: Answer, now: datetime) -> None:
    values: dict[str, Any] = {
        "assessment_id": assessment_id,
        "assessor": answer.assessor.strip()[:200],
        "question_id": answer.question_id,
        "level": answer.level,
        "note": answer.note,
        "evidence_link": answer.evidence_link[:2000],
        "updated_at": now,
    }
    changes = {k: values[k] for k in ("level", "note", "evidence_link", "updated_at")}
    dialect = session.get_bind().dialect.name
    keys = ["assessment_id", "assessor", "question_id"]
    if dialect == "sqlite":
        sqlite_stmt = sqlite_insert(AssessmentAnswer).values(**values)
        session.execute(sqlite_stmt.on_conflict_do_update(index_elements=keys, set_=changes))
    elif dialect == "postgresql":
        pg_stmt = postgresql_insert(AssessmentAnswer).values(**values)
        session.execute(pg_stmt.on_conflict_do_update(index_elements=keys, set_=changes))
    else:  # pragma: no cover - other databases: update, else insert
        row = session.exec(
            select(AssessmentAnswer).where(
                col(AssessmentAnswer.assessment_id) == assessment_id,
                col(AssessmentAnswer.assessor) == values["assessor"],
                col(AssessmentAnswer.question_id) == answer.question_id,
            )
        ).first()
        row = row or AssessmentAnswer(**values)
        for key, value in changes.items():
            setattr(row, key, value)
        session.add(row)
        session.flush()


def save_answers(*, session: Session, assessment_id: int, answers: Iterable[Answer]) -> int:
    """Insert or replace answers, all or nothing; returns how many were written.

    Each answer replaces only the same assessor's answer to the same question, so
    assessors saving at the same time never overwrite each other.

    Raises
    ------
    UserInputError
        Unknown assessment, a question not in its framework, a level outside the scale
        or an empty assessor name; nothing is written.
    """
    row = _get_assessment_row(session, assessment_id)
    _, framework = get_framework(session=session, key=row.framework_key, number=row.framework_revision)
    answers = list(answers)
    check_answers(framework, answers, source=f"answers to '{row.name}'")
    now = utc_now()
    for answer in answers:
        _upsert_answer(session, assessment_id, answer, now)
    session.flush()
    return len(answers)


def list_answers(*, session: Session, assessment_id: int) -> tuple[Answer, ...]:
    """Every answer of an assessment, by assessor then question id."""
    _get_assessment_row(session, assessment_id)
    rows = session.exec(
        select(AssessmentAnswer)
        .where(col(AssessmentAnswer.assessment_id) == assessment_id)
        .order_by(col(AssessmentAnswer.assessor), col(AssessmentAnswer.question_id))
    ).all()
    return tuple(Answer(r.assessor, r.question_id, r.level, r.note, r.evidence_link) for r in rows)


# --- export and import ----------------------------------------------------------------


def export_assessment(*, session: Session, assessment_id: int) -> AssessmentDocument:
    """The assessment with its framework, targets and answers, ready for ``assessment_to_json``."""
    info = get_assessment(session=session, assessment_id=assessment_id)
    _, framework = get_framework(session=session, key=info.framework_key, number=info.framework_revision)
    answers = list_answers(session=session, assessment_id=assessment_id)
    return AssessmentDocument(
        name=info.name,
        business_unit=info.business_unit,
        assessed_on=info.assessed_on,
        framework_revision=info.framework_revision,
        framework=framework,
        targets=info.targets,
        answers=tuple(
            AnswerRecord(
                assessor=a.assessor,
                question_id=a.question_id,
                level=a.level,
                note=a.note,
                evidence_link=a.evidence_link,
            )
            for a in answers
        ),
    )


def import_assessment(*, session: Session, document: AssessmentDocument, author: str) -> AssessmentInfo:
    """Save an imported assessment as a new one, in one transaction.

    The document's framework is matched to a saved revision of the same key with the
    same content; when there is none it is saved as that key's next revision.
    """
    author = _clean(author, field="author", source="import assessment")
    framework = document.framework
    revisions = session.exec(
        select(FrameworkRevision)
        .where(col(FrameworkRevision.framework_key) == framework.key)
        .order_by(col(FrameworkRevision.number).desc())
    ).all()
    match = next((r for r in revisions if framework_from_json(r.document) == framework), None)
    if match is None:
        match = FrameworkRevision(
            framework_key=framework.key,
            number=(revisions[0].number if revisions else 0) + 1,
            name=framework.name,
            document=framework_to_json(framework),
            author=author,
        )
        session.add(match)
        session.flush()
    row = Assessment(
        framework_key=framework.key,
        framework_revision=match.number,
        name=document.name,
        business_unit=document.business_unit,
        assessed_on=document.assessed_on,
        targets=dict(document.targets),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    now = utc_now()
    for answer in document.domain_answers():
        _upsert_answer(session, row.id, answer, now)
    session.flush()
    return _assessment_info(row)
