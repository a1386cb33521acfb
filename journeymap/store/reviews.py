"""Reviews and workshops: comments, opportunities, and the shared state of a live workshop.

Comments
    On a map, a touchpoint (its id) or a handoff (``"source->target"``); replies point at
    their parent; a comment is resolved or reopened, never edited. Viewers and editors comment;
    guests (share-link visitors) do not.
Opportunities
    The backlog a review produces: a pain point (or any finding) with an owner, a status
    (open, in progress, done, dropped) and an optional due date. Only editors manage them.
Workshops
    A facilitator (an editor) starts a workshop on a map and gets a join code; participants add
    pain points and ideas to touchpoints and vote, with only a name and that code. The database
    is the shared state: each participant's action is one transaction, so other browsers see it
    on their next refresh. A vote is unique per participant and item (a unique constraint, so it
    holds under concurrency too); a participant is known by their name with case and spacing
    ignored (:func:`participant_key`), so "ana" and "Ana " are one voter. A locked workshop takes
    no more additions and :func:`is_locked` tells the editor that the map is frozen until the
    facilitator unlocks or closes it.

These are repository functions: they never commit or roll back and check no permission. The
services (:mod:`journeymap.services.reviews`) check the actor first and own the transaction; the
functions here flush where they need ids, and turn a constraint that a concurrent writer won into
a :class:`~journeymap.errors.UserInputError` naming what happened.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Date, DateTime, Text, UniqueConstraint, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from journeymap.access import Actor, Role, new_join_code
from journeymap.editing import upsert_touchpoint
from journeymap.errors import UserInputError
from journeymap.model import JourneyMap
from journeymap.store.db import as_utc, utc_now
from journeymap.store.maps import Revision, latest_revision, save_revision

__all__ = [
    "Comment",
    "CommentInfo",
    "ItemKind",
    "Opportunity",
    "OpportunityInfo",
    "OpportunityStatus",
    "ReviewCounts",
    "TargetKind",
    "TouchpointActivity",
    "Workshop",
    "WorkshopInfo",
    "WorkshopItem",
    "WorkshopItemInfo",
    "WorkshopVote",
    "add_comment",
    "add_opportunity",
    "add_workshop_item",
    "delete_comment",
    "find_workshop",
    "get_comment",
    "get_opportunity",
    "get_workshop",
    "get_workshop_item",
    "handoff_target",
    "is_locked",
    "is_own_comment",
    "list_comments",
    "list_opportunities",
    "list_workshop_items",
    "list_workshops",
    "normalize_join_code",
    "participant_key",
    "promote_to_opportunity",
    "promote_to_pain_point",
    "resolve_comment",
    "review_counts",
    "review_counts_by_map",
    "set_workshop_closed",
    "set_workshop_locked",
    "start_workshop",
    "touchpoint_activity",
    "update_opportunity",
    "vote",
]

MAX_COMMENT = 5000
MAX_ITEM = 200  # a promoted item becomes a pain point, whose name is at most 200 characters
MAX_NAME = 80

_R = TypeVar("_R", bound=SQLModel)


def _opt_utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


class TargetKind(StrEnum):
    """What a comment is about."""

    MAP = "map"
    TOUCHPOINT = "touchpoint"
    HANDOFF = "handoff"


class OpportunityStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in progress"
    DONE = "done"
    DROPPED = "dropped"


_ACTIVE_STATUSES = (OpportunityStatus.OPEN.value, OpportunityStatus.IN_PROGRESS.value)


class ItemKind(StrEnum):
    """What a workshop participant adds to a touchpoint."""

    PAIN_POINT = "pain point"
    IDEA = "idea"


# --- tables -------------------------------------------------------------------------


class Comment(SQLModel, table=True):
    __tablename__ = "review_comments"

    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="maps.id", index=True)
    target_kind: str = Field(max_length=20)
    target_id: str = Field(default="", max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="review_comments.id")
    author: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolved_by: str | None = Field(default=None, max_length=200)


class Opportunity(SQLModel, table=True):
    __tablename__ = "review_opportunities"

    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="maps.id", index=True)
    touchpoint_id: str | None = Field(default=None, max_length=80)
    title: str = Field(max_length=200)
    owner: str = Field(default="", max_length=200)
    status: str = Field(default=OpportunityStatus.OPEN.value, max_length=20, index=True)
    due: date | None = Field(default=None, sa_type=Date)
    source: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class Workshop(SQLModel, table=True):
    __tablename__ = "workshop_sessions"

    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="maps.id", index=True)
    join_code: str = Field(max_length=12, unique=True, index=True)
    title: str = Field(default="", max_length=200)
    facilitator: str = Field(max_length=200)
    locked: bool = Field(default=False)
    closed: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class WorkshopItem(SQLModel, table=True):
    __tablename__ = "workshop_items"

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop_sessions.id", index=True)
    touchpoint_id: str = Field(max_length=80)
    kind: str = Field(max_length=20)
    text: str = Field(max_length=MAX_ITEM)
    participant: str = Field(max_length=MAX_NAME)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    promoted_as: str | None = Field(default=None, max_length=20)


class WorkshopVote(SQLModel, table=True):
    __tablename__ = "workshop_votes"
    __table_args__ = (UniqueConstraint("item_id", "participant", name="uq_workshop_votes_item_participant"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="workshop_items.id", index=True)
    participant: str = Field(max_length=MAX_NAME)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


# --- public values ------------------------------------------------------------------


class CommentInfo(SQLModel):
    id: int
    map_id: int
    target_kind: TargetKind
    target_id: str
    parent_id: int | None
    author: str
    body: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


class OpportunityInfo(SQLModel):
    id: int
    map_id: int
    touchpoint_id: str | None
    title: str
    owner: str
    status: OpportunityStatus
    due: date | None
    source: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class ReviewCounts(SQLModel):
    """What the workspace home shows: unresolved comments and opportunities still open or in progress."""

    open_comments: int
    open_opportunities: int


class WorkshopInfo(SQLModel):
    id: int
    map_id: int
    join_code: str
    title: str
    facilitator: str
    locked: bool
    closed: bool
    created_at: datetime


class WorkshopItemInfo(SQLModel):
    id: int
    workshop_id: int
    touchpoint_id: str
    kind: ItemKind
    text: str
    participant: str
    created_at: datetime
    promoted_as: str | None
    votes: int


class TouchpointActivity(SQLModel):
    """Workshop items on one touchpoint, for the presenter's live counts."""

    touchpoint_id: str
    pain_points: int
    ideas: int
    votes: int


