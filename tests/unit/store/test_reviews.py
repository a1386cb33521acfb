"""Comments, opportunities and workshops against SQLite and PostgreSQL, including concurrent participants."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from journeymap.access import Actor, PermissionDenied, Role
from journeymap.errors import UserInputError
from journeymap.model import JourneyMap
from journeymap.store import create_map, latest_revision, list_revisions
from journeymap.store.reviews import (
    ItemKind,
    OpportunityStatus,
    TargetKind,
    TouchpointActivity,
    WorkshopItem,
    WorkshopVote,
    add_comment,
    add_opportunity,
    add_workshop_item,
    delete_comment,
    find_workshop,
    handoff_target,
    is_locked,
    list_comments,
    list_opportunities,
    list_workshop_items,
    list_workshops,
    promote_to_opportunity,
    promote_to_pain_point,
    resolve_comment,
    review_counts,
    review_counts_by_map,
    set_workshop_closed,
    set_workshop_locked,
    start_workshop,
    touchpoint_activity,
    update_opportunity,
    vote,
)

EDITOR = Actor("Ana", Role.EDITOR)
VIEWER = Actor("Bo", Role.VIEWER)
GUEST = Actor("Share link", Role.GUEST)


@pytest.fixture
def map_id(session: Session, returns: JourneyMap) -> int:
    return create_map(session=session, journey_map=returns, author="Ana").map_id


# --- comments -----------------------------------------------------------------------


def test_comments_on_map_touchpoint_and_handoff_listed_by_target(session: Session, map_id: int) -> None:
    add_comment(session=session, actor=EDITOR, map_id=map_id, body="Whole map looks thin")
    on_form = add_comment(
        session=session,
        actor=VIEWER,
        map_id=map_id,
        body=" Form is long ",
        target_kind=TargetKind.TOUCHPOINT,
        target_id="form",
    )
    add_comment(
        session=session,
        actor=VIEWER,
        map_id=map_id,
        body="Context lost",
        target_kind=TargetKind.HANDOFF,
        target_id=handoff_target("form", "faq"),
    )
    reply = add_comment(session=session, actor=EDITOR, map_id=map_id, body="Agreed", parent_id=on_form.id)
    assert (reply.target_kind, reply.target_id, reply.parent_id) == (TargetKind.TOUCHPOINT, "form", on_form.id)
    everything = list_comments(session=session, map_id=map_id)
    assert [(c.target_kind.value, c.target_id, c.author, c.body) for c in everything] == [
        ("map", "", "Ana", "Whole map looks thin"),
        ("touchpoint", "form", "Bo", "Form is long"),
        ("handoff", "form->faq", "Bo", "Context lost"),
        ("touchpoint", "form", "Ana", "Agreed"),
    ]
    on_touchpoint = list_comments(session=session, map_id=map_id, target_kind=TargetKind.TOUCHPOINT, target_id="form")
    assert [c.body for c in on_touchpoint] == ["Form is long", "Agreed"]
    assert [c.body for c in list_comments(session=session, map_id=map_id, target_kind=TargetKind.HANDOFF)] == [
        "Context lost"
    ]


@pytest.mark.parametrize(
    ("kind", "target", "message"),
    [
        (TargetKind.TOUCHPOINT, "nope", "unknown touchpoint 'nope'"),
        (TargetKind.HANDOFF, "login->form", "unknown transition 'login->form'"),
    ],
)
def test_comment_on_unknown_target_is_refused(
    session: Session, map_id: int, kind: TargetKind, target: str, message: str
) -> None:
    with pytest.raises(UserInputError, match=message):
        add_comment(session=session, actor=EDITOR, map_id=map_id, body="x", target_kind=kind, target_id=target)
    assert list_comments(session=session, map_id=map_id) == []


def test_guest_cannot_comment_and_empty_comment_is_refused(session: Session, map_id: int) -> None:
    with pytest.raises(PermissionDenied, match="guests may not comment"):
        add_comment(session=session, actor=GUEST, map_id=map_id, body="hello")
    with pytest.raises(UserInputError, match="field 'comment': is empty"):
        add_comment(session=session, actor=EDITOR, map_id=map_id, body="   ")
    assert list_comments(session=session, map_id=map_id) == []


def test_resolve_and_reopen_rules(session: Session, map_id: int) -> None:
    own = add_comment(session=session, actor=VIEWER, map_id=map_id, body="mine")
    other = add_comment(session=session, actor=EDITOR, map_id=map_id, body="editor's")
    resolved = resolve_comment(session=session, actor=VIEWER, comment_id=own.id)
    assert (resolved.resolved, resolved.resolved_by) == (True, "Bo")
    with pytest.raises(PermissionDenied):
        resolve_comment(session=session, actor=VIEWER, comment_id=other.id)
    with pytest.raises(PermissionDenied):
        resolve_comment(session=session, actor=Actor("Bo", Role.GUEST), comment_id=own.id)
    assert review_counts(session=session, map_id=map_id).open_comments == 1
    reopened = resolve_comment(session=session, actor=EDITOR, comment_id=own.id, resolved=False)
    assert (reopened.resolved, reopened.resolved_by) == (False, None)
    assert [c.body for c in list_comments(session=session, map_id=map_id, include_resolved=False)] == [
        "mine",
        "editor's",
    ]


def test_delete_comment_takes_its_replies_and_needs_an_editor(session: Session, map_id: int) -> None:
    root = add_comment(session=session, actor=VIEWER, map_id=map_id, body="root")
    reply = add_comment(session=session, actor=EDITOR, map_id=map_id, body="reply", parent_id=root.id)
    add_comment(session=session, actor=VIEWER, map_id=map_id, body="reply to reply", parent_id=reply.id)
    add_comment(session=session, actor=VIEWER, map_id=map_id, body="other")
    with pytest.raises(PermissionDenied):
        delete_comment(session=session, actor=VIEWER, comment_id=root.id)
    assert delete_comment(session=session, actor=EDITOR, comment_id=root.id) == 3
    assert [c.body for c in list_comments(session=session, map_id=map_id)] == ["other"]


# --- opportunities ------------------------------------------------------------------


def test_opportunity_backlog(session: Session, map_id: int) -> None:
    first = add_opportunity(
        session=session,
        actor=EDITOR,
        map_id=map_id,
        title="Shorter return form",
        touchpoint_id="form",
        owner="Digital",
        due=date(2026, 12, 1),
    )
    second = add_opportunity(session=session, actor=EDITOR, map_id=map_id, title="Carry case id to phone")
    assert (first.status, first.owner, first.due, first.touchpoint_id) == (
        OpportunityStatus.OPEN,
        "Digital",
        date(2026, 12, 1),
        "form",
    )
    update_opportunity(session=session, actor=EDITOR, opportunity_id=first.id, status="in progress", due=None)
    update_opportunity(session=session, actor=EDITOR, opportunity_id=second.id, status=OpportunityStatus.DONE)
    rows = list_opportunities(session=session, map_id=map_id)
    assert [(o.title, o.status.value, o.due) for o in rows] == [
        ("Shorter return form", "in progress", None),
        ("Carry case id to phone", "done", None),
    ]
    assert [o.title for o in list_opportunities(session=session, map_id=map_id, touchpoint_id="form")] == [
        "Shorter return form"
    ]
    assert review_counts(session=session).open_opportunities == 1
    update_opportunity(session=session, actor=EDITOR, opportunity_id=first.id, status="dropped")
    assert review_counts(session=session, map_id=map_id).open_opportunities == 0


def test_opportunity_permissions_and_validation(session: Session, map_id: int) -> None:
    with pytest.raises(PermissionDenied):
        add_opportunity(session=session, actor=VIEWER, map_id=map_id, title="x")
    with pytest.raises(UserInputError, match="unknown status 'later'"):
        add_opportunity(session=session, actor=EDITOR, map_id=map_id, title="x", status="later")
    with pytest.raises(UserInputError, match="unknown touchpoint 'nope'"):
        add_opportunity(session=session, actor=EDITOR, map_id=map_id, title="x", touchpoint_id="nope")
    made = add_opportunity(session=session, actor=EDITOR, map_id=map_id, title="x")
    with pytest.raises(PermissionDenied):
        update_opportunity(session=session, actor=GUEST, opportunity_id=made.id, status="done")
    assert [o.status for o in list_opportunities(session=session, map_id=map_id)] == [OpportunityStatus.OPEN]


def test_review_counts_across_maps(session: Session, map_id: int, make_tiny: Callable[[str], JourneyMap]) -> None:
    other = create_map(session=session, journey_map=make_tiny("Other"), author="Ana").map_id
    add_comment(session=session, actor=EDITOR, map_id=map_id, body="a")
    add_comment(session=session, actor=EDITOR, map_id=other, body="b")
    done = add_comment(session=session, actor=EDITOR, map_id=other, body="c")
    resolve_comment(session=session, actor=EDITOR, comment_id=done.id)
    add_opportunity(session=session, actor=EDITOR, map_id=other, title="o")
    assert review_counts(session=session).model_dump() == {"open_comments": 2, "open_opportunities": 1}
    assert review_counts(session=session, map_id=map_id).model_dump() == {"open_comments": 1, "open_opportunities": 0}
    assert {k: v.model_dump() for k, v in review_counts_by_map(session=session).items()} == {
        map_id: {"open_comments": 1, "open_opportunities": 0},
        other: {"open_comments": 1, "open_opportunities": 1},
    }


# --- workshops ----------------------------------------------------------------------


def test_workshop_items_votes_and_activity(session: Session, map_id: int) -> None:
    workshop = start_workshop(session=session, actor=EDITOR, map_id=map_id)
    assert (workshop.title, workshop.facilitator, workshop.locked) == ("Returns", "Ana", False)
    assert find_workshop(session=session, join_code=workshop.join_code.lower()).id == workshop.id
    a = add_workshop_item(
        session=session,
        workshop_id=workshop.id,
        participant="Cy",
        touchpoint_id="form",
        kind="pain point",
        text="Too many fields",
    )
    add_workshop_item(
        session=session,
        workshop_id=workshop.id,
        participant="Di",
        touchpoint_id="form",
        kind=ItemKind.IDEA,
        text="Prefill from order",
    )
    add_workshop_item(
        session=session,
        workshop_id=workshop.id,
        participant="Di",
        touchpoint_id="phone",
        kind=ItemKind.PAIN_POINT,
        text="Asked for order number again",
    )
    assert vote(session=session, item_id=a.id, participant="Di") is True
    assert vote(session=session, item_id=a.id, participant="Di") is False
    assert vote(session=session, item_id=a.id, participant="Cy") is True
    assert [(i.text, i.votes) for i in list_workshop_items(session=session, workshop_id=workshop.id)] == [
        ("Too many fields", 2),
        ("Prefill from order", 0),
        ("Asked for order number again", 0),
    ]
    assert touchpoint_activity(session=session, workshop_id=workshop.id) == [
        TouchpointActivity(touchpoint_id="form", pain_points=1, ideas=1, votes=2),
        TouchpointActivity(touchpoint_id="phone", pain_points=1, ideas=0, votes=0),
    ]


def test_workshop_refuses_bad_input(session: Session, map_id: int) -> None:
    workshop = start_workshop(session=session, actor=EDITOR, map_id=map_id)
    cases = [
        ({"participant": " ", "touchpoint_id": "form", "kind": "idea", "text": "x"}, "field 'your name': is empty"),
        ({"participant": "Cy", "touchpoint_id": "nope", "kind": "idea", "text": "x"}, "unknown touchpoint 'nope'"),
        ({"participant": "Cy", "touchpoint_id": "form", "kind": "wish", "text": "x"}, "unknown kind 'wish'"),
        ({"participant": "Cy", "touchpoint_id": "form", "kind": "idea", "text": "x" * 201}, "the limit is 200"),
    ]
    for kwargs, message in cases:
        with pytest.raises(UserInputError, match=message):
            add_workshop_item(session=session, workshop_id=workshop.id, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(UserInputError, match="no workshop has the join code 'ZZZZZZ'"):
        find_workshop(session=session, join_code="zz zzzz")
    with pytest.raises(PermissionDenied):
        start_workshop(session=session, actor=VIEWER, map_id=map_id)
    assert list_workshop_items(session=session, workshop_id=workshop.id) == []


def test_lock_stops_participants_and_locks_the_map_until_closed(session: Session, map_id: int) -> None:
    workshop = start_workshop(session=session, actor=EDITOR, map_id=map_id)
    item = add_workshop_item(
        session=session, workshop_id=workshop.id, participant="Cy", touchpoint_id="form", kind="idea", text="x"
    )
    assert is_locked(session=session, map_id=map_id) is False
    with pytest.raises(PermissionDenied):
        set_workshop_locked(session=session, actor=VIEWER, workshop_id=workshop.id)
    set_workshop_locked(session=session, actor=EDITOR, workshop_id=workshop.id)
    assert is_locked(session=session, map_id=map_id) is True
    with pytest.raises(UserInputError, match="locked the map"):
        add_workshop_item(
            session=session, workshop_id=workshop.id, participant="Cy", touchpoint_id="form", kind="idea", text="y"
        )
    with pytest.raises(UserInputError, match="locked the map"):
        vote(session=session, item_id=item.id, participant="Di")
    set_workshop_closed(session=session, actor=EDITOR, workshop_id=workshop.id)
    assert is_locked(session=session, map_id=map_id) is False
    assert list_workshops(session=session, map_id=map_id) == []
    assert [w.closed for w in list_workshops(session=session, map_id=map_id, include_closed=True)] == [True]


def test_promote_to_opportunity_and_to_pain_point(session: Session, map_id: int) -> None:
    workshop = start_workshop(session=session, actor=EDITOR, map_id=map_id)
    pain = add_workshop_item(
        session=session,
        workshop_id=workshop.id,
        participant="Cy",
        touchpoint_id="form",
        kind="pain point",
        text="Too many fields",
    )
    idea = add_workshop_item(
        session=session,
        workshop_id=workshop.id,
        participant="Cy",
        touchpoint_id="phone",
        kind="idea",
        text="Call-back option",
    )
    with pytest.raises(PermissionDenied):
        promote_to_pain_point(session=session, actor=VIEWER, item_id=pain.id)
    revision = promote_to_pain_point(session=session, actor=EDITOR, item_id=pain.id)
    assert revision.number == 2 and revision.author == "Ana"
    assert revision.message == f"Pain point from workshop {workshop.join_code} on 'Return form'"
    assert latest_revision(session=session, map_id=map_id).journey_map.touchpoint("form").pain_points == (
        "Too many fields",
    )
    with pytest.raises(UserInputError, match="already lists the pain point 'Too many fields'"):
        promote_to_pain_point(session=session, actor=EDITOR, item_id=pain.id)
    assert len(list_revisions(session=session, map_id=map_id)) == 2
    opportunity = promote_to_opportunity(session=session, actor=EDITOR, item_id=idea.id, owner="Care")
    assert (opportunity.title, opportunity.touchpoint_id, opportunity.owner, opportunity.source) == (
        "Call-back option",
        "phone",
        "Care",
        f"workshop {workshop.join_code}",
    )
    assert [i.promoted_as for i in list_workshop_items(session=session, workshop_id=workshop.id)] == [
        "pain point",
        "opportunity",
    ]


# --- concurrency --------------------------------------------------------------------


def _run_together(workers: list[Callable[[], object]]) -> list[BaseException]:
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work: Callable[[], object]) -> None:
        barrier.wait()
        try:
            work()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_participants_adding_at_the_same_time_all_persist(engine: Engine, map_id: int) -> None:
    with Session(engine) as session:
        workshop_id = start_workshop(session=session, actor=EDITOR, map_id=map_id).id

    def add(name: str) -> Callable[[], object]:
        def work() -> object:
            with Session(engine) as session:
                return add_workshop_item(
                    session=session,
                    workshop_id=workshop_id,
                    participant=name,
                    touchpoint_id="form",
                    kind="idea",
                    text=f"idea of {name}",
                )

        return work

    names = [f"P{i}" for i in range(8)]
    assert _run_together([add(n) for n in names]) == []
    with Session(engine) as session:
        items = list_workshop_items(session=session, workshop_id=workshop_id)
    assert sorted(i.participant for i in items) == names


def test_concurrent_votes_by_one_participant_count_once(engine: Engine, map_id: int) -> None:
    with Session(engine) as session:
        workshop_id = start_workshop(session=session, actor=EDITOR, map_id=map_id).id
        item_id = add_workshop_item(
            session=session, workshop_id=workshop_id, participant="Cy", touchpoint_id="form", kind="idea", text="x"
        ).id
    results: list[bool] = []

    def cast(name: str) -> Callable[[], object]:
        def work() -> object:
            with Session(engine) as session:
                results.append(vote(session=session, item_id=item_id, participant=name))
            return None

        return work

    assert _run_together([cast("Di") for _ in range(6)] + [cast("Ed"), cast("Fa")]) == []
    assert sorted(results) == [False] * 5 + [True] * 3
    with Session(engine) as session:
        rows = session.exec(select(WorkshopVote).where(WorkshopVote.item_id == item_id)).all()
        assert sorted(v.participant for v in rows) == ["Di", "Ed", "Fa"]
        assert session.exec(select(WorkshopItem)).one().id == item_id
