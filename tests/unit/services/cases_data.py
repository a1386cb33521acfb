"""Access matrix rows of the event-data services (``journeymap.services.data``).

Files the services read or write live in a folder beside the world's database, which is also the
one data root: every call sets the environment to it for its duration.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from journeymap.access import Actor
from journeymap.services import data
from journeymap.store import latest_revision, list_datasets, list_mappings, session_scope
from tests.unit.services.cases import EDITORS, EVERYONE, MEMBERS, Case
from tests.unit.services.world import World

# Cart → Payment on the web, then a call: the sample map's touchpoints and channels; "Read FAQ" is not on it.
EVENTS = (
    "customer_id,timestamp,channel,activity\n"
    "c1,2024-05-01T09:00:00Z,web,cart\n"
    "c1,2024-05-01T09:05:00Z,web,pay\n"
    "c1,2024-05-01T10:00:00Z,call,phone\n"
    "c2,2024-05-01T11:00:00Z,web,cart\n"
    "c2,2024-05-01T11:10:00Z,web,Read FAQ\n"
)
MAPPING = '{"customer_ids": ["customer_id"], "timestamp": "timestamp", "channel": "channel", "touchpoint": "activity"}'


def data_folder(world: World) -> Path:
    return world.path.parent / "data"


@contextmanager
def in_data_folder(world: World) -> Iterator[Path]:
    """The environment of a server whose data folder (and only data root) is beside the world's database."""
    folder = data_folder(world)
    folder.mkdir(exist_ok=True)
    saved = {name: os.environ.get(name) for name in ("JOURNEYMAP_DATA_DIR", "JOURNEYMAP_DATA_ROOTS", "JOURNEYMAP_DB")}
    os.environ.update(JOURNEYMAP_DATA_DIR=str(folder), JOURNEYMAP_DATA_ROOTS=str(folder), JOURNEYMAP_DB=str(world.path))
    try:
        yield folder
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def events_file(folder: Path) -> Path:
    path = folder / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return path


def source_in(folder: Path) -> data.RawSource:
    path = events_file(folder)
    return data.RawSource(str(path), path.name, data.hash_file(path))


def _with_files(call: Callable[[World, Actor, Path], Any]) -> Callable[[World, Actor], Any]:
    def run(world: World, actor: Actor) -> Any:
        with in_data_folder(world) as folder:
            return call(world, actor, folder)

    return run


def _store_upload(world: World, actor: Actor, folder: Path) -> Any:
    return data.store_upload(world.engine, actor, upload=io.BytesIO(EVENTS.encode()), name="events.csv", size=1)


def _stored(world: World, source: data.RawSource) -> None:
    assert source.content_hash == hashlib.sha256(EVENTS.encode()).hexdigest()
    assert Path(source.path) == data_folder(world) / "uploads" / f"{source.content_hash[:32]}.csv"


def _read_server_file(world: World, actor: Actor, folder: Path) -> Any:
    return data.read_server_file(world.engine, actor, path=str(events_file(folder)))


def _read(world: World, source: data.RawSource) -> None:
    assert (source.name, source.content_hash) == ("events.csv", hashlib.sha256(EVENTS.encode()).hexdigest())


def _save_mapping(world: World, actor: Actor, folder: Path) -> Any:
    return data.save_mapping(
        world.engine, actor, name="Shop", mapping_json=MAPPING, source_columns=["customer_id", "timestamp"]
    )


def _mapping_saved(world: World, result: Any) -> None:
    with session_scope(world.engine) as session:
        assert [(m.name, m.mapping_json) for m in list_mappings(session=session)] == [("Shop", MAPPING)]


def _apply(world: World, actor: Actor, folder: Path) -> Any:
    return data.apply_mapping(
        world.engine,
        actor,
        source=source_in(folder),
        mapping_json=MAPPING,
        map_id=world.shared_map,
        base_revision_id=world.ids["shared_revision"],
        save_as="Shop",
    )


def _applied(world: World, applied: data.Applied) -> None:
    with session_scope(world.engine) as session:
        (dataset,) = list_datasets(session=session)
        names = [m.name for m in list_mappings(session=session)]
    assert (applied.dataset_id, applied.map_id, applied.revision_id) == (
        dataset.id,
        world.shared_map,
        world.ids["shared_revision"],
    )
    assert (dataset.rows, dataset.customers, dataset.map_id, names) == (5, 2, world.shared_map, ["Shop"])
    assert Path(dataset.cache_path).is_file()


