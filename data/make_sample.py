"""Write the sample event exports shipped with Journeymap (``data/sample``).

Each sample is a raw export as a CX team would have it (gzipped CSV, string timestamps,
raw channel labels, legacy event codes, identifiers that differ by channel) for one
built-in template, with the problems of :data:`journeymap.events.synth.TEMPLATE_PLANTS`
planted, plus the column mapping that ingests it. The seed is fixed, so running the
script again reproduces the same files.

Usage::

    python data/make_sample.py            # writes data/sample/*
    python data/make_sample.py --check    # regenerates in memory and compares with the files
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from journeymap.events.synth import generate_events, template_plants
from journeymap.templates import load_template

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
START = datetime(2025, 1, 1)
SEED = 20250101

# (file prefix, template id, customers)
SAMPLES = (
    ("retail", "retail-bopis", 2500),
    ("telecom", "telecom-support", 1200),
)


def render(template_id: str, customers: int) -> tuple[bytes, str]:
    """The gzipped CSV bytes and the mapping JSON of one sample."""
    journey_map = load_template(template_id)
    raw, mapping = generate_events(
        journey_map, customers=customers, seed=SEED, start=START, plants=template_plants(template_id, journey_map)
    )
    text = io.BytesIO()
    raw.write_csv(text)
    # mtime=0 keeps the gzip bytes identical from run to run.
    packed = gzip.compress(text.getvalue(), compresslevel=9, mtime=0)
    return packed, json.dumps(mapping, indent=2, sort_keys=False) + "\n"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = parser.parse_args(argv)
    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    stale = []
    for prefix, template_id, customers in SAMPLES:
        events, mapping = render(template_id, customers)
        events_path = SAMPLE_DIR / f"{prefix}_events.csv.gz"
        mapping_path = SAMPLE_DIR / f"{prefix}_mapping.json"
        if args.check:
            for path, data in ((events_path, events), (mapping_path, mapping.encode())):
                if not path.exists() or path.read_bytes() != data:
                    stale.append(path.name)
            continue
        _write_atomic(events_path, events)
        _write_atomic(mapping_path, mapping.encode())
        print(f"{events_path.relative_to(SAMPLE_DIR.parent.parent)}: {len(events) / 1e6:.2f} MB ({template_id})")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python data/make_sample.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
