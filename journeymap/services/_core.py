"""The frame of every service function: check the actor first, then do the work in one transaction.

A service is a plain function ``work(session, actor, **arguments)`` wrapped by :func:`service`.
Callers call the wrapped function as ``work(engine, actor, **arguments)``; the wrapper

1. opens one session (:func:`journeymap.store.session_scope`),
2. refreshes the actor from the database (a signed-in account that was removed, or whose role
   changed, acts with what it is now, not with what it was when the page loaded),
3. checks the permission the service names (:meth:`journeymap.access.Actor.may`, with the map
   the call concerns) and, for edits of a map, that no running workshop has locked it,
4. runs the work, and commits once at the end: everything the work wrote, or, if it raised,
   nothing (store functions flush but never commit).

Every wrapped function is recorded in :data:`SERVICES`, so the access matrix test can walk them all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from journeymap.access import Action, Actor, PermissionDenied, Role
from journeymap.errors import UserInputError
from journeymap.store.db import session_scope

__all__ = ["SERVICES", "MapLocked", "ServiceInfo", "check", "current_actor", "service"]

P = ParamSpec("P")
R = TypeVar("R")

MapOf = Callable[[Session, Mapping[str, Any]], int | None]


class MapLocked(UserInputError):
    """A running workshop has locked the map: edits wait until the facilitator unlocks it."""

    def __init__(self, map_id: int) -> None:
        self.map_id = map_id
        super().__init__(
            "a workshop has locked this map",
            source=f"map {map_id}",
            hint="Edits are refused until the facilitator unlocks it or closes the workshop.",
        )


@dataclass(frozen=True)
class ServiceInfo:
    """What the registry knows of one service: its name, the permission it needs, and the function."""

    name: str
    action: Action | None
    function: Callable[..., Any]


SERVICES: dict[str, ServiceInfo] = {}


def current_actor(session: Session, actor: Actor) -> Actor:
    """``actor`` as the database knows it now: a removed account acts as a visitor who is not signed in."""
    if actor.account_id is None:
        return actor
    from journeymap.store.access import UserAccount  # the store's table, read only here

    row = session.get(UserAccount, actor.account_id)
    if row is None:
        return Actor(actor.name, Role.GUEST)
    return Actor(row.display_name, Role(row.role), account_id=actor.account_id, map_scope=actor.map_scope)


def check(session: Session, actor: Actor, action: Action, *, map_id: int | None = None) -> Actor:
    """Raise unless ``actor`` may do ``action`` (on ``map_id``), and an edit's map is not locked.

    Services whose map is only known after a look-up (a comment's, a revision's) call this
    themselves, before they write anything.
    """
    from journeymap.store.reviews import is_locked  # workshops live in the review store

    fresh = current_actor(session, actor)
    if not fresh.may(action, map_id=map_id):
        raise PermissionDenied(fresh, action)
    if action == Action.EDIT_MAP and map_id is not None and is_locked(session=session, map_id=map_id):
        raise MapLocked(map_id)
    return fresh


def service(
    action: Action | None,
    *,
    map_arg: str | None = None,
    map_of: MapOf | None = None,
) -> Callable[[Callable[Concatenate[Session, Actor, P], R]], Callable[Concatenate[Engine, Actor, P], R]]:
    """Make ``work(session, actor, **kw)`` the service ``work(engine, actor, **kw)`` (see the module docstring).

    ``action``
        The permission checked before the work runs. ``None`` only for a service whose right comes
        from something the caller holds instead of a role (a workshop's join code); the work checks it.
    ``map_arg`` / ``map_of``
        The map the call concerns: the keyword argument that names it, or a look-up from the
        session and the arguments. The check then allows a share-link visitor's one map, and
        refuses an edit to a map a workshop has locked.

    The work receives the actor as the database knows it now (name and role of the account).
    """

    def wrap(work: Callable[Concatenate[Session, Actor, P], R]) -> Callable[Concatenate[Engine, Actor, P], R]:
        @functools.wraps(work)
        def run(engine: Engine, actor: Actor, /, *args: P.args, **kwargs: P.kwargs) -> R:
            with session_scope(engine) as session:
                if action is None:
                    fresh = current_actor(session, actor)
                else:
                    map_id = None
                    if map_arg is not None:
                        map_id = kwargs.get(map_arg)
                    elif map_of is not None:
                        map_id = map_of(session, kwargs)
                    fresh = check(session, actor, action, map_id=map_id if isinstance(map_id, int) else None)
                return work(session, fresh, *args, **kwargs)

        SERVICES[f"{work.__module__.rsplit('.', 1)[-1]}.{work.__name__}"] = ServiceInfo(work.__name__, action, run)
        return run

    return wrap
