"""The what-if of fixing handoffs, after the overlay, on a large cached event log.

Usage::

    python benchmarks/whatif.py --events 10_000_000
    python benchmarks/whatif.py --events 10_000_000 --whatif /tmp/whatif_before.py   # an earlier revision

Uses the log of ``benchmarks/overlay.py`` (generated once into /tmp when missing: 60 touchpoints in
8 channels, 200 teams, ~500k customers per 10M events). The overlay is prepared first and not part of
the figure; then each step of :func:`journeymap.analysis.whatif.what_if` is timed on its own, with two
handoffs fixed together (a designed transition and a channel pair): the crossings measured once, the
estimate for each fix (200 bootstrap draws), the journey graph re-run (200 Dirichlet draws) and the
ranking of every candidate handoff; then the maturity evidence before and after the fixes.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument(
        "--data", type=Path, default=None, help="cached log path (default /tmp/journeymap_bench_N.parquet)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fix", action="append", default=None, help="handoffs to fix (default tp15->tp16, ch1->ch2)")
    parser.add_argument(
        "--whatif", type=Path, default=None, help="time this copy of journeymap/analysis/whatif.py (before and after)"
    )
    return parser.parse_args()


def _whatif_module(path: Path | None) -> ModuleType:
    """``journeymap.analysis.whatif``, or the copy at ``path`` loaded under its name."""
    if path is None:
        import journeymap.analysis.whatif as whatif

        return whatif
    spec = importlib.util.spec_from_file_location("journeymap.analysis.whatif", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    args = _parse_args()
    from overlay import bench_map, generate

    path = args.data or Path(f"/tmp/journeymap_bench_{args.events}.parquet")
    if not path.exists():
        start = time.perf_counter()
        generate(args.events, path, args.seed)
        print(f"generated {args.events:,} events into {path} in {time.perf_counter() - start:.1f} s (not timed)")

    whatif = _whatif_module(args.whatif)
    from journeymap.events.ingest import load_log
    from journeymap.events.overlay import compute_overlay
    from journeymap.events.settings import OverlaySettings

    journey_map = bench_map()
    log = load_log(path)
    start = time.perf_counter()
    overlay = compute_overlay(log, journey_map, OverlaySettings())  # type: ignore[arg-type]
    prepared = overlay.prepared
    took = time.perf_counter() - start
    print(f"events {log.events.height:,}  journeys {overlay.journeys.height:,}  overlay {took:.2f} s (not timed below)")
    fixes = [whatif.Fix.parse(text, journey_map, log) for text in (args.fix or ["tp15->tp16", "ch1->ch2"])]
    steps: list[tuple[str, float, float]] = []

    def timed(name: str, run: object) -> object:
        begin, cpu = time.perf_counter(), time.process_time()
        result = run()  # type: ignore[operator]
        steps.append((name, time.perf_counter() - begin, time.process_time() - cpu))
        return result

    crossings = timed("crossings and strata (once per overlay)", lambda: whatif._crossings(prepared))
    estimates = [timed(f"estimate: {fix.label}", lambda fix=fix: whatif.estimate_fix(prepared, fix)) for fix in fixes]
    rerun = timed("journey graph re-run, both fixes", lambda: whatif.rerun_journey_graph(prepared, fixes))
    ranking = timed("ranking of every candidate", lambda: whatif.rank_handoffs(prepared, journey_map))
    shift = timed("maturity evidence before and after", lambda: whatif.shift_evidence(overlay, fixes, journey_map))
    print(f"crossings {crossings.move.size:,}")  # type: ignore[attr-defined]
    for estimate in estimates:
        print(
            f"  {estimate.fix.label}: {estimate.crossings:,} crossings, {estimate.lost:,} lost, "  # type: ignore[attr-defined]
            f"bootstrap on {estimate.bootstrap_crossings:,}"  # type: ignore[attr-defined]
        )
    print(f"  graph: {rerun.states} states, {rerun.moves:,} moves, {rerun.fixed_crossings:,} crossings fixed")  # type: ignore[attr-defined]
    print(f"  ranking: {ranking.height:,} candidates with enough crossings")  # type: ignore[attr-defined]
    print(f"  context kept: {shift.kept_share_before:.1%} -> {shift.kept_share_after:.1%} of channel switches")  # type: ignore[attr-defined]
    for name, seconds, cpu in steps:
        print(f"  {name:<48} {seconds:6.2f} s  (CPU {cpu:5.2f} s)")
    what_if = sum(seconds for name, seconds, _ in steps if not name.startswith("maturity"))
    cpu = sum(cpu for name, _, cpu in steps if not name.startswith("maturity"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"what-if after the overlay (crossings, estimates, re-run, ranking) {what_if:.2f} s (CPU {cpu:.2f} s)")
    print(f"peak RSS {peak_mb:,.0f} MB; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
