"""Review, share links and workshops: one service per user action (see :mod:`journeymap.services._core`).

Comments
    Listed by whoever may read the map; added by members (:attr:`Action.COMMENT`); resolved or
    reopened by their author, anyone's by those who may :attr:`Action.RESOLVE_ANY_COMMENT`;
    deleted with their replies by those who may :attr:`Action.DELETE_COMMENT`.
Opportunities
    Listed by whoever may read the map; added and moved along with :attr:`Action.MANAGE_OPPORTUNITIES`.
Share links
    Created, listed and revoked with :attr:`Action.SHARE`. :func:`open_share_link` needs no role: the
    token is the right, and it hands back the share-link visitor the page acts as from then on (a
    guest who may read that one map and its reports).
Workshops
    Started, locked, unlocked, closed and promoted from by a facilitator (:attr:`Action.FACILITATE`
    on the workshop's map); promoting works while the workshop holds the map's lock, since the lock
    exists for the facilitator. Participants need no account: the join code of a workshop that is
    not closed is their right to read its board, add items and vote; a wrong or closed code is
    refused with :class:`NotAdmitted` and nothing is written.
Reports
    :func:`export_report` gathers what a map's report shows; whoever may read the map may export it
    (a share-link visitor only its map's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from journeymap.access import Action, Actor, PermissionDenied, Role
from journeymap.errors import UserInputError
from journeymap.maturity import current_levels, score_dimensions
from journeymap.model import JourneyMap
from journeymap.report import AssessmentSummary
from journeymap.services._core import check, service
from journeymap.store import Revision, get_revision, latest_revision, list_datasets
from journeymap.store import access as access_store
from journeymap.store import reviews as store
from journeymap.store.access import ShareLinkInfo
from journeymap.store.assessments import get_assessment, get_framework, list_answers
from journeymap.store.datasets import DatasetInfo
from journeymap.store.reviews import (
    CommentInfo,
    ItemKind,
    OpportunityInfo,
    OpportunityStatus,
    TargetKind,
    TouchpointActivity,
    WorkshopInfo,
    WorkshopItemInfo,
)
from journeymap.workspace_summary import newest_dataset_by_map

__all__ = [
    "SHARE_LINK_NAME",
    "NotAdmitted",
    "ReportInputs",
    "SharedMap",
    "WorkshopBoard",
    "add_comment",
    "add_opportunity",
    "add_workshop_item",
    "close_workshop",
    "create_share_link",
    "delete_comment",
    "export_report",
    "join_workshop",
    "list_comments",
    "list_opportunities",
    "list_share_links",
    "list_workshops",
    "open_share_link",
    "promote_to_opportunity",
    "promote_to_pain_point",
    "resolve_comment",
    "revoke_share_link",
    "set_workshop_locked",
    "start_workshop",
    "update_opportunity",
    "vote",
    "workshop_board",
]

SHARE_LINK_NAME = "Share link"


class NotAdmitted(PermissionDenied):
    """A join code or share-link token that opens nothing (unknown, closed, revoked or expired)."""

    def __init__(
        self, actor: Actor, problem: str, *, source: str, location: str | None = None, hint: str | None = None
    ) -> None:
        self.actor = actor
        self.action = Action.READ_MAP  # what the code or token would have opened: a map
        UserInputError.__init__(self, problem, source=source, location=location, hint=hint)


@dataclass(frozen=True)
class SharedMap:
    """What a valid share link opens: the map, who shared it, and the visitor the page acts as from now on."""

    map_id: int
    shared_by: str
    actor: Actor


@dataclass(frozen=True)
class WorkshopBoard:
    """A running workshop as its participants and presenter see it: the map and everyone's items."""

    workshop: WorkshopInfo
    journey_map: JourneyMap
    items: list[WorkshopItemInfo]  # most votes first
    activity: list[TouchpointActivity]


@dataclass(frozen=True)
class ReportInputs:
    """Everything a map revision's report shows besides the overlay (which the page computes from ``dataset``)."""

    revision: Revision
    opportunities: list[OpportunityInfo]  # open or in progress
    comments: list[CommentInfo]  # unresolved
    dataset: DatasetInfo | None  # the newest dataset registered for the map
    assessment: AssessmentSummary | None


