"""Start a throwaway PostgreSQL server for tests, and stop it again.

The server lives in a fresh temporary directory (data and unix socket), listens on a
free port on 127.0.0.1, trusts local connections and skips fsync: it is fast, private
to one test session, and gone afterwards. ``initdb`` refuses to run as root, so as
root the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

__all__ = ["PostgresServer", "find_postgres_bin", "start_postgres"]

_SYSTEM_USER = "postgres"
_SUPERUSER = "postgres"


def find_postgres_bin() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None when not installed."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    candidates.extend(Path(p) for p in versions if Path(p).parent.name.isdigit())
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A running server; :meth:`create_database` gives each test its own database."""

    bindir: Path
    root: Path
    port: int
    run_as: list[str]
    stopped: bool = field(default=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=_SUPERUSER, dbname="postgres", autocommit=True, connect_timeout=10
        )

    def create_database(self, *, timezone: str | None = None) -> tuple[str, str]:
        """A new empty database: ``(name, SQLAlchemy URL)``; ``timezone`` sets its sessions' zone."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            if timezone:
                conn.execute(f"ALTER DATABASE \"{name}\" SET timezone TO '{timezone}'")
        return name, self.url(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _run_as() -> tuple[list[str], int | None]:
    """Command prefix and uid for running the server; as root, the postgres system user."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        raise RuntimeError(
            f"Running as root and there is no '{_SYSTEM_USER}' system user to run PostgreSQL "
            "(initdb refuses root). Install the Debian 'postgresql' package or run the tests as another user."
        ) from None
    runuser = shutil.which("runuser")
    if not runuser:
        raise RuntimeError("Running as root needs 'runuser' (util-linux) to start PostgreSQL as the postgres user.")
    return [runuser, "-u", _SYSTEM_USER, "--"], user.pw_uid


def start_postgres(bindir: Path, *, attempts: int = 3) -> PostgresServer:
    """Initialise a cluster in a new temporary directory and start it on a free port."""
    run_as, uid = _run_as()
    # Under /tmp directly: pytest's own temporary directories are private to root, and
    # the socket path must stay short (about 100 characters at most).
    root = Path(tempfile.mkdtemp(prefix="jm-pg-"))
    if uid is not None:
        os.chown(root, uid, -1)
    initdb = [
        *run_as,
        str(bindir / "initdb"),
        "-D",
        str(root / "data"),
        "-U",
        _SUPERUSER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
        "--locale=C",
    ]
    result = subprocess.run(initdb, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stderr}")
    last_error = ""
    for _ in range(attempts):
        port = _free_port()
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        start = [*run_as, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log")]
        start += ["-w", "-t", "60", "-o", options, "start"]
        result = subprocess.run(start, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode == 0:
            server = PostgresServer(bindir=bindir, root=root, port=port, run_as=run_as)
            atexit.register(server.stop)
            return server
        with contextlib.suppress(OSError):
            last_error = (root / "server.log").read_text()[-2000:]
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start after {attempts} attempts:\n{last_error}")
