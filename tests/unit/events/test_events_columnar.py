"""The integer building blocks agree with plain Polars on random inputs, on every code path."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from journeymap.events import _columnar
from journeymap.events._columnar import (
    BitSetIndex,
    DistinctIndex,
    dense_codes,
    distinct_index,
    distinct_pair_counts,
    grouped_quantiles,
)


@pytest.mark.parametrize("n_inner", [1, 5, 64, 100, 700, 5000])
@pytest.mark.parametrize("bitmap_limit", [1 << 28, 0])
def test_distinct_pair_counts_match_polars(n_inner: int, bitmap_limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_columnar, "BITMAP_LIMIT", bitmap_limit)
    rng = np.random.default_rng(n_inner)
    outer = np.sort(rng.integers(0, 300, 4000))
    inner = rng.integers(0, n_inner, 4000)
    pairs = pl.DataFrame({"o": outer, "i": inner}).unique()
    expected_outer = np.bincount(pairs["o"].to_numpy(), minlength=300)
    expected_inner = np.bincount(pairs["i"].to_numpy(), minlength=n_inner)
    assert distinct_pair_counts(outer, inner, 300, n_inner, by="outer").tolist() == expected_outer.tolist()
    assert distinct_pair_counts(outer, inner, 300, n_inner, by="inner").tolist() == expected_inner.tolist()


def test_dense_codes_keep_order() -> None:
    dense, original = dense_codes(np.array([40, 7, 7, 1000]))
    assert dense.tolist() == [1, 0, 0, 2]
    assert original.tolist() == [7, 40, 1000]


def test_grouped_quantiles_match_numpy() -> None:
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 6, 500)
    values = rng.integers(0, 10_000, 500)
    median, p90 = grouped_quantiles(groups, values, 7, (0.5, 0.9))
    for g in range(6):
        assert median[g] == pytest.approx(np.quantile(values[groups == g], 0.5))
        assert p90[g] == pytest.approx(np.quantile(values[groups == g], 0.9))
    assert np.isnan(median[6]) and np.isnan(p90[6])


@pytest.mark.parametrize("n_codes", [5, 70, 300])
def test_distinct_indexes_count_like_a_plain_reference_under_any_journey_filter(n_codes: int) -> None:
    rng = np.random.default_rng(n_codes)
    n_journeys = 400
    owner = np.sort(rng.integers(0, 120, n_journeys))  # journeys numbered customer by customer
    journey = np.sort(rng.choice(np.arange(n_journeys), 3_000))  # some journeys have no rows
    code = rng.integers(0, n_codes, journey.size)
    customer = owner[journey]
    keep = rng.random(n_journeys) < 0.6
    reference = pl.DataFrame({"journey": journey, "customer": customer, "code": code}).with_columns(
        kept=pl.lit(pl.Series(keep)).gather(pl.col("journey"))
    )

    def per_code(frame: pl.DataFrame, column: str) -> list[int]:
        counts = frame.group_by("code").agg(pl.col(column).n_unique().alias("n"))
        out = np.zeros(n_codes, dtype=np.int64)
        out[counts["code"].to_numpy()] = counts["n"].to_numpy()
        return out.tolist()

    indexes: list[DistinctIndex | BitSetIndex] = [DistinctIndex.build(journey, customer, code, n_codes, n_journeys)]
    if n_codes <= 256:
        indexes.append(BitSetIndex.build(journey, customer, code, n_codes, n_journeys))
    assert isinstance(distinct_index(journey, customer, code, n_codes, n_journeys), type(indexes[-1]))
    for index in indexes:
        assert index.journeys().tolist() == per_code(reference, "journey")
        assert index.customers().tolist() == per_code(reference, "customer")
        assert index.journeys(keep).tolist() == per_code(reference.filter("kept"), "journey")
        assert index.customers(keep).tolist() == per_code(reference.filter("kept"), "customer")
