"""The working copy of the open map: loading it (with this browser's draft), accepting edits, saving.

Every accepted edit replaces the working copy in session state *and* writes it to the database as
this browser's draft, so a refresh or a lost connection never loses work. Every database access is a
call of :mod:`journeymap.services.maps` with the session's actor, which checks the right to do it.

A save refused because someone saved a newer revision meanwhile keeps the edits and records the
conflict (:data:`StateKeys.SAVE_CONFLICT`): :func:`rebase_on_latest` then carries the edits over onto
the newer revision, so the next save succeeds, and :func:`discard_edits` opens the newer revision instead.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from journeymap.access import Actor
from journeymap.errors import UserInputError
from journeymap.model import JourneyMap
from journeymap.services import maps as services
from journeymap.store import DamagedRevisionError, DatabaseUnavailable, Revision, RevisionInfo, StaleRevisionError
from journeymap.ui.access import can_edit, current_actor
from journeymap.ui.page import PageContext, flash
from journeymap.ui.state import StateKeys
from journeymap.ui.text import md

__all__ = [
    "accept_edit",
    "discard_edits",
    "ensure_open",
    "import_as_revision",
    "is_dirty",
    "offer_last_readable",
    "rebase_on_latest",
    "revision_history",
    "run_edit",
    "save_conflict",
    "save_working_map",
    "saved_map",
    "working_map",
]


def _actor_now(ctx: PageContext) -> Actor:
    """Who is acting in this session now, for widget callbacks.

    A callback gets the :class:`PageContext` of the run that drew its widget; asking again means a
    sign-out in another tab, or a sign-in that ended, counts before anything is written.
    """
    return current_actor(ctx.engine)


def working_map() -> JourneyMap:
    """The map being edited (call after :func:`ensure_open`)."""
    value = st.session_state[StateKeys.WORKING_MAP]
    assert isinstance(value, JourneyMap)
    return value


def is_dirty() -> bool:
    """Whether the working copy holds edits not saved as a revision."""
    return bool(st.session_state.get(StateKeys.DIRTY, False))


def save_conflict() -> RevisionInfo | None:
    """The newer revision a refused save met, while the working copy still starts from an older one."""
    value = st.session_state.get(StateKeys.SAVE_CONFLICT)
    return value if isinstance(value, RevisionInfo) else None


def _set_working(map_id: int, journey_map: JourneyMap, base_revision_id: int, *, dirty: bool) -> None:
    st.session_state[StateKeys.WORKING_MAP_ID] = map_id
    st.session_state[StateKeys.WORKING_MAP] = journey_map
    st.session_state[StateKeys.BASE_REVISION_ID] = base_revision_id
    st.session_state[StateKeys.DIRTY] = dirty
    st.session_state[StateKeys.SAVE_CONFLICT] = None
    st.session_state[StateKeys.TABLE_VERSION] = st.session_state.get(StateKeys.TABLE_VERSION, 0) + 1


def _working_ids() -> tuple[int, int]:
    return int(st.session_state[StateKeys.WORKING_MAP_ID]), int(st.session_state[StateKeys.BASE_REVISION_ID])


def ensure_open(ctx: PageContext, map_id: int) -> None:
    """Load ``map_id`` as the working copy unless it is already open; restore this browser's draft."""
    if st.session_state.get(StateKeys.WORKING_MAP_ID) == map_id and StateKeys.WORKING_MAP in st.session_state:
        return
    opened = services.open_for_editing(ctx.engine, ctx.actor, map_id=map_id, client_key=ctx.client_key)
    latest, draft = opened.latest, opened.draft
    st.session_state[StateKeys.SELECTED_NODE] = None
    st.session_state[StateKeys.PENDING_DELETE] = None
    st.session_state[StateKeys.DRAFT_NOTICE] = None
    if opened.draft_problem is not None:
        problem = opened.draft_problem.problem
        st.session_state[StateKeys.DRAFT_NOTICE] = (
            f"{problem[:1].upper()}{problem[1:]} in this browser's unsaved edits: "
            f"showing revision {latest.number} instead; your next edit replaces them."
        )
    if draft is not None and (draft.journey_map != latest.journey_map or draft.base_revision_id != latest.id):
        _set_working(map_id, draft.journey_map, draft.base_revision_id, dirty=True)
        st.session_state[StateKeys.DRAFT_NOTICE] = (
            f"Restored unsaved edits from {draft.updated_at:%H:%M} UTC — Save or Discard them below."
        )
    else:
        _set_working(map_id, latest.journey_map, latest.id, dirty=False)


