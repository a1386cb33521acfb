"""Access rows of the map services: editors write, members read, a share link reads its one map."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from journeymap.access import Actor
from journeymap.analysis.whatif import Fix
from journeymap.model import map_to_json
from journeymap.services import maps
from journeymap.store import MapSummary, Revision
from journeymap.store import maps as store
from tests.unit.services.cases import EDITORS, MEMBERS, Case
from tests.unit.services.world import World, sample_map

READERS_OF_SHARED = MEMBERS | {"share_link"}
CLIENT = "tab-1"


def _stored(world: World, revision: Revision) -> Revision:
    with Session(world.engine) as session:
        return store.latest_revision(session=session, map_id=revision.map_id)


def _saved_by_an_editor(message: str, *, number: int, name: str) -> Any:
    """A check: the result is the map's latest revision as stored, by the acting editor, with ``message``."""

    def check(world: World, revision: Revision) -> None:
        stored = _stored(world, revision)
        assert (stored.id, stored.number, stored.author, stored.message) == (
            revision.id,
            number,
            revision.author,
            message,
        )
        assert revision.author in {"Olive", "Eddie"}  # the actor's name, never a name typed on a page
        assert stored.journey_map.name == name

    return check


def _revision_of(key: str, *, number: int, name: str) -> Any:
    def check(world: World, revision: Revision) -> None:
        assert (revision.id, revision.number, revision.journey_map) == (world.ids[key], number, sample_map(name))

    return check


def _summary_of(map_key: str, name: str) -> Any:
    def check(world: World, summary: MapSummary) -> None:
        assert (summary.id, summary.name, summary.revision_count) == (world.ids[map_key], name, 1)

    return check


def _draft_kept(world: World, draft: store.Draft) -> None:
    with Session(world.engine) as session:
        stored = store.get_draft(session=session, map_id=world.shared_map, client_key=CLIENT)
    assert stored is not None and stored.journey_map == sample_map("Returns, edited")
    assert draft.base_revision_id == world.ids["shared_revision"]


def _draft_gone(world: World, latest: Revision) -> None:
    assert (latest.id, latest.number) == (world.ids["shared_revision"], 1)
    with Session(world.engine) as session:
        assert store.get_draft(session=session, map_id=world.shared_map, client_key=CLIENT) is None


def _archived(world: World, summary: MapSummary) -> None:
    assert (summary.id, summary.archived) == (world.other_map, True)
    with Session(world.engine) as session:
        assert [m.id for m in store.list_maps(session=session)] == [world.shared_map]


def _listed(world: World, listed: list[MapSummary]) -> None:
    # Members see both maps, a share link only its own (each is asserted exactly in test_maps_services.py).
    assert [m.id for m in listed] in ([world.other_map, world.shared_map], [world.shared_map])


def _history(map_key: str) -> Any:
    def check(world: World, history: list[store.RevisionInfo]) -> None:
        assert [(r.id, r.number, r.author) for r in history] == [(world.ids[map_key], 1, "Olive")]

    return check


def _working_copy(world: World, opened: maps.WorkingCopy) -> None:
    assert (opened.latest.id, opened.draft, opened.draft_problem) == (world.ids["shared_revision"], None, None)


def _overview(world: World, overview: maps.WorkspaceOverview) -> None:
    assert sorted(m.name for m in overview.maps) == ["Private plans", "Returns"]
    assert (dict(overview.newest_datasets), overview.maturity, overview.maturity_problem) == ({}, None, None)


def _map_call(name: str, map_key: str, **extra: Any) -> Any:
    def call(world: World, actor: Actor) -> Any:
        return getattr(maps, name)(world.engine, actor, map_id=world.ids[map_key], **extra)

    return call


