"""The map services beyond the access matrix: who sees which maps, refusals that write nothing, one transaction."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from journeymap.access import PermissionDenied
from journeymap.analysis.whatif import Fix
from journeymap.errors import UserInputError
from journeymap.model import Channel, ContextCarry, JourneyMap, Stage, Touchpoint, Transition, map_to_json
from journeymap.services import MapLocked, maps
from journeymap.store import StaleRevisionError
from journeymap.store import maps as store
from journeymap.store.access import UserAccount
from journeymap.store.reviews import Workshop
from tests.unit.services.world import World, sample_map

CLIENT = "tab-1"


def _keep_draft(world: World) -> None:
    maps.save_draft(
        world.engine,
        world.actors["editor"],
        map_id=world.shared_map,
        client_key=CLIENT,
        base_revision_id=world.ids["shared_revision"],
        journey_map=sample_map("Returns, edited"),
    )


def _draft_name(world: World) -> str | None:
    with Session(world.engine) as session:
        draft = store.get_draft(session=session, map_id=world.shared_map, client_key=CLIENT)
    return None if draft is None else draft.journey_map.name


def test_members_list_every_map_and_a_share_link_only_its_own(world: World) -> None:
    for person in ("owner", "editor", "viewer"):
        listed = maps.list_maps(world.engine, world.actors[person])
        assert [(m.id, m.name) for m in listed] == [(world.other_map, "Private plans"), (world.shared_map, "Returns")]
    shared = maps.list_maps(world.engine, world.actors["share_link"])
    assert [(m.id, m.name) for m in shared] == [(world.shared_map, "Returns")]
    assert maps.list_maps(world.engine, world.actors["share_link"], search="plans") == []
    with pytest.raises(PermissionDenied) as refused:
        maps.list_maps(world.engine, world.actors["signed_out"])
    assert str(refused.value) == (
        "Guest: visitors who are not signed in may not read the workspace. Sign in with an account that may do this."
    )


def test_a_revision_of_another_map_is_refused_to_a_share_link_before_it_is_read(world: World) -> None:
    visitor = world.actors["share_link"]
    assert maps.get_revision(world.engine, visitor, revision_id=world.ids["shared_revision"]).map_id == world.shared_map
    with pytest.raises(PermissionDenied):
        maps.get_revision(world.engine, visitor, revision_id=world.ids["other_revision"])
    with pytest.raises(PermissionDenied):  # an id that does not exist says nothing more than one of another map
        maps.get_revision(world.engine, visitor, revision_id=999)
    with pytest.raises(UserInputError, match="No saved revision with id 999"):
        maps.get_revision(world.engine, world.actors["viewer"], revision_id=999)


@pytest.mark.parametrize("person", ["viewer", "share_link", "signed_out"])
def test_a_refused_discard_keeps_the_browsers_draft(world: World, person: str) -> None:
    _keep_draft(world)
    before = world.rows()
    with pytest.raises(PermissionDenied):
        maps.discard_draft(world.engine, world.actors[person], map_id=world.shared_map, client_key=CLIENT)
    assert world.rows() == before
    assert _draft_name(world) == "Returns, edited"


def test_a_save_discards_the_draft_in_its_own_transaction(world: World) -> None:
    _keep_draft(world)
    saved = maps.save_revision(
        world.engine,
        world.actors["editor"],
        map_id=world.shared_map,
        journey_map=sample_map("Returns, edited"),
        base_revision_id=world.ids["shared_revision"],
        message="  ",
        client_key=CLIENT,
    )
    assert (saved.number, saved.author, saved.message) == (2, "Eddie", "Edited in the map editor")
    assert _draft_name(world) is None


def test_a_stale_save_writes_nothing_and_keeps_the_draft(world: World) -> None:
    editor, owner = world.actors["editor"], world.actors["owner"]
    base = world.ids["shared_revision"]
    theirs = maps.save_revision(
        world.engine, owner, map_id=world.shared_map, journey_map=sample_map("Theirs"), base_revision_id=base
    )
    _keep_draft(world)
    before = world.rows()
    with pytest.raises(StaleRevisionError) as refused:
        maps.save_revision(
            world.engine,
            editor,
            map_id=world.shared_map,
            journey_map=sample_map("Mine"),
            base_revision_id=base,
            client_key=CLIENT,
        )
    assert refused.value.latest is not None
    assert (refused.value.latest.id, refused.value.latest.author, refused.value.map_id) == (
        theirs.id,
        "Olive",
        world.shared_map,
    )
    assert world.rows() == before
    # Taking the newer revision as the base, the same edits save on top of it.
    mine = maps.save_revision(
        world.engine,
        editor,
        map_id=world.shared_map,
        journey_map=sample_map("Mine"),
        base_revision_id=theirs.id,
        client_key=CLIENT,
    )
    assert (mine.number, mine.parent_id, mine.journey_map.name) == (3, theirs.id, "Mine")


def test_a_map_locked_by_a_workshop_refuses_every_write_to_it(world: World) -> None:
    _keep_draft(world)
    with Session(world.engine) as session:
        session.exec(update(Workshop).where(col(Workshop.id) == world.workshop_id).values(locked=True))
        session.commit()
    before = world.rows()
    editor = world.actors["editor"]
    shared, base = world.shared_map, world.ids["shared_revision"]
    for write in (
        lambda: maps.save_revision(
            world.engine, editor, map_id=shared, journey_map=sample_map("Mine"), base_revision_id=base
        ),
        lambda: maps.restore_revision(world.engine, editor, map_id=shared, revision_id=base, base_revision_id=base),
        lambda: maps.discard_draft(world.engine, editor, map_id=shared, client_key=CLIENT),
        lambda: maps.archive_map(world.engine, editor, map_id=shared),
    ):
        with pytest.raises(MapLocked):
            write()
    assert world.rows() == before
    # The other map is not locked, and reading the locked one still works.
    assert maps.archive_map(world.engine, editor, map_id=world.other_map).archived is True
    assert maps.latest_revision(world.engine, world.actors["viewer"], map_id=shared).number == 1


def test_the_author_is_the_accounts_name_now(world: World) -> None:
    with Session(world.engine) as session:
        session.exec(update(UserAccount).where(col(UserAccount.id) == world.ids["editor"]).values(display_name="Ed"))
        session.commit()
    created = maps.create_blank_map(world.engine, world.actors["editor"], name="Claims")
    assert (created.author, maps.get_map(world.engine, world.actors["viewer"], map_id=created.map_id).owner) == (
        "Ed",
        "Ed",
    )


def test_a_removed_or_demoted_account_writes_nothing(world: World) -> None:
    with Session(world.engine) as session:
        session.exec(update(UserAccount).where(col(UserAccount.id) == world.ids["editor"]).values(role="viewer"))
        session.commit()
    before = world.rows()
    with pytest.raises(PermissionDenied, match="Eddie: viewers may not edit maps"):
        maps.create_blank_map(world.engine, world.actors["editor"], name="Claims")
    assert world.rows() == before


@pytest.mark.parametrize(
    ("create", "message"),
    [
        (
            lambda w: maps.create_from_template(
                w.engine, w.actors["editor"], template_id="retail-bopis", name="R" * 201
            ),
            "save map, field 'name': String should have at most 200 characters. "
            "Nothing was saved: shorten or correct that field and save again.",
        ),
        (
            lambda w: maps.create_blank_map(w.engine, w.actors["editor"], name="R" * 201),
            "new map, field 'name': String should have at most 200 characters. "
            "Give the map a name of 1 to 200 characters.",
        ),
        (
            lambda w: maps.create_blank_map(w.engine, w.actors["editor"], name="   "),
            "Map name: enter a name for the new map.",
        ),
        (
            lambda w: maps.import_new_map(w.engine, w.actors["editor"], content=b"{not json", file_name="broken.json"),
            "broken.json, line 1, column 2: is not valid JSON",
        ),
        (
            lambda w: maps.import_revision(
                w.engine,
                w.actors["editor"],
                map_id=w.shared_map,
                content=map_to_json(sample_map("R" * 10)).replace("R" * 10, "R" * 201).encode(),
                file_name="long.json",
                base_revision_id=w.ids["shared_revision"],
            ),
            "long.json, field 'name': String should have at most 200 characters",
        ),
    ],
    ids=["template name", "blank name", "empty name", "broken file", "long name in a file"],
)
def test_a_refused_create_or_import_names_the_field_and_writes_nothing(
    world: World, create: Callable[[World], object], message: str
) -> None:
    before = world.rows()
    with pytest.raises(UserInputError) as refused:
        create(world)
    assert str(refused.value).startswith(message)
    assert world.rows() == before


def _carry_map() -> JourneyMap:
    """Web (Digital), call center (Care) and app (Digital); the cart → help line → app loop, all partial or none."""
    return JourneyMap(
        name="Carry",
        stages=(Stage(id="buy", name="Buy"),),
        channels=(
            Channel(id="web", name="Website", owner_team="Digital"),
            Channel(id="call", name="Call center", owner_team="Care"),
            Channel(id="app", name="App", owner_team="Digital"),
        ),
        touchpoints=(
            Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
            Touchpoint(id="faq", name="FAQ", channel="web", stage="buy"),
            Touchpoint(id="help", name="Help line", channel="call", stage="buy"),
            Touchpoint(id="back", name="Call back", channel="call", stage="buy", owner="Billing"),
            Touchpoint(id="track", name="Tracking", channel="app", stage="buy"),
        ),
        transitions=(
            Transition(source="cart", target="help", context_carry=ContextCarry.NONE),
            Transition(source="faq", target="help", context_carry=ContextCarry.PARTIAL),
            Transition(source="cart", target="back", context_carry=ContextCarry.NONE),
            Transition(source="help", target="track", context_carry=ContextCarry.NONE),
            Transition(source="cart", target="faq", context_carry=ContextCarry.PARTIAL),
        ),
    )


def _carries(journey_map: JourneyMap) -> list[tuple[str, str, str]]:
    return [(t.source, t.target, t.context_carry.value) for t in journey_map.transitions]


@pytest.mark.parametrize(
    ("fixes", "carries", "message"),
    [
        (
            [Fix("channel", "web", "call", "Website → Call center (channel switch)")],
            ["full", "full", "full", "none", "partial"],
            "Website → Call center (channel switch) (3 designed transitions set to full)",
        ),
        (  # the team of "back" is its own owner, Billing: only cart → help crosses Digital → Care
            [Fix("team", "digital", "CARE", "digital → CARE (team handoff)")],
            ["full", "full", "none", "none", "partial"],
            "digital → CARE (team handoff) (2 designed transitions set to full)",
        ),
        (
            [
                Fix("transition", "help", "track", "Help line → Tracking"),
                Fix("transition", "cart", "faq", "Cart → FAQ"),
            ],
            ["none", "partial", "none", "full", "full"],
            "Help line → Tracking; Cart → FAQ (2 designed transitions set to full)",
        ),
    ],
)
def test_the_to_be_map_carries_the_context_in_full_across_exactly_the_fixed_handoffs(
    world: World, fixes: list[Fix], carries: list[str], message: str
) -> None:
    editor = world.actors["editor"]
    first = maps.import_new_map(world.engine, editor, content=map_to_json(_carry_map()).encode(), file_name="c.json")
    saved = maps.save_to_be_map(world.engine, editor, map_id=first.map_id, base_revision_id=first.id, fixes=fixes)
    stored = maps.latest_revision(world.engine, editor, map_id=first.map_id)
    assert (stored.id, stored.number, stored.message) == (
        saved.id,
        2,
        f"To-be map: context carried in full across {message}",
    )
    assert _carries(stored.journey_map) == [
        (t.source, t.target, c) for t, c in zip(_carry_map().transitions, carries, strict=True)
    ]
    assert stored.journey_map.model_copy(update={"transitions": _carry_map().transitions}) == _carry_map()


def test_a_to_be_map_is_refused_without_a_designed_transition_or_on_a_stale_revision(world: World) -> None:
    editor = world.actors["editor"]
    first = maps.import_new_map(world.engine, editor, content=map_to_json(_carry_map()).encode(), file_name="c.json")
    before = world.rows()
    with pytest.raises(UserInputError) as refused:
        maps.save_to_be_map(
            world.engine,
            editor,
            map_id=first.map_id,
            base_revision_id=first.id,
            fixes=[
                Fix("channel", "web", "call", "Website → Call center (channel switch)"),
                Fix("channel", "app", "web", "App → Website (channel switch)"),
            ],
        )
    assert str(refused.value) == (
        "handoff App → Website (channel switch): the map designs no transition across it, so there is no context "
        "carry to set. Add the transition in the map editor first, or leave this handoff out."
    )
    assert world.rows() == before  # the first fix alone would have saved: nothing is written
    fix = [Fix("transition", "cart", "faq", "Cart → FAQ")]
    maps.save_to_be_map(world.engine, editor, map_id=first.map_id, base_revision_id=first.id, fixes=fix)
    after_one = world.rows()
    assert after_one != before
    with pytest.raises(StaleRevisionError):
        maps.save_to_be_map(world.engine, editor, map_id=first.map_id, base_revision_id=first.id, fixes=fix)
    assert world.rows() == after_one
