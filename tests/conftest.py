"""Every test session works on its own SQLite file, never on the developer's workspace database."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="journeymap-tests-"))


def pytest_configure() -> None:
    # Set before any test imports journeymap.store, so even a stray default engine lands here.
    os.environ["JOURNEYMAP_DB"] = str(_SESSION_DIR / "journeymap.db")
    os.environ.pop("DATABASE_URL", None)


@pytest.fixture(autouse=True)
def _quick_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts made in tests hash their passwords at scrypt n=2**14 instead of 2**17 (8 times faster).

    Tests of the hashing itself (marker ``real_scrypt``: ``test_access.py``, ``test_sign_in_hardening.py``) and
    every browser test's server (its own process) use the real parameters.
    """
    if request.node.get_closest_marker("real_scrypt") is None:
        monkeypatch.setattr("journeymap.access._SCRYPT_N", 2**14)
