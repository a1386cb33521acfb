"""Saved maps: a sequence of immutable revisions per map, plus per-browser drafts.

Saving never overwrites. Every save adds a revision whose parent is the revision the
editor started from; a save whose starting revision is no longer the latest is
refused with :class:`StaleRevisionError`, so two people editing the same map cannot
silently lose each other's work. The check and the new revision are written in the
caller's transaction, guarded by a conditional ``UPDATE`` of the map's latest revision and
by the unique ``(map_id, number)`` constraint, so it holds between processes too.

These functions never commit or roll back: they flush where they need ids, and the caller
(a service of :mod:`journeymap.services.maps`) commits everything or nothing.

Drafts keep unsaved edits per map and per browser (``client_key``) so that a
refreshed page can offer them back.

Nothing is written that could not be read back: every save first turns the map into its
JSON document and reads that document again (:func:`checked_document`), so a map whose
name or parts break the model's limits is refused with the field named. A revision that
does not read anyway (written by an older release, or by hand) raises
:class:`DamagedRevisionError`, which names the map and its last readable revision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text, UniqueConstraint, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from journeymap.errors import UserInputError
from journeymap.model import ContextCarry, JourneyMap, map_from_json, map_to_json
from journeymap.store.db import as_utc, utc_now

__all__ = [
    "CLIENT_KEY_MAX",
    "DamagedRevisionError",
    "Draft",
    "MapDraft",
    "MapRecord",
    "MapRevision",
    "MapRevisionBase",
    "MapSummary",
    "Revision",
    "RevisionInfo",
    "StaleRevisionError",
    "archive_map",
    "checked_document",
    "count_silo_handoffs",
    "create_map",
    "discard_draft",
    "get_draft",
    "get_map",
    "get_revision",
    "last_readable_revision",
    "latest_revision",
    "list_maps",
    "list_revisions",
    "restore_revision",
    "save_draft",
    "save_revision",
]


CLIENT_KEY_MAX = 200
"""Longest browser client key a draft can be kept under (the column's size)."""


# --- tables -------------------------------------------------------------------------


class MapRecord(SQLModel, table=True):
    """One saved map: its identity and a pointer to its latest revision."""

    __tablename__ = "maps"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    owner: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True), index=True)
    # No foreign key: map and first revision point at each other, and the map row comes first.
    latest_revision_id: int | None = Field(default=None)
    archived: bool = Field(default=False)


class MapRevisionBase(SQLModel):
    """What a revision says about itself, shared by the table and :class:`RevisionInfo`."""

    author: str = Field(max_length=200)
    message: str = Field(default="", max_length=2000)
    touchpoints: int = 0
    transitions: int = 0
    silo_handoffs: int = 0


class MapRevision(MapRevisionBase, table=True):
    """An immutable snapshot of a map's JSON document."""

    __tablename__ = "map_revisions"
    __table_args__ = (UniqueConstraint("map_id", "number", name="uq_map_revisions_map_number"),)

    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="maps.id", index=True)
    number: int
    parent_id: int | None = Field(default=None, foreign_key="map_revisions.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    document: str = Field(sa_type=Text)


class MapDraft(SQLModel, table=True):
    """Unsaved edits of one browser on one map."""

    __tablename__ = "map_drafts"
    __table_args__ = (UniqueConstraint("map_id", "client_key", name="uq_map_drafts_map_client"),)

    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="maps.id", index=True)
    client_key: str = Field(max_length=200)
    base_revision_id: int = Field(foreign_key="map_revisions.id")
    document: str = Field(sa_type=Text)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


# --- public values (no session attached) -------------------------------------------


class RevisionInfo(MapRevisionBase):
    """A revision without its document: what the history list shows."""

    id: int
    map_id: int
    number: int
    parent_id: int | None
    created_at: datetime


class Revision(RevisionInfo):
    """A revision with its map."""

    journey_map: JourneyMap


class MapSummary(SQLModel):
    """A saved map as the map list shows it."""

    id: int
    name: str
    owner: str
    created_at: datetime
    updated_at: datetime
    archived: bool
    revision_count: int
    latest_revision: RevisionInfo


class Draft(SQLModel):
    """Unsaved edits, with the revision they started from."""

    map_id: int
    client_key: str
    base_revision_id: int
    journey_map: JourneyMap
    updated_at: datetime