def _keep_draft(ctx: PageContext, base_revision_id: int, journey_map: JourneyMap) -> None:
    """Store ``journey_map`` as this browser's draft of the open map, started from ``base_revision_id``."""
    map_id, _ = _working_ids()
    services.save_draft(
        ctx.engine,
        _actor_now(ctx),
        map_id=map_id,
        client_key=ctx.client_key,
        base_revision_id=base_revision_id,
        journey_map=journey_map,
    )


def accept_edit(ctx: PageContext, new_map: JourneyMap, section: str = "save") -> bool:
    """Make ``new_map`` the working copy and keep it as this browser's draft; ``False`` when refused.

    A session that may not edit the map (any more: widget callbacks run before the page's guard), a
    map locked by a workshop, or a map that could not be saved (a field over the model's limits) is
    refused and the working copy stays as it was. When only the database is unavailable the edit is
    kept on screen, with a warning.
    """
    _, base = _working_ids()
    try:
        _keep_draft(ctx, base, new_map)
    except DatabaseUnavailable as exc:
        flash(section, "warning", f"{exc} The edit is kept in this tab only until it can be saved.")
    except UserInputError as exc:
        flash(section, "error", str(exc))
        return False
    st.session_state[StateKeys.WORKING_MAP] = new_map
    st.session_state[StateKeys.DIRTY] = True
    return True


def run_edit(ctx: PageContext, section: str, edit: Callable[[JourneyMap], JourneyMap], done: str) -> bool:
    """Apply a pure edit to the working copy; a refused edit leaves it untouched and says why."""
    try:
        new_map = edit(working_map())
    except UserInputError as exc:
        flash(section, "error", str(exc))
        return False
    if not accept_edit(ctx, new_map, section):
        return False
    if st.session_state.get(StateKeys.FLASH, {}).get(section) is None:
        flash(section, "success", done)
    return True


def save_working_map(ctx: PageContext, message: str) -> Revision | None:
    """Save the working copy as a new revision; a refused save keeps the edits and the draft.

    A save refused because the map has a newer revision records it (:func:`save_conflict`), so the
    page can offer to carry the edits over onto it.
    """
    map_id, base = _working_ids()
    try:
        revision = services.save_revision(
            ctx.engine,
            _actor_now(ctx),
            map_id=map_id,
            journey_map=working_map(),
            base_revision_id=base,
            message=message,
            client_key=ctx.client_key,
        )
    except StaleRevisionError as exc:
        st.session_state[StateKeys.SAVE_CONFLICT] = exc.latest or _latest_info(ctx, map_id)
        flash("save", "error", str(exc))
        return None
    except UserInputError as exc:
        flash("save", "error", str(exc))
        return None
    _set_working(map_id, revision.journey_map, revision.id, dirty=False)
    st.session_state[StateKeys.DRAFT_NOTICE] = None
    flash("save", "success", f"Saved revision {revision.number}.")
    return revision


def _latest_info(ctx: PageContext, map_id: int) -> RevisionInfo | None:
    try:
        return services.get_map(ctx.engine, _actor_now(ctx), map_id=map_id).latest_revision
    except UserInputError:  # the refusal already says what happened; the offer waits for the next save
        return None


