"""The demo workspace: every built-in template saved as a map, so a first visit opens on real content."""

from __future__ import annotations

from sqlmodel import Session

from journeymap.store import create_map, list_maps
from journeymap.templates import list_templates, load_template

__all__ = ["DEMO_AUTHOR", "DEFAULT_TEMPLATE_ID", "seed_demo"]

DEMO_AUTHOR = "Journeymap demo"
DEFAULT_TEMPLATE_ID = "retail-bopis"


def seed_demo(session: Session) -> list[int]:
    """Save each built-in template as a map when the database holds no maps yet.

    Parameters
    ----------
    session:
        An open database session; the caller commits (``session_scope`` does).

    Returns
    -------
    list[int]
        The ids of the maps created, in template order; empty when the workspace already had maps,
        so calling it again is harmless.
    """
    if list_maps(session=session, include_archived=True):
        return []
    created: list[int] = []
    for info in list_templates():
        revision = create_map(
            session=session,
            journey_map=load_template(info.id),
            author=DEMO_AUTHOR,
            message=f"Created from the '{info.name}' template",
        )
        created.append(revision.map_id)
    return created
