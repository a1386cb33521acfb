"""Which reader takes a raw CSV export to ingest's input fastest: Polars, DuckDB or pyarrow, side by side.

Usage::

    python benchmarks/csv_readers.py --events 10_000_000

Each reader reads the mapped columns of the export benchmarks/ingest.py generates into ``/tmp``
(12 of 14 columns) into a Polars frame, in a fresh process (peak memory is that reader's alone):

* ``polars``: ``journeymap.events.ingest.read_mapped(..., identifiers_as_text=True)``, what
  ``journeymap overlay`` runs (streaming scan; labels as dictionary codes; a hash of the unread columns);
* ``polars, labels as codes``: the same with ``read_mapped``'s default (identifiers as codes too);
* ``duckdb``: ``read_csv`` with every column as text, then ``.pl()``;
* ``duckdb, typed``: the same with the times parsed and the numbers cast while reading
  (``try_strptime`` / ``try_cast``, so that a bad cell becomes null instead of failing the read);
* ``pyarrow``: ``pyarrow.csv.read_csv`` with every column as text, then ``polars.from_arrow``.

Times are wall seconds and CPU seconds (user + system) of the child process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

READERS = ("polars", "polars, labels as codes", "duckdb", "duckdb, typed", "pyarrow")


def _read(reader: str, path: Path) -> int:
    """Read ``path`` with ``reader``; returns the number of rows."""
    mapping_json = path.with_suffix(".mapping.json").read_text(encoding="utf-8")
    mapping = json.loads(mapping_json)
    numbers = {mapping["value"], mapping["sentiment"]}
    columns = [c for c in dict.fromkeys([*mapping["customer_ids"], mapping["timestamp"], *_labels(mapping)]) if c]
    if reader.startswith("polars"):
        from journeymap.events.ingest import read_mapped
        from journeymap.events.mapping import mapping_from_json

        frame = read_mapped(path, mapping_from_json(mapping_json), identifiers_as_text=reader == "polars")
        return frame.height
    if reader.startswith("duckdb"):
        import duckdb

        def column(name: str) -> str:
            if reader.endswith("typed") and name == mapping["timestamp"]:
                return f'try_strptime("{name}", \'{mapping["timestamp_format"]}\') AS "{name}"'
            if reader.endswith("typed") and name in numbers:
                return f'try_cast("{name}" AS DOUBLE) AS "{name}"'
            return f'"{name}"'

        sql = f"SELECT {', '.join(column(c) for c in columns)} FROM read_csv('{path}', all_varchar = true)"
        return duckdb.sql(sql).pl().height
    import polars as pl
    import pyarrow as pa
    from pyarrow import csv

    options = csv.ConvertOptions(include_columns=columns, column_types={c: pa.string() for c in columns})
    return pl.from_arrow(csv.read_csv(path, convert_options=options)).height  # type: ignore[union-attr]


def _labels(mapping: dict[str, object]) -> list[str]:
    keys = ("channel", "touchpoint", "outcome", "value", "sentiment", "owner", "session", "case")
    attributes = mapping.get("attributes") or []
    return [str(mapping[k]) for k in keys if mapping.get(k)] + [str(a) for a in attributes]  # type: ignore[union-attr]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--reader", choices=READERS, default=None, help=argparse.SUPPRESS)  # the measuring child
    parser.add_argument("--path", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        rows = _read(args.reader, args.path)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(f"{rows} {peak:.2f}")
        return 0
    from ingest import generate_export  # benchmarks/ingest.py: the same generated export

    path = generate_export(args.events, None, "csv", 7)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    print(f"{path.name}: {path.stat().st_size / 1e9:.2f} GB; load average {os.getloadavg()[0]:.1f}")
    for reader in READERS:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, __file__, "--reader", reader, "--path", str(path)], env=env, stdout=subprocess.PIPE
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        out = child.stdout.read().decode().split() if child.stdout else []
        if os.waitstatus_to_exitcode(status) or len(out) != 2:
            print(f"  {reader:<26} failed")
            continue
        cpu = usage.ru_utime + usage.ru_stime
        figures = f"{wall:6.2f} s wall  {cpu:6.2f} s cpu  peak {float(out[1]):5.2f} GB"
        print(f"  {reader:<26} {figures}  {int(out[0]):,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
