"""pm4py's directly-follows discovery vs journeymap's transition metrics, on the same log, in one run.

pm4py is the process-mining peer (AGPL-3.0): it is installed only to benchmark against and
is never a dependency of journeymap::

    pip install -r benchmarks/requirements.txt      # installs pm4py
    python benchmarks/pm4py_peer.py --events 1_000_000

Both sides start from the same cached, sorted event log (benchmarks/overlay.py makes it
in /tmp). pm4py gets a pandas frame with case id = customer and is timed on
``pm4py.discover_dfg`` alone; journeymap is timed on ``cut_journeys`` + ``transition_metrics``
(which also count distinct customers and journeys and time quantiles per transition) with a
gap long enough that journeys equal cases. Counts are checked to be identical.

``--export FILE`` instead times what a pm4py user does with a raw export, as a whole process
(benchmarks/cli_overlay.py runs it beside ``journeymap overlay`` on the same file): read the
mapped columns with pandas, take each row's first identifier as its case (pm4py resolves no
identities), parse the times, ``format_dataframe`` and ``discover_dfg``. The export's column
mapping is read from ``FILE`` with the suffix ``.mapping.json`` (benchmarks/ingest.py writes both).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs on each side (shared machines are noisy)")
    parser.add_argument("--export", type=Path, default=None, help="time pm4py alone on this raw export (CSV, Parquet)")
    args = parser.parse_args()
    try:
        import pm4py
    except ImportError:
        print(
            "pm4py is not installed. It is the AGPL-licensed peer measured here and never a journeymap\n"
            "dependency; install it in a benchmark environment with:\n"
            "    pip install -r benchmarks/requirements.txt",
            file=sys.stderr,
        )
        return 1
    if args.export is not None:
        return _from_export(args.export)

    from journeymap.events.ingest import load_log
    from journeymap.events.journeys import cut_journeys
    from journeymap.events.metrics import directly_follows, transition_metrics
    from journeymap.events.settings import OverlaySettings

    path = Path(f"/tmp/journeymap_bench_{args.events}.parquet")
    if not path.exists():
        from overlay import generate

        generate(args.events, path, 7)
    log = load_log(path)
    settings = OverlaySettings(gap=timedelta(days=365 * 100))

    ours_s = full_s = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        cut, journeys = cut_journeys(log, settings)
        dfg_frame = directly_follows(cut)
        ours_s = min(ours_s, time.perf_counter() - start)
        start = time.perf_counter()
        cut, journeys = cut_journeys(log, settings)
        transitions = transition_metrics(cut, journeys, None, settings)
        full_s = min(full_s, time.perf_counter() - start)
    ours = {(s, t): int(n) for s, t, n in dfg_frame.iter_rows()}
    full = {(s, t): int(n) for s, t, n in transitions.select("source", "target", "count").iter_rows()}

    frame = log.events.select(
        case=log.events["customer"].cast(str),
        activity=log.events["touchpoint"].replace_strict(list(range(len(log.touchpoints))), list(log.touchpoints)),
        ts=log.events["ts"],
    ).to_pandas()
    start = time.perf_counter()
    frame = pm4py.format_dataframe(frame, case_id="case", activity_key="activity", timestamp_key="ts")
    format_s = time.perf_counter() - start
    theirs_s = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        dfg, _, _ = pm4py.discover_dfg(frame)
        theirs_s = min(theirs_s, time.perf_counter() - start)
    theirs = {(str(a), str(b)): int(n) for (a, b), n in dfg.items()}

    print(f"directly-follows on {log.events.height:,} events, {len(ours):,} transition kinds, best of {args.repeat}")
    rows = [
        (f"pm4py {pm4py.__version__} discover_dfg", theirs_s, ""),
        ("pm4py format_dataframe (sort, once)", format_s, ""),
        ("journeymap cut_journeys + directly_follows", ours_s, f"{theirs_s / ours_s:.1f}x faster than discover_dfg"),
        (
            "journeymap cut_journeys + transition_metrics",
            full_s,
            f"{theirs_s / full_s:.1f}x (adds customers, journeys, times, conversion per transition)",
        ),
    ]
    for name, seconds, note in rows:
        print(f"  {name:<46} {seconds:7.2f} s  {note}")
    same = ours == theirs == full
    print("  counts identical" if same else "  COUNTS DIFFER")
    return 0 if same else 1


def _from_export(path: Path) -> int:
    """Raw export → pm4py directly-follows graph, phase by phase."""
    import pandas as pd
    import pm4py

    start = time.perf_counter()
    mapping = json.loads(path.with_suffix(".mapping.json").read_text(encoding="utf-8"))
    ids, ts, activity = mapping["customer_ids"], mapping["timestamp"], mapping["touchpoint"]
    columns = [*ids, ts, activity]
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path, columns=columns)
    else:
        frame = pd.read_csv(path, usecols=columns, dtype=str)
    marks = [("read (pandas)", time.perf_counter())]
    case = frame[ids[0]]
    for column in ids[1:]:
        case = case.fillna(frame[column])
    frame["case"] = case
    frame[ts] = pd.to_datetime(frame[ts], format=mapping.get("timestamp_format"), errors="coerce")
    frame = frame.dropna(subset=["case", ts])
    marks.append(("case = first identifier, parse times", time.perf_counter()))
    frame = pm4py.format_dataframe(frame, case_id="case", activity_key=activity, timestamp_key=ts)
    marks.append(("format_dataframe", time.perf_counter()))
    dfg, _, _ = pm4py.discover_dfg(frame)
    marks.append(("discover_dfg", time.perf_counter()))
    print(f"pm4py {pm4py.__version__} on {path.name}: {len(frame):,} events, {len(dfg):,} directly-follows pairs")
    previous = start
    for name, at in marks:
        print(f"  {name:<40} {at - previous:7.2f} s")
        previous = at
    return 0


if __name__ == "__main__":
    sys.exit(main())
