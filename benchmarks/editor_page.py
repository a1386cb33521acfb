"""Script run time of the map editor page on a big map (300 touchpoints, 1,000 transitions).

Runs ``views/editor.py`` under Streamlit's AppTest against a fresh SQLite file and prints the
first run, the median of plain reruns (cached analysis) and the median of reruns after an edit
(the map changed, so graph and analysis are recomputed). Target: under 1 s per rerun.

    python benchmarks/editor_page.py [--touchpoints 300] [--transitions 1000] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touchpoints", type=int, default=300)
    parser.add_argument("--transitions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    os.environ["JOURNEYMAP_DB"] = str(Path(tempfile.mkdtemp(prefix="jm-bench-")) / "journeymap.db")
    os.environ.pop("DATABASE_URL", None)
    os.chdir(ROOT)

    from streamlit.testing.v1 import AppTest  # noqa: TID251 (the benchmark drives a page)

    from journeymap.store import create_map, init_db, make_engine, session_scope
    from journeymap.ui.state import QueryParams, StateKeys
    from tests.fixtures import big_map

    big = big_map(args.touchpoints, args.transitions)
    engine = make_engine()
    init_db(engine)
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=big, author="Benchmark", message="big map").map_id

    at = AppTest.from_file(str(ROOT / "views" / "editor.py"), default_timeout=120)
    at.query_params[QueryParams.MAP] = str(map_id)
    start = time.perf_counter()
    at.run()
    first = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"the editor page failed: {at.exception[0].value}")

    reruns = []
    for _ in range(args.runs):
        start = time.perf_counter()
        at.run()
        reruns.append(time.perf_counter() - start)

    edited = []
    for i in range(args.runs):
        working = at.session_state[StateKeys.WORKING_MAP]
        at.session_state[StateKeys.WORKING_MAP] = working.model_copy(update={"name": f"Big map, edit {i}"})
        start = time.perf_counter()
        at.run()
        edited.append(time.perf_counter() - start)

    print(f"editor page, {args.touchpoints} touchpoints / {args.transitions} transitions (AppTest script run):")
    print(f"  first run (engine, load, analysis)   {first:6.3f} s")
    print(f"  rerun, map unchanged (median of {args.runs})  {statistics.median(reruns):6.3f} s")
    print(f"  rerun after an edit (median of {args.runs})   {statistics.median(edited):6.3f} s")


if __name__ == "__main__":
    main()
