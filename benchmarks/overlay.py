"""Full overlay on a large cached event log: load + journeys + every metric, phase by phase.

Usage::

    /usr/bin/time -v python benchmarks/overlay.py --events 10_000_000 --filters 3

The input is the dataset's cached form (encoded, sorted Parquet written by ``save_log``):
what every overlay recompute starts from. It is generated once with numpy into /tmp
(``--data``) when missing: ~500k customers per 10M events, 8 channels, 60 touchpoints,
one year, journeys of a few events hours apart, 200 teams (each journey mostly with one team,
three events in ten with another). Generation time is printed separately and
is not part of the overlay figure; run the command twice to time a warm start.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

START = time.perf_counter()

N_CHANNELS = 8
N_TOUCHPOINTS = 60
N_TEAMS = 200
YEAR_S = 365 * 24 * 3600


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument(
        "--data", type=Path, default=None, help="cached log path (default /tmp/journeymap_bench_N.parquet)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--filters", type=int, default=0, help="then time filter changes on the prepared journeys, best of N each"
    )
    return parser.parse_args()


def bench_map() -> object:
    """A map with the benchmark's 60 touchpoints in 8 channels and a designed chain."""
    from journeymap.model import Channel, ChannelKind, ContextCarry, JourneyMap, Stage, Touchpoint, Transition

    kinds = list(ChannelKind)
    channels = tuple(
        Channel(id=f"ch{c}", name=f"Channel {c}", kind=kinds[c % len(kinds)], owner_team=f"team{c}")
        for c in range(N_CHANNELS)
    )
    stages = tuple(Stage(id=f"s{s}", name=f"Stage {s}") for s in range(5))
    touchpoints = tuple(
        Touchpoint(
            id=f"tp{t:02d}",
            name=f"Touchpoint {t}",
            channel=f"ch{(t // 8) % N_CHANNELS}",
            stage=f"s{t * 5 // N_TOUCHPOINTS}",
            requires_identification=t % 17 == 3,
        )
        for t in range(N_TOUCHPOINTS)
    )
    carries = list(ContextCarry)
    transitions = tuple(
        Transition(source=f"tp{t:02d}", target=f"tp{t + step:02d}", context_carry=carries[t % 3])
        for t in range(N_TOUCHPOINTS - 3)
        for step in (1, 2)
    )
    return JourneyMap(
        name="Benchmark", stages=stages, channels=channels, touchpoints=touchpoints, transitions=transitions
    )