class StaleRevisionError(UserInputError):
    """A save started from a revision that is no longer the map's latest.

    The editor keeps the user's edits; :attr:`latest` says who saved the newer
    revision and when (``None`` when another save was still being written: the newer
    revision is read once it is there).
    """

    def __init__(self, *, map_id: int, map_name: str, base_number: int, latest: RevisionInfo | None) -> None:
        self.map_id = map_id
        self.map_name = map_name
        self.base_number = base_number
        self.latest = latest
        if latest is None:
            problem = (
                f"Map '{map_name}' was saved by someone else at the same moment as you, from revision {base_number}"
            )
        else:
            problem = (
                f"Map '{map_name}' was changed by {latest.author} at {_when(latest.created_at)} "
                f"(revision {latest.number}) after you started editing revision {base_number}"
            )
        super().__init__(
            problem,
            hint="Your edits are kept on screen: review the newer revision, then save again.",
        )


def _short(name: str, limit: int = 80) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


class DamagedRevisionError(UserInputError):
    """A stored map document that no longer reads; :attr:`last_readable` is the newest revision that does."""

    def __init__(
        self,
        *,
        map_id: int,
        map_name: str,
        where: str,
        detail: str,
        revision_id: int | None = None,
        last_readable: RevisionInfo | None = None,
    ) -> None:
        self.map_id = map_id
        self.map_name = map_name
        self.where = where
        self.detail = detail
        self.revision_id = revision_id
        self.last_readable = last_readable
        if last_readable is not None:
            hint = (
                f"Revision {last_readable.number} (saved by {last_readable.author} at "
                f"{_when(last_readable.created_at)}) is the last one that reads: restore it from the map editor, "
                "or import the map from an exported file."
            )
        elif revision_id is None:
            hint = "Discard the unsaved edits to go back to the saved map."
        else:
            hint = "No earlier revision reads either: import the map from an exported file."
        super().__init__(
            f"the stored document is damaged ({detail})",
            source=f"Saved map '{_short(map_name)}' (id {map_id})",
            location=where,
            hint=hint,
        )


def _when(moment: datetime) -> str:
    moment = as_utc(moment)
    if moment.date() == utc_now().date():
        return moment.strftime("%H:%M UTC")
    return moment.strftime("%H:%M UTC on %Y-%m-%d")


# --- helpers ------------------------------------------------------------------------


def count_silo_handoffs(journey_map: JourneyMap) -> int:
    """Designed transitions that switch channel or owner team and carry no context.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Returns",
    ...     stages=(Stage(id="s", name="Service"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="call", name="Call center")),
    ...     touchpoints=(
    ...         Touchpoint(id="form", name="Return form", channel="web", stage="s"),
    ...         Touchpoint(id="phone", name="Return call", channel="call", stage="s"),
    ...     ),
    ...     transitions=(Transition(source="form", target="phone", context_carry="none"),),
    ... )
    >>> count_silo_handoffs(m)
    1
    """
    by_id = {tp.id: tp for tp in journey_map.touchpoints}
    count = 0
    for transition in journey_map.transitions:
        if transition.context_carry != ContextCarry.NONE:
            continue
        source, target = by_id[transition.source], by_id[transition.target]
        if source.channel != target.channel or journey_map.owner_of(source) != journey_map.owner_of(target):
            count += 1
    return count


def _clean_author(author: str) -> str:
    cleaned = author.strip()
    if not cleaned:
        raise UserInputError(
            "no author name was given",
            source="save map",
            location="field 'author'",
            hint="Enter your name so the map's history shows who made each revision.",
        )
    return cleaned[:200]


def checked_document(journey_map: JourneyMap, *, source: str = "save map") -> tuple[JourneyMap, str]:
    """The map as it will be stored, and its JSON document, once that document has been read back.

    A map built without validation (``model_copy(update=...)`` skips it) can hold a value the
    model refuses, such as a 300-character name; saved as is, it could never be opened again.
    Such a map raises ``UserInputError`` naming the field, and nothing is written.

    Examples
    --------
    >>> checked_document(JourneyMap(name="Returns"))[0].name
    'Returns'
    >>> checked_document(JourneyMap(name="Returns").model_copy(update={"name": "x" * 201}))
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: save map, field 'name': String should have at most 200 characters. ...
    """
    try:
        readable = map_from_json(map_to_json(journey_map), source=source)
    except UserInputError as exc:
        raise UserInputError(
            exc.problem,
            source=source,
            location=exc.location,
            hint="Nothing was saved: shorten or correct that field and save again.",
        ) from None
    return readable, map_to_json(readable)


def _new_revision(
    *, map_id: int, number: int, parent_id: int | None, journey_map: JourneyMap, author: str, message: str
) -> MapRevision:
    journey_map, document = checked_document(journey_map)
    return MapRevision(
        map_id=map_id,
        number=number,
        parent_id=parent_id,
        author=author,
        message=message[:2000],
        document=document,
        touchpoints=len(journey_map.touchpoints),
        transitions=len(journey_map.transitions),
        silo_handoffs=count_silo_handoffs(journey_map),
    )


