"""A failing database reads the same everywhere: one named message, no SQL text, no parameters.

Each condition is real: a read-only or damaged SQLite file, a write lock held by a second
connection, a PostgreSQL port nobody listens on, a PostgreSQL lock timeout and a read-only
PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from journeymap.model import JourneyMap
from journeymap.store import (
    DatabaseUnavailable,
    create_map,
    db,
    init_db,
    list_maps,
    make_engine,
    save_revision,
    session_scope,
)
from tests.db_faults import closed_port, damage, read_only, write_locked

SECRET_NAME = "Returns 7f3a"  # a parameter value that must never reach the message

MESSAGES = {
    "busy": (
        "Database: the database is busy: another save or another Journeymap process is writing to it, and what "
        "you just did was not saved. Wait a moment and try again; anything you typed is still on screen."
    ),
    "read-only": (
        "Database: the database is read-only, so nothing can be saved. Ask whoever runs Journeymap to make the "
        "database file (and its folder) writable, then try again."
    ),
    "damaged": (
        "Database: the database file is damaged and cannot be read. Ask whoever runs Journeymap to restore it "
        "from a backup, or to point JOURNEYMAP_DB at another file."
    ),
    "unreachable": (
        "Database: the database server cannot be reached. Ask whoever runs Journeymap to check that the database "
        "server is running and that DATABASE_URL is right; then reload the page."
    ),
}


def _create(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_map(session=session, journey_map=JourneyMap(name=SECRET_NAME), author="Ana")


def _assert_named(problem: DatabaseUnavailable, kind: str) -> None:
    assert problem.kind == kind
    assert str(problem) == MESSAGES[kind]
    for leak in ("INSERT", "SELECT", "maps", SECRET_NAME, "[SQL", "sqlite3", "psycopg"):
        assert leak not in str(problem)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "journeymap.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    with session_scope(engine) as session:
        create_map(session=session, journey_map=JourneyMap(name="Existing"), author="Ana")
    engine.dispose()
    yield path


def test_a_read_only_file_can_be_read_but_not_written(sqlite_file: Path) -> None:
    with read_only(sqlite_file):
        engine = make_engine(f"sqlite:///{sqlite_file}")
        try:
            with session_scope(engine) as session:
                assert [m.name for m in list_maps(session=session)] == ["Existing"]
            with pytest.raises(DatabaseUnavailable) as caught:
                _create(engine)
        finally:
            engine.dispose()
    _assert_named(caught.value, "read-only")


def test_a_damaged_file(sqlite_file: Path) -> None:
    damage(sqlite_file)
    engine = make_engine(f"sqlite:///{sqlite_file}")
    try:
        with pytest.raises(DatabaseUnavailable) as caught, session_scope(engine) as session:
            list_maps(session=session)
    finally:
        engine.dispose()
    _assert_named(caught.value, "damaged")


def test_a_write_lock_held_by_another_connection(sqlite_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)  # wait 0.2 s, not 15 s, for the lock
    engine = make_engine(f"sqlite:///{sqlite_file}")
    try:
        with write_locked(sqlite_file):
            with session_scope(engine) as session:  # readers are not blocked (WAL)
                (existing,) = list_maps(session=session)
            with pytest.raises(DatabaseUnavailable) as caught:
                _create(engine)
            # The editor's save hits the same lock and says the same thing.
            with pytest.raises(DatabaseUnavailable) as on_save, session_scope(engine) as session:
                save_revision(
                    session=session,
                    map_id=existing.id,
                    journey_map=JourneyMap(name="Existing v2"),
                    author="Ana",
                    message="",
                    base_revision_id=existing.latest_revision.id,
                )
        _create(engine)  # the lock is gone: writing works again
    finally:
        engine.dispose()
    _assert_named(caught.value, "busy")
    _assert_named(on_save.value, "busy")


def test_an_unreachable_postgresql_server() -> None:
    engine = make_engine(f"postgresql+psycopg://journeymap@127.0.0.1:{closed_port()}/journeymap")
    try:
        with pytest.raises(DatabaseUnavailable) as caught, session_scope(engine) as session:
            list_maps(session=session)
    finally:
        engine.dispose()
    _assert_named(caught.value, "unreachable")


@pytest.mark.postgres
def test_postgresql_lock_timeout_and_read_only_database(pg_server: object) -> None:
    name, url = pg_server.create_database()  # type: ignore[attr-defined]
    engine = make_engine(url)
    holder = make_engine(url)
    try:
        init_db(engine)
        with holder.connect() as other:
            other.execute(text("LOCK TABLE maps IN ACCESS EXCLUSIVE MODE"))
            with pytest.raises(DatabaseUnavailable) as busy, session_scope(engine) as session:
                session.connection().execute(text("SET lock_timeout = '200ms'"))
                create_map(session=session, journey_map=JourneyMap(name=SECRET_NAME), author="Ana")
            other.rollback()
        _assert_named(busy.value, "busy")

        with holder.connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
            admin.commit()
        engine.dispose()  # new connections pick up the setting
        with pytest.raises(DatabaseUnavailable) as read_only_db:
            _create(engine)
        _assert_named(read_only_db.value, "read-only")
    finally:
        engine.dispose()
        holder.dispose()
        pg_server.drop_database(name)  # type: ignore[attr-defined]


def test_other_errors_are_not_dressed_up_as_database_failures(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        init_db(engine)
        with pytest.raises(Exception) as caught, Session(engine) as session, db.reporting_database_errors():
            session.connection().execute(text("SELECT no_such_column FROM maps"))
    finally:
        engine.dispose()
    assert not isinstance(caught.value, DatabaseUnavailable)
