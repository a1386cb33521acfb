"""Event-data services beyond who may call them: which server files are read, and all-or-nothing ingest."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from journeymap.access import Actor, Role
from journeymap.errors import UserInputError
from journeymap.model import Channel, JourneyMap, Stage, Touchpoint
from journeymap.services import data
from journeymap.store import create_map, init_db, latest_revision, make_engine, save_revision, session_scope
from tests.unit.services.cases_data import EVENTS, MAPPING

EDITOR = Actor("Eddie", Role.EDITOR)


def _map() -> JourneyMap:
    return JourneyMap(
        name="Returns",
        stages=(Stage(id="buy", name="Buy"), Stage(id="help", name="Help")),
        channels=(Channel(id="web", name="Website"), Channel(id="call", name="Call center")),
        touchpoints=(
            Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
            Touchpoint(id="pay", name="Payment", channel="web", stage="buy"),
            Touchpoint(id="phone", name="Phone line", channel="call", stage="help"),
        ),
    )


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The one data root (also the data folder), with the database file inside it."""
    folder = tmp_path / "root"
    folder.mkdir()
    monkeypatch.setenv("JOURNEYMAP_DATA_ROOTS", str(folder))
    monkeypatch.setenv("JOURNEYMAP_DATA_DIR", str(folder))
    monkeypatch.setenv("JOURNEYMAP_DB", str(folder / "journeymap.db"))
    return folder


@pytest.fixture
def engine(root: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{root / 'journeymap.db'}")
    init_db(eng)
    yield eng
    eng.dispose()


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with Session(engine) as session:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in session.connection().execute(select(table)))
            for table in SQLModel.metadata.sorted_tables
        }


def _refused(engine: Engine, path: str, root: Path) -> str:
    before = _rows(engine)
    with pytest.raises(UserInputError) as caught:
        data.read_server_file(engine, EDITOR, path=path)
    assert _rows(engine) == before
    assert not (root / "uploads").exists() and not (root / "logs").exists()  # no file written either
    return str(caught.value)


def _outside(path: str, root: Path) -> str:
    return (
        f"{path}: is not in a folder Journeymap may read. Files on the server are read only from {root.resolve()}. "
        "Copy the file there, or add its folder to JOURNEYMAP_DATA_ROOTS (folders separated by ':') and restart "
        "Journeymap."
    )


def test_a_csv_inside_the_root_is_read(engine: Engine, root: Path) -> None:
    path = root / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    source = data.read_server_file(engine, EDITOR, path=f"  '{path}' ")
    assert (source.path, source.name, source.content_hash) == (str(path.resolve()), "events.csv", data.hash_file(path))


def test_a_file_outside_the_roots_is_refused(engine: Engine, root: Path) -> None:
    assert _refused(engine, "/etc/passwd", root) == _outside("/etc/passwd", root)


def test_dot_dot_cannot_leave_the_root(engine: Engine, root: Path) -> None:
    (root.parent / "x.csv").write_text(EVENTS, encoding="utf-8")
    escaping = f"{root}/../x.csv"
    assert _refused(engine, escaping, root) == _outside(escaping, root)


def test_a_symlink_inside_the_root_pointing_outside_is_refused(engine: Engine, root: Path) -> None:
    outside = root.parent / "secret.csv"
    outside.write_text(EVENTS, encoding="utf-8")
    (root / "link.csv").symlink_to(outside)
    assert _refused(engine, str(root / "link.csv"), root) == _outside(str(root / "link.csv"), root)


@pytest.mark.parametrize("side", ["", "-wal", "-shm", "-journal"])
def test_the_database_and_its_side_files_are_never_read(engine: Engine, root: Path, side: str) -> None:
    path = root / f"journeymap.db{side}"
    if not path.exists():
        path.write_bytes(b"SQLite format 3\x00")
    assert _refused(engine, str(path), root) == _outside(str(path), root)


def test_a_missing_file_inside_the_root_is_named(engine: Engine, root: Path) -> None:
    assert _refused(engine, str(root / "nope.csv"), root) == (
        f"{root / 'nope.csv'}: is not a file on the server. Check the path; it is read on the machine that runs "
        "Journeymap, not on your computer."
    )


def test_a_failed_ingest_leaves_no_revision_no_dataset_and_no_file(
    engine: Engine, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(engine) as session:
        base = create_map(session=session, journey_map=_map(), author="Olive")
    path = root / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    source = data.read_server_file(engine, EDITOR, path=str(path))
    before = _rows(engine)

    def broken_save(log: object, target: str | os.PathLike[str]) -> None:
        Path(target).write_bytes(b"half")  # a partial file, then the failure
        raise UserInputError("the disk is full", source=str(target))

    monkeypatch.setattr(data, "save_log", broken_save)
    with pytest.raises(UserInputError, match="the disk is full"):
        data.apply_mapping(
            engine,
            EDITOR,
            source=source,
            mapping_json=MAPPING,
            map_id=base.map_id,
            base_revision_id=base.id,
            new_touchpoints=data.NewTouchpoints(("Read FAQ",), "help", "web"),
            save_as="Shop",
        )
    assert _rows(engine) == before  # no revision, no dataset, no saved mapping
    assert list((root / "logs").iterdir()) == []  # no cache file, not even the partial one
    with session_scope(engine) as session:
        assert latest_revision(session=session, map_id=base.map_id).number == 1


def test_a_stale_base_revision_leaves_nothing_after_the_ingest(engine: Engine, root: Path) -> None:
    """Someone saved the map while the file was ingested: the new touchpoints are refused, and nothing is kept."""
    with session_scope(engine) as session:
        base = create_map(session=session, journey_map=_map(), author="Olive")
    path = root / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    source = data.read_server_file(engine, EDITOR, path=str(path))
    with session_scope(engine) as session:
        save_revision(
            session=session,
            map_id=base.map_id,
            journey_map=_map(),
            author="Olive",
            message="x",
            base_revision_id=base.id,
        )
    before = _rows(engine)
    with pytest.raises(UserInputError):
        data.apply_mapping(
            engine,
            EDITOR,
            source=source,
            mapping_json=MAPPING,
            map_id=base.map_id,
            base_revision_id=base.id,
            new_touchpoints=data.NewTouchpoints(("Read FAQ",), "help", "web"),
        )
    assert _rows(engine) == before
    assert list((root / "logs").iterdir()) == []