def _info(row: MapRevision) -> RevisionInfo:
    assert row.id is not None
    return RevisionInfo(
        id=row.id,
        map_id=row.map_id,
        number=row.number,
        parent_id=row.parent_id,
        author=row.author,
        message=row.message,
        created_at=as_utc(row.created_at),
        touchpoints=row.touchpoints,
        transitions=row.transitions,
        silo_handoffs=row.silo_handoffs,
    )


def _read_document(
    document: str, *, map_name: str, map_id: int, where: str, revision_id: int | None = None
) -> JourneyMap:
    try:
        return map_from_json(document)
    except UserInputError as exc:
        detail = f"{exc.location}: {exc.problem}" if exc.location else exc.problem
        raise DamagedRevisionError(
            map_id=map_id, map_name=map_name, where=where, detail=detail, revision_id=revision_id
        ) from None


def _readable_before(session: Session, map_id: int, number: int | None) -> Revision | None:
    """The newest revision of the map (below ``number``, when given) whose document reads."""
    statement = select(MapRevision).where(col(MapRevision.map_id) == map_id).order_by(col(MapRevision.number).desc())
    if number is not None:
        statement = statement.where(col(MapRevision.number) < number)
    for row in session.exec(statement):
        try:
            journey_map = map_from_json(row.document)
        except UserInputError:
            continue
        return Revision(**_info(row).model_dump(), journey_map=journey_map)
    return None


def _revision(session: Session, row: MapRevision, *, map_name: str) -> Revision:
    info = _info(row)
    try:
        journey_map = _read_document(
            row.document,
            map_name=map_name,
            map_id=row.map_id,
            where=f"revision {row.number} (id {info.id})",
            revision_id=info.id,
        )
    except DamagedRevisionError as exc:
        older = _readable_before(session, row.map_id, row.number)
        raise DamagedRevisionError(
            map_id=row.map_id,
            map_name=map_name,
            where=exc.where,
            detail=exc.detail,
            revision_id=info.id,
            last_readable=older,
        ) from None
    return Revision(**info.model_dump(), journey_map=journey_map)


def _get_record(session: Session, map_id: int) -> MapRecord:
    record = session.get(MapRecord, map_id)
    if record is None:
        raise UserInputError(
            f"No saved map with id {map_id}; it may have been deleted", hint="Choose a map from the list."
        )
    return record


def _get_revision_row(session: Session, revision_id: int) -> MapRevision:
    row = session.get(MapRevision, revision_id)
    if row is None:
        raise UserInputError(
            f"No saved revision with id {revision_id}; it may have been deleted",
            hint="Choose a revision from the map's history.",
        )
    return row


def _revision_of_map(session: Session, record: MapRecord, revision_id: int) -> MapRevision:
    row = _get_revision_row(session, revision_id)
    if row.map_id != record.id:
        raise UserInputError(
            f"Revision id {revision_id} does not belong to map '{record.name}' (id {record.id})",
            hint="Reopen the map from the list and edit its latest revision.",
        )
    return row


def _no_revision(map_id: int) -> UserInputError:
    # Only reachable if a map row was written outside this module.
    return UserInputError(f"Saved map id {map_id} has no revision", hint="Import the map again from an exported file.")


def _fresh_latest(session: Session, map_id: int) -> tuple[MapRecord, MapRevision]:
    session.expire_all()
    record = _get_record(session, map_id)
    if record.latest_revision_id is None:
        raise _no_revision(map_id)
    return record, _get_revision_row(session, record.latest_revision_id)


# --- maps and revisions ---------------------------------------------------------------


def create_map(*, session: Session, journey_map: JourneyMap, author: str, message: str = "Created") -> Revision:
    """Save a new map as its revision 1.

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine, session_scope
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with session_scope(engine) as session:
    ...     first = create_map(session=session, journey_map=JourneyMap(name="Returns"), author="Ana")
    >>> (first.number, first.author, first.journey_map.name)
    (1, 'Ana', 'Returns')
    """
    author = _clean_author(author)
    journey_map, _ = checked_document(journey_map)
    record = MapRecord(name=journey_map.name, owner=author)
    session.add(record)
    session.flush()
    assert record.id is not None
    row = _new_revision(
        map_id=record.id, number=1, parent_id=None, journey_map=journey_map, author=author, message=message
    )
    session.add(row)
    session.flush()
    record.latest_revision_id = row.id
    record.created_at = record.updated_at = row.created_at
    session.add(record)
    session.flush()
    return Revision(**_info(row).model_dump(), journey_map=journey_map)


