"""Dataset registry and saved column mappings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from journeymap.errors import UserInputError
from journeymap.model import JourneyMap
from journeymap.store import (
    DatasetInfo,
    create_map,
    find_mapping_for_columns,
    get_dataset,
    get_mapping,
    init_db,
    list_datasets,
    list_mappings,
    make_engine,
    register_dataset,
    save_mapping,
    session_scope,
)
from journeymap.store import datasets as store_datasets

ORDERS_HASH = "a" * 64
CALLS_HASH = "b" * 64
MAPPING = '{"customer": "cid", "timestamp": "ts", "touchpoint": "page"}'


def _register(session: Session, **overrides: object) -> DatasetInfo:
    values: dict[str, object] = {
        "name": "Orders",
        "source_filename": "orders.csv",
        "content_hash": ORDERS_HASH,
        "cache_path": "/cache/orders.parquet",
        "rows": 1200,
        "customers": 75,
        "mapping_json": MAPPING,
        "created_by": "Ana",
    }
    values.update(overrides)
    return register_dataset(session=session, **values)  # type: ignore[arg-type]


def test_register_dataset_records_every_field(session: Session, make_tiny: Callable[[str], JourneyMap]) -> None:
    first = create_map(session=session, journey_map=make_tiny("Returns"), author="Ana")
    info = register_dataset(
        session=session,
        name="Orders",
        source_filename="orders.csv",
        content_hash=ORDERS_HASH.upper(),
        cache_path="/cache/orders.parquet",
        rows=1200,
        customers=75,
        mapping_json=MAPPING,
        created_by="Ana",
        map_id=first.map_id,
    )
    fields = info.model_dump(exclude={"id", "created_at"})
    assert fields == {
        "name": "Orders",
        "source_filename": "orders.csv",
        "content_hash": ORDERS_HASH,
        "cache_path": "/cache/orders.parquet",
        "rows": 1200,
        "customers": 75,
        "created_by": "Ana",
        "mapping_json": MAPPING,
        "map_id": first.map_id,
        "stitching_rate": None,
    }
    assert get_dataset(session=session, dataset_id=info.id) == info
    assert info.created_at.tzinfo is not None


def test_registration_is_idempotent_on_content_and_mapping(session: Session) -> None:
    first = _register(session)
    same_mapping_reformatted = '{ "touchpoint": "page", "timestamp": "ts",\n "customer": "cid" }'
    again = _register(session, mapping_json=same_mapping_reformatted, name="Orders again", cache_path="/elsewhere")
    assert again == first
    other_mapping = _register(session, mapping_json='{"customer": "email", "timestamp": "ts", "touchpoint": "page"}')
    other_file = _register(session, content_hash=CALLS_HASH, name="Calls", source_filename="calls.csv")
    listed = list_datasets(session=session)
    assert [d.id for d in listed] == [other_file.id, other_mapping.id, first.id]
    assert [d.name for d in listed] == ["Calls", "Orders", "Orders"]


def test_stitching_rate_is_stored_and_read_back(session: Session) -> None:
    # 0.965 is not exact in binary: it must come back as the very same float.
    orders = _register(session, stitching_rate=0.965)
    calls = _register(session, content_hash=CALLS_HASH, name="Calls", stitching_rate=0.0)
    unmeasured = _register(session, content_hash="c" * 64, name="Web")
    session.expire_all()
    assert get_dataset(session=session, dataset_id=orders.id).stitching_rate == 0.965
    assert get_dataset(session=session, dataset_id=calls.id).stitching_rate == 0.0
    assert get_dataset(session=session, dataset_id=unmeasured.id).stitching_rate is None
    assert {d.name: d.stitching_rate for d in list_datasets(session=session)} == {
        "Orders": 0.965,
        "Calls": 0.0,
        "Web": None,
    }


def test_registering_again_fills_a_missing_rate_and_keeps_a_known_one(session: Session) -> None:
    first = _register(session)
    assert first.stitching_rate is None
    filled = _register(session, stitching_rate=0.5)
    kept = _register(session, stitching_rate=0.75)
    unchanged = _register(session)
    session.expire_all()
    assert (filled.id, kept.id, unchanged.id) == (first.id, first.id, first.id)
    assert (filled.stitching_rate, kept.stitching_rate, unchanged.stitching_rate) == (0.5, 0.5, 0.5)
    assert get_dataset(session=session, dataset_id=first.id).stitching_rate == 0.5
    assert len(list_datasets(session=session)) == 1


# The datasets table as databases made before the stitching rate was kept have it.
OLD_DATASETS_TABLE = """
CREATE TABLE datasets (
    name VARCHAR(200) NOT NULL,
    source_filename VARCHAR(500) NOT NULL,
    content_hash VARCHAR(64) NOT NULL,
    cache_path VARCHAR(2000) NOT NULL,
    rows INTEGER NOT NULL,
    customers INTEGER NOT NULL,
    created_by VARCHAR(200) NOT NULL,
    mapping_json TEXT NOT NULL,
    map_id INTEGER,
    id INTEGER NOT NULL,
    created_at DATETIME NOT NULL,
    mapping_hash VARCHAR(64) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT uq_datasets_content_mapping UNIQUE (content_hash, mapping_hash)
)
"""


def _dataset_columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("datasets")}


def test_init_db_adds_the_stitching_rate_to_an_old_sqlite_file(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql(OLD_DATASETS_TABLE)
        connection.execute(
            text(
                "INSERT INTO datasets (name, source_filename, content_hash, cache_path, rows, customers, created_by, "
                "mapping_json, map_id, id, created_at, mapping_hash) VALUES ('Calls', 'calls.csv', :hash, "
                "'/cache/calls.parquet', 40, 9, 'Bo', :mapping, NULL, 7, '2026-01-02 03:04:05.000000', :mhash)"
            ),
            {"hash": CALLS_HASH, "mapping": MAPPING, "mhash": "f" * 64},
        )
    assert "stitching_rate" not in _dataset_columns(engine)
    init_db(engine)
    init_db(engine)  # the second start finds nothing to add
    assert "stitching_rate" in _dataset_columns(engine)
    with session_scope(engine) as session:
        old = get_dataset(session=session, dataset_id=7)
        assert (old.name, old.rows, old.customers, old.stitching_rate) == ("Calls", 40, 9, None)
        new = _register(session, stitching_rate=0.965)
    with Session(engine) as session:
        assert get_dataset(session=session, dataset_id=new.id).stitching_rate == 0.965
        assert [(d.id, d.stitching_rate) for d in list_datasets(session=session)] == [(new.id, 0.965), (7, None)]
    engine.dispose()


def test_init_db_adds_a_dropped_stitching_rate_column_back(engine: Engine) -> None:
    with session_scope(engine) as session:
        before = _register(session)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE datasets DROP COLUMN stitching_rate")
    assert "stitching_rate" not in _dataset_columns(engine)
    init_db(engine)
    assert "stitching_rate" in _dataset_columns(engine)
    with session_scope(engine) as session:
        assert get_dataset(session=session, dataset_id=before.id).stitching_rate is None
        after = _register(session, content_hash=CALLS_HASH, stitching_rate=0.25)
    with Session(engine) as session:
        assert get_dataset(session=session, dataset_id=after.id).stitching_rate == 0.25


def test_broken_mapping_json_is_refused_and_nothing_registered(session: Session) -> None:
    with pytest.raises(UserInputError) as caught:
        _register(session, mapping_json='{"customer": ')
    assert str(caught.value).startswith("column mapping, line 1, column 14: is not valid JSON (Expecting value).")
    assert list_datasets(session=session) == []


def test_unknown_dataset_id(session: Session) -> None:
    with pytest.raises(UserInputError) as caught:
        get_dataset(session=session, dataset_id=42)
    assert str(caught.value) == (
        "No registered dataset with id 42; it may have been deleted. "
        "Choose a dataset from the list, or import the file again."
    )


def test_save_mapping_overwrites_by_name(session: Session) -> None:
    first = save_mapping(
        session=session, name="Shop export", mapping_json=MAPPING, source_columns=["cid", "ts", "page"]
    )
    assert (first.name, first.source_columns, first.mapping_json) == ("Shop export", ["cid", "ts", "page"], MAPPING)
    replaced = save_mapping(
        session=session, name=" Shop export ", mapping_json='{"customer": "cid"}', source_columns=["cid", "when"]
    )
    assert (replaced.id, replaced.created_at) == (first.id, first.created_at)
    assert replaced.updated_at >= first.updated_at
    assert (replaced.mapping_json, replaced.source_columns) == ('{"customer": "cid"}', ["cid", "when"])
    assert list_mappings(session=session) == [replaced]
    assert get_mapping(session=session, name="Shop export") == replaced


def test_find_mapping_for_columns_matches_the_same_set_newest_first(session: Session) -> None:
    old = save_mapping(session=session, name="Old", mapping_json="{}", source_columns=["cid", "ts", "page"])
    other = save_mapping(session=session, name="Calls", mapping_json="{}", source_columns=["phone", "ts"])
    new = save_mapping(session=session, name="New", mapping_json="{}", source_columns=["page", "ts", "cid"])
    found = find_mapping_for_columns(session=session, columns=["ts", "page", "cid"])
    assert found is not None and found.name == "New"
    assert [m.name for m in list_mappings(session=session)] == ["New", "Calls", "Old"]
    assert find_mapping_for_columns(session=session, columns=["cid", "ts"]) is None
    assert find_mapping_for_columns(session=session, columns=["cid", "ts", "page", "extra"]) is None
    calls = find_mapping_for_columns(session=session, columns=["ts", "phone"])
    assert calls is not None and calls.id == other.id
    # Saving the old one again makes it the newest suggestion.
    save_mapping(session=session, name="Old", mapping_json="{}", source_columns=["cid", "ts", "page"])
    again = find_mapping_for_columns(session=session, columns=["cid", "page", "ts"])
    assert again is not None and (again.id, again.name) == (old.id, "Old")
    assert new.id != old.id


def test_mapping_errors(session: Session) -> None:
    with pytest.raises(UserInputError) as caught:
        save_mapping(session=session, name="  ", mapping_json="{}", source_columns=["a"])
    assert str(caught.value) == (
        "save column mapping, field 'name': the mapping has no name. "
        "Give the mapping a name, such as the system the file comes from."
    )
    with pytest.raises(UserInputError, match="column mapping 'Shop', line 1, column 2: is not valid JSON"):
        save_mapping(session=session, name="Shop", mapping_json="{nope", source_columns=["a"])
    with pytest.raises(UserInputError) as caught:
        get_mapping(session=session, name="Shop")
    assert str(caught.value) == (
        "No saved column mapping named 'Shop'. Choose a mapping from the list, or map the columns and save the mapping."
    )
    assert list_mappings(session=session) == []


def test_store_functions_write_nothing_their_caller_does_not_commit(engine: Engine) -> None:
    with Session(engine) as session:
        _register(session)
        save_mapping(session=session, name="Shop", mapping_json=MAPPING, source_columns=["cid", "ts", "page"])
        session.rollback()
    with Session(engine) as session:
        assert (list_datasets(session=session), list_mappings(session=session)) == ([], [])


def test_a_registration_race_is_a_named_error(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another session registered the same file with the same mapping between this one's look-up and its write."""
    with session_scope(engine) as session:
        first = _register(session)
    monkeypatch.setattr(store_datasets, "_existing_dataset", lambda *args: None)  # it looked before that commit
    with pytest.raises(UserInputError) as caught, session_scope(engine) as session:
        _register(session)
    assert str(caught.value) == (
        "orders.csv: was registered with the same column mapping by someone else at the same moment. "
        "Apply the mapping again: the dataset registered a moment ago is then opened."
    )
    with Session(engine) as session:
        assert [d.id for d in list_datasets(session=session)] == [first.id]


def test_a_mapping_name_race_is_a_named_error(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(engine) as session:
        save_mapping(session=session, name="Shop", mapping_json=MAPPING, source_columns=["cid"])
    monkeypatch.setattr(store_datasets, "_mapping_row", lambda *args: None)  # it looked before that commit
    with pytest.raises(UserInputError) as caught, session_scope(engine) as session:
        save_mapping(session=session, name="Shop", mapping_json="{}", source_columns=["x"])
    assert str(caught.value) == (
        "column mapping 'Shop': a mapping of this name was saved by someone else at the same moment. "
        "Save it again to replace theirs, or choose another name."
    )
    with Session(engine) as session:
        assert [(m.name, m.mapping_json) for m in list_mappings(session=session)] == [("Shop", MAPPING)]
