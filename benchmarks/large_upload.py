"""A ~2 GB CSV uploaded through the overlay page in a real browser, ingested, and its overlay shown.

Usage::

    python benchmarks/large_upload.py                          # ~2 GB CSV (the configured upload limit)
    python benchmarks/large_upload.py --target-bytes 500_000_000
    python benchmarks/large_upload.py --path-route             # the same file typed as a server-side path

The export is made once by the seeded generator for the ``retail-bopis`` template (the same
file as ``benchmarks/ingest.py --target-bytes ...``, kept in ``/tmp``); generation is not timed.
Then ``streamlit run app.py`` starts on a free port with a fresh database in a temporary folder,
holding the retail map and the generator's column mapping saved for files with these columns
(as after a first import of the same system). Debian's Chromium, driven by Playwright, opens the
Overlay page, sets the file on the uploader, reads it, applies the saved mapping and waits for
the overlay's KPIs. Printed: upload time (file chosen → the server holds it), storing it, the
mapping step (label counts over the whole file), ingest + first overlay, the whole route, and the
server's peak resident memory (``VmHWM`` of the streamlit process). A full-page screenshot is
saved to ``/tmp/journeymap_large_upload.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SCREENSHOT = Path("/tmp/journeymap_large_upload.png")
TIMEOUT_MS = 60 * 60 * 1000


def _count(text: str) -> int:
    return int(text.replace("_", ""))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target-bytes", type=_count, default=2_000_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--path-route", action="store_true", help="type the file's path instead of uploading it")
    return parser.parse_args()


def _memory_gb(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def _seed_database(db: Path, export: Path) -> None:
    os.environ["JOURNEYMAP_DB"] = str(db)
    os.environ.pop("DATABASE_URL", None)
    from journeymap.events.read import read_events
    from journeymap.store import create_map, init_db, make_engine, save_mapping, session_scope
    from journeymap.templates import load_template

    engine = make_engine()
    init_db(engine)
    mapping_json = json.dumps(json.loads(export.with_suffix(".mapping.json").read_text(encoding="utf-8")))
    columns = read_events(export, rows=1).columns
    with session_scope(engine) as session:
        create_map(session=session, journey_map=load_template("retail-bopis"), author="bench")
        save_mapping(session=session, name="retail export", mapping_json=mapping_json, source_columns=columns)
    engine.dispose()


def main() -> None:
    args = _parse_args()
    from ingest import generate_export  # benchmarks/ingest.py: the same generated export

    export = generate_export(0, args.target_bytes, "csv", args.seed)
    size = export.stat().st_size
    workdir = Path(tempfile.mkdtemp(prefix="journeymap_large_upload_"))
    _seed_database(workdir / "journeymap.db", export)

    from playwright.sync_api import expect, sync_playwright

    from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, serve

    figures: list[tuple[str, float]] = []

    def timed(label: str, start: float) -> float:
        now = time.perf_counter()
        figures.append((label, now - start))
        print(f"{label:<58} {now - start:8.1f} s   server RSS {_memory_gb(server.pid, 'VmRSS'):5.2f} GB", flush=True)
        return now

    with serve(workdir / "journeymap.db") as server:
        url = server.url
        idle_rss = _memory_gb(server.pid, "VmRSS")
        print(f"{export.name}: {size / 1e9:.2f} GB CSV; server {server.pid} up, RSS {idle_rss:.2f} GB", flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)

            def wait_idle() -> None:
                page.wait_for_timeout(300)
                expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)

            page.goto(f"{url}/overlay")
            expect(page.get_by_role("heading", name="Overlay", exact=True)).to_be_visible(timeout=60_000)
            wait_idle()
            t0 = time.perf_counter()
            if args.path_route:
                page.get_by_role("tab", name="File on the server").click()
                page.get_by_label("Path of an event file on the server").fill(str(export))
                page.get_by_role("button", name="Read this file").click()
            else:
                page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(export))
                read_button = page.get_by_role("button", name="Read the uploaded file")
                expect(read_button).to_be_enabled(timeout=TIMEOUT_MS)
                wait_idle()
                t0 = timed("upload (file chosen → held by the server)", t0)
                read_button.click()
            expect(page.get_by_text(f"2 · Map the columns of {export.name}")).to_be_visible(timeout=TIMEOUT_MS)
            t0 = timed("stored / hashed → mapping step shown", t0)
            apply = page.get_by_role("button", name="Apply and compute the overlay")
            expect(apply).to_be_visible(timeout=TIMEOUT_MS)
            wait_idle()
            t0 = timed("mapping step complete (whole-file value counts)", t0)
            apply.click()
            expect(page.get_by_test_id("stMetric").filter(has_text="Customers")).to_be_visible(timeout=TIMEOUT_MS)
            t0 = timed("apply → ingest + first overlay (KPIs shown)", t0)
            # The rest of the page (graph, friction board) finishes drawing; the mapping step is gone.
            expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)
            expect(page.get_by_text("2 · Map the columns of")).to_have_count(0, timeout=TIMEOUT_MS)
            expect(apply).to_have_count(0, timeout=TIMEOUT_MS)  # the run is over: no stale element is left
            wait_idle()
            t0 = timed("page fully drawn", t0)
            total = sum(seconds for label, seconds in figures if label != "page fully drawn")
            customers = page.get_by_test_id("stMetric").filter(has_text="Customers").inner_text()
            print(f"{'whole route: file chosen → first overlay':<58} {total:8.1f} s")
            print(f"KPI shown: {' '.join(customers.split())}")
            height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
            page.set_viewport_size({"width": 1400, "height": min(int(height), 6000)})
            page.mouse.move(5, 5)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            browser.close()
        print(f"{'server peak RSS (VmHWM of the streamlit process)':<58} {_memory_gb(server.pid, 'VmHWM'):8.2f} GB")
        print(f"screenshot: {SCREENSHOT}")
    print(f"server log: {workdir}/streamlit-*.log")


if __name__ == "__main__":
    main()
