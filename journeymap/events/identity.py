"""Identity resolution: joining events that carry different identifiers into one customer.

Each identifier value (an email, a device id, a loyalty number, a session id) is a node;
an event carrying several values links them. Customers are the connected components of
that graph, computed on integer-encoded values with vectorised min-label propagation and
pointer jumping (no Python loop over events; the number of rounds grows with the
logarithm of the longest identifier chain).

:func:`resolve_keys` works on one 64-bit key per identifier value (a dictionary code, or the
hash ingest takes of an identifier read as text) and names each customer by the row it first
appears on; :func:`resolve_identities` encodes raw identifier columns and numbers the customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

__all__ = ["Customers", "IdentityReport", "resolve_identities", "resolve_keys"]


@dataclass(frozen=True)
class IdentityReport:
    """What identity resolution did.

    ``stitching_rate`` is the share of events attached to a customer known under more than
    one identifier value (session ids excluded).
    """

    identifiers: tuple[str, ...]
    events: int
    customers: int
    identifier_values: int
    stitched_customers: int
    stitched_events: int

    @property
    def stitching_rate(self) -> float:
        return self.stitched_events / self.events if self.events else 0.0

    def summary(self) -> str:
        return (
            f"{self.customers:,} customers from {self.identifier_values:,} identifier values "
            f"({', '.join(self.identifiers)}); {self.stitched_customers:,} customers stitched from several "
            f"identifiers, covering {self.stitching_rate:.1%} of events."
        )


_UNSIGNED = (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


def _encode(column: pl.Series) -> pl.Series:
    """Dense UInt32 codes (hash-encoded, no string sort); nulls stay null.

    Unsigned integers are taken as codes already (ingest passes dictionary codes of the
    identifier labels), so no string is built for them.
    """
    if column.dtype in _UNSIGNED:
        return _densify(column)
    codes = column.cast(pl.String).cast(pl.Categorical).to_physical()
    return _densify(codes)


def _densify(codes: pl.Series) -> pl.Series:
    """Renumber non-negative integer codes to 0..k-1 in order of first appearance; nulls stay null."""
    valid = codes.drop_nulls()
    if valid.len() == 0:
        return codes.cast(pl.UInt32)
    order = valid.unique(maintain_order=True)
    if int(order.max()) < 4 * codes.len() + 1024:  # type: ignore[arg-type]
        remap = np.zeros(int(order.max()) + 1, dtype=np.uint32)  # type: ignore[arg-type]
        remap[order.to_numpy()] = np.arange(order.len(), dtype=np.uint32)
        dense = pl.Series(codes.name, remap[valid.to_numpy()])
    else:  # sparse codes (large integer ids): a hash lookup instead of an array as long as the largest code
        lookup = pl.Series(range(order.len()), dtype=pl.UInt32)
        dense = valid.replace_strict(order, lookup, return_dtype=pl.UInt32).alias(codes.name)
    if codes.null_count() == 0:
        return dense
    out = pl.Series(codes.name, [None] * codes.len(), dtype=pl.UInt32)
    return out.scatter(codes.is_not_null().arg_true(), dense)


def _node_codes(column: pl.Series) -> pl.Series:
    """Codes below 2**32 of one identifier column's values (nulls stay null)."""
    if column.dtype in _UNSIGNED:
        valid = column.drop_nulls()
        if valid.len() == 0:
            return column.cast(pl.UInt32)
        if int(valid.max()) < 4 * column.len() + 1024:  # type: ignore[arg-type]
            return column  # codes from ingest are already small
    return _encode(column)


def _components(n_nodes: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    labels = np.arange(n_nodes, dtype=np.int64)
    if src.size == 0:
        return labels
    while True:
        low = np.minimum(labels[src], labels[dst])
        new = labels.copy()
        np.minimum.at(new, src, low)
        np.minimum.at(new, dst, low)
        # Labels are node ids no larger than the node's own id, so following them is safe.
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, labels):
            return labels
        labels = new