def save_revision(
    *, session: Session, map_id: int, journey_map: JourneyMap, author: str, message: str, base_revision_id: int
) -> Revision:
    """Add a revision on top of ``base_revision_id``, which must be the map's latest.

    Raises
    ------
    StaleRevisionError
        Someone saved a newer revision after ``base_revision_id`` was opened; nothing
        is written.
    UserInputError
        Unknown map, or a base revision of another map.

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine, session_scope
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with session_scope(engine) as session:
    ...     first = create_map(session=session, journey_map=JourneyMap(name="Returns"), author="Ana")
    ...     second = save_revision(session=session, map_id=first.map_id, journey_map=JourneyMap(name="Returns v2"),
    ...                            author="Bo", message="Renamed", base_revision_id=first.id)
    ...     get_map(session=session, map_id=first.map_id).name
    'Returns v2'
    >>> second.number
    2
    """
    author = _clean_author(author)
    journey_map, _ = checked_document(journey_map)
    record = _get_record(session, map_id)
    base = _revision_of_map(session, record, base_revision_id)
    base_number = base.number
    now = utc_now()
    # The guard: only the transaction whose base is still the latest moves the pointer. On
    # PostgreSQL the row lock makes a concurrent save wait and then match no row; on SQLite this
    # statement takes the database write lock, so the check and the write cannot interleave.
    claimed = session.exec(
        update(MapRecord)
        .where(col(MapRecord.id) == map_id, col(MapRecord.latest_revision_id) == base_revision_id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        # Inside the write transaction now: the pointer read here is the newest one committed.
        fresh_record, latest = _fresh_latest(session, map_id)
        raise StaleRevisionError(
            map_id=map_id, map_name=fresh_record.name, base_number=base_number, latest=_info(latest)
        )
    row = _new_revision(
        map_id=map_id,
        number=base_number + 1,
        parent_id=base_revision_id,
        journey_map=journey_map,
        author=author,
        message=message,
    )
    row.created_at = now
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # Another save took this revision number between the guard and the insert (only possible when
        # something wrote the map without the guard): the caller's transaction is rolled back whole.
        raise StaleRevisionError(map_id=map_id, map_name=record.name, base_number=base_number, latest=None) from None
    session.exec(
        update(MapRecord)
        .where(col(MapRecord.id) == map_id)
        .values(latest_revision_id=row.id, name=journey_map.name, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return Revision(**_info(row).model_dump(), journey_map=journey_map)


def restore_revision(
    *, session: Session, map_id: int, revision_id: int, author: str, base_revision_id: int
) -> Revision:
    """Make an old revision's document the latest again, as a new revision.

    History is kept: the restored content becomes revision N+1 with the message
    ``"Restored revision K"``. Refused like :func:`save_revision` when
    ``base_revision_id`` is stale.
    """
    record = _get_record(session, map_id)
    old = _revision(session, _revision_of_map(session, record, revision_id), map_name=record.name)
    return save_revision(
        session=session,
        map_id=map_id,
        journey_map=old.journey_map,
        author=author,
        message=f"Restored revision {old.number}",
        base_revision_id=base_revision_id,
    )


def _summaries(
    session: Session, *, map_ids: list[int] | None, include_archived: bool, search: str | None
) -> list[MapSummary]:
    counts = (
        select(MapRevision.map_id, func.count().label("revision_count")).group_by(col(MapRevision.map_id)).subquery()
    )
    statement = (
        select(MapRecord, MapRevision, counts.c.revision_count)
        .join(MapRevision, col(MapRevision.id) == col(MapRecord.latest_revision_id))
        .join(counts, counts.c.map_id == col(MapRecord.id))
        .order_by(col(MapRecord.updated_at).desc(), col(MapRecord.latest_revision_id).desc())
    )
    if map_ids is not None:
        statement = statement.where(col(MapRecord.id).in_(map_ids))
    if not include_archived:
        statement = statement.where(col(MapRecord.archived).is_(False))
    if search and search.strip():
        statement = statement.where(func.lower(MapRecord.name).contains(search.strip().lower(), autoescape=True))
    summaries = []
    for record, revision, revision_count in session.exec(statement).all():
        assert record.id is not None
        summaries.append(
            MapSummary(
                id=record.id,
                name=record.name,
                owner=record.owner,
                created_at=as_utc(record.created_at),
                updated_at=as_utc(record.updated_at),
                archived=record.archived,
                revision_count=revision_count,
                latest_revision=_info(revision),
            )
        )
    return summaries


def list_maps(*, session: Session, include_archived: bool = False, search: str | None = None) -> list[MapSummary]:
    """Saved maps, most recently changed first; ``search`` matches names, ignoring case."""
    return _summaries(session, map_ids=None, include_archived=include_archived, search=search)


def get_map(*, session: Session, map_id: int) -> MapSummary:
    """One saved map's summary (archived maps included)."""
    found = _summaries(session, map_ids=[map_id], include_archived=True, search=None)
    if not found:
        _get_record(session, map_id)
        raise _no_revision(map_id)
    return found[0]


def latest_revision(*, session: Session, map_id: int) -> Revision:
    """The map's latest revision with its document."""
    record, row = _fresh_latest(session, map_id)
    return _revision(session, row, map_name=record.name)


def last_readable_revision(*, session: Session, map_id: int) -> Revision | None:
    """The map's newest revision whose document reads (``None`` when none does)."""
    _get_record(session, map_id)
    return _readable_before(session, map_id, None)


def get_revision(*, session: Session, revision_id: int) -> Revision:
    """Any revision by id, with its document."""
    row = _get_revision_row(session, revision_id)
    record = _get_record(session, row.map_id)
    return _revision(session, row, map_name=record.name)


def list_revisions(*, session: Session, map_id: int) -> list[RevisionInfo]:
    """The map's history, newest revision first."""
    _get_record(session, map_id)
    rows = session.exec(
        select(MapRevision).where(col(MapRevision.map_id) == map_id).order_by(col(MapRevision.number).desc())
    ).all()
    return [_info(row) for row in rows]


def archive_map(*, session: Session, map_id: int, archived: bool = True) -> None:
    """Hide a map from the default list (``archived=False`` brings it back); nothing is deleted."""
    record = _get_record(session, map_id)
    record.archived = archived
    session.add(record)
    session.flush()


# --- drafts -------------------------------------------------------------------------


def _draft(row: MapDraft, *, map_name: str) -> Draft:
    journey_map = _read_document(
        row.document, map_name=map_name, map_id=row.map_id, where=f"unsaved draft of '{row.client_key}'"
    )
    return Draft(
        map_id=row.map_id,
        client_key=row.client_key,
        base_revision_id=row.base_revision_id,
        journey_map=journey_map,
        updated_at=as_utc(row.updated_at),
    )


def _draft_row(session: Session, map_id: int, client_key: str) -> MapDraft | None:
    return session.exec(
        select(MapDraft).where(col(MapDraft.map_id) == map_id, col(MapDraft.client_key) == client_key)
    ).first()


def save_draft(
    *, session: Session, map_id: int, client_key: str, base_revision_id: int, journey_map: JourneyMap
) -> Draft:
    """Keep unsaved edits for one browser (replacing its previous draft of this map)."""
    if not client_key or len(client_key) > CLIENT_KEY_MAX:
        raise UserInputError(
            f"must be 1 to {CLIENT_KEY_MAX} characters",
            source="draft",
            location="browser client key",
            hint="Reload the page without the 'client' parameter in its address.",
        )
    journey_map, document = checked_document(journey_map, source="unsaved edits")
    record = _get_record(session, map_id)
    _revision_of_map(session, record, base_revision_id)
    row = _draft_row(session, map_id, client_key)
    if row is None:
        row = MapDraft(map_id=map_id, client_key=client_key, base_revision_id=base_revision_id, document="")
    row.base_revision_id = base_revision_id
    row.document = document
    row.updated_at = utc_now()
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # Two tabs of one browser kept the first draft of this map at the same moment.
        raise UserInputError(
            "another tab of this browser kept its unsaved edits of this map at the same moment",
            source="unsaved edits",
            hint="Nothing was kept from this edit: make it again.",
        ) from None
    return Draft(
        map_id=map_id,
        client_key=client_key,
        base_revision_id=base_revision_id,
        journey_map=journey_map,
        updated_at=as_utc(row.updated_at),
    )


def get_draft(*, session: Session, map_id: int, client_key: str) -> Draft | None:
    """The browser's unsaved edits of the map, if any."""
    record = _get_record(session, map_id)
    row = _draft_row(session, map_id, client_key)
    return None if row is None else _draft(row, map_name=record.name)


def discard_draft(*, session: Session, map_id: int, client_key: str) -> None:
    """Forget the browser's unsaved edits of the map (nothing happens if there are none)."""
    row = _draft_row(session, map_id, client_key)
    if row is not None:
        session.delete(row)
        session.flush()
