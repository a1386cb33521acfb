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


def _encode(column: pl.Series) -> pl.Series:
    """Dense UInt32 codes (hash-encoded, no string sort); nulls stay null."""
    codes = column.cast(pl.String).cast(pl.Categorical).to_physical()
    return _densify(codes)


def _densify(codes: pl.Series) -> pl.Series:
    """Renumber non-negative integer codes to 0..k-1 in order of first appearance; nulls stay null."""
    valid = codes.drop_nulls()
    if valid.len() == 0:
        return codes.cast(pl.UInt32)
    order = valid.unique(maintain_order=True).cast(pl.Int64).to_numpy()
    remap = np.zeros(int(order.max()) + 1, dtype=np.uint32)
    remap[order] = np.arange(order.size, dtype=np.uint32)
    dense = pl.Series(codes.name, remap[valid.cast(pl.Int64).to_numpy()])
    if codes.null_count() == 0:
        return dense
    out = pl.Series(codes.name, [None] * codes.len(), dtype=pl.UInt32)
    return out.scatter(codes.is_not_null().arg_true(), dense)


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
    for i, name in enumerate(columns):
        codes = _encode(frame.get_column(name))
        count = int(codes.max() + 1) if codes.null_count() < n else 0  # type: ignore[operator]
        node_cols.append((codes.cast(pl.Int64) + offset).alias(f"n{i}"))
        offset += count
        if i < len(id_columns):
            id_nodes = offset
    if offset == 0:
        empty = pl.Series("customer", [None] * n, dtype=pl.UInt32)
        return empty, IdentityReport(tuple(id_columns), 0, 0, 0, 0, 0)
    nodes = pl.DataFrame(node_cols)
    first = nodes.select(pl.coalesce(pl.all()).alias("first")).get_column("first")
    edge_parts = [pl.DataFrame({"a": first, "b": nodes.get_column(f"n{i}")}).drop_nulls() for i in range(len(columns))]
    edges = pl.concat(edge_parts).filter(pl.col("a") != pl.col("b")).unique()
    labels = _components(offset, edges.get_column("a").to_numpy(), edges.get_column("b").to_numpy())
    label_series = pl.Series("label", labels)
    root = label_series.gather(first.fill_null(0).cast(pl.UInt32))
    root = pl.select(pl.when(first.is_null()).then(None).otherwise(root)).to_series()
    customer = _densify(root).alias("customer")
    # Stitching: customers known under more than one identifier value (link columns excluded).
    id_frame = pl.concat(
        [pl.DataFrame({"customer": customer, "node": nodes.get_column(f"n{i}")}) for i in range(len(id_columns))]
    ).drop_nulls()
    per_customer = id_frame.group_by("customer").agg(pl.col("node").n_unique().alias("values"))
    stitched = per_customer.filter(pl.col("values") > 1).get_column("customer")
    valid = customer.drop_nulls()
    report = IdentityReport(
        identifiers=tuple(id_columns),
        events=valid.len(),
        customers=valid.n_unique(),
        identifier_values=id_nodes,
        stitched_customers=stitched.len(),
        stitched_events=int(valid.is_in(stitched.implode()).sum()) if stitched.len() else 0,
    )
    return customer, report
