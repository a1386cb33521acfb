"""The speed budget of the pages as a workshop room meets them, in a real Chromium.

Usage::

    python benchmarks/page_speed.py [--runs 3] [--root PATH]

Each run starts a fresh server on a fresh database (seeded with the demo workspace, as ``make run``
does) and times, wall clock, what a person waits for:

1. fresh server → editor drawn: from starting ``streamlit run`` to the map editor's graph drawn
   on its canvas (process start, imports, database creation and seeding, first page);
2. a refresh of the editor → graph drawn again;
3. an editor action: add a touchpoint → the page has rerun and says so;
4. Maps → "Open in editor" → the editor's graph drawn;
5. Overlay → "Use the demo dataset" → the overlay graph drawn.

Budget: 1 < 5 s, 2 < 3 s, 3 < 1 s, 4 < 1.5 s, 5 < 3 s. ``--root`` serves another checkout (an
earlier commit, for a before/after table) with this checkout's browser tools. Prints the median
and the range per step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET = {
    "fresh server → editor drawn": 5.0,
    "refresh → editor drawn": 3.0,
    "editor action: add a touchpoint": 1.0,
    "Open in editor → editor drawn": 1.5,
    "demo overlay → overlay drawn": 3.0,
}
_GRAPH_TITLE = "streamlit_agraph.agraph"
_DRAWN_JS = """() => {
  const canvas = document.querySelector('div.vis-network canvas');
  if (!canvas || !canvas.width) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 64) if (data[i + 3] > 0 && data[i] < 200) ink++;
  return ink;
}"""


def _graph_drawn(page: object, timeout_ms: float = 120_000) -> None:
    """Wait until the page's journey graph has drawn on its canvas (some dark pixels)."""
    from playwright.sync_api import Page

    from tests.browser.waits import poll, wait_idle

    assert isinstance(page, Page)
    wait_idle(page, timeout_ms)
    frame = page.frame_locator(f'iframe[title="{_GRAPH_TITLE}"]').first
    frame.locator("div.vis-network canvas").wait_for(timeout=timeout_ms)
    target = next(
        f for f in page.frames if f != page.main_frame and f.frame_element().get_attribute("title") == _GRAPH_TITLE
    )
    ink = poll(target, _DRAWN_JS, "(n) => n > 50", timeout=timeout_ms)
    if not ink or ink <= 50:
        raise RuntimeError("the graph was not drawn")


def _timed(results: dict[str, list[float]], label: str, action: Callable[[], None]) -> None:
    start = time.perf_counter()
    action()
    results.setdefault(label, []).append(time.perf_counter() - start)


def one_run(root: Path, results: dict[str, list[float]]) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, serve
    from tests.browser.waits import rerun, wait_idle

    db = Path(tempfile.mkdtemp(prefix="journeymap_page_speed_")) / "journeymap.db"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        start = time.perf_counter()
        with serve(db, root=root) as server:
            page.goto(f"{server.url}/editor")
            _graph_drawn(page)
            results.setdefault("fresh server → editor drawn", []).append(time.perf_counter() - start)

            _timed(results, "refresh → editor drawn", lambda: (page.reload(), _graph_drawn(page)))

            def add_touchpoint() -> None:
                page.get_by_text("Add a touchpoint").first.click()
                form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Add touchpoint"))
                # The expander draws its form's widgets after it opens: wait for them before typing.
                expect(form.get_by_role("combobox").first).to_be_visible()
                form.get_by_label("Name").fill(f"Benchmark touchpoint {len(results)}")
                wait_idle(page)
                start = time.perf_counter()
                with rerun(page):
                    form.get_by_role("button", name="Add touchpoint").click()
                results.setdefault("editor action: add a touchpoint", []).append(time.perf_counter() - start)

            add_touchpoint()

            page.goto(f"{server.url}/maps")
            wait_idle(page)
            open_button = page.get_by_role("button", name="Open in editor")
            expect(open_button).to_be_visible()
            _timed(results, "Open in editor → editor drawn", lambda: (open_button.click(), _graph_drawn(page)))

            page.goto(f"{server.url}/overlay")
            wait_idle(page)
            demo = page.get_by_role("button", name="Use the demo dataset")
            expect(demo).to_be_visible()
            _timed(results, "demo overlay → overlay drawn", lambda: (demo.click(), _graph_drawn(page)))
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    for _ in range(args.runs):
        one_run(args.root.resolve(), results)
    print(f"{'step':<36} {'median':>8} {'range':>16} {'budget':>8}")
    for label, budget in BUDGET.items():
        times = results.get(label, [])
        if not times:
            print(f"{label:<36} {'–':>8}")
            continue
        median = statistics.median(times)
        mark = "ok" if median <= budget else "OVER"
        print(f"{label:<36} {median:7.2f}s {min(times):6.2f}–{max(times):5.2f} s {budget:6.1f} s {mark}")


if __name__ == "__main__":
    main()