def rebase_on_latest(ctx: PageContext) -> None:
    """Carry the working copy's edits over onto the newer revision a save met: the next save adds on top of it.

    The working copy itself is unchanged (it replaces the newer revision's content when saved; the
    newer revision stays in the history). Its draft is kept with the new starting revision.
    """
    latest = save_conflict()
    if latest is None:
        return
    try:
        _keep_draft(ctx, latest.id, working_map())
    except UserInputError as exc:
        flash("save", "error", str(exc))
        return
    st.session_state[StateKeys.BASE_REVISION_ID] = latest.id
    st.session_state[StateKeys.SAVE_CONFLICT] = None
    flash(
        "save",
        "info",
        f"Your edits now start from revision {latest.number} ({latest.author}'s): "
        f"save them to make revision {latest.number + 1}.",
    )


def discard_edits(ctx: PageContext) -> None:
    """Forget the draft and reload the map's latest revision."""
    map_id, _ = _working_ids()
    try:
        latest = services.discard_draft(ctx.engine, _actor_now(ctx), map_id=map_id, client_key=ctx.client_key)
    except UserInputError as exc:
        flash("save", "error", str(exc))
        return
    _set_working(map_id, latest.journey_map, latest.id, dirty=False)
    st.session_state[StateKeys.DRAFT_NOTICE] = None
    st.session_state[StateKeys.SELECTED_NODE] = None
    flash("save", "info", f"Discarded unsaved edits; showing revision {latest.number}.")


def import_as_revision(ctx: PageContext, content: bytes, file_name: str) -> Revision | None:
    """Validate an uploaded map document and save it as the open map's next revision.

    A broken or foreign file writes nothing and leaves the working copy as it was.
    """
    map_id, base = _working_ids()
    try:
        revision = services.import_revision(
            ctx.engine,
            _actor_now(ctx),
            map_id=map_id,
            content=content,
            file_name=file_name,
            base_revision_id=base,
            client_key=ctx.client_key,
        )
    except UserInputError as exc:
        flash("import", "error", str(exc))
        return None
    _set_working(map_id, revision.journey_map, revision.id, dirty=False)
    st.session_state[StateKeys.SELECTED_NODE] = None
    flash("import", "success", f"Imported {file_name} as revision {revision.number}.")
    return revision


def _restore_last_readable(ctx: PageContext, damaged: DamagedRevisionError) -> None:
    assert damaged.last_readable is not None and damaged.revision_id is not None
    try:
        revision = services.restore_revision(
            ctx.engine,
            _actor_now(ctx),
            map_id=damaged.map_id,
            revision_id=damaged.last_readable.id,
            base_revision_id=damaged.revision_id,
        )
    except UserInputError as exc:
        flash("restore", "error", str(exc))
        return
    st.session_state.pop(StateKeys.WORKING_MAP_ID, None)  # open the restored revision on this run
    flash("save", "success", f"Restored revision {damaged.last_readable.number} as revision {revision.number}.")


def offer_last_readable(ctx: PageContext, damaged: DamagedRevisionError) -> None:
    """Under a damaged map's message: a button that makes its last readable revision the latest again.

    Offered to those who may edit the map; anyone else is told who can.
    """
    show = st.session_state.get(StateKeys.FLASH, {}).pop("restore", None)
    if show is not None:
        st.error(md(show[1]))
    older = damaged.last_readable
    if older is None or damaged.revision_id is None:
        return
    if not can_edit(ctx.engine, map_id=damaged.map_id):
        st.info(f"An editor can restore revision {older.number} as the latest.")
        return
    st.button(
        f"Restore revision {older.number} as the latest",
        key=StateKeys.RESTORE_READABLE,
        type="primary",
        on_click=_restore_last_readable,
        args=(ctx, damaged),
        help="Saved as a new revision; the damaged one stays in the history.",
    )


def revision_history(ctx: PageContext, map_id: int) -> list[RevisionInfo]:
    """The open map's revisions, newest first."""
    return services.list_revisions(ctx.engine, ctx.actor, map_id=map_id)


def saved_map(ctx: PageContext, map_id: int) -> JourneyMap:
    """The map as its latest revision saved it (what comments and opportunities point at)."""
    return services.latest_revision(ctx.engine, ctx.actor, map_id=map_id).journey_map
