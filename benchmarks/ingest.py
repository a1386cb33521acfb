"""Raw export → cached event log: read and ingest, phase by phase, with peak memory.

Usage::

    python benchmarks/ingest.py --events 10_000_000                 # CSV, the format users mostly bring
    python benchmarks/ingest.py --target-bytes 2_000_000_000         # a ~2 GB CSV
    python benchmarks/ingest.py --events 10_000_000 --format parquet
    python benchmarks/ingest.py --events 1_000_000 --profile         # pyinstrument report of the run
    python benchmarks/ingest.py --events 10_000_000 --identifiers codes   # identifiers read as dictionary codes

The raw export is made once by the seeded generator
(:func:`journeymap.events.synth.generate_events`) for the ``retail-bopis`` template and kept in
``/tmp`` (never in the repository); its column mapping is written beside it. Generation is not
timed. The measurement then runs in a fresh Python process, so its peak resident set size
(``resource.getrusage``) is that of reading and ingesting alone: interpreter and imports, the
read of the mapped columns, each ingest phase (validation, mapping, identity, encode/sort) and
:func:`journeymap.events.ingest.save_log`. The export is read as ``journeymap overlay`` reads it
(``read_mapped(..., identifiers_as_text=True)``); ``--identifiers codes`` reads identifiers as
dictionary codes instead, as ``read_mapped`` does by default. Ingest overlaps some phases on the
two cores (times are parsed while labels are encoded): the phase marks follow its progress calls.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_CSV_BYTES_PER_EVENT = 102  # measured on the generator's retail export; refined by a probe below


def _count(text: str) -> int:
    return int(text.replace("_", ""))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=_count, default=1_000_000, help="events in the export (about)")
    parser.add_argument("--target-bytes", type=_count, default=None, help="size the export instead of --events")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the ingest")
    parser.add_argument(
        "--identifiers",
        choices=("text", "codes"),
        default="text",
        help="read identifier columns as text (the command line) or as dictionary codes (read_mapped's default)",
    )
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)  # the fresh measuring process
    return parser.parse_args()


def _rss_gb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kilobytes on Linux


def generate_export(events: int, target_bytes: int | None, fmt: str, seed: int) -> Path:
    """The raw export (and ``<name>.mapping.json``) in /tmp, generated when missing."""
    from journeymap.events.synth import generate_events
    from journeymap.templates import load_template

    retail = load_template("retail-bopis")
    start = datetime(2025, 1, 1)
    probe, _ = generate_events(retail, customers=2_000, seed=seed, start=start)
    per_customer = probe.height / 2_000
    if target_bytes is not None:
        sample = probe.write_csv()
        events = round(target_bytes / (len(sample.encode()) / probe.height))
    label = f"{target_bytes / 1e9:g}GB" if target_bytes is not None else f"{events / 1e6:g}M"
    folder = Path("/tmp/journeymap_bench_ingest")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"retail-{label}-seed{seed}.{fmt}"
    mapping_path = path.with_suffix(".mapping.json")
    if path.is_file() and mapping_path.is_file():
        return path
    t0 = time.perf_counter()
    customers = max(100, round(events / per_customer))
    raw, mapping = generate_events(retail, customers=customers, seed=seed, start=start)
    tmp = path.with_name(path.name + ".part")
    if fmt == "csv":
        raw.write_csv(tmp)
    else:
        raw.write_parquet(tmp)
    os.replace(tmp, path)
    mapping_path.write_text(json.dumps(mapping), encoding="utf-8")
    rows = raw.height
    del raw
    print(
        f"generated {rows:,} raw events, {path.stat().st_size / 1e9:.2f} GB {fmt.upper()} in "
        f"{time.perf_counter() - t0:.0f} s (not timed): {path}"
    )
    return path


def _measure(path: Path, profile: bool, identifiers_as_text: bool) -> None:
    t_start = time.perf_counter()
    marks: list[tuple[str, float, float]] = []

    def mark(label: str) -> None:
        marks.append((label, time.perf_counter(), _rss_gb()))

    import polars as pl

    from journeymap.events.ingest import ingest, read_mapped, save_log
    from journeymap.events.mapping import mapping_from_json
    from journeymap.templates import load_template

    mark("imports (polars, journeymap)")
    mapping = mapping_from_json(path.with_suffix(".mapping.json").read_text(encoding="utf-8"))
    retail = load_template("retail-bopis")
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    raw = read_mapped(path, mapping, identifiers_as_text=identifiers_as_text)
    hashed = "__row_hash" in raw.columns  # the other columns, parsed into one hash per row (exact duplicates)
    rows_read, columns_read = raw.height, raw.width - hashed
    mark(f"read ({columns_read} mapped columns of the file{' + row hash' if hashed else ''})")
    phase_names = {
        "timestamps": "validation: parse timestamps",
        "labels": "mapping: labels, touchpoints, channels, owners",
        "validate": "validation: exclusions, duplicates, counts",
        "identity": "identity resolution",
        "encode": "encode + sort by customer, ts, seq",
    }
    current: list[str] = []

    def on_phase(name: str) -> None:
        if current:
            mark(phase_names.get(current[-1], current[-1]))
        current.append(name)

    log, report, identity = ingest(raw, mapping, retail, source=path.name, phase=on_phase)
    if current:
        mark(phase_names.get(current[-1], current[-1]))
    del raw
    target = Path("/tmp/journeymap_bench_ingest") / f"{path.stem}.log.parquet"
    save_log(log, target)
    mark("save_log (Parquet, lz4)")
    if profiler is not None:
        profiler.stop()
    size = path.stat().st_size
    print(f"{path.name}: {size / 1e9:.2f} GB, {rows_read:,} rows → {log.events.height:,} events kept")
    print(f"{identity.customers:,} customers; {report.duplicates:,} duplicates; polars {pl.__version__}")
    print(f"{'phase':<52} {'seconds':>8} {'RSS after':>10}")
    previous = t_start
    for label, at, rss in marks:
        print(f"{label:<52} {at - previous:8.2f} {rss:8.2f} GB")
        previous = at
    ingest_seconds = marks[-1][1] - marks[0][1]
    print(f"{'read + ingest + save_log':<52} {ingest_seconds:8.2f}")
    print(f"{'µs per event (read + ingest + save_log)':<52} {ingest_seconds / max(rows_read, 1) * 1e6:8.2f}")
    print(f"{'whole process':<52} {time.perf_counter() - t_start:8.2f}")
    print(f"{'peak RSS (getrusage ru_maxrss)':<52} {_peak_gb():8.2f} GB")
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    args = _parse_args()
    if args.measure:
        _measure(Path(args.measure), args.profile, args.identifiers == "text")
        return
    path = generate_export(args.events, args.target_bytes, args.format, args.seed)
    command = [sys.executable, __file__, "--measure", str(path), "--identifiers", args.identifiers]
    command += ["--profile"] if args.profile else []
    subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
