"""Identity resolution: joining events that carry different identifiers into one customer.

Each identifier value (an email, a device id, a loyalty number, a session id) is a node;
an event carrying several values links them. Customers are the connected components of
that graph, computed on integer-encoded values with vectorised min-label propagation and
pointer jumping (no Python loop over events; the number of rounds grows with the
logarithm of the longest identifier chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

__all__ = ["IdentityReport", "resolve_identities"]


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


def _node_codes(column: pl.Series) -> tuple[pl.Series, int, int]:
    """Node codes of one identifier column (nulls stay null), the size of their range, and the distinct values."""
    if column.dtype in _UNSIGNED:
        valid = column.drop_nulls()
        if valid.len() == 0:
            return column.cast(pl.UInt32), 0, 0
        top = int(valid.max())  # type: ignore[arg-type]
        if top < 4 * column.len() + 1024:
            # Codes from ingest are already small: unused codes only become isolated nodes.
            return column, top + 1, valid.n_unique()
    codes = _encode(column)
    count = int(codes.max() + 1) if codes.null_count() < codes.len() else 0  # type: ignore[operator]
    return codes, count, count


def _edges(first: pl.Series, node_columns: list[pl.Series], n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct links between each row's first node and its other nodes."""
    parts = [pl.DataFrame({"a": first, "b": col}).drop_nulls() for col in node_columns]
    edges = pl.concat(parts).filter(pl.col("a") != pl.col("b"))
    del parts
    if n_nodes < 2**31:
        # One integer per edge: a distinct pass over one column instead of over two.
        packed = (edges.get_column("a") * n_nodes + edges.get_column("b")).unique().to_numpy()
        return packed // n_nodes, packed % n_nodes
    edges = edges.unique()
    return edges.get_column("a").to_numpy(), edges.get_column("b").to_numpy()


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
    n = frame.height
    if len(columns) == 1:
        # One identifier: the customer is the identifier value; no graph is needed.
        customer = _encode(frame.get_column(columns[0])).alias("customer")
        valid = customer.drop_nulls()
        customers = int(valid.max() + 1) if valid.len() else 0  # type: ignore[operator]
        return customer, IdentityReport(tuple(id_columns), valid.len(), customers, customers, 0, 0)
    node_cols: list[pl.Series] = []
    offset = 0
    id_nodes = 0
    id_values = 0
    for i, name in enumerate(columns):
        codes, count, distinct = _node_codes(frame.get_column(name))
        node_cols.append((codes.cast(pl.Int64) + offset).alias(f"n{i}"))
        offset += count
        if i < len(id_columns):
            id_nodes = offset
            id_values += distinct
    if offset == 0:
        empty = pl.Series("customer", [None] * n, dtype=pl.UInt32)
        return empty, IdentityReport(tuple(id_columns), 0, 0, 0, 0, 0)
    nodes = pl.DataFrame(node_cols)
    del node_cols
    first = nodes.select(pl.coalesce(pl.all()).alias("first")).get_column("first")
    edges = _edges(first, [nodes.get_column(f"n{i}") for i in range(len(columns))], offset)
    del nodes
    labels = _components(offset, *edges)
    del edges
    has_first = first.is_not_null()
    root = pl.Series("root", labels[first.fill_null(0).to_numpy()])
    if not bool(has_first.all()):
        root = pl.select(pl.when(has_first).then(root)).to_series()
    customer = _densify(root).alias("customer")
    # Stitching: customers known under more than one identifier value (link columns excluded). Each
    # identifier value belongs to exactly one customer, so this is counted on the values, not the rows.
    values_per_root = np.bincount(labels[:id_nodes], minlength=offset) if id_nodes else np.zeros(offset, np.int64)
    stitched_root = values_per_root > 1
    valid_roots = root.drop_nulls().to_numpy()
    events = valid_roots.size
    report = IdentityReport(
        identifiers=tuple(id_columns),
        events=events,
        customers=int(customer.max()) + 1 if events else 0,  # type: ignore[arg-type]
        identifier_values=id_values,
        stitched_customers=int(stitched_root.sum()),
        stitched_events=int(stitched_root[valid_roots].sum()),
    )
    return customer, report
