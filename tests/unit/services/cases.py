"""What one row of the access matrix says: a call of a service, and who may make it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from journeymap.access import Actor
from tests.unit.services.world import PEOPLE, World

EVERYONE = frozenset(PEOPLE)
EDITORS = frozenset({"owner", "editor"})
MEMBERS = frozenset({"owner", "editor", "viewer"})
OWNER = frozenset({"owner"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Case:
    """``call(world, actor)`` calls the service ``service`` (its key in ``journeymap.services.SERVICES``).

    Everyone in ``allowed`` succeeds (and ``check(world, result)`` holds, when given); everyone else is
    refused with ``PermissionDenied`` and the database is left exactly as it was.
    """

    service: str
    call: Callable[[World, Actor], Any]
    allowed: frozenset[str]
    variant: str = ""
    check: Callable[[World, Any], None] | None = None

    @property
    def name(self) -> str:
        return f"{self.service}[{self.variant}]" if self.variant else self.service
