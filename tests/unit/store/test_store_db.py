"""Database settings, engines, table creation and the session scope."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from journeymap.store import SavedMapping, database_url, db, init_db, make_engine, save_mapping, session_scope

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
    monkeypatch.setattr(db, "_REPO_ROOT", tmp_path)
    assert database_url() == f"sqlite:///{tmp_path / '.journeymap' / 'journeymap.db'}"
    assert (tmp_path / ".journeymap").is_dir()


def test_repository_root_is_the_project_folder() -> None:
    assert (db._REPO_ROOT / "pyproject.toml").is_file()
    assert (db._REPO_ROOT / "journeymap" / "store" / "db.py").is_file()


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
    with Session(engine) as session:
        save_mapping(session=session, name="Shop", mapping_json="{}", source_columns=["a"])
    with Session(engine) as other:
        assert other.exec(select(SavedMapping.name)).all() == ["Shop"]


def test_init_db_is_idempotent_and_keeps_rows(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= OWN_TABLES
    with Session(engine) as session:
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
