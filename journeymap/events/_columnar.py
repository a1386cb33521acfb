"""Columnar building blocks on integer codes: distinct pair counts and dense renumbering.

Event logs are integer-encoded with small dictionaries (touchpoints, channels), so many
"distinct" questions can be answered with a presence bitmap instead of hashing: a bool
array of ``n_outer * n_inner`` cells is cheaper to fill than a hash table of pairs.
Larger products fall back to Polars' hash-based ``unique``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "BITMAP_LIMIT",
    "BitSetIndex",
    "DistinctIndex",
    "dense_codes",
    "distinct_index",
    "distinct_pair_counts",
    "first_in_segment",
    "grouped_quantiles",
]

BITMAP_LIMIT = 1 << 28
"""Largest presence bitmap (cells, one byte each) built instead of hashing pairs."""

IntArray = npt.NDArray[np.int64]


_MASK_TYPES: tuple[tuple[int, type[np.unsignedinteger]], ...] = (
    (8, np.uint8),
    (16, np.uint16),
    (32, np.uint32),
    (64, np.uint64),
)


def _group_sets(
    starts: npt.NDArray[np.integer], inner: npt.NDArray[np.integer], n_inner: int
) -> list[npt.NDArray[np.unsignedinteger]]:
    """Per group, the set of inner codes as bit masks (one array per 64-code word)."""
    for width, dtype in _MASK_TYPES:
        if n_inner <= width:
            bit = np.left_shift(dtype(1), inner.astype(dtype, copy=False))
            return [np.bitwise_or.reduceat(bit, starts)]
    codes = inner.astype(np.uint64, copy=False)
    bit64 = np.left_shift(np.uint64(1), codes & np.uint64(63))
    word_of = codes >> np.uint64(6)
    return [
        np.bitwise_or.reduceat(np.where(word_of == w, bit64, np.uint64(0)), starts) for w in range((n_inner + 63) // 64)
    ]


_BITS_OF_BYTE = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little").astype(np.int64)


def _bit_totals(sets: npt.NDArray[np.unsignedinteger]) -> IntArray:
    """How many masks have each bit set (bit 0 first).

    Each byte position of the masks is one ``bincount`` of its 256 values; a byte value's
    count goes to each bit it has set.

    Examples
    --------
    >>> _bit_totals(np.array([0b101, 0b100, 1 << 9], dtype=np.uint16)).tolist()[:10]
    [1, 0, 2, 0, 0, 0, 0, 0, 0, 1]
    """
    little = sets.astype(sets.dtype.newbyteorder("<"), copy=False)
    as_bytes = little.view(np.uint8).reshape(-1, sets.itemsize)
    totals = np.zeros(sets.itemsize * 8, dtype=np.int64)
    for position in range(sets.itemsize):
        per_value = np.bincount(as_bytes[:, position], minlength=256)
        totals[8 * position : 8 * position + 8] = per_value @ _BITS_OF_BYTE
    return totals


def distinct_pair_counts(
    outer: npt.NDArray[np.integer],
    inner: npt.NDArray[np.integer],
    n_outer: int,
    n_inner: int,
    *,
    by: Literal["outer", "inner"],
    starts: npt.NDArray[np.integer] | None = None,
) -> IntArray:
    """How many distinct ``(outer, inner)`` pairs each outer (or inner) code takes part in.

    ``outer`` must be sorted (each outer code's rows contiguous), as journeys and customers
    are in a cut log; ``starts`` (first row of each outer code) may be passed when known.
    Small ``n_inner`` (touchpoints, channels) uses one bit set per group, OR-reduced over the
    group's rows; larger ones a presence bitmap or a sort of packed keys.

    Examples
    --------
    >>> import numpy as np
    >>> journey, touchpoint = np.array([0, 0, 0, 1]), np.array([2, 2, 1, 2])
    >>> distinct_pair_counts(journey, touchpoint, 2, 3, by="outer").tolist()
    [2, 1]
    >>> distinct_pair_counts(journey, touchpoint, 2, 3, by="inner").tolist()
    [0, 1, 2]
    >>> distinct_pair_counts(journey, touchpoint + 200, 2, 203, by="inner").tolist()[-3:]
    [0, 1, 2]
    """
    size = n_outer if by == "outer" else n_inner
    result = np.zeros(size, dtype=np.int64)
    if outer.size == 0:
        return result
    words = (n_inner + 63) // 64
    if words <= (16 if by == "outer" else 4):
        if starts is None:
            starts = np.flatnonzero(np.r_[True, outer[1:] != outer[:-1]])
        all_sets = _group_sets(starts, inner, n_inner)
        if by == "outer":
            groups = outer[starts]
            for sets in all_sets:
                result[groups] += np.bitwise_count(sets)
            return result
        for w, sets in enumerate(all_sets):
            totals = _bit_totals(sets)
            take = min(totals.size, n_inner - 64 * w)
            result[64 * w : 64 * w + take] = totals[:take]
        return result
    key = np.multiply(outer, n_inner, dtype=np.uint64, casting="unsafe")
    np.add(key, inner, out=key, casting="unsafe")
    if n_outer * n_inner <= BITMAP_LIMIT:
        seen = np.zeros(n_outer * n_inner, dtype=bool)
        seen[key] = True
        matrix = seen.reshape(n_outer, n_inner)
        counted: IntArray = matrix.sum(axis=1 if by == "outer" else 0, dtype=np.int64)
        return counted
    # Keys are nearly sorted already (outer is sorted), which Polars' sort exploits.
    ordered = pl.Series(key).sort().to_numpy()
    distinct = ordered[np.r_[True, ordered[1:] != ordered[:-1]]]
    part = distinct // np.uint64(n_inner) if by == "outer" else distinct % np.uint64(n_inner)
    return np.bincount(part.astype(np.int64), minlength=size).astype(np.int64)


SHORT_LAGS = 8
"""Rows this close to the start of their segment are checked against every earlier row by shifted compares."""


def first_in_segment(new_segment: npt.NDArray[np.bool_], codes: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
    """Per row: whether no earlier row of its segment has the same code (segments are contiguous runs of rows).

    Most segments (journeys) are short: a row is compared with the :data:`SHORT_LAGS` rows before it by
    shifted array compares, and only the rows of longer segments are sorted by (segment, code).

    Examples
    --------
    >>> import numpy as np
    >>> new = np.array([True, False, False, True, False] + [True] + [False] * 10)
    >>> codes = np.array([1, 2, 1, 1, 1] + [5] + list(range(9)) + [0])
    >>> first_in_segment(new, codes).astype(int).tolist()
    [1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0]
    """
    n = codes.size
    first = np.ones(n, dtype=bool)
    if n == 0:
        return first
    segment = np.cumsum(new_segment, dtype=np.int64) - 1
    starts = np.flatnonzero(new_segment)
    position = np.arange(n, dtype=np.int64) - starts[segment]
    for lag in range(1, min(SHORT_LAGS, n - 1) + 1):
        first[lag:] &= ~((position[lag:] >= lag) & (codes[lag:] == codes[:-lag]))
    lengths = np.diff(np.r_[starts, n])
    long_rows = np.flatnonzero(lengths[segment] > SHORT_LAGS + 1)
    if long_rows.size:
        key = np.left_shift(segment[long_rows].astype(np.uint64), np.uint64(32))
        key |= codes[long_rows].astype(np.uint64)
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        earliest = np.r_[True, ordered[1:] != ordered[:-1]]
        first[long_rows[order]] = earliest
    return first


def dense_codes(codes: npt.NDArray[np.integer]) -> tuple[IntArray, IntArray]:
    """Renumber codes to ``0..k-1`` in increasing order; returns (dense codes, original of each).

    Examples
    --------
    >>> import numpy as np
    >>> dense, original = dense_codes(np.array([7, 3, 7, 10]))
    >>> dense.tolist(), original.tolist()
    ([1, 0, 1, 2], [3, 7, 10])
    """
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    top = int(codes.max()) + 1
    # A presence bitmap (and its running count) pays while it is not much longer than the codes.
    if top <= min(BITMAP_LIMIT, 4 * codes.size + 1024):
        present = np.zeros(top, dtype=bool)
        present[codes] = True
        original = np.flatnonzero(present).astype(np.int64)
        remap = np.cumsum(present, dtype=np.int64) - 1
        return remap[codes], original
    # One multi-threaded sort (Polars' dense rank) instead of numpy's unique.
    dense = pl.Series(codes).rank("dense").to_numpy().astype(np.int64) - 1
    original = np.empty(int(dense.max()) + 1, dtype=np.int64)
    original[dense] = codes
    return dense, original


@dataclass(frozen=True, eq=False)
class DistinctIndex:
    """Distinct ``(journey, code)`` and ``(customer, code)`` pairs, counted again under any journey filter.

    Built once from the rows of a cut log; a filter that keeps or drops whole journeys then
    counts, per code, the journeys and the customers with a kept journey in two masked passes
    over the distinct pairs, with no sort and no hashing.

    Examples
    --------
    >>> import numpy as np
    >>> index = DistinctIndex.build(np.array([0, 0, 1, 2]), np.array([0, 0, 0, 1]), np.array([1, 1, 1, 0]), 2, 3)
    >>> index.journeys().tolist(), index.customers().tolist()
    ([1, 2], [1, 1])
    >>> keep = np.array([False, True, True])
    >>> index.journeys(keep).tolist(), index.customers(keep).tolist()
    ([1, 1], [1, 1])
    """

    group_journey: IntArray
    """Journey of each distinct ``(journey, code)`` pair."""
    group_code: IntArray
    """Code of each distinct ``(journey, code)`` pair."""
    customer_group: IntArray
    """The distinct ``(customer, code)`` pair each ``(journey, code)`` pair belongs to."""
    customer_group_code: IntArray
    """Code of each distinct ``(customer, code)`` pair."""
    n_codes: int
    n_journeys: int

    @classmethod
    def build(
        cls,
        journey: npt.NDArray[np.integer],
        customer: npt.NDArray[np.integer],
        code: npt.NDArray[np.integer],
        n_codes: int,
        n_journeys: int,
    ) -> DistinctIndex:
        """The index of rows sorted by their journey (below ``n_journeys``), with customer and code.

        Each journey has one customer.
        """
        n_codes = max(n_codes, 1)
        if journey.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, empty, empty, n_codes, n_journeys)
        # Rows come journey by journey: a distinct (journey, code) pair is the first row of its journey
        # with that code, found by shifted compares rather than a sort.
        first = first_in_segment(np.r_[True, journey[1:] != journey[:-1]], code)
        group_journey = journey[first].astype(np.int64)
        group_code = code[first].astype(np.int64)
        group_customer = customer[first].astype(np.uint64)
        del first
        ckey = np.multiply(group_customer, n_codes, dtype=np.uint64)
        np.add(ckey, group_code, out=ckey, casting="unsafe")
        customer_group, _ = dense_codes(ckey)
        customer_group_code = np.empty(int(customer_group.max()) + 1, dtype=np.int64)
        customer_group_code[customer_group] = group_code
        return cls(group_journey, group_code, customer_group, customer_group_code, n_codes, n_journeys)

    def journeys(self, keep: npt.NDArray[np.bool_] | None = None) -> IntArray:
        """Journeys per code (only the journeys ``keep`` marks, indexed by journey id, when given)."""
        codes = self.group_code if keep is None else self.group_code[keep[self.group_journey]]
        return np.bincount(codes, minlength=self.n_codes).astype(np.int64, copy=False)

    def customers(self, keep: npt.NDArray[np.bool_] | None = None) -> IntArray:
        """Customers per code with at least one (kept) journey holding it."""
        if keep is None:
            codes = self.customer_group_code
        else:
            present = np.zeros(self.customer_group_code.size, dtype=bool)
            present[self.customer_group[keep[self.group_journey]]] = True
            codes = self.customer_group_code[present]
        return np.bincount(codes, minlength=self.n_codes).astype(np.int64, copy=False)


def grouped_quantiles(
    groups: npt.NDArray[np.integer],
    values: npt.NDArray[np.integer],
    n_groups: int,
    quantiles: tuple[float, ...],
) -> list[npt.NDArray[np.float64]]:
    """Linear-interpolated quantiles of ``values`` per group code (NaN for empty groups).

    numpy's default ("linear") method; Polars' grouped quantiles (a selection per group)
    measured several times faster than one global sort by (group, value).

    Examples
    --------
    >>> import numpy as np
    >>> median, p90 = grouped_quantiles(np.array([1, 0, 1, 1]), np.array([10, 5, 30, 20]), 3, (0.5, 0.9))
    >>> median.tolist()[:2], p90.tolist()[:2]
    ([5.0, 20.0], [5.0, 28.0])
    >>> bool(np.isnan(median[2]))
    True
    """
    frame = (
        pl.DataFrame({"g": groups, "v": values})
        .group_by("g")
        .agg(pl.col("v").quantile(q, interpolation="linear").alias(f"q{i}") for i, q in enumerate(quantiles))
    )
    index = frame.get_column("g").cast(pl.Int64).to_numpy()
    out: list[npt.NDArray[np.float64]] = []
    for i in range(len(quantiles)):
        result = np.full(n_groups, np.nan)
        result[index] = frame.get_column(f"q{i}").cast(pl.Float64).to_numpy()
        out.append(result)
    return out


@dataclass(frozen=True, eq=False)
class BitSetIndex:
    """:class:`DistinctIndex` for at most 256 codes: one bit set of codes per journey.

    Counting under a journey filter ORs the kept journeys' sets per customer and counts bits;
    building it is one OR-reduce over the rows, with no sort.

    Examples
    --------
    >>> import numpy as np
    >>> index = BitSetIndex.build(np.array([0, 0, 1, 2]), np.array([0, 0, 0, 1]), np.array([1, 1, 1, 0]), 2, 3)
    >>> index.journeys().tolist(), index.customers().tolist()
    ([1, 2], [1, 1])
    >>> keep = np.array([False, True, True])
    >>> index.journeys(keep).tolist(), index.customers(keep).tolist()
    ([1, 1], [1, 1])
    """

    sets: tuple[npt.NDArray[np.unsignedinteger], ...]
    """Per 64-code word, the bit set of each journey (indexed by journey id)."""
    customer_starts: IntArray
    """Index of each customer's first journey (journeys are numbered customer by customer)."""
    n_codes: int
    n_journeys: int

    @classmethod
    def build(
        cls,
        journey: npt.NDArray[np.integer],
        customer: npt.NDArray[np.integer],
        code: npt.NDArray[np.integer],
        n_codes: int,
        n_journeys: int,
    ) -> BitSetIndex:
        """The index of rows sorted by journey, of ``n_journeys`` journeys numbered in customer order.

        Journeys without rows hold no code.
        """
        if journey.size == 0:
            return cls((), np.zeros(0, dtype=np.int64), max(n_codes, 1), n_journeys)
        starts = np.flatnonzero(np.r_[True, journey[1:] != journey[:-1]])
        sets = []
        for word in _group_sets(starts, code, n_codes):
            full = np.zeros(n_journeys, dtype=word.dtype)
            full[journey[starts]] = word
            sets.append(full)
        # The customer of each journey; a journey without rows (an empty set) joins the one before.
        owner = np.full(n_journeys, -1, dtype=np.int64)
        owner[journey[starts]] = customer[starts]
        known = np.maximum.accumulate(np.where(owner >= 0, np.arange(n_journeys), 0))
        owner = owner[known]
        customer_starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        return cls(tuple(sets), customer_starts, max(n_codes, 1), n_journeys)

    def _totals(self, words: list[npt.NDArray[np.unsignedinteger]]) -> IntArray:
        result = np.zeros(self.n_codes, dtype=np.int64)
        for w, sets in enumerate(words):
            totals = _bit_totals(sets)
            take = min(totals.size, self.n_codes - 64 * w)
            result[64 * w : 64 * w + take] = totals[:take]
        return result

    @cached_property
    def _all_journeys(self) -> IntArray:
        return self._totals(list(self.sets))

    def journeys(self, keep: npt.NDArray[np.bool_] | None = None) -> IntArray:
        """Journeys per code (only the journeys ``keep`` marks, indexed by journey id, when given).

        Counts add up over journeys: when most are kept, the dropped ones are counted and taken off.
        """
        if keep is None:
            return self._all_journeys
        if 2 * int(np.count_nonzero(keep)) > keep.size:
            return self._all_journeys - self._totals([sets[~keep] for sets in self.sets])
        return self._totals([sets[keep] for sets in self.sets])

    def customers(self, keep: npt.NDArray[np.bool_] | None = None) -> IntArray:
        """Customers per code with at least one (kept) journey holding it."""
        if not self.sets:
            return np.zeros(self.n_codes, dtype=np.int64)
        words = [sets if keep is None else np.where(keep, sets, sets.dtype.type(0)) for sets in self.sets]
        return self._totals([np.bitwise_or.reduceat(sets, self.customer_starts) for sets in words])


def distinct_index(
    journey: npt.NDArray[np.integer],
    customer: npt.NDArray[np.integer],
    code: npt.NDArray[np.integer],
    n_codes: int,
    n_journeys: int,
) -> BitSetIndex | DistinctIndex:
    """The cheaper index for the number of codes: bit sets up to 256 codes, distinct pairs beyond.

    Rows are sorted by journey; journeys are numbered ``0..n_journeys-1`` customer by customer.
    """
    if n_codes <= 256:
        return BitSetIndex.build(journey, customer, code, n_codes, n_journeys)
    return DistinctIndex.build(journey, customer, code, n_codes, n_journeys)