def _comment(row: Comment) -> CommentInfo:
    assert row.id is not None
    return CommentInfo(
        id=row.id,
        map_id=row.map_id,
        target_kind=TargetKind(row.target_kind),
        target_id=row.target_id,
        parent_id=row.parent_id,
        author=row.author,
        body=row.body,
        created_at=as_utc(row.created_at),
        resolved_at=_opt_utc(row.resolved_at),
        resolved_by=row.resolved_by,
    )


def _opportunity(row: Opportunity) -> OpportunityInfo:
    assert row.id is not None
    return OpportunityInfo(
        id=row.id,
        map_id=row.map_id,
        touchpoint_id=row.touchpoint_id,
        title=row.title,
        owner=row.owner,
        status=OpportunityStatus(row.status),
        due=row.due,
        source=row.source,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def _workshop(row: Workshop) -> WorkshopInfo:
    assert row.id is not None
    return WorkshopInfo(
        id=row.id,
        map_id=row.map_id,
        join_code=row.join_code,
        title=row.title,
        facilitator=row.facilitator,
        locked=row.locked,
        closed=row.closed,
        created_at=as_utc(row.created_at),
    )


def _item(row: WorkshopItem, votes: int) -> WorkshopItemInfo:
    assert row.id is not None
    return WorkshopItemInfo(
        id=row.id,
        workshop_id=row.workshop_id,
        touchpoint_id=row.touchpoint_id,
        kind=ItemKind(row.kind),
        text=row.text,
        participant=row.participant,
        created_at=as_utc(row.created_at),
        promoted_as=row.promoted_as,
        votes=votes,
    )


def _write(session: Session, row: _R) -> _R:
    """Add ``row`` and flush it, so it has its id (the caller's transaction decides whether it stays)."""
    session.add(row)
    session.flush()
    return row


# --- helpers ------------------------------------------------------------------------


def handoff_target(source: str, target: str) -> str:
    """The comment target id of the transition ``source -> target``.

    Examples
    --------
    >>> handoff_target("form", "phone")
    'form->phone'
    """
    return f"{source}->{target}"


def _text(value: str, *, field: str, source: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise UserInputError("is empty", source=source, location=f"field '{field}'", hint="Write something first.")
    if len(cleaned) > limit:
        raise UserInputError(
            f"is {len(cleaned)} characters long; the limit is {limit}",
            source=source,
            location=f"field '{field}'",
            hint="Shorten it.",
        )
    return cleaned


def _current_map(session: Session, map_id: int) -> JourneyMap:
    return latest_revision(session=session, map_id=map_id).journey_map


def _check_target(journey_map: JourneyMap, kind: TargetKind, target_id: str) -> str:
    target_id = target_id.strip()
    if kind == TargetKind.MAP:
        return ""
    if kind == TargetKind.TOUCHPOINT:
        if target_id not in {tp.id for tp in journey_map.touchpoints}:
            raise UserInputError(
                f"unknown touchpoint '{target_id}'",
                source="comment",
                location="field 'target'",
                hint=f"Choose a touchpoint of map '{journey_map.name}'.",
            )
        return target_id
    if target_id not in {handoff_target(tr.source, tr.target) for tr in journey_map.transitions}:
        raise UserInputError(
            f"unknown transition '{target_id}'",
            source="comment",
            location="field 'target'",
            hint=f"Choose a transition of map '{journey_map.name}' (written 'source->target').",
        )
    return target_id


# --- comments -----------------------------------------------------------------------


def add_comment(
    *,
    session: Session,
    actor: Actor,
    map_id: int,
    body: str,
    target_kind: TargetKind = TargetKind.MAP,
    target_id: str = "",
    parent_id: int | None = None,
) -> CommentInfo:
    """Comment on a map, one of its touchpoints or handoffs, or reply to a comment (``parent_id``).

    A reply takes its parent's target. The author is ``actor``'s name.

    Examples
    --------
    >>> from journeymap.store import create_map, init_db, make_engine
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with Session(engine) as session:
    ...     saved = create_map(session=session, journey_map=JourneyMap(name="Returns"), author="Ana")
    ...     note = add_comment(session=session, actor=Actor("Bo", Role.VIEWER), map_id=saved.map_id, body="Too long")
    ...     (note.target_kind.value, note.author, review_counts(session=session).open_comments)
    ('map', 'Bo', 1)
    """
    text = _text(body, field="comment", source="comment", limit=MAX_COMMENT)
    kind = TargetKind(target_kind)
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.map_id != map_id:
            raise UserInputError(f"No comment with id {parent_id} on this map", hint="Reply to a comment in the list.")
        kind, target = TargetKind(parent.target_kind), parent.target_id
    else:
        target = _check_target(_current_map(session, map_id), kind, target_id)
    row = _write(
        session,
        Comment(
            map_id=map_id, target_kind=kind.value, target_id=target, parent_id=parent_id, author=actor.name, body=text
        ),
    )
    return _comment(row)


def list_comments(
    *,
    session: Session,
    map_id: int,
    target_kind: TargetKind | None = None,
    target_id: str | None = None,
    include_resolved: bool = True,
) -> list[CommentInfo]:
    """Comments on a map, oldest first; narrowed to one target kind and/or id when given."""
    statement = select(Comment).where(col(Comment.map_id) == map_id).order_by(col(Comment.id))
    if target_kind is not None:
        statement = statement.where(col(Comment.target_kind) == TargetKind(target_kind).value)
    if target_id is not None:
        statement = statement.where(col(Comment.target_id) == target_id)
    if not include_resolved:
        statement = statement.where(col(Comment.resolved_at).is_(None))
    return [_comment(row) for row in session.exec(statement).all()]


def get_comment(*, session: Session, comment_id: int) -> CommentInfo:
    """One comment by id; ``UserInputError`` when it no longer exists."""
    return _comment(_get_comment(session, comment_id))


def _get_comment(session: Session, comment_id: int) -> Comment:
    row = session.get(Comment, comment_id)
    if row is None:
        raise UserInputError(f"No comment with id {comment_id}; it may have been deleted", hint="Reload the page.")
    return row


def is_own_comment(comment: CommentInfo, actor: Actor) -> bool:
    """Whether ``actor`` wrote ``comment`` (a visitor who is not signed in owns no comment).

    Examples
    --------
    >>> from datetime import UTC
    >>> note = CommentInfo(id=1, map_id=1, target_kind=TargetKind.MAP, target_id="", parent_id=None, author="Bo",
    ...                    body="Hm", created_at=datetime(2024, 1, 1, tzinfo=UTC), resolved_at=None, resolved_by=None)
    >>> is_own_comment(note, Actor("Bo", Role.VIEWER)), is_own_comment(note, Actor("Bo", Role.GUEST))
    (True, False)
    """
    return actor.role != Role.GUEST and comment.author == actor.name


def resolve_comment(*, session: Session, actor: Actor, comment_id: int, resolved: bool = True) -> CommentInfo:
    """Resolve (or, with ``resolved=False``, reopen) a comment, recording ``actor`` as who resolved it."""
    row = _get_comment(session, comment_id)
    row.resolved_at = utc_now() if resolved else None
    row.resolved_by = actor.name if resolved else None
    return _comment(_write(session, row))


def delete_comment(*, session: Session, comment_id: int) -> int:
    """Delete a comment and its replies; returns how many comments were deleted."""
    root = _get_comment(session, comment_id)
    doomed = [root]
    frontier = [comment_id]
    while frontier:
        children = session.exec(select(Comment).where(col(Comment.parent_id).in_(frontier))).all()
        doomed.extend(children)
        frontier = [c.id for c in children if c.id is not None]
    for row in reversed(doomed):  # replies first: they reference their parent
        session.delete(row)
        session.flush()
    return len(doomed)


# --- opportunities ------------------------------------------------------------------


def _parse_status(status: OpportunityStatus | str) -> OpportunityStatus:
    try:
        return OpportunityStatus(status)
    except ValueError:
        raise UserInputError(
            f"unknown status '{status}'",
            source="opportunity",
            location="field 'status'",
            hint="Use one of: " + ", ".join(s.value for s in OpportunityStatus) + ".",
        ) from None


def add_opportunity(
    *,
    session: Session,
    actor: Actor,
    map_id: int,
    title: str,
    touchpoint_id: str | None = None,
    owner: str = "",
    status: OpportunityStatus | str = OpportunityStatus.OPEN,
    due: date | None = None,
    source: str = "",
) -> OpportunityInfo:
    """Add an opportunity to the map's backlog, created by ``actor``."""
    text = _text(title, field="title", source="opportunity", limit=200)
    state = _parse_status(status)
    if touchpoint_id is not None:
        touchpoint_id = _check_target(_current_map(session, map_id), TargetKind.TOUCHPOINT, touchpoint_id)
    else:
        _current_map(session, map_id)  # an unknown map raises a UserInputError
    row = _write(
        session,
        Opportunity(
            map_id=map_id,
            touchpoint_id=touchpoint_id,
            title=text,
            owner=owner.strip()[:200],
            status=state.value,
            due=due,
            source=source[:200],
            created_by=actor.name[:200],
        ),
    )
    return _opportunity(row)


_KEEP = object()


def update_opportunity(
    *,
    session: Session,
    opportunity_id: int,
    status: OpportunityStatus | str | None = None,
    owner: str | None = None,
    due: date | None | object = _KEEP,
    title: str | None = None,
) -> OpportunityInfo:
    """Change an opportunity's status, owner, due date (``None`` clears it) or title."""
    row = _get_opportunity(session, opportunity_id)
    if status is not None:
        row.status = _parse_status(status).value
    if owner is not None:
        row.owner = owner.strip()[:200]
    if title is not None:
        row.title = _text(title, field="title", source="opportunity", limit=200)
    if due is not _KEEP:
        row.due = due if isinstance(due, date) else None
    row.updated_at = utc_now()
    return _opportunity(_write(session, row))


def _get_opportunity(session: Session, opportunity_id: int) -> Opportunity:
    row = session.get(Opportunity, opportunity_id)
    if row is None:
        raise UserInputError(f"No opportunity with id {opportunity_id}", hint="Reload the page.")
    return row


def get_opportunity(*, session: Session, opportunity_id: int) -> OpportunityInfo:
    """One opportunity by id; ``UserInputError`` when it does not exist."""
    return _opportunity(_get_opportunity(session, opportunity_id))


def list_opportunities(
    *, session: Session, map_id: int, status: OpportunityStatus | None = None, touchpoint_id: str | None = None
) -> list[OpportunityInfo]:
    """A map's opportunities, oldest first; narrowed to one status and/or touchpoint when given."""
    statement = select(Opportunity).where(col(Opportunity.map_id) == map_id).order_by(col(Opportunity.id))
    if status is not None:
        statement = statement.where(col(Opportunity.status) == OpportunityStatus(status).value)
    if touchpoint_id is not None:
        statement = statement.where(col(Opportunity.touchpoint_id) == touchpoint_id)
    return [_opportunity(row) for row in session.exec(statement).all()]


def review_counts(*, session: Session, map_id: int | None = None) -> ReviewCounts:
    """Unresolved comments and open or in-progress opportunities, of one map or of the workspace."""
    comments = select(func.count()).select_from(Comment).where(col(Comment.resolved_at).is_(None))
    opportunities = select(func.count()).select_from(Opportunity).where(col(Opportunity.status).in_(_ACTIVE_STATUSES))
    if map_id is not None:
        comments = comments.where(col(Comment.map_id) == map_id)
        opportunities = opportunities.where(col(Opportunity.map_id) == map_id)
    return ReviewCounts(
        open_comments=int(session.exec(comments).one()), open_opportunities=int(session.exec(opportunities).one())
    )


def review_counts_by_map(*, session: Session) -> dict[int, ReviewCounts]:
    """:func:`review_counts` of every map that has an open comment or opportunity, in two grouped queries."""
    comments = session.exec(
        select(Comment.map_id, func.count()).where(col(Comment.resolved_at).is_(None)).group_by(col(Comment.map_id))
    ).all()
    opportunities = session.exec(
        select(Opportunity.map_id, func.count())
        .where(col(Opportunity.status).in_(_ACTIVE_STATUSES))
        .group_by(col(Opportunity.map_id))
    ).all()
    open_comments = {map_id: int(n) for map_id, n in comments}
    open_opportunities = {map_id: int(n) for map_id, n in opportunities}
    return {
        map_id: ReviewCounts(
            open_comments=open_comments.get(map_id, 0), open_opportunities=open_opportunities.get(map_id, 0)
        )
        for map_id in sorted(open_comments.keys() | open_opportunities.keys())
    }


# --- workshops ----------------------------------------------------------------------


def _code_taken(session: Session, code: str) -> bool:
    return session.exec(select(Workshop.id).where(col(Workshop.join_code) == code)).first() is not None


def start_workshop(*, session: Session, actor: Actor, map_id: int, title: str = "") -> WorkshopInfo:
    """Start a workshop on a map, facilitated by ``actor``, with a fresh join code."""
    journey_map = _current_map(session, map_id)
    code = next((c for c in (new_join_code() for _ in range(8)) if not _code_taken(session, c)), None)
    if code is None:
        raise UserInputError("could not draw a free join code", source="workshop", hint="Try again.")
    row = Workshop(
        map_id=map_id,
        join_code=code,
        title=(title.strip() or journey_map.name)[:200],
        facilitator=actor.name[:200],
    )
    try:
        _write(session, row)
    except IntegrityError:  # another workshop took the same code at the same moment
        raise UserInputError(
            "another workshop took the same join code at the same moment", source="workshop", hint="Try again."
        ) from None
    return _workshop(row)


def normalize_join_code(join_code: str) -> str:
    """A join code as stored: spaces removed, upper case.

    Examples
    --------
    >>> normalize_join_code(" abc 234 ")
    'ABC234'
    """
    return "".join(join_code.split()).upper()


def find_workshop(*, session: Session, join_code: str) -> WorkshopInfo | None:
    """The workshop with ``join_code`` (any case, spaces ignored), closed or not; ``None`` when unknown."""
    code = normalize_join_code(join_code)
    if not code:
        return None
    row = session.exec(select(Workshop).where(col(Workshop.join_code) == code)).first()
    return None if row is None else _workshop(row)


def get_workshop(*, session: Session, workshop_id: int) -> WorkshopInfo:
    """One workshop by id; ``UserInputError`` when it does not exist."""
    return _workshop(_get_workshop(session, workshop_id))


def list_workshops(*, session: Session, map_id: int | None = None, include_closed: bool = False) -> list[WorkshopInfo]:
    """Workshops, newest first."""
    statement = select(Workshop).order_by(col(Workshop.id).desc())
    if map_id is not None:
        statement = statement.where(col(Workshop.map_id) == map_id)
    if not include_closed:
        statement = statement.where(col(Workshop.closed).is_(False))
    return [_workshop(row) for row in session.exec(statement).all()]


def _get_workshop(session: Session, workshop_id: int) -> Workshop:
    row = session.get(Workshop, workshop_id)
    if row is None:
        raise UserInputError(f"No workshop with id {workshop_id}", hint="Start or join a workshop again.")
    return row


def set_workshop_locked(*, session: Session, workshop_id: int, locked: bool = True) -> WorkshopInfo:
    """Lock (participants can no longer add or vote; the map may not be edited) or unlock a workshop."""
    row = _get_workshop(session, workshop_id)
    row.locked = locked
    return _workshop(_write(session, row))


def set_workshop_closed(*, session: Session, workshop_id: int, closed: bool = True) -> WorkshopInfo:
    """Close a workshop: its join code stops working and it no longer locks the map."""
    row = _get_workshop(session, workshop_id)
    row.closed = closed
    return _workshop(_write(session, row))


def is_locked(*, session: Session, map_id: int) -> bool:
    """Whether a workshop that is still running has locked the map (the editor must refuse edits)."""
    statement = (
        select(func.count())
        .select_from(Workshop)
        .where(col(Workshop.map_id) == map_id, col(Workshop.locked).is_(True), col(Workshop.closed).is_(False))
    )
    return int(session.exec(statement).one()) > 0


def _participant(name: str) -> str:
    return " ".join(_text(name, field="your name", source="workshop", limit=MAX_NAME).split())


def participant_key(name: str) -> str:
    """Who a participant is, for votes: the name with case and runs of spaces ignored.

    Examples
    --------
    >>> participant_key(" Ana  Lee"), participant_key("ana lee")
    ('ana lee', 'ana lee')
    """
    return _participant(name).casefold()


def _open_workshop(session: Session, workshop_id: int) -> Workshop:
    row = _get_workshop(session, workshop_id)
    if row.closed:
        raise UserInputError("this workshop is closed", source="workshop", hint="Ask the facilitator for a new code.")
    if row.locked:
        raise UserInputError(
            "the facilitator has locked the map: nothing more can be added now",
            source="workshop",
            hint="Wait until the facilitator unlocks it.",
        )
    return row


def add_workshop_item(
    *, session: Session, workshop_id: int, participant: str, touchpoint_id: str, kind: ItemKind | str, text: str
) -> WorkshopItemInfo:
    """A participant adds a pain point or idea to a touchpoint; refused once the workshop is locked."""
    who = _participant(participant)
    body = _text(text, field="text", source="workshop", limit=MAX_ITEM)
    try:
        item_kind = ItemKind(kind)
    except ValueError:
        raise UserInputError(
            f"unknown kind '{kind}'", source="workshop", location="field 'kind'", hint="Use 'pain point' or 'idea'."
        ) from None
    workshop = _open_workshop(session, workshop_id)
    _check_target(_current_map(session, workshop.map_id), TargetKind.TOUCHPOINT, touchpoint_id)
    row = _write(
        session,
        WorkshopItem(
            workshop_id=workshop_id,
            touchpoint_id=touchpoint_id.strip(),
            kind=item_kind.value,
            text=body,
            participant=who,
        ),
    )
    return _item(row, 0)


def _vote_counts(session: Session, item_ids: list[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    statement = (
        select(WorkshopVote.item_id, func.count())
        .where(col(WorkshopVote.item_id).in_(item_ids))
        .group_by(col(WorkshopVote.item_id))
    )
    return {item_id: int(n) for item_id, n in session.exec(statement).all()}


def list_workshop_items(
    *, session: Session, workshop_id: int, touchpoint_id: str | None = None
) -> list[WorkshopItemInfo]:
    """Items of a workshop with their vote counts, most votes first (ties: oldest first)."""
    statement = select(WorkshopItem).where(col(WorkshopItem.workshop_id) == workshop_id).order_by(col(WorkshopItem.id))
    if touchpoint_id is not None:
        statement = statement.where(col(WorkshopItem.touchpoint_id) == touchpoint_id)
    rows = session.exec(statement).all()
    votes = _vote_counts(session, [row.id for row in rows if row.id is not None])
    items = [_item(row, votes.get(row.id or 0, 0)) for row in rows]
    return sorted(items, key=lambda item: (-item.votes, item.id))


def touchpoint_activity(*, session: Session, workshop_id: int) -> list[TouchpointActivity]:
    """Pain points, ideas and votes per touchpoint of a workshop, touchpoints in order of first item."""
    items = sorted(list_workshop_items(session=session, workshop_id=workshop_id), key=lambda item: item.id)
    kinds: Counter[tuple[str, ItemKind]] = Counter((item.touchpoint_id, item.kind) for item in items)
    votes: Counter[str] = Counter()
    for item in items:
        votes[item.touchpoint_id] += item.votes
    order = list(dict.fromkeys(item.touchpoint_id for item in items))
    return [
        TouchpointActivity(
            touchpoint_id=tp,
            pain_points=kinds[(tp, ItemKind.PAIN_POINT)],
            ideas=kinds[(tp, ItemKind.IDEA)],
            votes=votes[tp],
        )
        for tp in order
    ]


def vote(*, session: Session, item_id: int, participant: str) -> bool:
    """Vote for an item: ``True`` when counted, ``False`` when this participant had already voted for it.

    A participant is their :func:`participant_key`: "Di" and "di" are one voter. Two votes of one
    participant at the same moment meet the unique constraint: the later one is refused with a
    ``UserInputError`` (its transaction is rolled back by the caller).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> from journeymap.store import create_map, init_db, make_engine
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> m = JourneyMap(name="M", stages=(Stage(id="buy", name="Buy"),), channels=(Channel(id="web", name="Web"),),
    ...                touchpoints=(Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),))
    >>> with Session(engine) as session:
    ...     saved = create_map(session=session, journey_map=m, author="Ana")
    ...     ws = start_workshop(session=session, actor=Actor("Ana", Role.EDITOR), map_id=saved.map_id)
    ...     item = add_workshop_item(session=session, workshop_id=ws.id, participant="Cy", touchpoint_id="cart",
    ...                              kind="idea", text="Save for later")
    ...     [vote(session=session, item_id=item.id, participant=p) for p in ("Di", "di ", "Ed")]
    [True, False, True]
    """
    who = participant_key(participant)
    item = session.get(WorkshopItem, item_id)
    if item is None:
        raise UserInputError(f"No workshop item with id {item_id}", hint="Reload the page.")
    _open_workshop(session, item.workshop_id)
    already = select(WorkshopVote.id).where(col(WorkshopVote.item_id) == item_id, col(WorkshopVote.participant) == who)
    if session.exec(already).first() is not None:
        return False
    try:
        _write(session, WorkshopVote(item_id=item_id, participant=who))
    except IntegrityError:  # the unique (item, participant) constraint: a vote of the same moment won
        raise UserInputError(
            "your vote for this item was already counted", source="workshop", hint="Nothing more to do."
        ) from None
    return True


def get_workshop_item(*, session: Session, item_id: int) -> WorkshopItemInfo:
    """One workshop item (without its votes counted: ``votes`` is 0); ``UserInputError`` when unknown."""
    item, _ = _get_item(session, item_id)
    return _item(item, 0)


def _get_item(session: Session, item_id: int) -> tuple[WorkshopItem, Workshop]:
    item = session.get(WorkshopItem, item_id)
    if item is None:
        raise UserInputError(f"No workshop item with id {item_id}", hint="Reload the page.")
    return item, _get_workshop(session, item.workshop_id)


def _unpromoted(session: Session, item_id: int) -> tuple[WorkshopItem, Workshop]:
    item, workshop = _get_item(session, item_id)
    if item.promoted_as is not None:
        raise UserInputError(
            f"'{item.text}' was already promoted to {item.promoted_as}", source="workshop", hint="Nothing was changed."
        )
    return item, workshop


def _mark_promoted(session: Session, item: WorkshopItem, as_what: str) -> None:
    item.promoted_as = as_what
    _write(session, item)


def promote_to_opportunity(*, session: Session, actor: Actor, item_id: int, owner: str = "") -> OpportunityInfo:
    """Turn a workshop item into an opportunity on its touchpoint, created by ``actor``."""
    item, workshop = _unpromoted(session, item_id)
    info = add_opportunity(
        session=session,
        actor=actor,
        map_id=workshop.map_id,
        title=item.text,
        touchpoint_id=item.touchpoint_id,
        owner=owner,
        source=f"workshop {workshop.join_code}",
    )
    _mark_promoted(session, item, "opportunity")
    return info


def promote_to_pain_point(*, session: Session, actor: Actor, item_id: int) -> Revision:
    """Add a workshop item to its touchpoint's pain points, as a new revision of the map authored by ``actor``.

    Raises ``UserInputError`` when the touchpoint already lists that pain point, and
    :class:`journeymap.store.StaleRevisionError` if the map changed during the save.
    """
    item, workshop = _unpromoted(session, item_id)
    latest = latest_revision(session=session, map_id=workshop.map_id)
    touchpoint = latest.journey_map.touchpoint(item.touchpoint_id)
    if item.text in touchpoint.pain_points:
        raise UserInputError(
            f"'{touchpoint.name}' already lists the pain point '{item.text}'",
            source="workshop",
            hint="Nothing was changed.",
        )
    updated = upsert_touchpoint(
        latest.journey_map, touchpoint.model_copy(update={"pain_points": (*touchpoint.pain_points, item.text)})
    )
    assert latest.id is not None
    revision = save_revision(
        session=session,
        map_id=workshop.map_id,
        journey_map=updated,
        author=actor.name,
        message=f"Pain point from workshop {workshop.join_code} on '{touchpoint.name}'",
        base_revision_id=latest.id,
    )
    _mark_promoted(session, session.get(WorkshopItem, item_id) or item, "pain point")
    return revision
