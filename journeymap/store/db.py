"""Where the database is, how to connect to it, and how to create its tables.

Settings come from the environment, read here and nowhere else:

``DATABASE_URL``
    Any SQLAlchemy URL. ``postgres://`` and ``postgresql://`` are read as
    PostgreSQL through psycopg 3 (``postgresql+psycopg://``).
``JOURNEYMAP_DB``
    Path of a SQLite file, used when ``DATABASE_URL`` is not set.

Without either, maps are kept in ``.journeymap/journeymap.db`` at the top of the
repository.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

__all__ = [
    "as_utc",
    "utc_now",
    "SQLITE_BUSY_TIMEOUT_MS",
    "TABLE_MODULES",
    "database_url",
    "init_db",
    "make_engine",
    "session_scope",
]

# Modules of journeymap.store that define tables; a module not written yet is skipped.
TABLE_MODULES = ("maps", "datasets", "assessments", "reviews", "access")

# Long enough for another browser session to finish saving a map, short enough to
# report a genuinely stuck database instead of hanging a page.
SQLITE_BUSY_TIMEOUT_MS = 15_000

_REPO_ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The database URL from the environment, or the default SQLite file.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"DATABASE_URL": "postgres://ana@db:5432/jm"}):
    ...     database_url()
    'postgresql+psycopg://ana@db:5432/jm'
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url
    configured = os.environ.get("JOURNEYMAP_DB", "").strip()
    path = Path(configured).expanduser() if configured else _REPO_ROOT / ".journeymap" / "journeymap.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"


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
    (empty for the rows already there), so an older workspace keeps working.

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


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises.

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> with session_scope(engine) as session:
    ...     session.connection().exec_driver_sql("select 1").scalar()
    1
    """
    session = Session(engine)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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