# --- comments -----------------------------------------------------------------------


def _comment_map(session: Session, kwargs: Mapping[str, Any]) -> int:
    return store.get_comment(session=session, comment_id=int(kwargs["comment_id"])).map_id


@service(Action.READ_MAP, map_arg="map_id")
def list_comments(session: Session, actor: Actor, *, map_id: int, include_resolved: bool = True) -> list[CommentInfo]:
    """The map's comments, oldest first (unresolved ones only with ``include_resolved=False``)."""
    latest_revision(session=session, map_id=map_id)  # an unknown map is named, not an empty list
    return store.list_comments(session=session, map_id=map_id, include_resolved=include_resolved)


@service(Action.COMMENT, map_arg="map_id")
def add_comment(
    session: Session,
    actor: Actor,
    *,
    map_id: int,
    body: str,
    target_kind: TargetKind = TargetKind.MAP,
    target_id: str = "",
    parent_id: int | None = None,
) -> CommentInfo:
    """Comment on the map, a touchpoint or a handoff of it, or reply to a comment; the author is the actor."""
    return store.add_comment(
        session=session,
        actor=actor,
        map_id=map_id,
        body=body,
        target_kind=target_kind,
        target_id=target_id,
        parent_id=parent_id,
    )


@service(Action.COMMENT, map_of=_comment_map)
def resolve_comment(session: Session, actor: Actor, *, comment_id: int, resolved: bool = True) -> CommentInfo:
    """Resolve (or reopen) a comment: its author may, and whoever may resolve anyone's."""
    comment = store.get_comment(session=session, comment_id=comment_id)
    if not store.is_own_comment(comment, actor):
        check(session, actor, Action.RESOLVE_ANY_COMMENT, map_id=comment.map_id)
    return store.resolve_comment(session=session, actor=actor, comment_id=comment_id, resolved=resolved)


@service(Action.DELETE_COMMENT, map_of=_comment_map)
def delete_comment(session: Session, actor: Actor, *, comment_id: int) -> int:
    """Delete a comment and its replies; returns how many comments went."""
    return store.delete_comment(session=session, comment_id=comment_id)


# --- opportunities ------------------------------------------------------------------


def _opportunity_map(session: Session, kwargs: Mapping[str, Any]) -> int:
    return store.get_opportunity(session=session, opportunity_id=int(kwargs["opportunity_id"])).map_id


@service(Action.READ_MAP, map_arg="map_id")
def list_opportunities(session: Session, actor: Actor, *, map_id: int) -> list[OpportunityInfo]:
    """The map's opportunity backlog, oldest first."""
    latest_revision(session=session, map_id=map_id)  # an unknown map is named, not an empty list
    return store.list_opportunities(session=session, map_id=map_id)


@service(Action.MANAGE_OPPORTUNITIES, map_arg="map_id")
def add_opportunity(
    session: Session,
    actor: Actor,
    *,
    map_id: int,
    title: str,
    touchpoint_id: str | None = None,
    owner: str = "",
    due: date | None = None,
    source: str = "review",
) -> OpportunityInfo:
    """Add an opportunity to the map's backlog, created by the actor."""
    return store.add_opportunity(
        session=session,
        actor=actor,
        map_id=map_id,
        title=title,
        touchpoint_id=touchpoint_id,
        owner=owner,
        due=due,
        source=source,
    )


@service(Action.MANAGE_OPPORTUNITIES, map_of=_opportunity_map)
def update_opportunity(
    session: Session,
    actor: Actor,
    *,
    opportunity_id: int,
    status: OpportunityStatus | str | None = None,
    owner: str | None = None,
) -> OpportunityInfo:
    """Move an opportunity along (its status) or hand it to another owner."""
    return store.update_opportunity(session=session, opportunity_id=opportunity_id, status=status, owner=owner)


# --- share links --------------------------------------------------------------------


@service(Action.SHARE, map_arg="map_id")
def create_share_link(
    session: Session, actor: Actor, *, map_id: int, label: str = "", expires_in: timedelta | None = None
) -> tuple[str, ShareLinkInfo]:
    """A new read-only link to the map: its token (shown once) and the stored link."""
    return access_store.create_share_link(
        session=session, actor=actor, map_id=map_id, label=label, expires_in=expires_in
    )


