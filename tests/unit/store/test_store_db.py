"""Database settings, engines, table creation and the session scope."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from journeymap import config
from journeymap.access import Role
from journeymap.store import SavedMapping, database_url, db, init_db, make_engine, save_mapping, session_scope
from journeymap.store.access import UserAccount

OWN_TABLES = {"maps", "map_revisions", "map_drafts", "datasets", "saved_mappings"}


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("postgres://ana:pw@db.example:5432/jm", "postgresql+psycopg://ana:pw@db.example:5432/jm"),
        ("postgresql://ana@localhost/jm", "postgresql+psycopg://ana@localhost/jm"),
        ("postgresql+psycopg://ana@localhost/jm", "postgresql+psycopg://ana@localhost/jm"),
        ("postgresql+psycopg2://ana@localhost/jm", "postgresql+psycopg2://ana@localhost/jm"),
        ("mysql+pymysql://ana@localhost/jm", "mysql+pymysql://ana@localhost/jm"),
        ("sqlite:////srv/jm.db", "sqlite:////srv/jm.db"),
    ],
)
def test_database_url_from_database_url(monkeypatch: pytest.MonkeyPatch, configured: str, expected: str) -> None:
    monkeypatch.setenv("DATABASE_URL", configured)
    monkeypatch.setenv("JOURNEYMAP_DB", "/ignored/when/DATABASE_URL/is/set.db")
    assert database_url() == expected


def test_database_url_from_journeymap_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("JOURNEYMAP_DB", str(tmp_path / "new" / "team.db"))
    assert database_url() == f"sqlite:///{tmp_path / 'new' / 'team.db'}"
    assert (tmp_path / "new").is_dir()


def test_database_url_default_is_in_the_repository(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("JOURNEYMAP_DB", raising=False)
    monkeypatch.setattr(config, "_REPO_ROOT", tmp_path)
    assert database_url() == f"sqlite:///{tmp_path / '.journeymap' / 'journeymap.db'}"
    assert (tmp_path / ".journeymap").is_dir()


def test_repository_root_is_the_project_folder() -> None:
    assert (config._REPO_ROOT / "pyproject.toml").is_file()
    assert (config._REPO_ROOT / "journeymap" / "store" / "db.py").is_file()


def test_sqlite_engine_uses_wal_and_waits_for_writers(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'jm.db'}")
    with engine.connect() as conn:
        pragmas = [conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "busy_timeout")]
        assert pragmas == ["wal", db.SQLITE_BUSY_TIMEOUT_MS]
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_in_memory_sqlite_is_one_shared_database() -> None:
    engine = make_engine("sqlite://")
    init_db(engine)
    with session_scope(engine) as session:
        save_mapping(session=session, name="Shop", mapping_json="{}", source_columns=["a"])
    with Session(engine) as other:
        assert other.exec(select(SavedMapping.name)).all() == ["Shop"]


def test_init_db_is_idempotent_and_keeps_rows(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= OWN_TABLES
    with session_scope(engine) as session:
        save_mapping(session=session, name="Shop", mapping_json="{}", source_columns=["a"])
    init_db(engine)
    with Session(engine) as session:
        assert session.exec(select(SavedMapping.name)).all() == ["Shop"]


def test_init_db_skips_only_a_table_module_that_does_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "TABLE_MODULES", ("maps", "not_written_yet"))
    engine = make_engine("sqlite://")
    init_db(engine)
    assert set(inspect(engine).get_table_names()) >= OWN_TABLES

    real_import = importlib.import_module

    def import_with_missing_dependency(name: str, package: str | None = None) -> ModuleType:
        if name == "journeymap.store.not_written_yet":
            raise ModuleNotFoundError("No module named 'some_driver'", name="some_driver")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", import_with_missing_dependency)
    with pytest.raises(ModuleNotFoundError, match="some_driver"):
        init_db(make_engine("sqlite://"))


def test_session_scope_commits_or_rolls_back(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(SavedMapping(name="Kept", mapping_json="{}", source_columns_json="[]", columns_key="[]"))
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(SavedMapping(name="Lost", mapping_json="{}", source_columns_json="[]", columns_key="[]"))
        session.flush()
        raise RuntimeError("page crashed")
    with Session(engine) as session:
        assert session.exec(select(SavedMapping.name)).all() == ["Kept"]


def _roles(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(row.username, row.role) for row in session.exec(select(UserAccount).order_by(col(UserAccount.id)))]


def test_init_db_makes_the_oldest_editor_the_owner_of_a_workspace_without_one(engine: Engine) -> None:
    """A database from before owners existed: editors and a viewer, nobody may manage accounts."""
    with session_scope(engine) as session:
        for username, role in (("vera", Role.VIEWER), ("eddie", Role.EDITOR), ("ed2", Role.EDITOR)):
            session.add(UserAccount(username=username, display_name=username, role=role.value, password_hash="-"))
    init_db(engine)
    assert _roles(engine) == [("vera", "viewer"), ("eddie", "owner"), ("ed2", "editor")]
    # An owner exists now: starting again changes nothing.
    init_db(engine)
    assert _roles(engine) == [("vera", "viewer"), ("eddie", "owner"), ("ed2", "editor")]


def test_init_db_leaves_a_workspace_with_an_owner_or_without_accounts_alone(engine: Engine) -> None:
    init_db(engine)
    assert _roles(engine) == []
    with session_scope(engine) as session:
        session.add(UserAccount(username="eddie", display_name="Eddie", role="editor", password_hash="-"))
        session.add(UserAccount(username="olive", display_name="Olive", role="owner", password_hash="-"))
    init_db(engine)
    assert _roles(engine) == [("eddie", "editor"), ("olive", "owner")]