def _apply_creating(world: World, actor: Actor, folder: Path) -> Any:
    return data.apply_mapping(
        world.engine,
        actor,
        source=source_in(folder),
        mapping_json=MAPPING,
        map_id=world.other_map,
        base_revision_id=world.ids["other_revision"],
        new_touchpoints=data.NewTouchpoints(("Read FAQ",), "help", "web"),
    )


def _created(world: World, applied: data.Applied) -> None:
    with session_scope(world.engine) as session:
        latest = latest_revision(session=session, map_id=world.other_map)
    assert (latest.number, applied.revision_id) == (2, latest.id)
    faq = latest.journey_map.touchpoint("read-faq")
    assert (faq.name, faq.channel, faq.stage) == ("Read FAQ", "web", "help")


def _use_demo(world: World, actor: Actor, folder: Path) -> Any:
    return data.use_demo(world.engine, actor)


def _demo(world: World, applied: data.Applied) -> None:
    with session_scope(world.engine) as session:
        (dataset,) = list_datasets(session=session)
        demo = latest_revision(session=session, map_id=applied.map_id)
    assert (dataset.id, dataset.name, dataset.map_id) == (applied.dataset_id, data.DEMO_EVENTS.name, applied.map_id)
    assert demo.journey_map.name == "Retail: buy online, pick up in store"


def _equals(expected: Any) -> Callable[[World, Any], None]:
    def check(world: World, result: Any) -> None:
        assert result == expected

    return check


def _names(expected: list[str]) -> Callable[[World, Any], None]:
    def check(world: World, result: Any) -> None:
        assert [m.name for m in result] == expected

    return check


CASES = [
    Case("data.store_upload", _with_files(_store_upload), EDITORS, check=_stored),
    Case("data.read_server_file", _with_files(_read_server_file), EDITORS, check=_read),
    Case("data.save_mapping", _with_files(_save_mapping), EDITORS, check=_mapping_saved),
    Case("data.apply_mapping", _with_files(_apply), EDITORS, "shared map", check=_applied),
    Case("data.apply_mapping", _with_files(_apply_creating), EDITORS, "create touchpoints", check=_created),
    Case("data.use_demo", _with_files(_use_demo), EDITORS, check=_demo),
    Case("data.overlay_maps", lambda w, a: data.overlay_maps(w.engine, a), MEMBERS,
         check=_names(["Private plans", "Returns"])),
    Case("data.overlay_revision", lambda w, a: data.overlay_revision(w.engine, a, map_id=w.shared_map),
         MEMBERS | {"share_link"}, "shared map", check=lambda w, r: _equals(w.ids["shared_revision"])(w, r.id)),
    Case("data.overlay_revision", lambda w, a: data.overlay_revision(w.engine, a, map_id=w.other_map),
         MEMBERS, "other map", check=lambda w, r: _equals(w.ids["other_revision"])(w, r.id)),
    Case("data.list_datasets", lambda w, a: data.list_datasets(w.engine, a), MEMBERS, check=_equals([])),
    Case("data.get_dataset", lambda w, a: _missing_dataset(w, a), MEMBERS, check=_equals("no dataset 99")),
    Case("data.newest_dataset_of_map", lambda w, a: data.newest_dataset_of_map(w.engine, a, map_id=w.shared_map),
         MEMBERS | {"share_link"}, "shared map", check=_equals(None)),
    Case("data.newest_dataset_of_map", lambda w, a: data.newest_dataset_of_map(w.engine, a, map_id=w.other_map),
         MEMBERS, "other map", check=_equals(None)),
    Case("data.list_mappings", lambda w, a: data.list_mappings(w.engine, a), MEMBERS, check=_equals([])),
    Case("data.find_saved_mapping", lambda w, a: data.find_saved_mapping(w.engine, a, columns=["a"]), MEMBERS,
         check=_equals(None)),
]  # fmt: skip
assert all(case.allowed <= EVERYONE for case in CASES)


def _missing_dataset(world: World, actor: Actor) -> str:
    """Allowed people get as far as the look-up (the world has no dataset): the store's own refusal."""
    from journeymap.errors import UserInputError

    try:
        data.get_dataset(world.engine, actor, dataset_id=99)
    except UserInputError as exc:
        if type(exc) is not UserInputError:
            raise  # a PermissionDenied is the matrix's to see
        assert str(exc).startswith("No registered dataset with id 99")
        return "no dataset 99"
    raise AssertionError("dataset 99 was found")