CASES = [
    Case(
        "maps.create_blank_map",
        lambda w, a: maps.create_blank_map(w.engine, a, name="Claims"),
        EDITORS,
        check=_saved_by_an_editor("Created from scratch", number=1, name="Claims"),
    ),
    Case(
        "maps.create_from_template",
        lambda w, a: maps.create_from_template(w.engine, a, template_id="retail-bopis", name="Our retail"),
        EDITORS,
        check=_saved_by_an_editor(
            "Created from the 'Retail: buy online, pick up in store' template", number=1, name="Our retail"
        ),
    ),
    Case(
        "maps.import_new_map",
        lambda w, a: maps.import_new_map(
            w.engine, a, content=map_to_json(sample_map("Imported")).encode(), file_name="imported.json"
        ),
        EDITORS,
        check=_saved_by_an_editor("Imported from imported.json", number=1, name="Imported"),
    ),
    Case(
        "maps.save_revision",
        lambda w, a: maps.save_revision(
            w.engine,
            a,
            map_id=w.shared_map,
            journey_map=sample_map("Returns v2"),
            base_revision_id=w.ids["shared_revision"],
            message="Renamed",
            client_key=CLIENT,
        ),
        EDITORS,
        check=_saved_by_an_editor("Renamed", number=2, name="Returns v2"),
    ),
    Case(
        "maps.import_revision",
        lambda w, a: maps.import_revision(
            w.engine,
            a,
            map_id=w.other_map,
            content=map_to_json(sample_map("Plans v2")).encode(),
            file_name="v2.json",
            base_revision_id=w.ids["other_revision"],
        ),
        EDITORS,
        check=_saved_by_an_editor("Imported from v2.json", number=2, name="Plans v2"),
    ),
    Case(
        "maps.restore_revision",
        lambda w, a: maps.restore_revision(
            w.engine,
            a,
            map_id=w.shared_map,
            revision_id=w.ids["shared_revision"],
            base_revision_id=w.ids["shared_revision"],
        ),
        EDITORS,
        check=_saved_by_an_editor("Restored revision 1", number=2, name="Returns"),
    ),
    Case(
        "maps.save_to_be_map",
        lambda w, a: maps.save_to_be_map(
            w.engine,
            a,
            map_id=w.shared_map,
            base_revision_id=w.ids["shared_revision"],
            fixes=[Fix("channel", "web", "call", "Website → Call center (channel switch)")],
        ),
        EDITORS,
        check=_saved_by_an_editor(
            "To-be map: context carried in full across Website → Call center (channel switch) "
            "(1 designed transition set to full)",
            number=2,
            name="Returns",
        ),
    ),
    Case("maps.archive_map", _map_call("archive_map", "other_map"), EDITORS, check=_archived),
    Case(
        "maps.save_draft",
        lambda w, a: maps.save_draft(
            w.engine,
            a,
            map_id=w.shared_map,
            client_key=CLIENT,
            base_revision_id=w.ids["shared_revision"],
            journey_map=sample_map("Returns, edited"),
        ),
        EDITORS,
        check=_draft_kept,
    ),
    Case("maps.discard_draft", _map_call("discard_draft", "shared_map", client_key=CLIENT), EDITORS, check=_draft_gone),
    Case(
        "maps.open_for_editing",
        _map_call("open_for_editing", "shared_map", client_key=CLIENT),
        READERS_OF_SHARED,
        variant="shared map",
        check=_working_copy,
    ),
    Case(
        "maps.open_for_editing",
        _map_call("open_for_editing", "other_map", client_key=CLIENT),
        MEMBERS,
        variant="other map",
    ),
    Case("maps.list_maps", lambda w, a: maps.list_maps(w.engine, a), READERS_OF_SHARED, check=_listed),
    Case(
        "maps.get_map",
        _map_call("get_map", "shared_map"),
        READERS_OF_SHARED,
        variant="shared map",
        check=_summary_of("shared_map", "Returns"),
    ),
    Case(
        "maps.get_map",
        _map_call("get_map", "other_map"),
        MEMBERS,
        variant="other map",
        check=_summary_of("other_map", "Private plans"),
    ),
    Case(
        "maps.latest_revision",
        _map_call("latest_revision", "shared_map"),
        READERS_OF_SHARED,
        variant="shared map",
        check=_revision_of("shared_revision", number=1, name="Returns"),
    ),
    Case(
        "maps.latest_revision",
        _map_call("latest_revision", "other_map"),
        MEMBERS,
        variant="other map",
        check=_revision_of("other_revision", number=1, name="Private plans"),
    ),
    Case(
        "maps.last_readable_revision",
        _map_call("last_readable_revision", "shared_map"),
        READERS_OF_SHARED,
        variant="shared map",
        check=_revision_of("shared_revision", number=1, name="Returns"),
    ),
    Case(
        "maps.last_readable_revision",
        _map_call("last_readable_revision", "other_map"),
        MEMBERS,
        variant="other map",
        check=_revision_of("other_revision", number=1, name="Private plans"),
    ),
    Case(
        "maps.get_revision",
        lambda w, a: maps.get_revision(w.engine, a, revision_id=w.ids["shared_revision"]),
        READERS_OF_SHARED,
        variant="shared map",
        check=_revision_of("shared_revision", number=1, name="Returns"),
    ),
    Case(
        "maps.get_revision",
        lambda w, a: maps.get_revision(w.engine, a, revision_id=w.ids["other_revision"]),
        MEMBERS,
        variant="other map",
        check=_revision_of("other_revision", number=1, name="Private plans"),
    ),
    Case(
        "maps.list_revisions",
        _map_call("list_revisions", "shared_map"),
        READERS_OF_SHARED,
        variant="shared map",
        check=_history("shared_revision"),
    ),
    Case(
        "maps.list_revisions",
        _map_call("list_revisions", "other_map"),
        MEMBERS,
        variant="other map",
        check=_history("other_revision"),
    ),
    Case("maps.workspace_overview", lambda w, a: maps.workspace_overview(w.engine, a), MEMBERS, check=_overview),
]
