"""The working copy of the open map: loading it (with this browser's draft), accepting edits, saving.

Every accepted edit replaces the working copy in session state *and* writes it to the database as
this browser's draft, so a refresh or a lost connection never loses work.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from journeymap.errors import UserInputError
from journeymap.model import JourneyMap, map_from_json
from journeymap.store import (
    Revision,
    RevisionInfo,
    discard_draft,
    get_draft,
    latest_revision,
    list_revisions,
    save_draft,
    save_revision,
    session_scope,
)
from journeymap.ui.access import can_edit
from journeymap.ui.page import PageContext, flash
from journeymap.ui.state import StateKeys

__all__ = [
    "accept_edit",
    "discard_edits",
    "ensure_open",
    "import_as_revision",
    "is_dirty",
    "revision_history",
    "run_edit",
    "save_working_map",
    "working_map",
]


def working_map() -> JourneyMap:
    """The map being edited (call after :func:`ensure_open`)."""
    value = st.session_state[StateKeys.WORKING_MAP]
    assert isinstance(value, JourneyMap)
    return value


def is_dirty() -> bool:
    """Whether the working copy holds edits not saved as a revision."""
    return bool(st.session_state.get(StateKeys.DIRTY, False))


def _set_working(map_id: int, journey_map: JourneyMap, base_revision_id: int, *, dirty: bool) -> None:
    st.session_state[StateKeys.WORKING_MAP_ID] = map_id
    st.session_state[StateKeys.WORKING_MAP] = journey_map
    st.session_state[StateKeys.BASE_REVISION_ID] = base_revision_id
    st.session_state[StateKeys.DIRTY] = dirty
    st.session_state[StateKeys.TABLE_VERSION] = st.session_state.get(StateKeys.TABLE_VERSION, 0) + 1


def ensure_open(ctx: PageContext, map_id: int) -> None:
    """Load ``map_id`` as the working copy unless it is already open; restore this browser's draft."""
    if st.session_state.get(StateKeys.WORKING_MAP_ID) == map_id and StateKeys.WORKING_MAP in st.session_state:
        return
    with session_scope(ctx.engine) as session:
        latest = latest_revision(session=session, map_id=map_id)
        draft = get_draft(session=session, map_id=map_id, client_key=ctx.client_key)
    st.session_state[StateKeys.SELECTED_NODE] = None
    st.session_state[StateKeys.PENDING_DELETE] = None
    st.session_state[StateKeys.DRAFT_NOTICE] = None
    if draft is not None and (draft.journey_map != latest.journey_map or draft.base_revision_id != latest.id):
        _set_working(map_id, draft.journey_map, draft.base_revision_id, dirty=True)
        st.session_state[StateKeys.DRAFT_NOTICE] = (
            f"Restored unsaved edits from {draft.updated_at:%H:%M} UTC — Save or Discard them below."
        )
    else:
        _set_working(map_id, latest.journey_map, latest.id, dirty=False)


def may_write(ctx: PageContext, section: str) -> bool:
    """Whether this session may change the open map now; if not, say so in ``section``.

    Widget callbacks run before the page script and its guard: a control drawn while editing was
    allowed can still fire after a workshop locked the map or the user signed out.
    """
    if can_edit(ctx.engine, map_id=int(st.session_state[StateKeys.WORKING_MAP_ID])):
        return True
    flash(
        section,
        "error",
        "This session cannot change the map now (read-only, or locked by a workshop). Nothing was changed.",
    )
    return False


def accept_edit(ctx: PageContext, new_map: JourneyMap) -> None:
    """Make ``new_map`` the working copy and keep it as this browser's draft."""
    if not may_write(ctx, "save"):
        return
    map_id = int(st.session_state[StateKeys.WORKING_MAP_ID])
    base = int(st.session_state[StateKeys.BASE_REVISION_ID])
    with session_scope(ctx.engine) as session:
        save_draft(
            session=session, map_id=map_id, client_key=ctx.client_key, base_revision_id=base, journey_map=new_map
        )
    st.session_state[StateKeys.WORKING_MAP] = new_map
    st.session_state[StateKeys.DIRTY] = True


def run_edit(ctx: PageContext, section: str, edit: Callable[[JourneyMap], JourneyMap], done: str) -> bool:
    """Apply a pure edit to the working copy; a refused edit leaves it untouched and says why."""
    if not may_write(ctx, section):
        return False
    try:
        new_map = edit(working_map())
    except UserInputError as exc:
        flash(section, "error", str(exc))
        return False
    accept_edit(ctx, new_map)
    flash(section, "success", done)
    return True


def save_working_map(ctx: PageContext, message: str) -> Revision | None:
    """Save the working copy as a new revision; a refused save keeps the edits and the draft."""
    if not may_write(ctx, "save"):
        return None
    map_id = int(st.session_state[StateKeys.WORKING_MAP_ID])
    try:
        with session_scope(ctx.engine) as session:
            revision = save_revision(
                session=session,
                map_id=map_id,
                journey_map=working_map(),
                author=ctx.author,
                message=message.strip() or "Edited in the map editor",
                base_revision_id=int(st.session_state[StateKeys.BASE_REVISION_ID]),
            )
            discard_draft(session=session, map_id=map_id, client_key=ctx.client_key)
    except UserInputError as exc:
        flash("save", "error", str(exc))
        return None
    _set_working(map_id, revision.journey_map, revision.id, dirty=False)
    st.session_state[StateKeys.DRAFT_NOTICE] = None
    flash("save", "success", f"Saved revision {revision.number}.")
    return revision


def discard_edits(ctx: PageContext) -> None:
    """Forget the draft and reload the map's latest revision."""
    map_id = int(st.session_state[StateKeys.WORKING_MAP_ID])
    with session_scope(ctx.engine) as session:
        discard_draft(session=session, map_id=map_id, client_key=ctx.client_key)
        latest = latest_revision(session=session, map_id=map_id)
    _set_working(map_id, latest.journey_map, latest.id, dirty=False)
    st.session_state[StateKeys.DRAFT_NOTICE] = None
    st.session_state[StateKeys.SELECTED_NODE] = None
    flash("save", "info", f"Discarded unsaved edits; showing revision {latest.number}.")


def import_as_revision(ctx: PageContext, content: bytes, file_name: str) -> Revision | None:
    """Validate an uploaded map document and save it as the open map's next revision.

    A broken or foreign file writes nothing and leaves the working copy as it was.
    """
    if not may_write(ctx, "import"):
        return None
    map_id = int(st.session_state[StateKeys.WORKING_MAP_ID])
    try:
        imported = map_from_json(content, source=file_name)
        with session_scope(ctx.engine) as session:
            revision = save_revision(
                session=session,
                map_id=map_id,
                journey_map=imported,
                author=ctx.author,
                message=f"Imported from {file_name}",
                base_revision_id=int(st.session_state[StateKeys.BASE_REVISION_ID]),
            )
            discard_draft(session=session, map_id=map_id, client_key=ctx.client_key)
    except UserInputError as exc:
        flash("import", "error", str(exc))
        return None
    _set_working(map_id, revision.journey_map, revision.id, dirty=False)
    st.session_state[StateKeys.SELECTED_NODE] = None
    flash("import", "success", f"Imported {file_name} as revision {revision.number}.")
    return revision


def revision_history(ctx: PageContext, map_id: int) -> list[RevisionInfo]:
    """The open map's revisions, newest first."""
    with session_scope(ctx.engine) as session:
        return list_revisions(session=session, map_id=map_id)
