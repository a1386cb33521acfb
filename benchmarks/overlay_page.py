"""The overlay page as a user meets it: file path → first overlay, a filter change, a 300-touchpoint map.

Usage::

    python benchmarks/overlay_page.py --events 1_000_000

Drives ``views/overlay.py`` with Streamlit's AppTest (the page script, caches and engine as in
the app; no browser drawing) on a fresh database in a temporary folder:

1. a raw export of ``--events`` events for the retail template, written by the seeded generator
   (:func:`journeymap.events.synth.generate_events`) as Parquet, with its column mapping saved
   beforehand (as after a first import of the same system); timed from typing the server-side path
   to the page showing the overlay: hash, read, ingest, Parquet cache, overlay, figures;
2. reruns after filter changes (minimum volume, a channel filter, back to no filter: cached, a date
   range that keeps almost every journey: its figures are counted again over the journeys cut once);
3. the page script with a 300-touchpoint, 1,000-transition map (``tests/fixtures.big_map``) and
   ``--big-events`` events on it: first overlay, then a plain rerun and a filter change.

Generation time is printed separately and is not part of any figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--big-events", type=lambda s: int(s.replace("_", "")), default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def _write_export(journey_map: object, events: int, seed: int, folder: Path, name: str) -> tuple[Path, str, int]:
    """A generated raw export of about ``events`` events as Parquet, and its mapping JSON."""
    import json

    from journeymap.events.synth import generate_events

    probe, _ = generate_events(journey_map, customers=2_000, seed=seed, start=datetime(2025, 1, 1))
    customers = max(100, round(2_000 * events / max(probe.height, 1)))
    raw, mapping = generate_events(journey_map, customers=customers, seed=seed, start=datetime(2025, 1, 1))
    path = folder / name
    raw.write_parquet(path)
    return path, json.dumps(mapping), raw.height


def _timed(label: str, action: object) -> float:
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    print(f"{label:<58} {seconds:7.2f} s")
    return seconds


def main() -> None:
    args = _parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="journeymap_overlay_page_"))
    os.environ["JOURNEYMAP_DB"] = str(workdir / "journeymap.db")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("JOURNEYMAP_DATA_DIR", None)
    os.chdir(ROOT)

    from streamlit.testing.v1 import AppTest  # noqa: TID251 (drives the page, like the AppTest suite)

    from journeymap.store import create_map, init_db, make_engine, save_mapping, session_scope
    from journeymap.templates import load_template
    from journeymap.ui.state import OverlayKeys
    from tests.fixtures import big_map

    engine = make_engine()
    init_db(engine)
    retail = load_template("retail-bopis")
    large = big_map(300, 1000)
    with session_scope(engine) as session:
        retail_id = create_map(session=session, journey_map=retail, author="bench").map_id
        big_id = create_map(session=session, journey_map=large, author="bench").map_id

    t0 = time.perf_counter()
    retail_path, retail_mapping, retail_rows = _write_export(retail, args.events, args.seed, workdir, "retail.parquet")
    big_path, big_mapping, big_rows = _write_export(large, args.big_events, args.seed, workdir, "big.parquet")
    import polars as pl

    with session_scope(engine) as session:
        for path, mapping_json in ((retail_path, retail_mapping), (big_path, big_mapping)):
            columns = pl.read_parquet_schema(path)
            save_mapping(session=session, name=path.stem, mapping_json=mapping_json, source_columns=list(columns))
    print(f"generated {retail_rows:,} + {big_rows:,} raw events in {time.perf_counter() - t0:.1f} s (not timed)")

    def first_overlay(map_id: int, path: Path) -> AppTest:
        at = AppTest.from_file(str(ROOT / "views" / "overlay.py"), default_timeout=900)
        at.session_state[OverlayKeys.MAP_ID] = map_id
        at.run()
        at.text_input(key=OverlayKeys.PATH).input(str(path))

        def go() -> None:
            at.button(key=OverlayKeys.PATH_SUBMIT).click().run()
            apply = next(b for b in at.button if b.key and b.key.startswith(OverlayKeys.M_APPLY))
            apply.click().run()

        _timed(f"file path → first overlay ({path.stem}, {path.stat().st_size / 1e6:.0f} MB Parquet)", go)
        assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
        assert at.metric, "the overlay was not shown"
        return at

    def widget(at: AppTest, elements: object, prefix: str) -> object:
        return next(w for w in elements if w.key and w.key.startswith(prefix))

    print(f"-- retail template, {retail_rows:,} raw events")
    at = first_overlay(retail_id, retail_path)
    _timed("rerun, nothing changed", lambda: at.run())
    _timed(
        "filter change: minimum volume 5",
        lambda: widget(at, at.number_input, OverlayKeys.F_MIN_VOLUME).set_value(5).run(),
    )
    first_two = [c.id for c in retail.channels[:2]]
    _timed(
        f"filter change: channels {first_two}",
        lambda: widget(at, at.multiselect, OverlayKeys.F_CHANNELS).set_value(first_two).run(),
    )
    _timed(
        "filter change back to all channels (cached overlay)",
        lambda: widget(at, at.multiselect, OverlayKeys.F_CHANNELS).set_value([]).run(),
    )
    _timed("colour by friction", lambda: at.radio(key=OverlayKeys.F_COLOR).set_value("friction").run())
    dates = widget(at, at.date_input, OverlayKeys.F_DATES)
    first, last = dates.value
    _timed(
        "filter change: date range without the last week (re-count)",
        lambda: dates.set_value((first, last - timedelta(days=7))).run(),
    )

    print(f"-- 300-touchpoint map, {big_rows:,} raw events")
    big = first_overlay(big_id, big_path)
    _timed("page script, nothing changed (300 touchpoints)", lambda: big.run())
    _timed(
        "filter change: minimum volume 20 (300 touchpoints)",
        lambda: widget(big, big.number_input, OverlayKeys.F_MIN_VOLUME).set_value(20).run(),
    )
    _timed(
        "view: observed only (300 touchpoints)", lambda: big.radio(key=OverlayKeys.F_VIEW).set_value("observed").run()
    )


if __name__ == "__main__":
    main()
