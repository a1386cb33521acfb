"""Ingest's encoded log against a plain reference, on the bundled sample and on a dirty generated export.

Ingest keys identifiers read as text by a hash, numbers customers by one sort of packed keys and
reads identifiers as text or as dictionary codes (``read_mapped(identifiers_as_text=...)``). The
reference below does the same job the plain way: Polars expressions row by row, customers joined
by a union-find over the identifier values in Python, one sort by customer, time and row. Every
path must give exactly the reference's log.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from journeymap.events.ingest import ingest, read_mapped
from journeymap.events.mapping import ColumnMapping, mapping_from_json
from journeymap.events.synth import generate_events
from journeymap.templates import load_template

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"


def _label(column: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _customers(frame: pl.DataFrame, columns: list[str]) -> list[int]:
    """Union-find over (column, value): the customer of each row, numbered in order of first appearance."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    rows = [[(c, v) for c, v in zip(columns, values, strict=True) if v is not None] for values in frame.rows()]
    for nodes in rows:
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
    numbers: dict[tuple[str, str], int] = {}
    return [numbers.setdefault(find(nodes[0]), len(numbers)) for nodes in rows]


def reference_log(raw: pl.DataFrame, mapping: ColumnMapping) -> tuple[pl.DataFrame, list[str], list[str]]:
    """The encoded events of ``raw`` (every column text), with the touchpoint and channel dictionaries."""
    assert mapping.touchpoint and mapping.channel and mapping.outcome and mapping.value and mapping.sentiment
    ids = list(mapping.customer_ids)
    frame = raw.with_row_index("seq", offset=1).with_columns(
        pl.col(mapping.timestamp)
        .str.to_datetime(mapping.timestamp_format, strict=False, time_unit="us")
        .dt.replace_time_zone("UTC")
        .alias("ts"),
        *(_label(c).alias(f"id:{c}") for c in ids),
        _label(mapping.touchpoint).replace(mapping.value_map).alias("tp"),
        _label(mapping.channel).replace(mapping.channel_map).fill_null("unknown").alias("ch"),
        _label(mapping.outcome).is_in(mapping.conversion_values).fill_null(False).alias("converted"),
        _label(mapping.touchpoint).is_in(mapping.identify_values).fill_null(False).alias("identified"),
        *(_label(a).alias(f"attr_{a}") for a in mapping.attributes),
    )
    valid = frame.filter(
        pl.col("ts").is_not_null()
        & pl.any_horizontal(pl.col(f"id:{c}").is_not_null() for c in ids)
        & pl.col("tp").is_not_null()
        & (pl.col("ts") <= NOW + timedelta(days=1))
    )
    # An exact duplicate equals an earlier valid row in every column of the file.
    kept = valid.filter(pl.struct(raw.columns).is_first_distinct())
    kept = kept.with_columns(customer=pl.Series(_customers(kept.select(f"id:{c}" for c in ids), ids), dtype=pl.UInt32))
    kept = kept.sort("customer", "ts", "seq")
    first_id = kept.group_by("customer", maintain_order=True).agg(
        pl.coalesce(f"id:{c}" for c in ids).first().alias("customer_id")
    )
    kept = kept.join(first_id, on="customer", maintain_order="left")
    touchpoints = sorted(kept.get_column("tp").unique().to_list())
    channels = sorted(kept.get_column("ch").unique().to_list())
    events = kept.select(
        "customer",
        "ts",
        pl.col("seq").cast(pl.UInt32),
        pl.col("tp").replace_strict(touchpoints, range(len(touchpoints)), return_dtype=pl.UInt32).alias("touchpoint"),
        pl.col("ch").replace_strict(channels, range(len(channels)), return_dtype=pl.UInt32).alias("channel"),
        pl.lit(None, dtype=pl.UInt32).alias("owner"),
        "converted",
        "identified",
        pl.col(mapping.value).cast(pl.Float64, strict=False).alias("value"),
        pl.col(mapping.sentiment).cast(pl.Float64, strict=False).alias("sentiment"),
        *(f"attr_{a}" for a in mapping.attributes),
        "customer_id",
    )
    return events, touchpoints, channels


