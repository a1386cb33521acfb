"""Real database failures for tests: a read-only file, a damaged file, a write lock held elsewhere.

Nothing is mocked: each helper does to a real SQLite file what an operator's mistake or a second
process would. As root, ``chmod`` does not stop writes, so the file is made immutable instead
(``chattr +i``, which even root must undo before writing).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["closed_port", "damage", "damage_table", "read_only", "write_locked"]


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` cannot be written while the block runs (its folder stays writable, as usual)."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None:
            raise RuntimeError("running as root needs chattr (e2fsprogs) to make a file read-only")
        subprocess.run([chattr, "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(path)], check=True)
        return
    mode = path.stat().st_mode
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        yield
    finally:
        path.chmod(mode)


def damage(path: Path) -> None:
    """Overwrite a SQLite file with text, as a bad copy or a full disk might leave it."""
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 200)


def damage_table(path: Path, table: str) -> None:
    """Overwrite the first page of one table: the file still opens, reading that table fails."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        query = "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?"
        (root,) = conn.execute(query, (table,)).fetchone()
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((int(root) - 1) * page_size)
        handle.write(b"\xff" * page_size)


@contextmanager
def write_locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holds the database's write lock until the block ends."""
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
    finally:
        holder.rollback()
        holder.close()


def closed_port() -> int:
    """A local TCP port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
