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
    DamagedRevisionError,
    DatabaseUnavailable,
    Revision,
    RevisionInfo,
    discard_draft,
    get_draft,
    latest_revision,
    list_revisions,
    restore_revision,
    save_draft,
    save_revision,
    session_scope,
)
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
    unreadable_draft = None
    with session_scope(ctx.engine) as session:
        latest = latest_revision(session=session, map_id=map_id)
        try:
            draft = get_draft(session=session, map_id=map_id, client_key=ctx.client_key)
        except DamagedRevisionError as exc:
            # Unsaved edits that no longer read must not keep the saved map from opening.
            draft, unreadable_draft = None, exc
    st.session_state[StateKeys.SELECTED_NODE] = None
    st.session_state[StateKeys.PENDING_DELETE] = None
    st.session_state[StateKeys.DRAFT_NOTICE] = None
    if unreadable_draft is not None:
        st.session_state[StateKeys.DRAFT_NOTICE] = (
            f"{unreadable_draft.problem[:1].upper()}{unreadable_draft.problem[1:]} in this browser's unsaved edits: "
            f"showing revision {latest.number} instead; your next edit replaces them."
        )
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
    try:
        if can_edit(ctx.engine, map_id=int(st.session_state[StateKeys.WORKING_MAP_ID])):
            return True
    except UserInputError as exc:
        flash(section, "error", str(exc))
        return False
    flash(
        section,
        "error",
        "This session cannot change the map now (read-only, or locked by a workshop). Nothing was changed.",
    )
    return False


def accept_edit(ctx: PageContext, new_map: JourneyMap, section: str = "save") -> bool:
    """Make ``new_map`` the working copy and keep it as this browser's draft; ``False`` when refused.

    A map that could not be saved (a field over the model's limits) is refused and the working copy
    stays as it was. When only the database is unavailable the edit is kept on screen, with a warning.
    """
    if not may_write(ctx, section):
        return False
    map_id = int(st.session_state[StateKeys.WORKING_MAP_ID])
    base = int(st.session_state[StateKeys.BASE_REVISION_ID])
    try:
        with session_scope(ctx.engine) as session:
            save_draft(
                session=session, map_id=map_id, client_key=ctx.client_key, base_revision_id=base, journey_map=new_map
            )
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
    if not may_write(ctx, section):
        return False
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
    try:
        with session_scope(ctx.engine) as session:
            discard_draft(session=session, map_id=map_id, client_key=ctx.client_key)
            latest = latest_revision(session=session, map_id=map_id)
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


def _restore_last_readable(ctx: PageContext, damaged: DamagedRevisionError) -> None:
    assert damaged.last_readable is not None and damaged.revision_id is not None
    try:
        if not can_edit(ctx.engine, map_id=damaged.map_id):
            raise UserInputError("only an editor can restore a revision", source="restore", hint="Sign in first.")
        with session_scope(ctx.engine) as session:
            revision = restore_revision(
                session=session,
                map_id=damaged.map_id,
                revision_id=damaged.last_readable.id,
                author=ctx.author or current_actor(ctx.engine).name,
                base_revision_id=damaged.revision_id,
            )
    except UserInputError as exc:
        flash("restore", "error", str(exc))
        return
    st.session_state.pop(StateKeys.WORKING_MAP_ID, None)  # open the restored revision on this run
    flash("save", "success", f"Restored revision {damaged.last_readable.number} as revision {revision.number}.")


def offer_last_readable(ctx: PageContext, damaged: DamagedRevisionError) -> None:
    """Under a damaged map's message: a button that makes its last readable revision the latest again."""
    show = st.session_state.get(StateKeys.FLASH, {}).pop("restore", None)
    if show is not None:
        st.error(md(show[1]))
    older = damaged.last_readable
    if older is None or damaged.revision_id is None:
        return
    st.button(
        f"Restore revision {older.number} as the latest",
        key=StateKeys.RESTORE_READABLE,
        type="primary",
        on_click=_restore_last_readable,
        args=(ctx, damaged),
        disabled=not can_edit(ctx.engine, map_id=damaged.map_id),
        help="Saved as a new revision; the damaged one stays in the history.",
    )


def revision_history(ctx: PageContext, map_id: int) -> list[RevisionInfo]:
    """The open map's revisions, newest first."""
    with session_scope(ctx.engine) as session:
        return list_revisions(session=session, map_id=map_id)
