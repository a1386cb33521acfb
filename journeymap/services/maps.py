"""Maps and the editor: create, save, restore, import, archive, drafts, and every read of a map.

Each function is a service (see :mod:`journeymap.services._core`): called as
``function(engine, actor, **arguments)``, it checks the actor's permission first and does its work in
one transaction. The author of everything saved is ``actor.name``.

Who may do what:

- writes (create, save, import, restore, archive, this browser's draft): ``EDIT_MAP``, on the map
  concerned when there is one (a workshop's lock refuses them too);
- reads of one map (its summary, latest revision, any revision, history, last readable revision, the
  working copy with this browser's draft): ``READ_MAP`` on that map, so a share-link visitor reads the
  one map of their link and nothing else;
- :func:`list_maps`: every member sees every map; a share-link visitor sees the one map of their link;
  a visitor who is not signed in is refused (its check is inside, because the answer depends on who asks);
- :func:`workspace_overview` (the Maps page's figures): ``READ_WORKSPACE``, members only.

Examples
--------
>>> from journeymap.access import Actor, Role
>>> from journeymap.store import init_db, make_engine
>>> engine = make_engine("sqlite://")
>>> init_db(engine)
>>> ana = Actor("Ana", Role.EDITOR)
>>> first = create_blank_map(engine, ana, name="Returns")
>>> second = save_revision(engine, ana, map_id=first.map_id, journey_map=first.journey_map.model_copy(
...     update={"description": "v2"}), base_revision_id=first.id, message="Described")
>>> [(r.number, r.author, r.message) for r in list_revisions(engine, ana, map_id=first.map_id)]
[(2, 'Ana', 'Described'), (1, 'Ana', 'Created from scratch')]
>>> create_blank_map(engine, Actor("Vera", Role.VIEWER), name="Mine")
Traceback (most recent call last):
...
journeymap.access.PermissionDenied: Vera: viewers may not edit maps. Ask an editor to do this for you, ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from journeymap.access import Action, Actor, PermissionDenied
from journeymap.analysis.whatif import Fix, to_be_map
from journeymap.errors import UserInputError
from journeymap.maturity import current_levels, score_dimensions
from journeymap.model import JourneyMap, map_from_json
from journeymap.services._core import service
from journeymap.store import maps as store
from journeymap.store.assessments import AssessmentInfo, get_framework, list_answers, list_assessments
from journeymap.store.datasets import DatasetInfo, list_datasets
from journeymap.store.maps import DamagedRevisionError, Draft, MapRevision, MapSummary, Revision, RevisionInfo
from journeymap.store.reviews import ReviewCounts, review_counts_by_map
from journeymap.templates import blank_map, list_templates, load_template
from journeymap.workspace_summary import mean_level, newest_dataset_by_map

__all__ = [
    "Maturity",
    "WorkingCopy",
    "WorkspaceOverview",
    "archive_map",
    "create_blank_map",
    "create_from_template",
    "discard_draft",
    "get_map",
    "get_revision",
    "import_new_map",
    "import_revision",
    "last_readable_revision",
    "latest_revision",
    "list_maps",
    "list_revisions",
    "open_for_editing",
    "restore_revision",
    "save_draft",
    "save_revision",
    "save_to_be_map",
    "workspace_overview",
]


@dataclass(frozen=True)
class WorkingCopy:
    """What the editor opens: the map's latest revision and this browser's unsaved edits of it.

    ``draft`` is ``None`` when there are none; ``draft_problem`` says why stored edits that no longer
    read were set aside (the saved map still opens).
    """

    latest: Revision
    draft: Draft | None
    draft_problem: DamagedRevisionError | None = None


@dataclass(frozen=True)
class Maturity:
    """The newest maturity assessment and the mean consensus level of its assessed dimensions."""

    assessment: AssessmentInfo
    level: float | None


@dataclass(frozen=True)
class WorkspaceOverview:
    """Everything the Maps page shows but the friction headlines (those come from the cached overlay).

    ``maps`` are the maps not archived, most recently changed first; ``newest_datasets`` maps a map id to
    its newest registered dataset; ``maturity`` is ``None`` without any assessment, and
    ``maturity_problem`` says why it could not be read when its framework no longer reads.
    """

    maps: list[MapSummary]
    review_counts: Mapping[int, ReviewCounts]
    newest_datasets: Mapping[int, DatasetInfo]
    maturity: Maturity | None
    maturity_problem: str | None = None


def _map_of_revision(session: Session, arguments: Mapping[str, Any]) -> int | None:
    revision_id = arguments.get("revision_id")
    row = session.get(MapRevision, revision_id) if isinstance(revision_id, int) else None
    return None if row is None else row.map_id


# --- creating maps ----------------------------------------------------------------------------------------


@service(Action.EDIT_MAP)
def create_blank_map(session: Session, actor: Actor, *, name: str) -> Revision:
    """A new map with the default stages and nothing else, saved as its revision 1."""
    cleaned = name.strip()
    if not cleaned:
        raise UserInputError("enter a name for the new map", source="Map name")
    return store.create_map(
        session=session, journey_map=blank_map(cleaned), author=actor.name, message="Created from scratch"
    )


@service(Action.EDIT_MAP)
def create_from_template(session: Session, actor: Actor, *, template_id: str, name: str = "") -> Revision:
    """A new map copied from a built-in template, named ``name`` when one is given."""
    journey_map = load_template(template_id)
    title = next((info.name for info in list_templates() if info.id == template_id), template_id)
    if name.strip():
        journey_map = journey_map.model_copy(update={"name": name.strip()})  # checked when saved
    return store.create_map(
        session=session,
        journey_map=journey_map,
        author=actor.name,
        message=f"Created from the '{title}' template",
    )


@service(Action.EDIT_MAP)
def import_new_map(session: Session, actor: Actor, *, content: bytes, file_name: str) -> Revision:
    """A new map from an exported map document; a broken or foreign file writes nothing."""
    journey_map = map_from_json(content, source=file_name)
    return store.create_map(
        session=session, journey_map=journey_map, author=actor.name, message=f"Imported from {file_name}"
    )


# --- revisions of one map ---------------------------------------------------------------------------------


@service(Action.EDIT_MAP, map_arg="map_id")
def save_revision(
    session: Session,
    actor: Actor,
    *,
    map_id: int,
    journey_map: JourneyMap,
    base_revision_id: int,
    message: str = "",
    client_key: str | None = None,
) -> Revision:
    """Save ``journey_map`` as the map's next revision on top of ``base_revision_id``.

    Refused with :class:`journeymap.store.StaleRevisionError` when someone saved a newer revision
    meanwhile. With ``client_key``, that browser's draft of the map is discarded in the same transaction.
    """
    revision = store.save_revision(
        session=session,
        map_id=map_id,
        journey_map=journey_map,
        author=actor.name,
        message=message.strip() or "Edited in the map editor",
        base_revision_id=base_revision_id,
    )
    if client_key:
        store.discard_draft(session=session, map_id=map_id, client_key=client_key)
    return revision


@service(Action.EDIT_MAP, map_arg="map_id")
def import_revision(
    session: Session,
    actor: Actor,
    *,
    map_id: int,
    content: bytes,
    file_name: str,
    base_revision_id: int,
    client_key: str | None = None,
) -> Revision:
    """Save an exported map document as the map's next revision; a broken file writes nothing."""
    imported = map_from_json(content, source=file_name)
    revision = store.save_revision(
        session=session,
        map_id=map_id,
        journey_map=imported,
        author=actor.name,
        message=f"Imported from {file_name}",
        base_revision_id=base_revision_id,
    )
    if client_key:
        store.discard_draft(session=session, map_id=map_id, client_key=client_key)
    return revision