@dataclass(frozen=True)
class Customers:
    """Customers resolved from identifier keys: see :func:`resolve_keys`."""

    first_row: pl.Series
    report: IdentityReport


def _first_is_id(keys: Sequence[pl.Series], n_ids: int, has_first: pl.Series) -> np.ndarray:
    """Per row with a key: whether its first key is an identifier (any identifier column holds one)."""
    if n_ids == len(keys):
        return np.ones(int(has_first.sum()), dtype=bool)
    is_id = pl.select(pl.any_horizontal(pl.lit(k).is_not_null() for k in keys[:n_ids])).to_series()
    return is_id.filter(has_first).to_numpy()


def resolve_keys(keys: Sequence[pl.Series], *, identifiers: Sequence[str] = (), links: int = 0) -> Customers:
    """Join rows that share any identifier key into customers, each named by the row it first appears on.

    Parameters
    ----------
    keys:
        One ``UInt64`` key per row and identifier column (null when the row has none): equal keys are
        the same identifier value, and a key appears in one column only. The last ``links`` columns
        link rows (a session, a case) without being identifiers themselves.
    identifiers:
        The identifier columns' names, for the report.

    Returns
    -------
    Customers
        ``first_row`` (UInt32): per row, the position of the first row of its customer (null for a
        row without any key), so customers in order of first appearance are the distinct values of
        ``first_row`` in increasing order; and the report.

    Notes
    -----
    The distinct keys are numbered by one sort of all of them (a sort of 64-bit integers runs on
    every core; no hash table of keys is built); each row's first key is linked to its other keys,
    the distinct links are the graph's edges, and everything after that is array arithmetic on
    node numbers.

    Examples
    --------
    >>> k = [pl.Series([1, 1, None, 3], dtype=pl.UInt64), pl.Series([None, 7, 7, None], dtype=pl.UInt64)]
    >>> found = resolve_keys(k, identifiers=["email", "device"])
    >>> found.first_row.to_list(), found.report.customers, found.report.stitched_events
    ([0, 0, 0, 3], 2, 3)
    """
    n_ids = len(keys) - links
    n = keys[0].len() if keys else 0
    first = pl.select(pl.coalesce(pl.lit(k) for k in keys)).to_series() if keys else pl.Series([], dtype=pl.UInt64)
    has_first = first.is_not_null()
    rows = has_first.arg_true().to_numpy()  # the rows with a key, in order
    m = rows.size
    # Every other key of a row links it to the row's first key: (position among ``rows``, key).
    position = np.cumsum(has_first.to_numpy(), dtype=np.int64) - 1 if m < n else None
    linked_at: list[np.ndarray] = []
    linked_keys: list[np.ndarray] = [first.drop_nulls().to_numpy()]
    linked_is_id: list[bool] = []
    for i, column in enumerate(keys[1:], start=1):
        linked = (column.is_not_null() & (column != first)).fill_null(False)
        at = linked.arg_true().to_numpy()
        linked_at.append(at if position is None else position[at])
        linked_keys.append(column.filter(linked).to_numpy())
        linked_is_id.append(i < n_ids)
    del position, first
    # Nodes: the distinct keys, numbered in key order by one sort of all of them.
    every = np.concatenate(linked_keys).astype(np.uint64, copy=False)
    sizes = [k.size for k in linked_keys]
    del linked_keys
    order = pl.Series(every).arg_sort().to_numpy()
    ordered = every[order]
    del every
    change = np.empty(ordered.size, dtype=bool)
    change[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=change[1:])
    del ordered
    node_of_ordered = np.cumsum(change, dtype=np.int32) - 1
    del change
    node = np.empty(order.size, dtype=np.int32)
    node[order] = node_of_ordered
    n_nodes = int(node_of_ordered[-1]) + 1 if node.size else 0
    # A node's first row: the least row among its entries as a first key (a node's entries are adjacent).
    entry = order < m
    entry_node = node_of_ordered[entry]
    entry_row = rows[order[entry]]
    del order, node_of_ordered, entry
    node_first = np.full(n_nodes, n, dtype=np.int64)
    if entry_node.size:
        starts = np.flatnonzero(np.r_[True, entry_node[1:] != entry_node[:-1]])
        node_first[entry_node[starts]] = np.minimum.reduceat(entry_row, starts)
    del entry_node, entry_row
    first_node = node[:m]
    bounds = np.cumsum(sizes)
    is_id = np.zeros(n_nodes, dtype=bool)
    is_id[first_node[_first_is_id(keys, n_ids, has_first)]] = True
    src_parts, dst_parts = [], []
    for at, start, stop, identifier in zip(linked_at, bounds[:-1], bounds[1:], linked_is_id, strict=True):
        src_parts.append(first_node[at])
        dst_parts.append(node[start:stop])
        if identifier:
            is_id[node[start:stop]] = True
    del linked_at
    src = np.concatenate(src_parts) if src_parts else np.zeros(0, dtype=np.int32)
    dst = np.concatenate(dst_parts) if dst_parts else np.zeros(0, dtype=np.int32)
    del src_parts, dst_parts
    # Distinct links only: one integer per link, deduplicated by a sort.
    packed = pl.Series((src.astype(np.uint64) << np.uint64(32)) | dst.astype(np.uint64)).unique().to_numpy()
    del src, dst
    labels = _components(
        n_nodes, (packed >> np.uint64(32)).astype(np.int64), (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    )
    del packed
    customer_first = np.full(n_nodes, n, dtype=np.int64)
    np.minimum.at(customer_first, labels, node_first)
    component = labels[first_node]
    del node, first_node
    events_per = np.bincount(component, minlength=n_nodes)
    # Each identifier value belongs to one customer: stitching is counted on the values.
    stitched = np.bincount(labels, weights=is_id, minlength=n_nodes) > 1
    first_row = pl.Series("first_row", customer_first[component], dtype=pl.UInt32)
    if m < n:
        first_row = pl.Series("first_row", [None] * n, dtype=pl.UInt32).scatter(rows, first_row)
    report = IdentityReport(
        identifiers=tuple(identifiers),
        events=m,
        customers=int(np.count_nonzero(events_per)),
        identifier_values=int(is_id.sum()),
        stitched_customers=int(np.count_nonzero(stitched)),
        stitched_events=int(events_per[stitched].sum()),
    )
    return Customers(first_row, report)


def resolve_identities(
    frame: pl.DataFrame,
    id_columns: Sequence[str],
    *,
    link_columns: Sequence[str] = (),
) -> tuple[pl.Series, IdentityReport]:
    """One customer code per row, joining rows that share any identifier value.

    Parameters
    ----------
    frame:
        Rows with at least one non-null value in ``id_columns`` or ``link_columns``.
    id_columns:
        Identifier columns (customer id, email, device id...). A value in one column is a
        different node from the same text in another column.
    link_columns:
        Columns that link rows without being identifiers themselves (a session id).

    Returns
    -------
    tuple[polars.Series, IdentityReport]
        ``customer`` codes (UInt32, dense, numbered in order of first appearance) and a report.
        Rows without any value get null.

    Examples
    --------
    >>> f = pl.DataFrame({"email": ["a@x", None, None], "device": ["d1", "d1", "d2"], "loyalty": [None, "L7", "L7"]})
    >>> customer, report = resolve_identities(f, ["email", "device", "loyalty"])
    >>> customer.to_list(), report.customers, report.stitching_rate
    ([0, 0, 0], 1, 1.0)
    """
    columns = [*id_columns, *link_columns]
    keys: list[pl.Series] = []
    for i, name in enumerate(columns):
        # Column number in the high bits: the same text in two columns is two values.
        keys.append(_node_codes(frame.get_column(name)).cast(pl.UInt64) + pl.Series([i << 32], dtype=pl.UInt64))
    found = resolve_keys(keys, identifiers=id_columns, links=len(link_columns))
    return _densify(found.first_row).alias("customer"), found.report
