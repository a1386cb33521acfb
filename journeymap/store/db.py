"""Where the database is, how to connect to it, and how to create its tables.

The database comes from :func:`journeymap.config.settings` (``DATABASE_URL``, else the SQLite file
``JOURNEYMAP_DB``, else ``.journeymap/journeymap.db`` at the top of the repository); nothing here
reads the environment itself.

When the database itself fails (busy, read-only, damaged, unreachable, full), every page says so
the same way: :func:`session_scope` turns SQLAlchemy's operational errors into one
:class:`DatabaseUnavailable` message, which names the condition and what to do, and never shows
SQL text or parameters (the server log keeps the driver's own message).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, InternalError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from journeymap.config import settings
from journeymap.errors import UserInputError

__all__ = [
    "as_utc",
    "utc_now",
    "SQLITE_BUSY_TIMEOUT_MS",
    "TABLE_MODULES",
    "DatabaseUnavailable",
    "database_error",
    "database_url",
    "init_db",
    "make_engine",
    "reporting_database_errors",
    "session_scope",
]

_log = logging.getLogger(__name__)

# Modules of journeymap.store that define tables; a module not written yet is skipped.
TABLE_MODULES = ("maps", "datasets", "assessments", "reviews", "access")

# Long enough for another browser session to finish saving a map, short enough to
# report a genuinely stuck database instead of hanging a page.
SQLITE_BUSY_TIMEOUT_MS = 15_000


def database_url() -> str:
    """The configured database URL (:attr:`journeymap.config.Settings.url`), the SQLite folder created.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"DATABASE_URL": "postgres://ana@db:5432/jm"}):
    ...     database_url()
    'postgresql+psycopg://ana@db:5432/jm'
    """
    return settings().url


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default :func:`database_url`), tuned for several writers.

    SQLite runs in WAL mode with a busy timeout, so two browser sessions can save at
    the same time: one waits for the other instead of failing. Other databases get
    ``pool_pre_ping`` so a connection dropped by the server is replaced silently.

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> engine.dialect.name
    'sqlite'
    """
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if in_memory:
        # Every connection to ":memory:" is a new, empty database: share one.
        options["poolclass"] = StaticPool
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return engine


def init_db(engine: Engine) -> None:
    """Create every table of :data:`TABLE_MODULES` that does not exist yet.

    Safe to call on every start: existing tables and their rows are left alone. A nullable
    column added to the ``datasets`` table since its database was created is added to it
    (empty for the rows already there), and a workspace whose accounts have no owner (made
    before owners existed) gets its oldest editor promoted to owner, so an older workspace
    keeps working.

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> init_db(engine)
    >>> from sqlalchemy import inspect
    >>> "map_revisions" in inspect(engine).get_table_names()
    True
    """
    for module in TABLE_MODULES:
        name = f"{__package__}.{module}"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    SQLModel.metadata.create_all(engine)
    _add_missing_dataset_columns(engine)
    if "user_accounts" in SQLModel.metadata.tables:
        from journeymap.store.access import promote_an_owner  # the accounts module imports this one

        with session_scope(engine) as session:
            promote_an_owner(session=session)


def _add_missing_dataset_columns(engine: Engine) -> None:
    table = SQLModel.metadata.tables.get("datasets")
    if table is None:
        return
    present = {column["name"] for column in inspect(engine).get_columns(table.name)}
    missing = [column for column in table.columns if column.name not in present and column.nullable]
    if not missing:
        return
    preparer = engine.dialect.identifier_preparer
    for column in missing:
        kind = column.type.compile(dialect=engine.dialect)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.format_column(column)} {kind}"
                )
        except DBAPIError:
            # Another process starting at the same moment may have added it first.
            if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                raise


