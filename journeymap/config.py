"""Every setting Journeymap reads from its environment, in one object.

Nothing else in the package reads ``os.environ``: the server, the command line and the tests build
a :class:`Settings` with :meth:`Settings.from_env` (or by hand) and pass it on. Each setting is
documented in the README's *Configuration* table, and a test keeps the two in step.

Examples
--------
>>> s = Settings.from_env({"JOURNEYMAP_DB": "/srv/jm/app.db"})
>>> s.sqlite_path.as_posix(), s.data_dir.as_posix(), [p.as_posix() for p in s.data_roots]
('/srv/jm/app.db', '/srv/jm/datasets', ['/srv/jm/datasets'])
>>> Settings.from_env({"DATABASE_URL": "postgres://ana@db/jm"}).database_url
'postgresql+psycopg://ana@db/jm'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

__all__ = ["ENVIRONMENT", "Settings", "settings"]

_REPO_ROOT = Path(__file__).resolve().parents[1]

# Setting → the environment variable it comes from.
ENVIRONMENT: dict[str, str] = {
    "database_url": "DATABASE_URL",
    "sqlite_path": "JOURNEYMAP_DB",
    "data_dir": "JOURNEYMAP_DATA_DIR",
    "data_roots": "JOURNEYMAP_DATA_ROOTS",
    "browser_path": "BROWSER_PATH",
}


def _paths(text: str) -> tuple[Path, ...]:
    return tuple(Path(part).expanduser() for part in text.split(os.pathsep) if part.strip())


@dataclass(frozen=True)
class Settings:
    """Where Journeymap keeps its data and which files it may read.

    ``database_url``
        The SQLAlchemy URL of the database (``DATABASE_URL``; ``postgres://`` and
        ``postgresql://`` use psycopg). Empty: the SQLite file ``sqlite_path``.
    ``sqlite_path``
        The SQLite file used when no ``database_url`` is set (``JOURNEYMAP_DB``,
        default ``.journeymap/journeymap.db``).
    ``data_dir``
        Where uploads and ingested event logs are kept (``JOURNEYMAP_DATA_DIR``, default the
        folder ``datasets`` beside the SQLite file).
    ``data_roots``
        The folders whose files "File on the server" may read (``JOURNEYMAP_DATA_ROOTS``, several
        separated by ``:``; default ``data_dir`` only).
    ``browser_path``
        The Chromium used for PNG and PDF export (``BROWSER_PATH``; default: found on ``PATH``).
    """

    database_url: str = ""
    sqlite_path: Path = field(default_factory=lambda: _REPO_ROOT / ".journeymap" / "journeymap.db")
    data_dir: Path = field(default_factory=lambda: _REPO_ROOT / ".journeymap" / "datasets")
    data_roots: tuple[Path, ...] = ()
    browser_path: str = ""

    def __post_init__(self) -> None:
        if not self.data_roots:
            object.__setattr__(self, "data_roots", (self.data_dir,))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings named in ``environ`` (default: this process's environment)."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(ENVIRONMENT[name], "").strip()

        url = get("database_url")
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url.removeprefix(prefix)
        sqlite_path = Path(get("sqlite_path")).expanduser() if get("sqlite_path") else cls().sqlite_path
        data_dir = Path(get("data_dir")).expanduser() if get("data_dir") else sqlite_path.parent / "datasets"
        return cls(
            database_url=url,
            sqlite_path=sqlite_path,
            data_dir=data_dir,
            data_roots=_paths(get("data_roots")),
            browser_path=get("browser_path"),
        )

    @property
    def url(self) -> str:
        """The database URL to connect to: ``database_url``, else the SQLite file (its folder created)."""
        if self.database_url:
            return self.database_url
        self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.sqlite_path.resolve()}"


def settings() -> Settings:
    """The settings of this process's environment, read now (a test may change the environment between calls)."""
    return Settings.from_env()


assert set(ENVIRONMENT) == {f.name for f in fields(Settings)}
