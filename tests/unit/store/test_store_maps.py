"""Saved maps as immutable revisions: numbering, stale saves, restore, drafts, concurrency."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from journeymap.errors import UserInputError
from journeymap.model import JourneyMap
from journeymap.store import (
    MapDraft,
    MapRevision,
    Revision,
    RevisionInfo,
    StaleRevisionError,
    archive_map,
    count_silo_handoffs,
    create_map,
    db,
    discard_draft,
    get_draft,
    get_map,
    get_revision,
    init_db,
    latest_revision,
    list_maps,
    list_revisions,
    make_engine,
    restore_revision,
    save_draft,
    save_revision,
    session_scope,
)

Tiny = Callable[[str], JourneyMap]


def test_silo_handoffs_of_returns_map(returns: JourneyMap) -> None:
    assert count_silo_handoffs(returns) == 2


def test_create_map_is_revision_one(session: Session, returns: JourneyMap) -> None:
    first = create_map(session=session, journey_map=returns, author=" Ana ")
    assert (first.number, first.parent_id, first.author, first.message) == (1, None, "Ana", "Created")
    assert (first.touchpoints, first.transitions, first.silo_handoffs) == (5, 5, 2)
    assert first.journey_map == returns
    summary = get_map(session=session, map_id=first.map_id)
    assert (summary.name, summary.owner, summary.revision_count, summary.archived) == ("Returns", "Ana", 1, False)
    assert summary.latest_revision == RevisionInfo(**first.model_dump(exclude={"journey_map"}))
    assert summary.created_at == summary.updated_at == first.created_at


def test_store_writes_are_the_callers_to_commit(engine: Engine, returns: JourneyMap, make_tiny: Tiny) -> None:
    """Every write flushes (ids are known) but commits nothing: a caller that does not commit leaves no trace."""
    with session_scope(engine) as session:
        kept = create_map(session=session, journey_map=returns, author="Ana")
    with Session(engine) as session:
        dropped = create_map(session=session, journey_map=make_tiny("Dropped"), author="Ana")
        save_revision(
            session=session,
            map_id=kept.map_id,
            journey_map=make_tiny("Returns v2"),
            author="Bo",
            message="",
            base_revision_id=kept.id,
        )
        save_draft(
            session=session,
            map_id=kept.map_id,
            client_key="tab-1",
            base_revision_id=kept.id,
            journey_map=make_tiny("Draft"),
        )
        archive_map(session=session, map_id=kept.map_id)
        assert dropped.id is not None and len(list_maps(session=session, include_archived=True)) == 2
        session.rollback()
    with Session(engine) as session:
        assert [(m.id, m.revision_count, m.archived) for m in list_maps(session=session)] == [(kept.map_id, 1, False)]
        assert get_draft(session=session, map_id=kept.map_id, client_key="tab-1") is None


def test_saves_number_revisions_and_link_parents(session: Session, returns: JourneyMap, make_tiny: Tiny) -> None:
    first = create_map(session=session, journey_map=returns, author="Ana")
    second = save_revision(
        session=session,
        map_id=first.map_id,
        journey_map=make_tiny("Returns v2"),
        author="Bo",
        message="Simplified",
        base_revision_id=first.id,
    )
    third = save_revision(
        session=session,
        map_id=first.map_id,
        journey_map=make_tiny("Returns v3"),
        author="Cy",
        message="Renamed",
        base_revision_id=second.id,
    )
    history = list_revisions(session=session, map_id=first.map_id)
    assert [(r.number, r.parent_id, r.author, r.message) for r in history] == [
        (3, second.id, "Cy", "Renamed"),
        (2, first.id, "Bo", "Simplified"),
        (1, None, "Ana", "Created"),
    ]
    assert [(r.touchpoints, r.transitions, r.silo_handoffs) for r in history] == [(1, 0, 0), (1, 0, 0), (5, 5, 2)]
    latest = latest_revision(session=session, map_id=first.map_id)
    assert (latest.id, latest.number, latest.journey_map) == (third.id, 3, make_tiny("Returns v3"))
    summary = get_map(session=session, map_id=first.map_id)
    assert (summary.name, summary.revision_count, summary.latest_revision.id) == ("Returns v3", 3, third.id)
    # Old revisions are untouched.
    assert get_revision(session=session, revision_id=first.id).journey_map == returns


def test_stale_save_is_refused_and_changes_nothing(session: Session, returns: JourneyMap, make_tiny: Tiny) -> None:
    first = create_map(session=session, journey_map=returns, author="Ana")
    second = save_revision(
        session=session,
        map_id=first.map_id,
        journey_map=make_tiny("Returns"),
        author="Bo",
        message="Cut down",
        base_revision_id=first.id,
    )
    with pytest.raises(StaleRevisionError) as caught:
        save_revision(
            session=session,
            map_id=first.map_id,
            journey_map=make_tiny("Cy's version"),
            author="Cy",
            message="Mine",
            base_revision_id=first.id,
        )
    error = caught.value
    assert isinstance(error, UserInputError)
    assert str(error) == (
        f"Map 'Returns' was changed by Bo at {second.created_at:%H:%M} UTC (revision 2) "
        "after you started editing revision 1. Your edits are kept on screen: "
        "review the newer revision, then save again."
    )
    assert (error.latest.id, error.latest.author, error.base_number) == (second.id, "Bo", 1)
    summary = get_map(session=session, map_id=first.map_id)
    assert (summary.revision_count, summary.latest_revision.id, summary.name) == (2, second.id, "Returns")
    assert [r.number for r in list_revisions(session=session, map_id=first.map_id)] == [2, 1]
    assert latest_revision(session=session, map_id=first.map_id).journey_map == make_tiny("Returns")


def test_restore_adds_a_revision_with_the_old_document(session: Session, returns: JourneyMap, make_tiny: Tiny) -> None:
    first = create_map(session=session, journey_map=returns, author="Ana")
    second = save_revision(
        session=session,
        map_id=first.map_id,
        journey_map=make_tiny("Checkout"),
        author="Bo",
        message="Wrong map pasted",
        base_revision_id=first.id,
    )
    restored = restore_revision(
        session=session, map_id=first.map_id, revision_id=first.id, author="Ana", base_revision_id=second.id
    )
    assert (restored.number, restored.parent_id, restored.message) == (3, second.id, "Restored revision 1")
    assert restored.journey_map == returns
    assert (restored.touchpoints, restored.transitions, restored.silo_handoffs) == (5, 5, 2)
    assert get_map(session=session, map_id=first.map_id).name == "Returns"
    assert [r.number for r in list_revisions(session=session, map_id=first.map_id)] == [3, 2, 1]
    with pytest.raises(StaleRevisionError, match=r"revision 3\) after you started editing revision 2"):
        restore_revision(
            session=session, map_id=first.map_id, revision_id=first.id, author="Bo", base_revision_id=second.id
        )
    assert get_map(session=session, map_id=first.map_id).revision_count == 3


def test_list_maps_newest_change_first_with_archive_and_search(session: Session, make_tiny: Tiny) -> None:
    returns = create_map(session=session, journey_map=make_tiny("Returns"), author="Ana")
    onboarding = create_map(session=session, journey_map=make_tiny("Onboarding"), author="Bo")
    percent = create_map(session=session, journey_map=make_tiny("100% online"), author="Cy")
    assert [m.name for m in list_maps(session=session)] == ["100% online", "Onboarding", "Returns"]
    save_revision(
        session=session,
        map_id=returns.map_id,
        journey_map=make_tiny("Returns and refunds"),
        author="Bo",
        message="",
        base_revision_id=returns.id,
    )
    listed = list_maps(session=session)
    assert [(m.name, m.owner, m.revision_count) for m in listed] == [
        ("Returns and refunds", "Ana", 2),
        ("100% online", "Cy", 1),
        ("Onboarding", "Bo", 1),
    ]
    assert listed[0].latest_revision.author == "Bo"
    archive_map(session=session, map_id=onboarding.map_id)
    assert [m.id for m in list_maps(session=session)] == [returns.map_id, percent.map_id]
    assert [m.id for m in list_maps(session=session, include_archived=True)] == [
        returns.map_id,
        percent.map_id,
        onboarding.map_id,
    ]
    assert get_map(session=session, map_id=onboarding.map_id).archived is True
    assert [m.name for m in list_maps(session=session, search="REFUND")] == ["Returns and refunds"]
    assert [m.name for m in list_maps(session=session, search="0%")] == ["100% online"]
    assert [m.name for m in list_maps(session=session, search="o%")] == []
    assert list_maps(session=session, search="board") == []
    assert [m.name for m in list_maps(session=session, search="board", include_archived=True)] == ["Onboarding"]
    archive_map(session=session, map_id=onboarding.map_id, archived=False)
    assert len(list_maps(session=session)) == 3


def test_unknown_ids_are_user_errors(session: Session, make_tiny: Tiny) -> None:
    first = create_map(session=session, journey_map=make_tiny("Returns"), author="Ana")
    other = create_map(session=session, journey_map=make_tiny("Other"), author="Ana")
    with pytest.raises(UserInputError) as caught:
        get_map(session=session, map_id=999)
    assert str(caught.value) == "No saved map with id 999; it may have been deleted. Choose a map from the list."
    with pytest.raises(UserInputError, match="No saved map with id 999"):
        latest_revision(session=session, map_id=999)
    with pytest.raises(UserInputError, match="No saved revision with id 999; it may have been deleted"):
        get_revision(session=session, revision_id=999)
    with pytest.raises(UserInputError) as caught:
        save_revision(
            session=session,
            map_id=first.map_id,
            journey_map=make_tiny("x"),
            author="Ana",
            message="",
            base_revision_id=other.id,
        )
    assert str(caught.value).startswith(f"Revision id {other.id} does not belong to map 'Returns' (id {first.map_id})")
    with pytest.raises(UserInputError, match="field 'author': no author name was given"):
        create_map(session=session, journey_map=make_tiny("x"), author="  ")
    assert len(list_maps(session=session)) == 2


def test_corrupt_stored_document_names_map_and_revision(session: Session, make_tiny: Tiny) -> None:
    first = create_map(session=session, journey_map=make_tiny("Returns"), author="Ana")
    session.exec(  # type: ignore[call-overload]
        text("UPDATE map_revisions SET document = :doc WHERE id = :id"),
        params={"doc": '{"schema_version": 1}', "id": first.id},
    )
    session.commit()
    with pytest.raises(UserInputError) as caught:
        latest_revision(session=session, map_id=first.map_id)
    assert str(caught.value) == (
        f"Saved map 'Returns' (id {first.map_id}), revision 1 (id {first.id}): "
        "the stored document is damaged (field 'name': Field required). "
        "No earlier revision reads either: import the map from an exported file."
    )
    # The history still lists it, so the user can act on it.
    assert [r.number for r in list_revisions(session=session, map_id=first.map_id)] == [1]


def test_drafts_upsert_get_and_discard(session: Session, returns: JourneyMap, make_tiny: Tiny) -> None:
    first = create_map(session=session, journey_map=returns, author="Ana")
    assert get_draft(session=session, map_id=first.map_id, client_key="browser-a") is None
    saved = save_draft(
        session=session,
        map_id=first.map_id,
        client_key="browser-a",
        base_revision_id=first.id,
        journey_map=make_tiny("Draft one"),
    )
    assert (saved.map_id, saved.client_key, saved.base_revision_id) == (first.map_id, "browser-a", first.id)
    second = save_revision(
        session=session,
        map_id=first.map_id,
        journey_map=returns,
        author="Bo",
        message="",
        base_revision_id=first.id,
    )
    save_draft(
        session=session,
        map_id=first.map_id,
        client_key="browser-a",
        base_revision_id=second.id,
        journey_map=make_tiny("Draft two"),
    )
    save_draft(
        session=session,
        map_id=first.map_id,
        client_key="browser-b",
        base_revision_id=first.id,
        journey_map=make_tiny("Other browser"),
    )
    draft = get_draft(session=session, map_id=first.map_id, client_key="browser-a")
    assert draft is not None
    assert (draft.base_revision_id, draft.journey_map) == (second.id, make_tiny("Draft two"))
    assert session.exec(select(func.count()).select_from(MapDraft)).one() == 2
    discard_draft(session=session, map_id=first.map_id, client_key="browser-a")
    discard_draft(session=session, map_id=first.map_id, client_key="browser-a")
    assert get_draft(session=session, map_id=first.map_id, client_key="browser-a") is None
    other = get_draft(session=session, map_id=first.map_id, client_key="browser-b")
    assert other is not None and other.journey_map.name == "Other browser"


def _race(engine: Engine, *, map_id: int, base_id: int, authors: tuple[str, str], make_tiny: Tiny) -> list[object]:
    barrier = threading.Barrier(len(authors))
    outcomes: list[object] = [None] * len(authors)

    def save(index: int, author: str) -> None:
        barrier.wait()
        try:
            # One transaction per save, as a service runs it: the store writes, the scope commits.
            with session_scope(engine) as session:
                outcomes[index] = save_revision(
                    session=session,
                    map_id=map_id,
                    journey_map=make_tiny(f"By {author}"),
                    author=author,
                    message="race",
                    base_revision_id=base_id,
                )
        except Exception as exc:  # the outcome is what the test asserts on
            outcomes[index] = exc

    threads = [threading.Thread(target=save, args=(i, a)) for i, a in enumerate(authors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture(params=["at-start", "at-guard"])
def rendezvous(request: pytest.FixtureRequest, engine: Engine) -> Iterator[list[int]]:
    """Where the racing saves meet: at the start, or both right before the guarded UPDATE.

    "at-guard" holds each save until the other has also read the map and is about to
    write, so both have passed every check in Python and only the database decides.
    """
    met: list[int] = []
    if request.param == "at-start":
        yield met
        return
    barrier = threading.Barrier(2, timeout=30)

    def wait_before_guard(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE MAPS") and "AND maps.latest_revision_id" in statement:
            met.append(barrier.wait())

    event.listen(engine, "before_cursor_execute", wait_before_guard)
    yield met
    assert len(met) == 2 * 5, "both saves of every round reached the guarded UPDATE together"
    event.remove(engine, "before_cursor_execute", wait_before_guard)


def test_concurrent_saves_on_one_base_let_exactly_one_win(
    engine: Engine, make_tiny: Tiny, rendezvous: list[int]
) -> None:
    with session_scope(engine) as session:
        first = create_map(session=session, journey_map=make_tiny("Returns"), author="Ana")
    base_id, rounds = first.id, 5
    for round_number in range(rounds):
        outcomes = _race(engine, map_id=first.map_id, base_id=base_id, authors=("Bo", "Cy"), make_tiny=make_tiny)
        winners = [o for o in outcomes if isinstance(o, Revision)]
        losers = [o for o in outcomes if isinstance(o, StaleRevisionError)]
        assert (len(winners), len(losers)) == (1, 1), outcomes
        winner, loser = winners[0], losers[0]
        assert (winner.number, winner.parent_id) == (round_number + 2, base_id)
        assert (loser.latest.id, loser.latest.author) == (winner.id, winner.author)
        base_id = winner.id
    with Session(engine) as session:
        history = list_revisions(session=session, map_id=first.map_id)
        assert [r.number for r in history] == [6, 5, 4, 3, 2, 1]
        assert session.exec(select(func.count()).select_from(MapRevision)).one() == 1 + rounds
        assert get_map(session=session, map_id=first.map_id).latest_revision.id == base_id


def test_save_while_another_writer_holds_sqlite_reports_busy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_tiny: Tiny
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    with session_scope(engine) as session:
        first = create_map(session=session, journey_map=make_tiny("Returns"), author="Ana")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        with pytest.raises(UserInputError) as caught, session_scope(engine) as session:
            save_revision(
                session=session,
                map_id=first.map_id,
                journey_map=make_tiny("Returns v2"),
                author="Bo",
                message="",
                base_revision_id=first.id,
            )
    finally:
        other.execute("ROLLBACK")
        other.close()
    # The same words as every other page meeting a busy database (journeymap.store.db.DatabaseUnavailable).
    assert str(caught.value) == (
        "Database: the database is busy: another save or another Journeymap process is writing to it, and what you "
        "just did was not saved. Wait a moment and try again; anything you typed is still on screen."
    )
    with session_scope(engine) as session:
        assert [r.number for r in list_revisions(session=session, map_id=first.map_id)] == [1]
        second = save_revision(
            session=session,
            map_id=first.map_id,
            journey_map=make_tiny("Returns v2"),
            author="Bo",
            message="",
            base_revision_id=first.id,
        )
        assert second.number == 2
    engine.dispose()
