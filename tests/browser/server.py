"""A Streamlit server of the app on a given database, for browser tests and the browser benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Debian's Chromium, offline-friendly: no background connections this machine's network refuses."""


@dataclass(frozen=True)
class Server:
    """A running ``streamlit run``: where it answers and its process id."""

    url: str
    pid: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        # Between two health checks, wait on the other condition that ends the wait: the server exiting.
        try:
            code = process.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"streamlit exited early with code {code}")
    raise RuntimeError(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def serve(db: Path, entry: Path | str = "app.py", *, root: Path = ROOT) -> Iterator[Server]:
    """Run ``streamlit run <entry>`` in ``root`` on a free port with ``db`` as its database, until the block ends.

    Its output goes to ``streamlit-<port>.log`` beside the database. ``root`` is this checkout unless a
    benchmark serves another one (an earlier release, to compare with).
    """
    port = _free_port()
    # "File on the server" reads only under its data roots: the repository's test data and this test
    # session's temporary folder (the database's folder sits in it, and so does every test's tmp_path).
    roots = os.pathsep.join([str(ROOT / "tests" / "data"), str(db.parent.parent)])
    env = {**os.environ, "JOURNEYMAP_DB": str(db), "JOURNEYMAP_DATA_ROOTS": roots}
    env.pop("DATABASE_URL", None)
    if root != ROOT:
        env["PYTHONPATH"] = str(root)  # that checkout's package, not the one installed from this one
    with (db.parent / f"streamlit-{port}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(entry), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process)
            yield Server(url, process.pid)
        finally:
            _stop(process)
