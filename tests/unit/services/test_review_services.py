"""The review, share-link and workshop services beyond who may call them: what a join code or a token opens,
one voter per name, ranking, and refusals that leave every row as it was."""

from __future__ import annotations

import pytest

from journeymap.access import Actor, PermissionDenied, Role
from journeymap.errors import UserInputError
from journeymap.services import reviews
from tests.unit.services.world import JOIN_CODE, SHARE_TOKEN, World, add_assessment

GUEST = Actor("Guest", Role.GUEST)


def _item(world: World, who: str, text: str, code: str = JOIN_CODE) -> int:
    return reviews.add_workshop_item(
        world.engine, GUEST, join_code=code, participant=who, touchpoint_id="pay", kind="idea", text=text
    ).id


def test_names_that_differ_in_case_or_spacing_are_one_voter(world: World) -> None:
    item = _item(world, "Pat", "Pay by invoice")
    votes = [
        reviews.vote(world.engine, GUEST, join_code=JOIN_CODE, participant=name, item_id=item)
        for name in ("ana", "Ana", " ANA ", "Bo")
    ]
    assert votes == [True, False, False, True]
    board = reviews.workshop_board(world.engine, GUEST, join_code=JOIN_CODE)
    assert [(i.text, i.votes) for i in board.items] == [("Pay by invoice", 2)]


def test_the_board_ranks_items_by_votes(world: World) -> None:
    first, second, third = (_item(world, "Pat", text) for text in ("One", "Two", "Three"))
    for name, item in (("a", third), ("b", third), ("a", second)):
        reviews.vote(world.engine, GUEST, join_code=JOIN_CODE, participant=name, item_id=item)
    board = reviews.workshop_board(world.engine, GUEST, join_code=JOIN_CODE)
    assert [(i.id, i.votes) for i in board.items] == [(third, 2), (second, 1), (first, 0)]


def test_a_join_code_opens_only_its_own_workshops_items(world: World) -> None:
    other = reviews.start_workshop(world.engine, world.actors["editor"], map_id=world.other_map, title="Other")
    item = _item(world, "Pat", "Elsewhere", code=other.join_code)
    before = world.rows()
    with pytest.raises(reviews.NotAdmitted, match=f"item {item} is not part of the workshop '{JOIN_CODE}'"):
        reviews.vote(world.engine, GUEST, join_code=JOIN_CODE, participant="Bo", item_id=item)
    assert world.rows() == before


def test_a_closed_workshop_refuses_its_participants_and_writes_nothing(world: World) -> None:
    item = _item(world, "Pat", "Late")
    reviews.close_workshop(world.engine, world.actors["owner"], workshop_id=world.workshop_id)
    before = world.rows()
    with pytest.raises(reviews.NotAdmitted, match=f"the workshop '{JOIN_CODE}' is closed"):
        reviews.vote(world.engine, GUEST, join_code=JOIN_CODE, participant="Bo", item_id=item)
    with pytest.raises(reviews.NotAdmitted, match="is closed"):
        _item(world, "Pat", "Later")
    assert world.rows() == before


def test_an_item_is_promoted_once(world: World) -> None:
    item = _item(world, "Pat", "Card refused")
    editor = world.actors["editor"]
    created = reviews.promote_to_opportunity(world.engine, editor, item_id=item)
    assert (created.title, created.created_by) == ("Card refused", "Eddie")
    before = world.rows()
    with pytest.raises(UserInputError, match="'Card refused' was already promoted to opportunity"):
        reviews.promote_to_pain_point(world.engine, editor, item_id=item)
    assert world.rows() == before


def test_a_revoked_share_link_opens_nothing(world: World) -> None:
    (link,) = reviews.list_share_links(world.engine, world.actors["owner"], map_id=world.shared_map)
    reviews.revoke_share_link(world.engine, world.actors["owner"], link_id=link.id)
    with pytest.raises(reviews.NotAdmitted, match="share link: this share link was revoked on .* Ask the person"):
        reviews.open_share_link(world.engine, GUEST, token=SHARE_TOKEN)


def test_a_report_names_a_revision_of_another_map_instead_of_exporting_it(world: World) -> None:
    visitor = world.actors["share_link"]
    with pytest.raises(UserInputError, match="revision .* belongs to another map"):
        reviews.export_report(world.engine, visitor, map_id=world.shared_map, revision_id=world.ids["other_revision"])


def test_a_share_link_visitor_exports_without_workspace_assessments(world: World) -> None:
    assessment = add_assessment(world)
    visitor = world.actors["share_link"]
    with pytest.raises(PermissionDenied, match="share-link visitors may not read the workspace"):
        reviews.export_report(
            world.engine,
            visitor,
            map_id=world.shared_map,
            revision_id=world.ids["shared_revision"],
            assessment_id=assessment,
        )
    report = reviews.export_report(
        world.engine,
        world.actors["viewer"],
        map_id=world.shared_map,
        revision_id=world.ids["shared_revision"],
        assessment_id=assessment,
    )
    assert report.assessment is not None and report.assessment.name == "Q3 review"
