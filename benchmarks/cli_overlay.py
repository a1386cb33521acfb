"""Raw export → every overlay table with the command line, as a whole process, beside pm4py.

Usage::

    python benchmarks/cli_overlay.py --events 10_000_000                    # CSV and Parquet, 3 runs each
    python benchmarks/cli_overlay.py --events 1_000_000 --format parquet --runs 5
    python benchmarks/cli_overlay.py --events 10_000_000 --root /path/to/other/checkout   # its code, same files

Each run starts ``python -m journeymap.cli overlay EXPORT --mapping EXPORT.mapping.json --gap 30m
--out DIR`` in a fresh process and times it from outside: process start, imports, read, ingest,
overlay and writing every table included. The wall time is taken around the child process, the
peak resident set size and CPU seconds from the operating system's accounting of the finished child
(``os.wait4``). The export is the one benchmarks/ingest.py generates into ``/tmp`` (retail template,
string identifiers in four columns, rows in time order); generating it is not timed.

When pm4py is installed (``pip install -r benchmarks/requirements.txt``), the same file then goes
through ``benchmarks/pm4py_peer.py --export`` in the same way: read with pandas, the first
identifier as case, ``format_dataframe`` and ``discover_dfg`` (fewer figures than the overlay: no
identity resolution, no journey cut, directly-follows counts only).

The machine is shared: the best, median and worst of ``--runs`` are printed, and CPU seconds
(user + system) beside the wall time show how much of a slow run was waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


def _count(text: str) -> int:
    return int(text.replace("_", ""))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=_count, default=1_000_000, help="events in the export (about)")
    parser.add_argument("--format", choices=("csv", "parquet", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="runs of the command line per format")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose journeymap runs (default: this one)")
    parser.add_argument("--no-peer", action="store_true", help="skip pm4py even when it is installed")
    return parser.parse_args()


def _run(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (GB) of one child process, and its exit code.

    ``python -m`` puts the working directory first on the import path: the child runs in ``cwd``
    (the checkout measured), so that it imports that checkout's journeymap and no other.
    """
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    error = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode:
        print(error, file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024**2, child.returncode


def _line(label: str, runs: list[tuple[float, float, float, int]]) -> str:
    walls = sorted(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    peak = max(r[2] for r in runs)
    spread = f"{walls[0]:6.2f} / {statistics.median(walls):6.2f} / {walls[-1]:6.2f} s"
    failed = sum(1 for r in runs if r[3])
    return f"{label:<44} {spread}   cpu {cpu:6.2f} s   peak {peak:5.2f} GB" + (f"   {failed} FAILED" if failed else "")


def main() -> int:
    args = _parse_args()
    from ingest import generate_export  # benchmarks/ingest.py: the same generated export

    formats = ("csv", "parquet") if args.format == "both" else (args.format,)
    exports = [generate_export(args.events, None, fmt, args.seed) for fmt in formats]
    root = args.root.resolve()
    env = {**os.environ, "PYTHONPATH": str(root)}
    peer = not args.no_peer and find_spec("pm4py") is not None
    print(f"journeymap from {root}; load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores")
    print(f"{'whole process (wall best / median / worst)':<44} {'':>26}   cpu = user + system (median)")
    status = 0
    with tempfile.TemporaryDirectory(prefix="journeymap-cli-bench-") as out:
        for export in exports:
            mapping = export.with_suffix(".mapping.json")
            command = [sys.executable, "-m", "journeymap.cli", "overlay", str(export), "--mapping", str(mapping)]
            command += ["--gap", "30m", "--out", out]
            runs = [_run(command, env, root) for _ in range(args.runs)]
            size = export.stat().st_size / 1e9
            print(_line(f"journeymap overlay {export.suffix[1:]} ({size:.2f} GB)", runs), flush=True)
            status = status or max(r[3] for r in runs)
            if peer:
                runs = [_run([sys.executable, str(HERE / "pm4py_peer.py"), "--export", str(export)], env, root)]
                print(_line(f"pm4py read + format + discover_dfg {export.suffix[1:]}", runs), flush=True)
    if not peer and not args.no_peer:
        print("pm4py is not installed: pip install -r benchmarks/requirements.txt to measure it alongside")
    return status


if __name__ == "__main__":
    sys.exit(main())
