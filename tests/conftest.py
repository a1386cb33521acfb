"""Every test session works on its own SQLite file, never on the developer's workspace database."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="journeymap-tests-"))


def pytest_configure() -> None:
    # Set before any test imports journeymap.store, so even a stray default engine lands here.
    os.environ["JOURNEYMAP_DB"] = str(_SESSION_DIR / "journeymap.db")
    os.environ.pop("DATABASE_URL", None)