def _dirty_export(folder: Path) -> tuple[Path, ColumnMapping]:
    """A generated retail export (bad times, rows without identifier, duplicates at the end) made dirtier:
    padded and blank identifiers, an email's text in the phone column, padded labels, an empty event, a
    row linking two customers, a row moved to the front (out of time order)."""
    raw, mapping_dict = generate_events(
        load_template("retail-bopis"), customers=300, seed=11, start=datetime(2025, 1, 1)
    )
    raw = raw.with_columns(pl.all().cast(pl.String))
    emails = raw.get_column("email").drop_nulls().unique(maintain_order=True).to_list()
    dirty = raw.with_row_index("i").with_columns(
        email=pl.when(pl.col("i") % 97 == 5)
        .then(pl.lit("  ") + pl.col("email") + pl.lit(" "))
        .when(pl.col("i") % 89 == 7)
        .then(pl.lit("   "))
        .otherwise(pl.col("email")),
        phone=pl.when(pl.col("i") == 40).then(pl.lit(emails[3])).otherwise(pl.col("phone")),
        device_id=pl.when(pl.col("i") == 41).then(pl.lit(None, dtype=pl.String)).otherwise(pl.col("device_id")),
        channel=pl.when(pl.col("i") % 53 == 3)
        .then(pl.lit(" ") + pl.col("channel") + pl.lit("  "))
        .otherwise("channel"),
        event=pl.when(pl.col("i") == 60).then(pl.lit(" ")).otherwise("event"),
    )
    # One row that carries two customers' emails, as email and as loyalty id, does not link them;
    # one that carries the first customer's email and another's device does.
    link = dirty.filter(pl.col("device_id").is_not_null() & pl.col("email").is_null()).head(1)
    link = link.with_columns(email=pl.lit(emails[0]), loyalty_id=pl.lit(emails[1]))
    moved = dirty.slice(dirty.height // 2, 1)
    dirty = pl.concat([moved, dirty, link]).drop("i")
    path = folder / "dirty.csv"
    dirty.write_csv(path)
    return path, mapping_from_json(json.dumps(mapping_dict))


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))


def _check(path: Path, mapping: ColumnMapping, raw_text: pl.DataFrame) -> None:
    expected, touchpoints, channels = reference_log(raw_text, mapping)
    for as_text in (True, False):
        log, report, identity = ingest(
            read_mapped(path, mapping, identifiers_as_text=as_text), mapping, source=path.name, now=NOW
        )
        assert_frame_equal(_text(log.events), _text(expected))
        assert (list(log.touchpoints), list(log.channels)) == (touchpoints, channels)
        assert report.rows_kept == expected.height
        assert identity.customers == expected.get_column("customer").n_unique()


def test_bundled_sample_encodes_as_the_reference() -> None:
    path = SAMPLE / "retail_events.csv.gz"
    mapping = mapping_from_json((SAMPLE / "retail_mapping.json").read_text(encoding="utf-8"))
    raw_text = pl.read_csv(path, infer_schema=False)
    _check(path, mapping, raw_text)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_dirty_generated_export_encodes_as_the_reference(tmp_path: Path, suffix: str) -> None:
    path, mapping = _dirty_export(tmp_path)
    raw_text = pl.read_csv(path, infer_schema=False)
    if suffix == "parquet":
        path = tmp_path / "dirty.parquet"
        raw_text.write_parquet(path)
    expected, _, _ = reference_log(raw_text, mapping)
    # The export is as dirty as promised: rows left out, padded identifiers joined, blank ones empty.
    assert raw_text.height - expected.height >= 7
    padded = raw_text.filter(pl.col("email").str.starts_with("  ")).get_column("email").str.strip_chars()
    assert padded.len() > 5 and bool(padded.is_in(expected.get_column("customer_id").implode()).any())
    assert bool(raw_text.get_column("email").eq("   ").any())
    _check(path, mapping, raw_text)