@service(Action.EDIT_MAP, map_arg="map_id")
def restore_revision(
    session: Session, actor: Actor, *, map_id: int, revision_id: int, base_revision_id: int
) -> Revision:
    """Make an old revision's document the latest again, as a new revision (history is kept)."""
    return store.restore_revision(
        session=session,
        map_id=map_id,
        revision_id=revision_id,
        author=actor.name,
        base_revision_id=base_revision_id,
    )


@service(Action.EDIT_MAP, map_arg="map_id")
def save_to_be_map(
    session: Session, actor: Actor, *, map_id: int, base_revision_id: int, fixes: Sequence[Fix]
) -> Revision:
    """Save the to-be map: ``base_revision_id``'s map with the fixed handoffs' context carry set to ``full``.

    The new revision goes on top of ``base_revision_id`` (the revision the prediction was made on), so a newer
    revision saved meanwhile refuses it (:class:`journeymap.store.StaleRevisionError`); its message names
    the fixes. See :func:`to_be_map` for which transitions change and when a fix is refused.
    """
    if not fixes:
        raise UserInputError("choose at least one handoff to fix", source="Save as to-be map")
    base = store.get_revision(session=session, revision_id=base_revision_id)
    if base.map_id != map_id:
        raise UserInputError("is not a revision of this map", source=f"revision {base_revision_id}")
    journey_map, changed = to_be_map(base.journey_map, fixes)
    plural = "transition" if changed == 1 else "transitions"
    return store.save_revision(
        session=session,
        map_id=map_id,
        journey_map=journey_map,
        author=actor.name,
        message=f"To-be map: context carried in full across {'; '.join(fix.label for fix in fixes)} "
        f"({changed} designed {plural} set to full)",
        base_revision_id=base_revision_id,
    )