def generate(n: int, path: Path, seed: int) -> None:
    """Write an encoded, sorted event log of ``n`` events with numpy (vectorised)."""
    import numpy as np
    import polars as pl

    from journeymap.events.ingest import save_log
    from journeymap.events.log import EventLog

    rng = np.random.default_rng(seed)
    n_customers = max(n // 20, 1)
    n_journeys = max(n // 5, 1)
    journey_of_event = np.sort(rng.integers(0, n_journeys, n))
    first = np.r_[True, journey_of_event[1:] != journey_of_event[:-1]]
    start_index = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    gaps = rng.exponential(1800.0, n)
    gaps[first] = 0.0
    offset = np.cumsum(gaps)
    offset -= offset[start_index]
    journey_start = rng.uniform(0, YEAR_S - 3 * 86400, n_journeys)
    journey_customer = rng.integers(0, n_customers, n_journeys)
    ts_s = journey_start[journey_of_event] + offset
    steps = rng.choice(np.array([0, 1, 1, 1, 2, 3, -1]), n)
    steps[first] = rng.integers(0, 12, int(first.sum()))
    walk = np.cumsum(steps)
    walk -= walk[start_index] - steps[start_index]
    touchpoint = np.clip(walk, 0, N_TOUCHPOINTS - 1).astype(np.uint32)
    customer = journey_customer[journey_of_event].astype(np.uint32)
    order = np.lexsort((ts_s, customer))
    touchpoint = touchpoint[order]
    ts_us = (ts_s[order] * 1e6).astype(np.int64) + 1_704_067_200_000_000  # from 2024-01-01
    channel = ((touchpoint // 8) % N_CHANNELS).astype(np.uint32)
    # Teams vary independently of the activity: a journey mostly stays with one of N_TEAMS teams, and
    # three events in ten are handled by another one (the shape of a ticketing or claims log).
    journey_team = rng.integers(0, N_TEAMS, n_journeys)[journey_of_event][order]
    other = rng.random(n) < 0.3
    owner = np.where(other, rng.integers(0, N_TEAMS, n), journey_team).astype(np.uint32)
    sentiment = np.where(rng.random(n) < 0.05, rng.integers(1, 6, n).astype(float), np.nan)
    events = pl.DataFrame(
        {
            "customer": customer[order],
            "ts": pl.Series(ts_us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
            "seq": np.arange(n, dtype=np.uint32),
            "touchpoint": touchpoint,
            "channel": channel,
            "owner": owner,
            "converted": touchpoint == N_TOUCHPOINTS - 1,
            "identified": touchpoint % 17 == 3,
            "value": np.where(touchpoint == N_TOUCHPOINTS - 1, 80.0, np.nan),
            "sentiment": sentiment,
        }
    ).with_columns(pl.col("value").fill_nan(None), pl.col("sentiment").fill_nan(None))
    log = EventLog(
        events=events,
        touchpoints=tuple(f"tp{t:02d}" for t in range(N_TOUCHPOINTS)),
        channels=tuple(f"ch{c}" for c in range(N_CHANNELS)),
        owners=tuple(f"team{c}" for c in range(N_TEAMS)),
        source=f"benchmark-{n}",
    )
    save_log(log, path)


def main() -> int:
    args = _parse_args()
    path = args.data or Path(f"/tmp/journeymap_bench_{args.events}.parquet")
    if not path.exists():
        t = time.perf_counter()
        generate(args.events, path, args.seed)
        print(f"generated {args.events:,} events into {path} in {time.perf_counter() - t:.1f} s (not timed below)")
        print("run the command again to time the overlay from a cold process")
        return 0
    phases: list[tuple[str, float]] = []
    last = [time.perf_counter()]

    def mark(name: str) -> None:
        now = time.perf_counter()
        phases.append((name, now - last[0]))
        last[0] = now

    import polars as pl

    from journeymap.events.ingest import load_log
    from journeymap.events.overlay import compute_overlay
    from journeymap.events.settings import OverlaySettings

    mark("imports")
    journey_map = bench_map()
    log = load_log(path)
    mark("load cached log")
    overlay = compute_overlay(log, journey_map, OverlaySettings(), on_phase=mark)  # type: ignore[arg-type]
    total = time.perf_counter() - START
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"events {log.events.height:,}  customers {overlay.journeys['customer'].n_unique():,}  "
        f"journeys {overlay.journeys.height:,}  transitions {overlay.transitions.height:,}  polars {pl.__version__}"
    )
    for name, seconds in phases:
        print(f"  {name:<20} {seconds:6.2f} s")
    print(f"total in process (interpreter start excluded) {total:.2f} s; peak RSS {peak_mb:,.0f} MB")
    if args.filters:
        from datetime import UTC, datetime

        filters = {
            "date range without the last week": OverlaySettings(end=datetime(2024, 12, 24, tzinfo=UTC)),
            "date range June to December": OverlaySettings(start=datetime(2024, 6, 1, tzinfo=UTC)),
            "channels ch2 + ch3": OverlaySettings(channels=("ch2", "ch3")),
        }
        print(f"filter changes (journeys cut once and reused), best of {args.filters}:")
        for label, settings in filters.items():
            best = float("inf")
            for _ in range(args.filters):
                start = time.perf_counter()
                filtered = compute_overlay(log, journey_map, settings, prepared=overlay.prepared)  # type: ignore[arg-type]
                best = min(best, time.perf_counter() - start)
            print(f"  {label:<36} {best:6.2f} s  ({filtered.journeys.height:,} journeys kept)")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS after the filter changes {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