class DatabaseUnavailable(UserInputError):
    """The database could not do what was asked, for a reason outside the request itself.

    :attr:`kind` is one of ``"busy"``, ``"read-only"``, ``"damaged"``, ``"unreachable"``,
    ``"full"`` or ``"failed"``; the message says what it means and what to do, and is the same on
    every page. Whatever the request was writing was rolled back.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        problem, hint = _DATABASE_MESSAGES[kind]
        super().__init__(problem, source="Database", hint=hint)


_DATABASE_MESSAGES = {
    "busy": (
        "the database is busy: another save or another Journeymap process is writing to it, "
        "and what you just did was not saved",
        "Wait a moment and try again; anything you typed is still on screen.",
    ),
    "read-only": (
        "the database is read-only, so nothing can be saved",
        "Ask whoever runs Journeymap to make the database file (and its folder) writable, then try again.",
    ),
    "damaged": (
        "the database file is damaged and cannot be read",
        "Ask whoever runs Journeymap to restore it from a backup, or to point JOURNEYMAP_DB at another file.",
    ),
    "unreachable": (
        "the database server cannot be reached",
        "Ask whoever runs Journeymap to check that the database server is running and that DATABASE_URL is right; "
        "then reload the page.",
    ),
    "full": (
        "the database's disk is full, so nothing can be saved",
        "Ask whoever runs Journeymap to free some disk space, then try again.",
    ),
    "failed": (
        "the database refused the request",
        "Try again; if it keeps failing, ask whoever runs Journeymap to look at the server log.",
    ),
}

# PostgreSQL SQLSTATEs (and their classes, as two-character prefixes) by what they mean to a user.
_SQLSTATE_KINDS = {
    "40001": "busy",  # serialization failure
    "40P01": "busy",  # deadlock
    "55P03": "busy",  # lock not available
    "57014": "busy",  # statement timeout
    "25006": "read-only",  # read-only transaction (a standby server)
    "53100": "full",  # disk full
    "XX001": "damaged",  # data corrupted
    "XX002": "damaged",  # index corrupted
    "08": "unreachable",  # connection exceptions
    "57P": "unreachable",  # server shutting down or restarting
}
# SQLite reports its conditions in words.
_SQLITE_KINDS = (
    ("database is locked", "busy"),
    ("database table is locked", "busy"),
    ("database schema is locked", "busy"),
    ("readonly database", "read-only"),
    ("read-only", "read-only"),
    ("file is not a database", "damaged"),
    ("malformed", "damaged"),
    ("disk image", "damaged"),
    ("database or disk is full", "full"),
    ("unable to open database file", "unreachable"),
    ("disk i/o error", "unreachable"),
)

_SQL_MISTAKES = ("no such table", "no such column", "syntax error", "has no column", "no such function")


def database_error(exc: BaseException) -> DatabaseUnavailable | None:
    """The user's message for a failure of the database itself, or ``None`` for any other error.

    Constraint violations, SQL mistakes and bad values are not the database failing: they stay
    what they are (``None``), for the code that caused them to handle or to report as a bug.

    Examples
    --------
    >>> import sqlite3
    >>> from sqlalchemy.exc import OperationalError
    >>> locked = sqlite3.OperationalError("database is locked")
    >>> problem = database_error(OperationalError("INSERT INTO maps ...", {"name": "Returns"}, locked))
    >>> problem.kind, "INSERT" in str(problem), "Returns" in str(problem)
    ('busy', False, False)
    >>> database_error(ValueError("no")) is None
    True
    """
    if isinstance(exc, DatabaseUnavailable):
        return exc
    if not isinstance(exc, OperationalError | InterfaceError | InternalError) and type(exc) is not DatabaseError:
        return None
    orig = getattr(exc, "orig", None)
    sqlstate = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
    text = str(orig if orig is not None else exc).lower()
    kind = next((k for code, k in _SQLSTATE_KINDS.items() if sqlstate and sqlstate.startswith(code)), None)
    if kind is None:
        kind = next((k for words, k in _SQLITE_KINDS if words in text), None)
    if kind is None and isinstance(exc, OperationalError | InterfaceError) and exc.connection_invalidated:
        kind = "unreachable"
    if kind is None and _driver_of(exc) == "postgresql" and ("connect" in text or "connection" in text):
        kind = "unreachable"
    if kind is None and any(words in text for words in _SQL_MISTAKES):
        return None  # SQLite reports a wrong statement as an OperationalError too: that is a bug, not the database
    kind = kind or "failed"
    # The driver's own words, without the statement or its parameters, for whoever runs the server.
    _log.warning("database unavailable (%s): %s: %s", kind, type(orig or exc).__name__, str(orig or "").strip())
    return DatabaseUnavailable(kind)


def _driver_of(exc: BaseException) -> str:
    """``"postgresql"``, ``"sqlite"`` or ``""``: which driver raised ``exc`` (from its module)."""
    module = type(getattr(exc, "orig", None) or exc).__module__
    if module.startswith("psycopg"):
        return "postgresql"
    if module.startswith("sqlite3"):
        return "sqlite"
    return ""


@contextmanager
def reporting_database_errors() -> Iterator[None]:
    """Turn a failure of the database inside the block into :class:`DatabaseUnavailable`.

    Examples
    --------
    >>> import sqlite3
    >>> from sqlalchemy.exc import OperationalError
    >>> with reporting_database_errors():
    ...     raise OperationalError("SELECT 1", None, sqlite3.OperationalError("attempt to write a readonly database"))
    Traceback (most recent call last):
    ...
    journeymap.store.db.DatabaseUnavailable: Database: the database is read-only, so nothing can be saved. ...
    """
    try:
        yield
    except DBAPIError as exc:
        problem = database_error(exc)
        if problem is None:
            raise
        raise problem from None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises.

    A failure of the database itself (busy, read-only, damaged, unreachable) comes out as
    :class:`DatabaseUnavailable`, a ``UserInputError`` that pages show like any other.

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> with session_scope(engine) as session:
    ...     session.connection().exec_driver_sql("select 1").scalar()
    1
    """
    with reporting_database_errors():
        session = Session(engine)
        try:
            yield session
            session.commit()
        except BaseException:
            _quiet_rollback(session)
            raise
        finally:
            _quiet_close(session)


def _quiet_rollback(session: Session) -> None:
    # A rollback on a connection the database already dropped fails too; the first error is the one to report.
    try:
        session.rollback()
    except DBAPIError:
        _log.debug("rollback failed after an error", exc_info=True)


def _quiet_close(session: Session) -> None:
    try:
        session.close()
    except DBAPIError:
        _log.debug("closing a session failed", exc_info=True)


@event.listens_for(Session, "before_flush")
def _refuse_oversized_values(session: Session, _context: Any, _instances: Any) -> None:
    """Refuse a text longer than its column before it is written.

    SQLite stores any length and PostgreSQL fails the statement; either way a value that breaks its
    column's size should never reach the database. Every store function's writes pass here.
    """
    for row in (*session.new, *session.dirty):
        table = getattr(row, "__table__", None)
        if table is None:
            continue
        for column in table.columns:
            limit = getattr(column.type, "length", None)
            value = getattr(row, column.key, None)
            if limit and isinstance(value, str) and len(value) > limit:
                raise UserInputError(
                    f"is {len(value)} characters long; at most {limit} fit",
                    source=f"save {table.name.replace('_', ' ')}",
                    location=f"field '{column.name}'",
                    hint="Nothing was saved: shorten it and try again.",
                )


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC: every timestamp is written in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A timestamp read back from the database, in UTC.

    SQLite hands datetimes back without a zone, PostgreSQL in the session's zone.

    Examples
    --------
    >>> as_utc(datetime(2026, 1, 2, 3, 4))
    datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.timezone.utc)
    """
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