@service(Action.EDIT_MAP, map_arg="map_id")
def archive_map(session: Session, actor: Actor, *, map_id: int, archived: bool = True) -> MapSummary:
    """Hide a map from the default list (``archived=False`` brings it back); nothing is deleted."""
    store.archive_map(session=session, map_id=map_id, archived=archived)
    return store.get_map(session=session, map_id=map_id)


# --- this browser's draft -----------------------------------------------------------------------------------


@service(Action.EDIT_MAP, map_arg="map_id")
def save_draft(
    session: Session, actor: Actor, *, map_id: int, client_key: str, base_revision_id: int, journey_map: JourneyMap
) -> Draft:
    """Keep unsaved edits of the map for one browser, started from ``base_revision_id``."""
    return store.save_draft(
        session=session,
        map_id=map_id,
        client_key=client_key,
        base_revision_id=base_revision_id,
        journey_map=journey_map,
    )


@service(Action.EDIT_MAP, map_arg="map_id")
def discard_draft(session: Session, actor: Actor, *, map_id: int, client_key: str) -> Revision:
    """Forget one browser's unsaved edits of the map; returns the map's latest revision to show instead."""
    store.discard_draft(session=session, map_id=map_id, client_key=client_key)
    return store.latest_revision(session=session, map_id=map_id)


@service(Action.READ_MAP, map_arg="map_id")
def open_for_editing(session: Session, actor: Actor, *, map_id: int, client_key: str) -> WorkingCopy:
    """The map's latest revision and the browser's unsaved edits of it (set aside when they no longer read)."""
    latest = store.latest_revision(session=session, map_id=map_id)
    try:
        draft = store.get_draft(session=session, map_id=map_id, client_key=client_key)
    except DamagedRevisionError as exc:
        return WorkingCopy(latest=latest, draft=None, draft_problem=exc)
    return WorkingCopy(latest=latest, draft=draft)


# --- reads ------------------------------------------------------------------------------------------------


@service(None)
def list_maps(
    session: Session, actor: Actor, *, include_archived: bool = False, search: str | None = None
) -> list[MapSummary]:
    """Saved maps, most recently changed first: all of them for a member, the link's map for a share link.

    ``search`` matches names, ignoring case. A visitor who is not signed in is refused.
    """
    if actor.may(Action.READ_WORKSPACE):
        return store.list_maps(session=session, include_archived=include_archived, search=search)
    if actor.map_scope is None or not actor.may(Action.READ_MAP, map_id=actor.map_scope):
        raise PermissionDenied(actor, Action.READ_WORKSPACE)
    listed = store.list_maps(session=session, include_archived=include_archived, search=search)
    return [summary for summary in listed if summary.id == actor.map_scope]


@service(Action.READ_MAP, map_arg="map_id")
def get_map(session: Session, actor: Actor, *, map_id: int) -> MapSummary:
    """One saved map's summary (archived maps included)."""
    return store.get_map(session=session, map_id=map_id)


@service(Action.READ_MAP, map_arg="map_id")
def latest_revision(session: Session, actor: Actor, *, map_id: int) -> Revision:
    """The map's latest revision with its document."""
    return store.latest_revision(session=session, map_id=map_id)


@service(Action.READ_MAP, map_of=_map_of_revision)
def get_revision(session: Session, actor: Actor, *, revision_id: int) -> Revision:
    """Any revision by id, with its document (readable by whoever may read its map)."""
    return store.get_revision(session=session, revision_id=revision_id)


@service(Action.READ_MAP, map_arg="map_id")
def list_revisions(session: Session, actor: Actor, *, map_id: int) -> list[RevisionInfo]:
    """The map's history, newest revision first."""
    return store.list_revisions(session=session, map_id=map_id)


@service(Action.READ_MAP, map_arg="map_id")
def last_readable_revision(session: Session, actor: Actor, *, map_id: int) -> Revision | None:
    """The map's newest revision whose document reads (``None`` when none does)."""
    return store.last_readable_revision(session=session, map_id=map_id)


def _newest_maturity(session: Session) -> Maturity | None:
    assessments = list_assessments(session=session)
    if not assessments:
        return None
    newest = assessments[0]
    _, framework = get_framework(session=session, key=newest.framework_key, number=newest.framework_revision)
    answers = list_answers(session=session, assessment_id=newest.id)
    return Maturity(newest, mean_level(current_levels(score_dimensions(framework, answers))))


@service(Action.READ_WORKSPACE)
def workspace_overview(session: Session, actor: Actor) -> WorkspaceOverview:
    """The Maps page's figures: maps, open review items per map, newest dataset per map, newest maturity."""
    maps = store.list_maps(session=session)
    counts = review_counts_by_map(session=session)
    newest = newest_dataset_by_map(list_datasets(session=session))
    try:
        maturity = _newest_maturity(session)
    except UserInputError as exc:  # a stored framework that no longer reads: the rest of the page still shows
        return WorkspaceOverview(maps, counts, newest, None, str(exc))
    return WorkspaceOverview(maps, counts, newest, maturity)