@service(Action.SHARE, map_arg="map_id")
def list_share_links(session: Session, actor: Actor, *, map_id: int) -> list[ShareLinkInfo]:
    """The map's share links, newest first, revoked and expired ones included."""
    return access_store.list_share_links(session=session, map_id=map_id)


@service(Action.SHARE)
def revoke_share_link(session: Session, actor: Actor, *, link_id: int) -> ShareLinkInfo:
    """Revoke a share link (revoking a revoked link changes nothing)."""
    return access_store.revoke_share_link(session=session, actor=actor, link_id=link_id)


@service(None)
def open_share_link(session: Session, actor: Actor, *, token: str) -> SharedMap:
    """The map a share-link token opens, and the share-link visitor to act as; refused when it opens nothing."""
    try:
        link = access_store.resolve_share_link(session=session, token=token)
    except UserInputError as exc:
        raise NotAdmitted(actor, exc.problem, source="share link", hint=exc.hint) from None
    return SharedMap(
        map_id=link.map_id,
        shared_by=link.created_by,
        actor=Actor(SHARE_LINK_NAME, Role.GUEST, map_scope=link.map_id),
    )


# --- workshops ----------------------------------------------------------------------


def _workshop_map(session: Session, kwargs: Mapping[str, Any]) -> int:
    return store.get_workshop(session=session, workshop_id=int(kwargs["workshop_id"])).map_id


def _item_map(session: Session, kwargs: Mapping[str, Any]) -> int:
    item = store.get_workshop_item(session=session, item_id=int(kwargs["item_id"]))
    return store.get_workshop(session=session, workshop_id=item.workshop_id).map_id


def _admitted(session: Session, actor: Actor, join_code: str) -> WorkshopInfo:
    """The workshop ``join_code`` opens; :class:`NotAdmitted` when none does or it is closed."""
    workshop = store.find_workshop(session=session, join_code=join_code)
    code = store.normalize_join_code(join_code)
    if workshop is None:
        raise NotAdmitted(
            actor,
            f"no workshop has the join code '{code}'",
            source="join workshop",
            location="field 'join code'",
            hint="Check the code shown on the presenter screen.",
        )
    if workshop.closed:
        raise NotAdmitted(
            actor, f"the workshop '{code}' is closed", source="workshop", hint="Ask the facilitator for a new code."
        )
    return workshop


@service(Action.READ_WORKSPACE)
def list_workshops(session: Session, actor: Actor, *, map_id: int | None = None) -> list[WorkshopInfo]:
    """Workshops still running (of one map, or all), newest first."""
    return store.list_workshops(session=session, map_id=map_id)


@service(Action.FACILITATE, map_arg="map_id")
def start_workshop(session: Session, actor: Actor, *, map_id: int, title: str = "") -> WorkshopInfo:
    """Start a workshop on the map, facilitated by the actor, with a fresh join code."""
    return store.start_workshop(session=session, actor=actor, map_id=map_id, title=title)


@service(Action.FACILITATE, map_of=_workshop_map)
def set_workshop_locked(session: Session, actor: Actor, *, workshop_id: int, locked: bool) -> WorkshopInfo:
    """Lock the map for the workshop (no additions, votes or edits) or unlock it."""
    return store.set_workshop_locked(session=session, workshop_id=workshop_id, locked=locked)


@service(Action.FACILITATE, map_of=_workshop_map)
def close_workshop(session: Session, actor: Actor, *, workshop_id: int) -> WorkshopInfo:
    """Close a workshop: its join code stops working and it no longer locks the map."""
    return store.set_workshop_closed(session=session, workshop_id=workshop_id)


@service(None)
def join_workshop(session: Session, actor: Actor, *, join_code: str, participant: str) -> WorkshopInfo:
    """The workshop a participant joins with its code and their name (the name is checked, nothing is written)."""
    workshop = _admitted(session, actor, join_code)
    store.participant_key(participant)  # an empty or too long name is refused here, not at the first addition
    return workshop


