"""Time to build the journey graph payloads and the structural analysis of a big map.

Prints the median and worst of several runs for each step on ``big_map`` (default 300
touchpoints, 1,000 transitions). Target: graph nodes + edges well under 100 ms.

    python benchmarks/graph_build.py [--touchpoints 300] [--transitions 1000] [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _measure(step: Callable[[], Any], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--touchpoints", type=int, default=300)
    parser.add_argument("--transitions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from journeymap.graph import analyze_structure, to_digraph
    from journeymap.model import map_from_json, map_to_json
    from journeymap.viz import graph_edges, graph_nodes, switch_matrix_figure
    from tests.fixtures import big_map

    m = big_map(n_touchpoints=args.touchpoints, n_transitions=args.transitions)
    text = map_to_json(m)
    report = analyze_structure(m)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("graph_nodes + graph_edges", lambda: (graph_nodes(m), graph_edges(m))),
        ("graph_nodes", lambda: graph_nodes(m)),
        ("graph_edges", lambda: graph_edges(m)),
        ("payload JSON (as sent to the component)", lambda: json.dumps([graph_nodes(m), graph_edges(m)])),
        ("to_digraph", lambda: to_digraph(m)),
        ("analyze_structure", lambda: analyze_structure(m)),
        ("switch_matrix_figure", lambda: switch_matrix_figure(report.switch_matrix)),
        ("map_from_json (parse + validate)", lambda: map_from_json(text)),
    ]
    print(f"big_map: {len(m.touchpoints)} touchpoints, {len(m.transitions)} transitions, {len(m.channels)} channels")
    print(f"{'step':<42} {'median ms':>10} {'max ms':>8}   ({args.runs} runs)")
    for name, step in steps:
        step()  # warm-up: imports and first-call caches
        median, worst = _measure(step, args.runs)
        print(f"{name:<42} {median:>10.1f} {worst:>8.1f}")


if __name__ == "__main__":
    main()
