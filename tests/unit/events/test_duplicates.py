"""Duplicates are told by the whole row: rows equal only in the mapped columns are real events.

A basket-line export repeats customer, time, channel and event on every line of a basket; the
lines differ in the product, which no mapping reads. Those rows must be kept (and counted);
only a row equal to an earlier one in *every* column of the file (a re-sent batch) is an exact
duplicate. Expected counts come from a pandas reference over the raw file
(``DataFrame.duplicated`` on the mapped columns, and on all of them).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from journeymap.cli import main
from journeymap.events.ingest import ValidationReport, ingest, read_mapped
from journeymap.events.mapping import ColumnMapping, mapping_from_json, mapping_to_json
from journeymap.events.read import ROW_HASH, read_events

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
COMPLAINTS = REAL / "BPI2016_Complaints.csv"
PRICES = (4.99, 9.99, 19.99)
RESENT = 7


def basket_lines(seed: int = 3, baskets: int = 300) -> pl.DataFrame:
    """A seeded basket-line export: one row per line of a basket, then a re-sent batch of ``RESENT`` rows.

    Lines of one basket share customer, time, channel and event; they differ in ``line`` and
    ``sku``, and often share a price (three prices only), so many lines are equal in every
    mapped column without being duplicates.
    """
    rng = np.random.default_rng(seed)
    lines = rng.integers(1, 6, size=baskets)
    basket = np.repeat(np.arange(baskets), lines)
    n = basket.size
    start = np.datetime64("2024-03-01T08:00:00")
    when = start + (basket * 3_917 + rng.integers(0, 60, size=baskets)[basket]).astype("timedelta64[s]")
    frame = pl.DataFrame(
        {
            "order_id": [f"O{b:05d}" for b in basket],
            "line": np.concatenate([np.arange(1, k + 1) for k in lines]),
            "customer": [f"C{c:04d}" for c in rng.integers(0, 120, size=baskets)[basket]],
            "ts": [str(t).replace("T", " ") for t in when],
            "channel": np.array(["web", "app", "store"])[rng.integers(0, 3, size=baskets)][basket],
            "event": ["basket-line"] * n,
            "sku": [f"SKU{s:03d}" for s in rng.integers(0, 50, size=n)],
            "amount": np.array(PRICES)[rng.integers(0, len(PRICES), size=n)],
        }
    )
    resent = np.sort(rng.choice(n, size=RESENT, replace=False))
    return pl.concat([frame, frame[resent]])


def basket_mapping(**update: object) -> ColumnMapping:
    mapping = ColumnMapping(
        customer_ids=["customer"], timestamp="ts", channel="channel", touchpoint="event", value="amount"
    )
    return mapping.model_copy(update=update)


def reference(path: Path, columns: list[str], *, sep: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    """Per raw row: equal to an earlier row in the mapped columns (``mapped``) and in every column (``exact``)."""
    raw = pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False)
    exact = raw.duplicated()
    return pd.DataFrame(
        {"exact": exact, "mapped_only": raw.duplicated(subset=columns) & ~exact, "raw": range(len(raw))}
    )


def first_rows(mask: pd.Series) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i in mask.index[mask][:5])


@pytest.fixture
def basket_csv(tmp_path: Path) -> Path:
    path = tmp_path / "basket.csv"
    basket_lines().write_csv(path)
    return path


def test_the_generated_export_has_both_kinds_of_repeat(basket_csv: Path) -> None:
    ref = reference(basket_csv, basket_mapping().columns())
    assert int(ref["exact"].sum()) == RESENT
    assert int(ref["mapped_only"].sum()) > 100  # most baskets repeat a price


def test_basket_lines_equal_in_the_mapped_columns_are_kept_and_reported(basket_csv: Path) -> None:
    mapping = basket_mapping()
    ref = reference(basket_csv, mapping.columns())
    raw = pd.read_csv(basket_csv, dtype=str, keep_default_na=False)
    amount = raw["amount"].astype(float)
    share = amount[ref["mapped_only"]].sum() / amount.sum()
    n_mapped, n_exact = int(ref["mapped_only"].sum()), int(ref["exact"].sum())
    log, report, _ = ingest(read_mapped(basket_csv, mapping), mapping, source="basket.csv")
    assert (report.duplicates, report.mapped_duplicates) == (n_exact, n_mapped)
    assert report.excluded == (("exact duplicate event", n_exact, first_rows(ref["exact"])),)
    assert report.rows_kept == log.events.height == len(raw) - n_exact
    rows = ", ".join(map(str, first_rows(ref["mapped_only"])))
    assert (
        f"{n_mapped:,} rows repeat another row in every mapped column but differ in others: kept "
        f"(rows {rows}; {share:.0%} of the total of 'amount')"
    ) in report.notes
    # The value kept is the file's, less the re-sent batch only.
    assert log.events["value"].sum() == pytest.approx(amount[~ref["exact"]].sum())


@pytest.mark.parametrize(
    ("policy", "dropped"),
    [("drop-exact", ("exact",)), ("drop-mapped", ("exact", "mapped_only")), ("keep", ())],
)
def test_the_mapping_says_which_repeats_are_left_out(basket_csv: Path, policy: str, dropped: tuple[str, ...]) -> None:
    mapping = basket_mapping(duplicates=policy)
    ref = reference(basket_csv, mapping.columns())
    _, report, _ = ingest(read_mapped(basket_csv, mapping), mapping, source="basket.csv")
    expected_kept = len(ref) - sum(int(ref[column].sum()) for column in dropped)
    assert report.rows_kept == expected_kept
    reasons = {reason: count for reason, count, _ in report.excluded}
    assert reasons == {
        {
            "exact": "exact duplicate event",
            "mapped_only": "repeats another row in every mapped column (differs in others)",
        }[column]: int(ref[column].sum())
        for column in dropped
    }
    kept_note = [note for note in report.notes if "but differ in others: kept" in note]
    assert bool(kept_note) == (policy != "drop-mapped")
    if policy == "keep":
        assert any(
            note.startswith(f"{RESENT} exact duplicate event(s) kept as the mapping asks") for note in report.notes
        )


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_the_row_hash_read_with_the_file_tells_what_the_whole_file_tells(tmp_path: Path, suffix: str) -> None:
    frame = basket_lines(seed=5, baskets=120)
    path = tmp_path / f"basket.{suffix}"
    {"csv": frame.write_csv, "parquet": frame.write_parquet, "jsonl": frame.write_ndjson}[suffix](path)
    mapping = basket_mapping()
    projected = read_mapped(path, mapping)
    assert projected.columns == [*mapping.columns(), ROW_HASH]  # sku, line and order_id only in the hash
    _, from_hash, _ = ingest(projected, mapping, source=path.name)
    _, from_whole, _ = ingest(read_events(path), mapping, source=path.name)
    assert from_hash == from_whole
    assert from_hash.duplicates == RESENT and from_hash.mapped_duplicates > 0


def test_complaints_of_one_day_are_kept_unless_they_repeat_every_column() -> None:
    """BPI 2016 complaints: two pairs share customer, day, channel and topic but not their ComplaintID."""
    mapping = ColumnMapping(
        customer_ids=["CustomerID"], timestamp="ContactDate", channel="ContactChannelID", touchpoint="ComplaintTopic_EN"
    )
    ref = reference(COMPLAINTS, mapping.columns(), sep=";", encoding="latin-1")
    n_mapped, n_exact = int(ref["mapped_only"].sum()), int(ref["exact"].sum())
    assert (n_mapped, n_exact, first_rows(ref["mapped_only"])) == (2, 0, (81, 148))
    _, report, _ = ingest(read_mapped(COMPLAINTS, mapping), mapping, source=COMPLAINTS.name)
    assert (report.rows_read, report.rows_kept, report.excluded) == (289, 289, ())
    assert (report.duplicates, report.mapped_duplicates) == (n_exact, n_mapped)
    assert "2 rows repeat another row in every mapped column but differ in others: kept (rows 81, 148)" in report.notes
    # The file read whole (no row hash): the other columns are compared as they are.
    _, whole, _ = ingest(read_events(COMPLAINTS), mapping, source=COMPLAINTS.name)
    assert (whole.duplicates, whole.mapped_duplicates, whole.rows_kept) == (0, 2, 289)
    dropping = mapping.model_copy(update={"duplicates": "drop-mapped"})
    _, dropped, _ = ingest(read_mapped(COMPLAINTS, dropping), dropping, source=COMPLAINTS.name)
    assert dropped.rows_kept == 289 - n_mapped
    assert dropped.excluded == (("repeats another row in every mapped column (differs in others)", 2, (81, 148)),)


@pytest.mark.parametrize(
    ("stored", "policy"),
    [
        ({"keep_duplicates": True}, "keep"),  # kept every row: still does
        ({"keep_duplicates": False}, "drop-exact"),  # the old default: now the new default (documented)
        ({}, "drop-exact"),
        ({"duplicates": "drop-mapped"}, "drop-mapped"),
    ],
)
def test_mappings_saved_before_the_choice_still_load(stored: dict[str, object], policy: str) -> None:
    document = {"customer_ids": ["id"], "timestamp": "ts", "touchpoint": "ev", **stored}
    mapping = mapping_from_json(json.dumps(document))
    assert mapping.duplicates == policy
    assert mapping_from_json(mapping_to_json(mapping)) == mapping
    assert "keep_duplicates" not in mapping_to_json(mapping)


def test_the_cli_flag_chooses_which_repeats_are_left_out(
    basket_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping_path = tmp_path / "basket.mapping.json"
    mapping_path.write_text(mapping_to_json(basket_mapping()), encoding="utf-8")
    ref = reference(basket_csv, basket_mapping().columns())
    n_mapped = int(ref["mapped_only"].sum())
    base = ["overlay", str(basket_csv), "--mapping", str(mapping_path)]
    assert main([*base, "--out", str(tmp_path / "default")]) == 0
    default = capsys.readouterr().out
    assert f"- {n_mapped:,} rows repeat another row in every mapped column but differ in others: kept" in default
    assert main([*base, "--duplicates", "drop-mapped", "--out", str(tmp_path / "dropped")]) == 0
    dropped = capsys.readouterr().out
    assert f"- excluded {n_mapped:,} row(s): repeats another row in every mapped column (differs in others)" in dropped
    written = (tmp_path / "dropped" / "validation.txt").read_text(encoding="utf-8")
    assert f"{len(ref) - RESENT - n_mapped:,} kept." in written.splitlines()[0]


def test_a_report_without_repeats_says_nothing_of_them() -> None:
    raw = pl.DataFrame({"id": ["a", "a"], "ts": ["2024-01-01 10:00:05", "2024-01-01 10:00:09"], "ev": ["x", "y"]})
    _, report, _ = ingest(raw, ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev"), source="e.csv")
    assert isinstance(report, ValidationReport)
    assert (report.duplicates, report.mapped_duplicates, report.excluded) == (0, 0, ())
    assert not [note for note in report.notes if "repeat" in note or "duplicate" in note]


def test_a_file_whose_every_column_is_mapped_needs_no_hash(tmp_path: Path) -> None:
    mapping = basket_mapping()
    path = tmp_path / "mapped-only.csv"
    basket_lines().select(mapping.columns()).write_csv(path)
    raw = read_mapped(path, mapping)
    assert ROW_HASH not in raw.columns  # the columns read are the whole row
    ref = reference(path, mapping.columns())
    _, report, _ = ingest(raw, mapping, source=path.name)
    assert (report.duplicates, report.mapped_duplicates) == (int(ref["exact"].sum()), 0)