@service(None)
def workshop_board(session: Session, actor: Actor, *, join_code: str) -> WorkshopBoard:
    """The workshop's map and everyone's items, for whoever holds its join code."""
    workshop = _admitted(session, actor, join_code)
    return WorkshopBoard(
        workshop=workshop,
        journey_map=latest_revision(session=session, map_id=workshop.map_id).journey_map,
        items=store.list_workshop_items(session=session, workshop_id=workshop.id),
        activity=store.touchpoint_activity(session=session, workshop_id=workshop.id),
    )


@service(None)
def add_workshop_item(
    session: Session,
    actor: Actor,
    *,
    join_code: str,
    participant: str,
    touchpoint_id: str,
    kind: ItemKind | str,
    text: str,
) -> WorkshopItemInfo:
    """A participant adds a pain point or an idea to a touchpoint; refused while the workshop is locked."""
    workshop = _admitted(session, actor, join_code)
    return store.add_workshop_item(
        session=session,
        workshop_id=workshop.id,
        participant=participant,
        touchpoint_id=touchpoint_id,
        kind=kind,
        text=text,
    )


@service(None)
def vote(session: Session, actor: Actor, *, join_code: str, participant: str, item_id: int) -> bool:
    """A participant votes for an item of the workshop: ``False`` when they had voted for it already."""
    workshop = _admitted(session, actor, join_code)
    item = store.get_workshop_item(session=session, item_id=item_id)
    if item.workshop_id != workshop.id:
        raise NotAdmitted(
            actor,
            f"item {item_id} is not part of the workshop '{workshop.join_code}'",
            source="workshop",
            hint="Vote for an item in this workshop's list.",
        )
    return store.vote(session=session, item_id=item_id, participant=participant)


@service(Action.FACILITATE, map_of=_item_map)
def promote_to_opportunity(session: Session, actor: Actor, *, item_id: int, owner: str = "") -> OpportunityInfo:
    """Turn a workshop item into an opportunity on its touchpoint (works while the workshop holds the lock)."""
    return store.promote_to_opportunity(session=session, actor=actor, item_id=item_id, owner=owner)


@service(Action.FACILITATE, map_of=_item_map)
def promote_to_pain_point(session: Session, actor: Actor, *, item_id: int) -> Revision:
    """Add a workshop item to its touchpoint's pain points as a new revision authored by the actor.

    The facilitator's own action during the workshop: it works while the workshop holds the map's lock.
    """
    return store.promote_to_pain_point(session=session, actor=actor, item_id=item_id)


# --- reports ------------------------------------------------------------------------


def _assessment(session: Session, assessment_id: int) -> AssessmentSummary:
    info = get_assessment(session=session, assessment_id=assessment_id)
    _, framework = get_framework(session=session, key=info.framework_key, number=info.framework_revision)
    answers = list_answers(session=session, assessment_id=info.id)
    levels = current_levels(score_dimensions(framework, answers))
    return AssessmentSummary(framework=framework, levels=levels, name=info.name, targets=dict(info.targets))


@service(Action.READ_MAP, map_arg="map_id")
def export_report(
    session: Session, actor: Actor, *, map_id: int, revision_id: int, assessment_id: int | None = None
) -> ReportInputs:
    """What the report of one revision of the map shows: the revision, its open backlog, its newest dataset.

    An assessment is workspace data: including one needs :attr:`Action.READ_WORKSPACE` too (a
    share-link visitor exports their map's report without one).
    """
    if assessment_id is not None:
        check(session, actor, Action.READ_WORKSPACE)
    revision = get_revision(session=session, revision_id=revision_id)
    if revision.map_id != map_id:
        raise UserInputError(
            f"revision {revision_id} belongs to another map", source="export", hint="Choose a revision of this map."
        )
    active = (OpportunityStatus.OPEN, OpportunityStatus.IN_PROGRESS)
    return ReportInputs(
        revision=revision,
        opportunities=[o for o in store.list_opportunities(session=session, map_id=map_id) if o.status in active],
        comments=store.list_comments(session=session, map_id=map_id, include_resolved=False),
        dataset=newest_dataset_by_map(list_datasets(session=session)).get(map_id),
        assessment=None if assessment_id is None else _assessment(session, assessment_id),
    )
