"""Access rows of the review, share-link and workshop services (``journeymap.services.reviews``).

Some rows need a comment, an opportunity or a workshop item that the world does not hold: ``_seeded``
writes it first, and when the call is refused it checks that the refusal changed nothing (every row
as it was after the seed) before it takes the seed away again, so the matrix then finds the world
exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from journeymap.access import Actor, PermissionDenied, Role, hash_token
from journeymap.services import reviews
from journeymap.store import get_revision, latest_revision
from journeymap.store import reviews as store
from journeymap.store.access import ShareLink
from journeymap.store.reviews import (
    Comment,
    ItemKind,
    Opportunity,
    OpportunityStatus,
    Workshop,
    WorkshopItem,
    WorkshopVote,
)
from tests.unit.services.cases import EDITORS, EVERYONE, MEMBERS, NOBODY, Case
from tests.unit.services.world import JOIN_CODE, SHARE_TOKEN, World

MAP_READERS = MEMBERS | {"share_link"}
OLIVE = Actor("Olive", Role.OWNER)
VERA = Actor("Vera", Role.VIEWER)

Seed = Callable[[Session, World], dict[str, int]]


def _seeded(seed: Seed, call: Callable[[World, Actor, dict[str, int]], Any]) -> Callable[[World, Actor], Any]:
    def run(world: World, actor: Actor) -> Any:
        with Session(world.engine) as session:
            ids = seed(session, world)
            session.commit()
        seeded = world.rows()
        try:
            return call(world, actor, ids)
        except PermissionDenied:
            assert world.rows() == seeded  # the refusal wrote nothing, not even to the seed
            _unseed(world)
            raise

    return run


def _unseed(world: World) -> None:
    """Remove every review row the seeds write (the world starts with none but its workshop)."""
    with Session(world.engine) as session:
        for table in (WorkshopVote, WorkshopItem, Opportunity, Comment):
            for row in session.exec(select(table)).all():
                session.delete(row)
            session.flush()
        workshop = session.get(Workshop, world.workshop_id)
        assert workshop is not None
        workshop.locked = workshop.closed = False
        session.add(workshop)
        session.commit()


def _comment_by(author: Actor) -> Seed:
    def seed(session: Session, world: World) -> dict[str, int]:
        note = store.add_comment(session=session, actor=author, map_id=world.shared_map, body="Too many steps")
        return {"comment": note.id}

    return seed


def _opportunity(session: Session, world: World) -> dict[str, int]:
    found = store.add_opportunity(session=session, actor=OLIVE, map_id=world.shared_map, title="Tell the desk")
    return {"opportunity": found.id}


def _item(session: Session, world: World) -> dict[str, int]:
    item = store.add_workshop_item(
        session=session,
        workshop_id=world.workshop_id,
        participant="Pat",
        touchpoint_id="pay",
        kind=ItemKind.PAIN_POINT,
        text="Card refused twice",
    )
    return {"item": item.id}


def _locked_item(session: Session, world: World) -> dict[str, int]:
    ids = _item(session, world)
    store.set_workshop_locked(session=session, workshop_id=world.workshop_id, locked=True)
    return ids


def _closed(session: Session, world: World) -> dict[str, int]:
    store.set_workshop_closed(session=session, workshop_id=world.workshop_id)
    return {}


def _read(world: World, build: Callable[[Session], Any]) -> Any:
    with Session(world.engine) as session:
        return build(session)


# --- checks on what was returned or written ---------------------------------------------------------------


def _comments_listed(world: World, result: Any) -> None:
    assert result == []


def _comment_written(world: World, result: Any) -> None:
    (row,) = _read(world, lambda s: store.list_comments(session=s, map_id=world.shared_map))
    assert (row.id, row.author, row.body, row.target_id) == (result.id, result.author, "Hard to find", "pay")
    assert result.author in {"Olive", "Eddie", "Vera"}


def _resolved(world: World, result: Any) -> None:
    row = _read(world, lambda s: store.get_comment(session=s, comment_id=result.id))
    assert row.resolved and row.resolved_by == result.resolved_by != ""


def _deleted(world: World, result: Any) -> None:
    assert result == 1
    assert _read(world, lambda s: store.list_comments(session=s, map_id=world.shared_map)) == []


def _opportunity_written(world: World, result: Any) -> None:
    (row,) = _read(world, lambda s: store.list_opportunities(session=s, map_id=world.shared_map))
    assert (row.title, row.touchpoint_id, row.created_by) == ("Show the order number", "pay", result.created_by)
    assert result.created_by in {"Olive", "Eddie"}


def _opportunity_moved(world: World, result: Any) -> None:
    row = _read(world, lambda s: store.get_opportunity(session=s, opportunity_id=result.id))
    assert (row.status, row.owner) == (OpportunityStatus.IN_PROGRESS, "Care")


def _link_opens_the_map(world: World, result: Any) -> None:
    token, info = result
    assert info.map_id == world.shared_map
    opened = _read(world, lambda s: s.exec(select(ShareLink).where(ShareLink.token_hash == hash_token(token))).one())
    assert opened.map_id == world.shared_map and opened.created_by in {"Olive", "Eddie"}


def _one_link(world: World, result: Any) -> None:
    assert [(link.map_id, link.created_by) for link in result] == [(world.shared_map, "Olive")]


def _revoked(world: World, result: Any) -> None:
    row = _read(world, lambda s: s.get(ShareLink, result.id))
    assert row.revoked_at is not None and row.revoked_by in {"Olive", "Eddie"}


def _share_visitor(world: World, result: Any) -> None:
    assert result == reviews.SharedMap(
        map_id=world.shared_map,
        shared_by="Olive",
        actor=Actor("Share link", Role.GUEST, map_scope=world.shared_map),
    )


def _running(world: World, result: Any) -> None:
    assert [(w.id, w.join_code, w.locked) for w in result] == [(world.workshop_id, JOIN_CODE, False)]


def _started(world: World, result: Any) -> None:
    row = _read(world, lambda s: store.get_workshop(session=s, workshop_id=result.id))
    assert (row.map_id, row.title, row.facilitator) == (world.other_map, "Planning", result.facilitator)
    assert result.facilitator in {"Olive", "Eddie"}


def _locked(world: World, result: Any) -> None:
    assert _read(world, lambda s: store.is_locked(session=s, map_id=world.shared_map)) is True


def _closed_now(world: World, result: Any) -> None:
    assert _read(world, lambda s: store.get_workshop(session=s, workshop_id=world.workshop_id)).closed is True


def _joined(world: World, result: Any) -> None:
    assert (result.id, result.join_code) == (world.workshop_id, JOIN_CODE)


def _board(world: World, result: Any) -> None:
    assert (result.workshop.id, result.journey_map.name, result.items, result.activity) == (
        world.workshop_id,
        "Returns",
        [],
        [],
    )


def _item_written(world: World, result: Any) -> None:
    (row,) = _read(world, lambda s: store.list_workshop_items(session=s, workshop_id=world.workshop_id))
    assert (row.id, row.participant, row.touchpoint_id, row.kind, row.text) == (
        result.id,
        "Pat",
        "cart",
        ItemKind.IDEA,
        "Save the cart",
    )


def _voted(world: World, result: Any) -> None:
    assert result is True
    (row,) = _read(world, lambda s: store.list_workshop_items(session=s, workshop_id=world.workshop_id))
    assert row.votes == 1


def _promoted_opportunity(world: World, result: Any) -> None:
    (row,) = _read(world, lambda s: store.list_opportunities(session=s, map_id=world.shared_map))
    assert (row.id, row.title, row.touchpoint_id, row.source) == (
        result.id,
        "Card refused twice",
        "pay",
        f"workshop {JOIN_CODE}",
    )


def _promoted_pain_point(world: World, result: Any) -> None:
    latest = _read(world, lambda s: latest_revision(session=s, map_id=world.shared_map))
    assert (latest.id, latest.number, latest.author) == (result.id, 2, result.author)
    assert result.author in {"Olive", "Eddie"}
    assert latest.journey_map.touchpoint("pay").pain_points == ("Card refused twice",)


def _report_of(map_key: str) -> Callable[[World, Any], None]:
    def check(world: World, result: Any) -> None:
        revision = _read(world, lambda s: get_revision(session=s, revision_id=world.ids[f"{map_key}_revision"]))
        assert (result.revision.id, result.revision.journey_map) == (revision.id, revision.journey_map)
        assert (result.opportunities, result.comments, result.dataset, result.assessment) == ([], [], None, None)

    return check


def _link_id(world: World) -> int:
    link_id = _read(world, lambda s: s.exec(select(ShareLink.id)).one())
    assert isinstance(link_id, int)
    return link_id


CASES = [
    # comments
    Case(
        "reviews.list_comments",
        lambda w, a: reviews.list_comments(w.engine, a, map_id=w.shared_map),
        MAP_READERS,
        "shared map",
        _comments_listed,
    ),
    Case(
        "reviews.list_comments",
        lambda w, a: reviews.list_comments(w.engine, a, map_id=w.other_map),
        MEMBERS,
        "other map",
        _comments_listed,
    ),
    Case(
        "reviews.add_comment",
        lambda w, a: reviews.add_comment(
            w.engine,
            a,
            map_id=w.shared_map,
            body="Hard to find",
            target_kind=store.TargetKind.TOUCHPOINT,
            target_id="pay",
        ),
        MEMBERS,
        check=_comment_written,
    ),
    Case(
        "reviews.resolve_comment",
        _seeded(_comment_by(VERA), lambda w, a, ids: reviews.resolve_comment(w.engine, a, comment_id=ids["comment"])),
        MEMBERS,
        "the viewer's own comment",
        _resolved,
    ),
    Case(
        "reviews.resolve_comment",
        _seeded(_comment_by(OLIVE), lambda w, a, ids: reviews.resolve_comment(w.engine, a, comment_id=ids["comment"])),
        EDITORS,
        "the owner's comment",
        _resolved,
    ),
    Case(
        "reviews.delete_comment",
        _seeded(_comment_by(VERA), lambda w, a, ids: reviews.delete_comment(w.engine, a, comment_id=ids["comment"])),
        EDITORS,
        check=_deleted,
    ),
    # opportunities
    Case(
        "reviews.list_opportunities",
        lambda w, a: reviews.list_opportunities(w.engine, a, map_id=w.shared_map),
        MAP_READERS,
        "shared map",
        _comments_listed,
    ),
    Case(
        "reviews.list_opportunities",
        lambda w, a: reviews.list_opportunities(w.engine, a, map_id=w.other_map),
        MEMBERS,
        "other map",
        _comments_listed,
    ),
    Case(
        "reviews.add_opportunity",
        lambda w, a: reviews.add_opportunity(
            w.engine, a, map_id=w.shared_map, title="Show the order number", touchpoint_id="pay"
        ),
        EDITORS,
        check=_opportunity_written,
    ),
    Case(
        "reviews.update_opportunity",
        _seeded(
            _opportunity,
            lambda w, a, ids: reviews.update_opportunity(
                w.engine, a, opportunity_id=ids["opportunity"], status="in progress", owner="Care"
            ),
        ),
        EDITORS,
        check=_opportunity_moved,
    ),
    # share links
    Case(
        "reviews.create_share_link",
        lambda w, a: reviews.create_share_link(w.engine, a, map_id=w.shared_map, label="Board"),
        EDITORS,
        check=_link_opens_the_map,
    ),
    Case(
        "reviews.list_share_links",
        lambda w, a: reviews.list_share_links(w.engine, a, map_id=w.shared_map),
        EDITORS,
        check=_one_link,
    ),
    Case(
        "reviews.revoke_share_link",
        lambda w, a: reviews.revoke_share_link(w.engine, a, link_id=_link_id(w)),
        EDITORS,
        check=_revoked,
    ),
    Case(
        "reviews.open_share_link",
        lambda w, a: reviews.open_share_link(w.engine, a, token=SHARE_TOKEN),
        EVERYONE,
        "its token",
        _share_visitor,
    ),
    Case(
        "reviews.open_share_link",
        lambda w, a: reviews.open_share_link(w.engine, a, token=SHARE_TOKEN[:-2] + "xx"),
        NOBODY,
        "a wrong token",
    ),
    # workshops
    Case("reviews.list_workshops", lambda w, a: reviews.list_workshops(w.engine, a), MEMBERS, "", _running),
    Case(
        "reviews.start_workshop",
        lambda w, a: reviews.start_workshop(w.engine, a, map_id=w.other_map, title="Planning"),
        EDITORS,
        check=_started,
    ),
    Case(
        "reviews.set_workshop_locked",
        lambda w, a: reviews.set_workshop_locked(w.engine, a, workshop_id=w.workshop_id, locked=True),
        EDITORS,
        check=_locked,
    ),
    Case(
        "reviews.close_workshop",
        lambda w, a: reviews.close_workshop(w.engine, a, workshop_id=w.workshop_id),
        EDITORS,
        check=_closed_now,
    ),
    Case(
        "reviews.join_workshop",
        lambda w, a: reviews.join_workshop(w.engine, a, join_code=JOIN_CODE.lower(), participant="Pat"),
        EVERYONE,
        "its code",
        _joined,
    ),
    Case(
        "reviews.join_workshop",
        lambda w, a: reviews.join_workshop(w.engine, a, join_code="ZZZ999", participant="Pat"),
        NOBODY,
        "a wrong code",
    ),
    Case(
        "reviews.join_workshop",
        _seeded(_closed, lambda w, a, ids: reviews.join_workshop(w.engine, a, join_code=JOIN_CODE, participant="Pat")),
        NOBODY,
        "a closed workshop's code",
    ),
    Case(
        "reviews.workshop_board",
        lambda w, a: reviews.workshop_board(w.engine, a, join_code=JOIN_CODE),
        EVERYONE,
        "its code",
        _board,
    ),
    Case(
        "reviews.workshop_board",
        lambda w, a: reviews.workshop_board(w.engine, a, join_code="ZZZ999"),
        NOBODY,
        "a wrong code",
    ),
    Case(
        "reviews.add_workshop_item",
        lambda w, a: reviews.add_workshop_item(
            w.engine, a, join_code=JOIN_CODE, participant="Pat", touchpoint_id="cart", kind="idea", text="Save the cart"
        ),
        EVERYONE,
        "its code",
        _item_written,
    ),
    Case(
        "reviews.add_workshop_item",
        _seeded(
            _closed,
            lambda w, a, ids: reviews.add_workshop_item(
                w.engine, a, join_code=JOIN_CODE, participant="Pat", touchpoint_id="cart", kind="idea", text="Hm"
            ),
        ),
        NOBODY,
        "a closed workshop's code",
    ),
    Case(
        "reviews.add_workshop_item",
        lambda w, a: reviews.add_workshop_item(
            w.engine, a, join_code="ZZZ999", participant="Pat", touchpoint_id="cart", kind="idea", text="Hm"
        ),
        NOBODY,
        "a wrong code",
    ),
    Case(
        "reviews.vote",
        _seeded(
            _item,
            lambda w, a, ids: reviews.vote(w.engine, a, join_code=JOIN_CODE, participant="Di", item_id=ids["item"]),
        ),
        EVERYONE,
        "its code",
        _voted,
    ),
    Case(
        "reviews.vote",
        _seeded(
            _item,
            lambda w, a, ids: reviews.vote(w.engine, a, join_code="ZZZ999", participant="Di", item_id=ids["item"]),
        ),
        NOBODY,
        "a wrong code",
    ),
    Case(
        "reviews.promote_to_opportunity",
        _seeded(_item, lambda w, a, ids: reviews.promote_to_opportunity(w.engine, a, item_id=ids["item"])),
        EDITORS,
        "",
        _promoted_opportunity,
    ),
    Case(
        "reviews.promote_to_pain_point",
        _seeded(_item, lambda w, a, ids: reviews.promote_to_pain_point(w.engine, a, item_id=ids["item"])),
        EDITORS,
        "",
        _promoted_pain_point,
    ),
    Case(
        "reviews.promote_to_pain_point",
        _seeded(_locked_item, lambda w, a, ids: reviews.promote_to_pain_point(w.engine, a, item_id=ids["item"])),
        EDITORS,
        "while the workshop holds the lock",
        _promoted_pain_point,
    ),
    # reports
    Case(
        "reviews.export_report",
        lambda w, a: reviews.export_report(w.engine, a, map_id=w.shared_map, revision_id=w.ids["shared_revision"]),
        MAP_READERS,
        "shared map",
        _report_of("shared"),
    ),
    Case(
        "reviews.export_report",
        lambda w, a: reviews.export_report(w.engine, a, map_id=w.other_map, revision_id=w.ids["other_revision"]),
        MEMBERS,
        "other map",
        _report_of("other"),
    ),
]
