"""Comments, opportunities and workshops against SQLite and PostgreSQL, including concurrent participants.

The store checks no permission (the services do, see ``tests/unit/services``) and never commits: each
concurrent participant here commits their own session, as the service frame does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from journeymap.access import Actor, Role
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
    get_comment,
    handoff_target,
    is_locked,
    is_own_comment,
    list_comments,
    list_opportunities,
    list_workshop_items,
    list_workshops,
    participant_key,
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


@pytest.fixture
def map_id(session: Session, returns: JourneyMap) -> int:
    saved = create_map(session=session, journey_map=returns, author="Ana").map_id
    session.commit()  # the concurrent participants below read it from their own sessions
    return saved


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


def test_empty_comment_is_refused(session: Session, map_id: int) -> None:
    with pytest.raises(UserInputError, match="field 'comment': is empty"):
        add_comment(session=session, actor=EDITOR, map_id=map_id, body="   ")
    assert list_comments(session=session, map_id=map_id) == []


def test_resolve_and_reopen(session: Session, map_id: int) -> None:
    own = add_comment(session=session, actor=VIEWER, map_id=map_id, body="mine")
    add_comment(session=session, actor=EDITOR, map_id=map_id, body="editor's")
    assert (is_own_comment(own, VIEWER), is_own_comment(own, EDITOR)) == (True, False)
    assert is_own_comment(own, Actor("Bo", Role.GUEST)) is False  # a visitor named like the author owns nothing
    resolved = resolve_comment(session=session, actor=VIEWER, comment_id=own.id)
    assert (resolved.resolved, resolved.resolved_by) == (True, "Bo")
    assert get_comment(session=session, comment_id=own.id) == resolved
    assert review_counts(session=session, map_id=map_id).open_comments == 1
    reopened = resolve_comment(session=session, actor=EDITOR, comment_id=own.id, resolved=False)
    assert (reopened.resolved, reopened.resolved_by) == (False, None)
    assert [c.body for c in list_comments(session=session, map_id=map_id, include_resolved=False)] == [
        "mine",
        "editor's",
    ]


def test_delete_comment_takes_its_replies(session: Session, map_id: int) -> None:
    root = add_comment(session=session, actor=VIEWER, map_id=map_id, body="root")
    reply = add_comment(session=session, actor=EDITOR, map_id=map_id, body="reply", parent_id=root.id)
    add_comment(session=session, actor=VIEWER, map_id=map_id, body="reply to reply", parent_id=reply.id)
    add_comment(session=session, actor=VIEWER, map_id=map_id, body="other")
    assert delete_comment(session=session, comment_id=root.id) == 3
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
    update_opportunity(session=session, opportunity_id=first.id, status="in progress", due=None)
    update_opportunity(session=session, opportunity_id=second.id, status=OpportunityStatus.DONE)
    rows = list_opportunities(session=session, map_id=map_id)
    assert [(o.title, o.status.value, o.due) for o in rows] == [
        ("Shorter return form", "in progress", None),
        ("Carry case id to phone", "done", None),
    ]
    assert [o.title for o in list_opportunities(session=session, map_id=map_id, touchpoint_id="form")] == [
        "Shorter return form"
    ]
    assert review_counts(session=session).open_opportunities == 1
    update_opportunity(session=session, opportunity_id=first.id, status="dropped")
    assert review_counts(session=session, map_id=map_id).open_opportunities == 0


def test_opportunity_validation(session: Session, map_id: int) -> None:
    with pytest.raises(UserInputError, match="unknown status 'later'"):
        add_opportunity(session=session, actor=EDITOR, map_id=map_id, title="x", status="later")
    with pytest.raises(UserInputError, match="unknown touchpoint 'nope'"):
        add_opportunity(session=session, actor=EDITOR, map_id=map_id, title="x", touchpoint_id="nope")
    made = add_opportunity(session=session, actor=EDITOR, map_id=map_id, title="x")
    with pytest.raises(UserInputError, match="unknown status 'later'"):
        update_opportunity(session=session, opportunity_id=made.id, status="later")
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
    found = find_workshop(session=session, join_code=workshop.join_code.lower())
    assert found is not None and found.id == workshop.id
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
    last = list_workshop_items(session=session, workshop_id=workshop.id)[-1]
    assert vote(session=session, item_id=a.id, participant="Di") is True
    assert vote(session=session, item_id=a.id, participant="di") is False  # "di" and "Di" are one voter
    assert vote(session=session, item_id=a.id, participant=" DI ") is False
    assert vote(session=session, item_id=a.id, participant="Cy") is True
    assert vote(session=session, item_id=last.id, participant="Cy") is True
    # Ranked by votes, ties oldest first.
    assert [(i.text, i.votes) for i in list_workshop_items(session=session, workshop_id=workshop.id)] == [
        ("Too many fields", 2),
        ("Asked for order number again", 1),
        ("Prefill from order", 0),
    ]
    stored = session.exec(select(WorkshopVote.participant).order_by(col(WorkshopVote.id))).all()
    assert list(stored) == ["di", "cy", "cy"]
    assert touchpoint_activity(session=session, workshop_id=workshop.id) == [
        TouchpointActivity(touchpoint_id="form", pain_points=1, ideas=1, votes=2),
        TouchpointActivity(touchpoint_id="phone", pain_points=1, ideas=0, votes=1),
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
    assert find_workshop(session=session, join_code="zz zzzz") is None
    assert find_workshop(session=session, join_code="  ") is None
    assert list_workshop_items(session=session, workshop_id=workshop.id) == []


def test_lock_stops_participants_and_locks_the_map_until_closed(session: Session, map_id: int) -> None:
    workshop = start_workshop(session=session, actor=EDITOR, map_id=map_id)
    item = add_workshop_item(
        session=session, workshop_id=workshop.id, participant="Cy", touchpoint_id="form", kind="idea", text="x"
    )
    assert is_locked(session=session, map_id=map_id) is False
    set_workshop_locked(session=session, workshop_id=workshop.id)
    assert is_locked(session=session, map_id=map_id) is True
    with pytest.raises(UserInputError, match="locked the map"):
        add_workshop_item(
            session=session, workshop_id=workshop.id, participant="Cy", touchpoint_id="form", kind="idea", text="y"
        )
    with pytest.raises(UserInputError, match="locked the map"):
        vote(session=session, item_id=item.id, participant="Di")
    set_workshop_closed(session=session, workshop_id=workshop.id)
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
    revision = promote_to_pain_point(session=session, actor=EDITOR, item_id=pain.id)
    assert revision.number == 2 and revision.author == "Ana"
    assert revision.message == f"Pain point from workshop {workshop.join_code} on 'Return form'"
    assert latest_revision(session=session, map_id=map_id).journey_map.touchpoint("form").pain_points == (
        "Too many fields",
    )
    with pytest.raises(UserInputError, match="'Too many fields' was already promoted to pain point"):
        promote_to_pain_point(session=session, actor=EDITOR, item_id=pain.id)
    again = add_workshop_item(
        session=session,
        workshop_id=workshop.id,
        participant="Di",
        touchpoint_id="form",
        kind="pain point",
        text="Too many fields",
    )
    with pytest.raises(UserInputError, match="already lists the pain point 'Too many fields'"):
        promote_to_pain_point(session=session, actor=EDITOR, item_id=again.id)
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
        None,
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
        session.commit()

    def add(name: str) -> Callable[[], object]:
        def work() -> object:
            with Session(engine) as session:
                added = add_workshop_item(
                    session=session,
                    workshop_id=workshop_id,
                    participant=name,
                    touchpoint_id="form",
                    kind="idea",
                    text=f"idea of {name}",
                )
                session.commit()
                return added

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
        session.commit()
    results: list[tuple[str, bool | str]] = []

    def cast(name: str) -> Callable[[], object]:
        def work() -> object:
            with Session(engine) as session:
                try:
                    counted: bool | str = vote(session=session, item_id=item_id, participant=name)
                    session.commit()
                except UserInputError as exc:  # lost the race to the unique constraint: refused, not counted
                    session.rollback()
                    counted = exc.problem
                results.append((participant_key(name), counted))
            return None

        return work

    assert _run_together([cast("Di"), cast("di")] + [cast("DI") for _ in range(4)] + [cast("Ed"), cast("Fa")]) == []
    assert sorted(who for who, counted in results if counted is True) == ["di", "ed", "fa"]
    assert {counted for who, counted in results if counted is not True} <= {
        False,
        "your vote for this item was already counted",
    }
    assert len(results) == 8
    with Session(engine) as session:
        rows = session.exec(select(WorkshopVote).where(WorkshopVote.item_id == item_id)).all()
        assert sorted(v.participant for v in rows) == ["di", "ed", "fa"]
        assert session.exec(select(WorkshopItem)).one().id == item_id
